#!/usr/bin/env bash
# The action's `mode: merge`: merges the report of every shard under SHARDS (one folder per
# downloaded artifact, each with a report.json) into OUT/report.json with `cargo gate merge`,
# which applies the gate to the whole, and writes the step outputs the publishing steps read.
#
# Environment:
#   SHARDS  folder holding one folder per shard artifact
#   OUT     where the merged report goes (default: target/gate)
#   CARGO_GATE  the cargo-gate binary (default: `cargo gate`, as installed by the action)
set -euo pipefail

: "${SHARDS:?SHARDS must be set}"
out="${OUT:-$PWD/target/gate}"
mkdir -p "$out"

shopt -s nullglob
reports=("$SHARDS"/*/report.json)
if [ "${#reports[@]}" -eq 0 ]; then
    echo "::error::no shard reports under $SHARDS: did the shard jobs upload them with artifact-name ending in -N?"
    code=2
else
    echo "merging ${#reports[@]} shard report(s)"
    if [ -n "${CARGO_GATE:-}" ]; then gate=("$CARGO_GATE"); else gate=(cargo gate); fi
    set +e
    "${gate[@]}" merge -o "$out/report.json" "${reports[@]}"
    code=$?
    set -e
fi

case "$code" in
    0) verdict=passed ;;
    1) verdict=failed ;;
    *) verdict=error ;;
esac
if [ -n "${GITHUB_OUTPUT:-}" ]; then
    {
        echo "exit-code=$code"
        echo "verdict=$verdict"
        echo "report=$out/report.json"
        echo "dir=$out"
    } >>"$GITHUB_OUTPUT"
fi
echo "merged verdict: $verdict (exit $code)"
