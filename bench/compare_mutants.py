#!/usr/bin/env python3
"""Compares cargo-gate's mutants.json with cargo-mutants' outcomes.json, mutant by mutant.

Usage: compare_mutants.py OURS/mutants.json THEIRS/mutants.out/outcomes.json

Prints one row per mutant either tool generated (name, cargo-gate's outcome, cargo-mutants'
outcome) and exits 1 when a mutant both generated has different outcomes. One pair is told apart
rather than counted as a difference: caught here and a timeout there. The mutant made a test
fail and another hang; cargo-gate stops at the first failure, cargo-mutants waits for every test
of the binary, so it sees the hang. Both say a test noticed the mutant.
"""
import json
import sys

WORDS = {
    "CaughtMutant": "caught",
    "MissedMutant": "missed",
    "Timeout": "timeout",
    "Unviable": "unviable",
}


def ours(path):
    with open(path) as f:
        doc = json.load(f)
    return {o["name"]: o["outcome"] for o in doc["outcomes"]}


def theirs(path):
    with open(path) as f:
        doc = json.load(f)
    out = {}
    for o in doc["outcomes"]:
        scenario = o.get("scenario")
        if not isinstance(scenario, dict) or "Mutant" not in scenario:
            continue  # the unmutated baseline
        out[scenario["Mutant"]["name"]] = WORDS.get(o["summary"], o["summary"])
    return out


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    a, b = ours(sys.argv[1]), theirs(sys.argv[2])
    differ = 0
    stopped_first = 0
    print(f"{'mutant':<80} {'cargo-gate':<10} {'cargo-mutants':<13}")
    for name in sorted(set(a) | set(b)):
        x, y = a.get(name, "-"), b.get(name, "-")
        mark = ""
        if name in a and name in b and x != y:
            if (x, y) == ("caught", "timeout"):
                stopped_first += 1
                mark = "  (a test failed first; another hung)"
            else:
                differ += 1
                mark = "  <-- differs"
        print(f"{name[:80]:<80} {x:<10} {y:<13}{mark}")
    both = len(set(a) & set(b))
    print(
        f"\n{len(a)} mutants from cargo-gate, {len(b)} from cargo-mutants, {both} from both; "
        f"{differ} with different outcomes"
        + (f", {stopped_first} caught here and a timeout there" if stopped_first else "")
    )
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
