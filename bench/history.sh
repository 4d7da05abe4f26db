#!/usr/bin/env bash
# Test history at scale: a repository of 1000 commits, each noted with the outcomes of 10 000
# tests (bench/gen_outcomes.py), read by `cargo gate history` over the whole history and over
# the 100 commits a pull request's run reads (`[baseline] max_depth`), hyperfine, RUNS runs.
# Prints the size of one note. Needs hyperfine (Debian package; installed when apt is there).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || apt-get install -y -qq hyperfine >/dev/null
tests=${TESTS:-10000}
commits=${COMMITS:-1000}
out=$PWD/bench/out/history
rm -rf "$out"
cargo build --release --quiet
gate="$PWD/target/release/cargo-gate"
python3 bench/gen_outcomes.py "$out" "$tests" "$commits"
cd "$out"
"$gate" history -n "$commits" | tail -1
hyperfine --warmup 1 --runs "${RUNS:-5}" --export-markdown "$out/../history.md" \
    -n "history -n $commits ($tests tests)" "$gate history -n $commits" \
    -n "history -n 100 (what a PR run reads)" "$gate history -n 100" \
    -n "history -n $commits --test case_42 --format json" "$gate history -n $commits --test case_42 --format json"
printf 'peak RSS of history -n %s (KiB): ' "$commits"
/usr/bin/time -f "%M" "$gate" history -n "$commits" 2>&1 >/dev/null | tail -1
