#!/usr/bin/env bash
# Scale: a generated workspace of 50 members x 200 trivial tests, and one crate of 20 000
# trivial tests in one binary (bench/gen_scale.py), everything built first:
#   cargo gate run  vs  cargo nextest run  vs  cargo test   — wall time (hyperfine) and peak RSS
# RUNS=N runs each (default 3); MEMBERS, PER_MEMBER and ONE size the workspaces.
# Needs hyperfine (Debian package) and cargo-nextest.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
runs="${RUNS:-3}"
rm -rf "$out/scale-members" "$out/scale-one"
python3 bench/gen_scale.py "$out/scale-members" members "${MEMBERS:-50}" "${PER_MEMBER:-200}"
python3 bench/gen_scale.py "$out/scale-one" one "${ONE:-20000}"
for case in members one; do
    manifest="$out/scale-$case/Cargo.toml"
    export CARGO_TARGET_DIR="$PWD/target/fixture-builds/bench-scale-$case"
    cargo test --workspace --manifest-path "$manifest" --no-run --quiet 2>/dev/null
    cargo nextest run --workspace --manifest-path "$manifest" --no-run >/dev/null 2>&1
    gate_cmd="$gate run --manifest-path $manifest --no-doctests --no-baseline --progress lines --out-dir $out/gate-scale-$case"
    nextest_cmd="cargo nextest run --workspace --manifest-path $manifest"
    test_cmd="cargo test --workspace --manifest-path $manifest --lib"
    hyperfine --warmup 1 --runs "$runs" --export-markdown "$out/scale-$case.md" \
        -n "cargo gate run" "$gate_cmd" -n "cargo nextest run" "$nextest_cmd" -n "cargo test" "$test_cmd"
    for tool in gate nextest test; do
        cmd_var="${tool}_cmd"
        /usr/bin/time -f "$case $tool peak RSS: %M KB" ${!cmd_var} >/dev/null 2>"$out/scale-$case-$tool.time" || true
        tail -1 "$out/scale-$case-$tool.time"
    done
    cat "$out/scale-$case.md"
done
