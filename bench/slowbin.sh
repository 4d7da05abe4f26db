#!/usr/bin/env bash
# A binary of slow CPU-bound tests beside quick ones (bench/gen_slowbin.py: 40 tests of about
# 0.3 s of CPU each, 200 instant ones), everything built first:
#   cargo gate run (isolation auto, no history)  vs  cargo nextest run  vs  cargo test
# The floor is the total CPU time divided by the cores. RUNS=N runs each (default 5); SLOW,
# QUICK and ITERS shape the crate. Needs hyperfine (Debian package) and cargo-nextest.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
crate="$out/slowbin"
rm -rf "$crate"
python3 bench/gen_slowbin.py "$crate" "${SLOW:-40}" "${QUICK:-200}" "${ITERS:-30000000}"
export CARGO_TARGET_DIR="$PWD/target/fixture-builds/bench-slowbin"
manifest="$crate/Cargo.toml"
cargo test --manifest-path "$manifest" --no-run --quiet 2>/dev/null
cargo nextest run --manifest-path "$manifest" --no-run >/dev/null 2>&1
hyperfine --warmup 1 --runs "${RUNS:-5}" --export-markdown "$out/slowbin.md" \
    -n "cargo gate run (auto)" "$gate run --manifest-path $manifest --no-doctests --no-baseline --progress lines --out-dir $out/gate-slowbin" \
    -n "cargo nextest run" "cargo nextest run --manifest-path $manifest" \
    -n "cargo test" "cargo test --manifest-path $manifest --tests"
cat "$out/slowbin.md"
