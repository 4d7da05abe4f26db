#!/usr/bin/env python3
"""Compares what cargo test, cargo nextest and cargo-gate found on one workspace: test names
(as libtest prints them) and outcomes. Prints a Markdown table and the differences. The same
name may stand in several binaries (compliance suites run one corpus through several targets):
each side is a multiset of (name, outcome)."""
import json
import re
import sys
from collections import Counter

name, cargo_out, nextest_out, gate_report = sys.argv[1:5]


def cargo(path):
    tests = Counter()
    for line in open(path, encoding="utf-8", errors="replace"):
        m = re.match(r"^test (.+) \.\.\. (ok|FAILED|ignored.*)$", line.rstrip("\n"))
        if m:
            # libtest-mimic and libtest2-mimic pad names to line the results up.
            name = m.group(1).rstrip().removesuffix(" - should panic")
            tests[(name, {"ok": "passed", "FAILED": "failed"}.get(m.group(2), "skipped"))] += 1
    return tests


def nextest(path):
    tests = Counter()
    for line in open(path, encoding="utf-8", errors="replace"):
        m = re.match(r"^\s+(PASS|FAIL|SIGSEGV|TIMEOUT|SKIP)\s+\[[^\]]*\]\s+(?:\(\s*\d+/\s*\d+\)\s+)?(\S+)\s+(.+)$", line.rstrip("\n"))
        if m:
            tests[(m.group(3), "passed" if m.group(1) == "PASS" else "failed")] += 1
    return tests


WHOLE = []


def gate(path):
    report = json.load(open(path))
    tests = Counter()
    for suite in report["suites"]:
        if suite["kind"] != "tests":
            continue
        for c in suite["cases"]:
            status = {"flaky": "passed", "quarantined": "failed", "timed_out": "failed"}.get(c["status"], c["status"])
            if c["name"] == "(harness = false)":
                # cargo test prints no test lines for these: listed apart.
                WHOLE.append(f"{c['binary']} {status}")
            else:
                tests[(c["name"], status)] += 1
    return tests


found = {"cargo test": cargo(cargo_out), "cargo nextest": nextest(nextest_out), "cargo gate": gate(gate_report)}
print(f"\n### {name}\n")
print("| runner | tests found | failed | skipped |")
print("|---|---:|---:|---:|")
for runner, tests in found.items():
    failed = sum(n for (_, s), n in tests.items() if s == "failed")
    skipped = sum(n for (_, s), n in tests.items() if s == "skipped")
    print(f"| {runner} | {sum(tests.values())} | {failed} | {skipped} |")
if WHOLE:
    print(f"\ncargo gate, harness = false targets (one case each): {', '.join(WHOLE)}")
failed_targets = re.findall(r"^\s+`(-p [^`]+)`", open(cargo_out, encoding="utf-8", errors="replace").read(), re.M)
if failed_targets:
    print(f"cargo test, failed targets: {', '.join(failed_targets)}")
reference = found["cargo test"]
for runner in ("cargo nextest", "cargo gate"):
    diffs = []
    other = found[runner]
    for key in sorted(set(reference) | set(other)):
        a, b = reference.get(key, 0), other.get(key, 0)
        if a != b and not (runner == "cargo nextest" and " - " in key[0] and b == 0):
            diffs.append(f"  {key[0]} {key[1]}: cargo test {a}×, {runner} {b}×")
    print(f"\n{runner} vs cargo test: {len(diffs)} difference(s)")
    print("\n".join(diffs[:200]))
