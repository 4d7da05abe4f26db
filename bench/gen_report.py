#!/usr/bin/env python3
"""Writes a synthetic report.json with N cases (default 100 000): 1 % failed with output,
0.5 % flaky, the rest passed. Used by bench/runner.sh to time rendering."""
import json
import sys

n = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
out = sys.argv[1]
cases = []
for i in range(n):
    pkg = f"pkg{i % 50}"
    name = f"module_{i % 200}::test_{i:06d}"
    if i % 100 == 7:
        tail = "".join(f"line {k}: diagnostic output of a failing test\n" for k in range(200))
        tail += f"thread '{name}' panicked at src/lib.rs:{i % 900 + 1}:5:\nassertion failed\n"
        attempts = [{"status": "failed", "duration": 0.05, "output_tail": tail}]
        status, msg = "failed", "assertion failed"
    elif i % 200 == 11:
        attempts = [
            {"status": "failed", "duration": 0.02, "output_tail": "first attempt failed\n"},
            {"status": "passed", "duration": 0.02, "output_tail": ""},
        ]
        status, msg = "flaky", "passed on attempt 2 after: first attempt failed"
    else:
        attempts = [{"status": "passed", "duration": 0.001 * (i % 37), "output_tail": ""}]
        status, msg = "passed", None
    case = {"id": f"{pkg} {name}", "name": name, "package": pkg, "binary": pkg,
            "status": status, "attempts": attempts}
    if msg:
        case["message"] = msg
    cases.append(case)
report = {
    "schema": 1, "tool_version": "bench",
    "run": {"id": "bench", "started": "2026-01-01T00:00:00Z", "duration": 600.0, "profile": "default"},
    "suites": [{"kind": "tests", "name": "tests", "status": "failed", "duration": 600.0,
                "cases": cases, "metrics": []}],
    "gates": [], "verdict": {"status": "failed", "reasons": ["tests.failed == 0"]},
}
with open(out, "w") as f:
    json.dump(report, f)
