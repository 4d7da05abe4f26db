#!/usr/bin/env python3
"""The noise benchmark of issue #14, through the real binary.

A throw-away repository whose benchmark takes `base x speed x machine` time, where `machine`
is drawn once per simulated CI job (standard deviation 2.66 %, CodSpeed's figure for
GitHub-hosted runners) and every sample has 1 % noise of its own. The main branch gets HISTORY
commits, each with a note saved by `cargo gate baseline save` from its own job; then JOBS pull
request jobs run `cargo gate run --suite bench` on a new machine each, for each speed, and we
count the verdicts. The same jobs are judged twice: with cargo-gate's history comparison, and
with `min_history` set out of reach, which is the samples-vs-samples Mann-Whitney comparison
cargo-gate used before (and what comparing two runs' samples amounts to).

Usage: bench/noise.py GATE_BINARY [JOBS] [HISTORY]
"""
import json
import os
import random
import subprocess
import sys
import tempfile

gate = sys.argv[1]
jobs = int(sys.argv[2]) if len(sys.argv) > 2 else 200
history = int(sys.argv[3]) if len(sys.argv) > 3 else 30
rng = random.Random(2026)
MACHINE_SD, SAMPLE_SD, SAMPLES, BASE = 0.0266, 0.01, 10, 1_000_000.0

def job_samples(speed):
    machine = 1.0 + MACHINE_SD * rng.gauss(0, 1)
    return [BASE * speed * machine * (1.0 + SAMPLE_SD * rng.gauss(0, 1)) for _ in range(SAMPLES)]

def sh(args, cwd, check=True):
    r = subprocess.run(args, cwd=cwd, capture_output=True, text=True,
                       env={**os.environ, "CARGO_TERM_COLOR": "never", "GITHUB_BASE_REF": ""})
    if check and r.returncode not in (0, 1):
        sys.exit(f"{' '.join(args)} exited {r.returncode}:\n{r.stderr}")
    return r

def write_bench(repo, samples):
    with open(os.path.join(repo, "b.json"), "w") as f:
        json.dump({"metrics": [{"name": "parse", "unit": "ns", "samples": samples}]}, f)

def setup(min_history):
    repo = tempfile.mkdtemp(prefix="noise-")
    with open(os.path.join(repo, "Cargo.toml"), "w") as f:
        f.write('[package]\nname = "noise"\nversion = "0.1.0"\nedition = "2021"\n[workspace]\n')
    os.makedirs(os.path.join(repo, "src"))
    open(os.path.join(repo, "src", "lib.rs"), "w").close()
    with open(os.path.join(repo, "gate.toml"), "w") as f:
        f.write('[bench]\ncriterion = false\nlibtest = false\ncustom = ["b.json"]\n'
                f'[baseline]\nmin_history = {min_history}\n')
    with open(os.path.join(repo, ".gitignore"), "w") as f:
        f.write("target/\nb.json\nCargo.lock\n")
    for args in (["git", "init", "-q"], ["git", "add", "-A"],
                 ["git", "-c", "user.name=n", "-c", "user.email=n@n", "commit", "-qm", "init"]):
        sh(args, repo)
    for i in range(history):
        write_bench(repo, job_samples(1.0))
        sh([gate, "gate", "run", "--suite", "bench", "--no-baseline", "--out-dir", "target/gate"], repo)
        sh([gate, "gate", "baseline", "save", "--report", "target/gate/report.json"], repo)
        sh(["git", "-c", "user.name=n", "-c", "user.email=n@n", "commit", "-q", "--allow-empty", "-m", f"c{i}"], repo)
    return repo

def verdict(repo, samples):
    write_bench(repo, samples)
    sh([gate, "gate", "run", "--suite", "bench", "--out-dir", "target/gate"], repo)
    with open(os.path.join(repo, "target", "gate", "report.json")) as f:
        c = next(c for c in json.load(f)["comparisons"] if c["metric"] == "bench.parse")
    return c["verdict"], c.get("detectable_pct"), c.get("noise_pct"), c["method"]

ours, old = setup(5), setup(10**4)
print(f"{jobs} simulated jobs per speed, history of {history} main-branch jobs, machine spread "
      f"{MACHINE_SD * 100:.2f} %, {SAMPLE_SD * 100:.0f} % noise per sample, {SAMPLES} samples per job")
print("| change | history (cargo-gate now): flagged | samples vs samples (before): flagged |")
print("|---|---:|---:|")
detectable, noise = [], []
for speed in (1.00, 1.02, 1.05, 1.10, 1.15):
    counts = {"ours": 0, "old": 0}
    for _ in range(jobs):
        s = job_samples(speed)
        v, d, n, method = verdict(ours, s)
        assert method == "history", method
        counts["ours"] += v != "unchanged"
        if speed == 1.00 and d is not None:
            detectable.append(d)
            noise.append(n)
        v, _, _, method = verdict(old, s)
        counts["old"] += v != "unchanged"
    label = "A/A (none)" if speed == 1.0 else f"+{(speed - 1) * 100:.0f} %"
    print(f"| {label} | {counts['ours'] / jobs * 100:.1f} % | {counts['old'] / jobs * 100:.1f} % |")
detectable.sort()
noise.sort()
print(f"\nnoise the comparison reported (median): ±{noise[len(noise) // 2]:.2f} %; "
      f"smallest detectable change (median): {detectable[len(detectable) // 2]:.2f} %")
