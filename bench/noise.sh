#!/usr/bin/env bash
# The noise benchmark (issue #14): false alarms and detection when every CI job runs on a
# different machine, for stored baselines (bench/noise.py) and paired A/B runs
# (bench/noise_paired.py), through the release binary.
# Usage: bench/noise.sh [JOBS] [HISTORY] [PAIRED_JOBS]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
python3 bench/noise.py "$PWD/target/release/cargo-gate" "${1:-200}" "${2:-30}"
echo
python3 bench/noise_paired.py "$PWD/target/release/cargo-gate" "${3:-100}" 20
