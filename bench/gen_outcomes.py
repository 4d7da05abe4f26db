#!/usr/bin/env python3
"""A repository of COMMITS commits on main, each with a cargo-gate note holding the outcomes of
TESTS tests (as `baseline save` writes them: sorted ids front-coded, deflated, base64; one
token per outcome), for bench/history.sh. 1 % of the tests are flaky (a failed first attempt
on one run in ten), one test in a thousand fails from the middle of the history on.

Usage: gen_outcomes.py DIR TESTS COMMITS
"""

import base64
import json
import os
import random
import subprocess
import sys
import zlib


def pack(text):
    z = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = z.compress(text.encode()) + z.flush()
    return base64.b64encode(data).decode().rstrip("=")


def front_coded(ids):
    out, prev = [], ""
    for i in ids:
        shared = 0
        for a, b in zip(prev, i):
            if a != b:
                break
            shared += 1
        out.append(f"{len(prev[:shared].encode())}\t{i[shared:]}\n")
        prev = i
    return "".join(out)


def main():
    directory, tests, commits = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(7)
    ids = sorted(
        f"crate_{i % 25}::integration_{i % 7} module_{(i // 7) % 40}::case_{i}"
        for i in range(tests)
    )
    flaky = set(rng.sample(range(tests), tests // 100))
    broken = set(rng.sample(range(tests), max(1, tests // 1000)))
    ids_field = pack(front_coded(ids))
    millis = [rng.randint(0, 400) for _ in ids]
    os.makedirs(directory, exist_ok=True)
    subprocess.run(["git", "init", "-q", "-b", "main", directory], check=True)
    stream = []
    for c in range(commits):
        stream.append(
            f"commit refs/heads/main\nmark :{c + 1}\ncommitter b <b@b> {1700000000 + c} +0000\n"
            f"data {len(f'c{c}')}\nc{c}\n"
        )
    # One commit on the notes ref adding every note.
    notes = [
        f"commit refs/notes/cargo-gate\ncommitter b <b@b> 1800000000 +0000\ndata 5\nnotes\n"
    ]
    for c in range(commits):
        tokens = []
        for t in range(len(ids)):
            if t in broken and c >= commits // 2:
                tokens.append(f"f{millis[t]}x2")
            elif t in flaky and rng.random() < 0.1:
                tokens.append(f"k{millis[t]}x2")
            else:
                tokens.append(f"p{millis[t]}")
        note = {
            "schema": 1,
            "entries": [],
            "tests": [
                {
                    "run_id": f"run-{c}",
                    "recorded": "2026-12-01T00:00:00Z",
                    "ids": ids_field,
                    "outcomes": pack(",".join(tokens)),
                }
            ],
        }
        body = json.dumps(note)
        notes.append(f"N inline :{c + 1}\ndata {len(body.encode())}\n{body}\n")
    data = "".join(stream + notes).encode()
    subprocess.run(["git", "fast-import", "--quiet"], input=data, cwd=directory, check=True)
    subprocess.run(["git", "checkout", "-q", "main"], cwd=directory, check=True)
    print(f"note size: {len(body.encode())} bytes for {tests} tests ({len(ids_field)} of ids)")


if __name__ == "__main__":
    main()
