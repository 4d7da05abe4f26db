#!/usr/bin/env bash
# How evenly shards split the work: a generated crate with 90 tests whose durations follow a
# long-tailed distribution (seeded: most take a few ms, a handful take seconds, as in real
# suites), run as 3 shards by cargo-nextest (hash, count) and by cargo-gate (hash, count, and
# time, balanced by the durations a first full run saved in the git notes). A CI matrix waits
# for its slowest shard, so the slowest shard is the figure that matters. Prints a Markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
gate="$PWD/target/release/cargo-gate"
work="$PWD/target/bench-shards"
rm -rf "$work"
mkdir -p "$work/src"
cd "$work"
python3 - <<'EOF'
import math, random
random.seed(7)
lines = []
for i in range(90):
    secs = min(4.0, math.exp(random.gauss(-2.0, 1.4)))
    lines += ["#[test]", f"fn t{i:02}() {{",
              f"    std::thread::sleep(std::time::Duration::from_micros({int(secs * 1e6)}));", "}", ""]
open("src/lib.rs", "w").write("\n".join(lines))
EOF
printf '[package]\nname = "shards"\nversion = "0.1.0"\nedition = "2021"\n[workspace]\n' >Cargo.toml
printf 'target/\nout*/\nCargo.lock\n' >.gitignore
git init -q
git -c user.name=bench -c user.email=bench@example.com add -A
git -c user.name=bench -c user.email=bench@example.com commit -qm base
jobs=2
# Build once, then record the durations the time partition balances by.
"$gate" gate run --no-doctests --no-baseline -j "$jobs" --out-dir out >/dev/null 2>&1
"$gate" gate baseline save --report out/report.json >/dev/null
git -c user.name=bench -c user.email=bench@example.com commit -qm next --allow-empty
cargo nextest run --no-run >/dev/null 2>&1

seconds() {
    local start end
    start=$(date +%s.%N)
    "$@" >/dev/null 2>&1 || true
    end=$(date +%s.%N)
    awk -v s="$start" -v e="$end" 'BEGIN { printf "%.2f", e - s }'
}

echo "| runner and partition | shard 1 | shard 2 | shard 3 | slowest shard |"
echo "|---|---:|---:|---:|---:|"
row() {
    local name="$1"
    shift
    local times=() slowest=0
    for k in 1 2 3; do
        local t
        t=$(seconds "$@" "$k")
        times+=("$t")
        slowest=$(awk -v a="$slowest" -v b="$t" 'BEGIN { print (b > a) ? b : a }')
    done
    echo "| $name | ${times[0]} s | ${times[1]} s | ${times[2]} s | **$slowest s** |"
}
nextest() { cargo nextest run --no-fail-fast --test-threads "$jobs" --partition "$1:$2/3"; }
gate_shard() { "$gate" gate run --no-doctests --no-baseline -j "$jobs" --out-dir "out$2" --partition "$1:$2/3"; }
row "cargo-nextest, hash" nextest hash
row "cargo-nextest, count" nextest count
row "cargo-gate, hash" gate_shard hash
row "cargo-gate, count" gate_shard count
row "cargo-gate, time" gate_shard time
total=$(python3 -c "import re; print(round(sum(int(m) for m in re.findall(r'from_micros\((\d+)\)', open('src/lib.rs').read())) / 1e6, 2))")
echo
echo "Sum of all test durations: $total s over $jobs jobs per shard, so an ideal split takes about $(awk -v t="$total" -v j="$jobs" 'BEGIN { printf "%.2f", t / 3 / j }') s per shard plus start-up."
