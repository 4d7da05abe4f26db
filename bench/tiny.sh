#!/usr/bin/env bash
# Many tiny tests: a generated crate of N tests of about 1 ms each (bench/gen_tiny.py, default
# 10 000), and fixtures/many (500 tests in 5 binaries, one slow test in each):
#   cargo gate run (isolation auto)  vs  cargo nextest run  vs  cargo test
# with everything built first, so each tool only runs tests. RUNS=N runs each (default 5);
# TINY=N sets the number of tests. Process isolation on the tiny crate is timed once, apart.
# Needs hyperfine (Debian package) and cargo-nextest; installs hyperfine if apt is available.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
runs="${RUNS:-5}"

tiny="$out/tiny"
rm -rf "$tiny"
python3 bench/gen_tiny.py "$tiny" "${TINY:-10000}"
for case in tiny many; do
    if [ "$case" = tiny ]; then
        manifest="$tiny/Cargo.toml"
    else
        manifest="$PWD/fixtures/many/Cargo.toml"
    fi
    export CARGO_TARGET_DIR="$PWD/target/fixture-builds/bench-$case"
    cargo test --manifest-path "$manifest" --no-run --quiet 2>/dev/null
    cargo nextest run --manifest-path "$manifest" --no-run >/dev/null 2>&1 || true
    "$gate" run --manifest-path "$manifest" --no-doctests --no-baseline --progress lines \
        --out-dir "$out/gate-$case" >/dev/null 2>&1 || true
    hyperfine --warmup 1 --runs "$runs" --export-markdown "$out/tiny-$case.md" \
        -n "cargo gate run (auto)" "$gate run --manifest-path $manifest --no-doctests --no-baseline --progress lines --out-dir $out/gate-$case" \
        -n "cargo nextest run" "cargo nextest run --manifest-path $manifest --no-fail-fast" \
        -n "cargo test" "cargo test --manifest-path $manifest --tests"
    python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print('isolation:', r['suites'][0].get('details', {}).get('tests', {}).get('isolation'))" "$out/gate-$case/report.json"
done

# Process isolation on the tiny crate, once: one process per test is what the batch avoids.
export CARGO_TARGET_DIR="$PWD/target/fixture-builds/bench-tiny"
printf '[tests]\nisolation = "process"\n' > "$out/process.toml"
/usr/bin/time -f "cargo gate run (isolation process), tiny: %e s" \
    "$gate" run --config "$out/process.toml" --manifest-path "$tiny/Cargo.toml" --no-doctests \
    --no-baseline --progress lines --out-dir "$out/gate-process" >/dev/null 2>"$out/process.time" || true
tail -1 "$out/process.time"
cat "$out/tiny-tiny.md" "$out/tiny-many.md"
