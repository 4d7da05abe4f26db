#!/usr/bin/env python3
"""Writes a git fast-import stream: N commits on main, each with a cargo-gate note holding two
metrics (30 samples of bench.parse, 1 value of tests.duration)."""
import json
import random
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
rng = random.Random(7)
out = sys.stdout.buffer


def data(b: bytes) -> None:
    out.write(b"data %d\n" % len(b))
    out.write(b)
    out.write(b"\n")


for i in range(1, n + 1):
    out.write(b"commit refs/heads/main\nmark :%d\n" % i)
    out.write(b"committer bench <bench@example.com> %d +0000\n" % (1_700_000_000 + i))
    data(b"commit %d" % i)
    if i > 1:
        out.write(b"from :%d\n" % (i - 1))
    out.write(b"M 644 inline f\n")
    data(b"%d" % i)

out.write(b"commit refs/notes/cargo-gate\ncommitter bench <bench@example.com> 1800000000 +0000\n")
data(b"notes")
for i in range(1, n + 1):
    note = {
        "schema": 1,
        "entries": [
            {"metric": "bench.parse", "unit": "ns", "direction": "lower_is_better",
             "samples": [round(1000 * (1 + 0.03 * rng.gauss(0, 1)), 2) for _ in range(30)],
             "run_id": "r%d" % i, "recorded": ""},
            {"metric": "tests.duration", "unit": "s", "direction": "lower_is_better",
             "samples": [round(12 + rng.random(), 3)], "run_id": "r%d" % i, "recorded": ""},
        ],
    }
    out.write(b"N inline :%d\n" % i)
    data(json.dumps(note).encode())
