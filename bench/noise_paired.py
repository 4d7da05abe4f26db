#!/usr/bin/env python3
"""The paired half of the noise benchmark (issue #14), through the real binary.

A throw-away repository whose timed command sleeps `0.05 s x speed x machine x (1 + 1 % noise)`:
`speed` is a file of the commit (1.00 on the base commit, the change under test on HEAD),
`machine` is drawn once per simulated CI job (standard deviation 2.66 %) and shared by both
sides, as it is when both run in the same job. Each job runs
`cargo gate run --suite bench --paired HEAD^`; we count the verdicts. The command's own start-up
(sh, awk, sleep: a few ms) is the same on both sides, so it makes changes look a little smaller
than `speed` says.

Usage: bench/noise_paired.py GATE_BINARY [JOBS] [ROUNDS]
"""
import json
import os
import random
import subprocess
import sys
import tempfile

gate = sys.argv[1]
jobs = int(sys.argv[2]) if len(sys.argv) > 2 else 100
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 20
rng = random.Random(2026)
MACHINE_SD = 0.0266
SCRIPT = r'''sleep "$(awk -v s="$(cat speed)" -v m="$MACHINE" -v r="$$" 'BEGIN { srand(r); u = rand(); v = rand();
  n = sqrt(-2 * log(u + 1e-12)) * cos(6.2831853 * v); printf "%.6f", 0.05 * s * m * (1 + 0.01 * n) }')"
'''

def sh(args, cwd, env=None):
    r = subprocess.run(args, cwd=cwd, capture_output=True, text=True,
                       env={**os.environ, "CARGO_TERM_COLOR": "never", **(env or {})})
    if r.returncode not in (0, 1):
        sys.exit(f"{' '.join(args)} exited {r.returncode}:\n{r.stdout}\n{r.stderr}")
    return r

def repo(speed):
    d = tempfile.mkdtemp(prefix="noise-paired-")
    files = {
        "Cargo.toml": '[package]\nname = "noise"\nversion = "0.1.0"\nedition = "2021"\n[workspace]\n',
        "src/lib.rs": "",
        ".gitignore": "target/\nCargo.lock\n",
        "bench.sh": SCRIPT,
        "speed": "1.00\n",
        "gate.toml": f'[bench]\ncriterion = false\nlibtest = false\nrounds = {rounds}\n'
                     '[[bench.command]]\nname = "work"\ncmd = ["sh", "bench.sh"]\nwarmup = 1\n',
    }
    for name, text in files.items():
        os.makedirs(os.path.dirname(os.path.join(d, name)), exist_ok=True)
        with open(os.path.join(d, name), "w") as f:
            f.write(text)
    git = ["git", "-c", "user.name=n", "-c", "user.email=n@n"]
    sh(["git", "init", "-q"], d)
    sh(["git", "add", "-A"], d)
    sh(git + ["commit", "-qm", "base"], d)
    with open(os.path.join(d, "speed"), "w") as f:
        f.write(f"{speed:.2f}\n")
    sh(git + ["commit", "-q", "--allow-empty", "-am", "head"], d)
    return d

print(f"{jobs} simulated jobs per change, {rounds} rounds each, machine spread "
      f"{MACHINE_SD * 100:.2f} % (shared by both sides), 1 % noise per run, 50 ms per run")
print("| change | paired: regressed | improved | interval width (median) |")
print("|---|---:|---:|---:|")
for speed in (1.00, 1.02, 1.05):
    d = repo(speed)
    verdicts = {"regressed": 0, "improved": 0}
    widths = []
    for _ in range(jobs):
        machine = 1.0 + MACHINE_SD * rng.gauss(0, 1)
        sh([gate, "gate", "run", "--suite", "bench", "--paired", "HEAD^", "--no-baseline",
            "--progress", "lines", "--out-dir", "target/gate"], d, {"MACHINE": f"{machine:.6f}"})
        with open(os.path.join(d, "target", "gate", "report.json")) as f:
            c = next(c for c in json.load(f)["comparisons"] if c["metric"] == "bench.work")
        assert c["method"] == "paired", c
        verdicts[c["verdict"]] = verdicts.get(c["verdict"], 0) + 1
        lo, hi = c["interval_pct"]
        widths.append(hi - lo)
    widths.sort()
    label = "A/A (none)" if speed == 1.0 else f"+{(speed - 1) * 100:.0f} %"
    print(f"| {label} | {verdicts['regressed'] / jobs * 100:.1f} % | "
          f"{verdicts['improved'] / jobs * 100:.1f} % | {widths[len(widths) // 2]:.2f} points |")
