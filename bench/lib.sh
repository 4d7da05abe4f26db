# shellcheck shell=bash disable=SC2034
# Shared set-up of the bench scripts, sourced after `set -euo pipefail`: the repository root as
# the working directory, hyperfine (installed when apt is there), the release build; sets
# `gate` (the binary) and `out` (bench/out, created) for the script that sources it.
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
command -v hyperfine >/dev/null || apt-get install -y -qq hyperfine >/dev/null
cargo build --release --quiet
gate="$PWD/target/release/cargo-gate"
out="$PWD/bench/out"
mkdir -p "$out"
