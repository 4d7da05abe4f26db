#!/usr/bin/env bash
# A cold first run: an empty target directory, build included — `cargo test --workspace`
# against `cargo gate run` on the same workspace, RUNS times each, alternating.
#
#   bench/cold.sh [MANIFEST]      (default: fixtures/features, a workspace that unifies a
#                                  feature of a shared member across the others)
#
# Prints each run's wall time and the median of each side, and counts what cargo compiled in
# each run: a doctest phase that resolves features per package compiles more than cargo test.
set -euo pipefail
cd "$(dirname "$0")/.."
manifest="${1:-fixtures/features/Cargo.toml}"
runs="${RUNS:-3}"
cargo build --release --quiet
gate="$PWD/target/release/cargo-gate"
target="$(mktemp -d)"
out="$(mktemp -d)"
trap 'rm -rf "$target" "$out"' EXIT
export CARGO_TARGET_DIR="$target"

seconds() { python3 -c 'import sys,time; print(f"{time.monotonic():.3f}")'; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

: >"$out/test"
: >"$out/gate"
for i in $(seq "$runs"); do
    rm -rf "$target" && mkdir -p "$target"
    start=$(seconds)
    compiled=$(cargo test --workspace --manifest-path "$manifest" 2>&1 | grep -c '^ *Compiling' || true)
    end=$(seconds)
    t=$(python3 -c "print(f'{$end - $start:.2f}')")
    echo "$t" >>"$out/test"
    echo "run $i  cargo test --workspace  ${t}s  ($compiled crates compiled)"

    rm -rf "$target" && mkdir -p "$target"
    start=$(seconds)
    compiled=$("$gate" run --manifest-path "$manifest" --progress lines --no-baseline \
        --out-dir "$out/report" 2>&1 | grep -c '^ *Compiling' || true)
    end=$(seconds)
    t=$(python3 -c "print(f'{$end - $start:.2f}')")
    echo "$t" >>"$out/gate"
    echo "run $i  cargo gate run          ${t}s  ($compiled crates compiled)"
done
test_median=$(median <"$out/test")
gate_median=$(median <"$out/gate")
echo
echo "median: cargo test --workspace ${test_median}s, cargo gate run ${gate_median}s ($(python3 -c "print(f'{$gate_median / $test_median:.2f}')")×)"
