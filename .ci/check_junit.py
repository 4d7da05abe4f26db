#!/usr/bin/env python3
"""Checks that cargo-gate's junit.xml parses with junitparser (what many CI dashboards use)
and agrees with report.json: same cases, same failures, retries preserved."""
import json
import sys
from pathlib import Path

from junitparser import Failure, JUnitXml, Skipped

out = Path(sys.argv[1])
xml = JUnitXml.fromfile(str(out / "junit.xml"))
report = json.loads((out / "report.json").read_text())
cases = [c for s in report["suites"] for c in s["cases"]]

seen = {}
for suite in xml:
    for case in suite:
        seen[f"{case.classname} {case.name}"] = case
expected = {c["id"] for c in cases}
assert set(seen) == expected, f"junit cases differ from report.json: {set(seen) ^ expected}"

for c in cases:
    tc = seen[c["id"]]
    kinds = {type(r) for r in tc.result}
    if c["status"] in ("failed", "timed_out", "quarantined"):
        assert Failure in kinds, f"{c['id']} should carry <failure>"
    elif c["status"] == "skipped":
        assert Skipped in kinds, f"{c['id']} should carry <skipped>"
    else:
        assert not kinds, f"{c['id']} should have passed, has {kinds}"
    # Retries are kept as flakyFailure / rerunFailure children, one per earlier attempt.
    reruns = [e for e in tc._elem if e.tag in ("flakyFailure", "rerunFailure")]
    assert len(reruns) == max(len(c["attempts"]) - 1, 0), f"{c['id']}: {len(reruns)} reruns"

flaky = [c for c in cases if c["status"] == "flaky"]
print(f"junit.xml OK: {len(seen)} cases, {len(flaky)} flaky, parsed by junitparser")
