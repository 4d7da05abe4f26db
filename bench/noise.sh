#!/usr/bin/env bash
# The noise benchmark (issue #14): false alarms and detection of stored-baseline comparisons
# when every CI job runs on a different machine. See bench/noise.py.
# Usage: bench/noise.sh [JOBS] [HISTORY]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
python3 bench/noise.py "$PWD/target/release/cargo-gate" "${1:-200}" "${2:-30}"
