#!/usr/bin/env bash
# The fault proxy's fidelity, measured from outside (examples/fidelity.rs): for each toxic, our
# own servers and clients on 127.0.0.1 stamp what they send and receive, and the result is set
# against what the toxic is configured to do. Each row is the median of REPS runs (default 5)
# with their range. Prints a Markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --example fidelity
REPS="${REPS:-5}" target/release/examples/fidelity
