#!/usr/bin/env bash
# Runs `cargo test --workspace --no-fail-fast`, `cargo nextest run --workspace --no-fail-fast`
# and `cargo gate run` on each workspace given (default: fixtures/parity), and prints per
# workspace how many tests each found, how many failed, and every test whose outcome differs.
# Usage: bench/parity.sh [PATH/Cargo.toml ...]
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
cargo build --release --quiet
gate="$PWD/target/release/cargo-gate"
out="$PWD/bench/out/parity"
mkdir -p "$out"
[ $# -gt 0 ] || set -- fixtures/parity/Cargo.toml
for manifest in "$@"; do
    name=$(basename "$(dirname "$manifest")")
    export CARGO_TARGET_DIR="$PWD/target/fixture-builds/parity-$name"
    export RUST_BACKTRACE=0 CARGO_TERM_COLOR=never
    cargo test --workspace --no-fail-fast --manifest-path "$manifest" >"$out/$name.cargo.txt" 2>&1
    cargo nextest run --workspace --no-fail-fast --manifest-path "$manifest" \
        >"$out/$name.nextest.txt" 2>&1
    "$gate" run --manifest-path "$manifest" --no-baseline --progress lines \
        --out-dir "$out/$name.gate" >/dev/null 2>&1
    python3 bench/parity_diff.py "$name" "$out/$name.cargo.txt" "$out/$name.nextest.txt" \
        "$out/$name.gate/report.json"
done
