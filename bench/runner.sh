#!/usr/bin/env bash
# Side-by-side benchmark on fixtures/many (500 tests in 5 binaries, 10 of them sleeping 300 ms):
#   cargo gate run  vs  cargo nextest run  vs  cargo test
# after building, plus peak memory and the time to render a 100 000-case report.
# Needs hyperfine (Debian package) and cargo-nextest; installs hyperfine if apt is available.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || apt-get install -y hyperfine >/dev/null
out=bench/out
mkdir -p "$out"
cargo build --release --quiet
gate="$PWD/target/release/cargo-gate"
export CARGO_TARGET_DIR="$PWD/target/fixture-builds/many"
manifest=fixtures/many/Cargo.toml
# Build everything once so every tool below only runs tests.
cargo test --manifest-path "$manifest" --no-run --quiet 2>/dev/null
cargo nextest run --manifest-path "$manifest" --no-run >/dev/null 2>&1 || true
"$gate" run --manifest-path "$manifest" --no-doctests --progress lines --out-dir "$out/gate" >/dev/null 2>&1

hyperfine --warmup 1 --runs "${RUNS:-10}" --export-markdown "$out/runner.md" \
    -n "cargo gate run" "$gate run --manifest-path $manifest --no-doctests --progress lines --out-dir $out/gate" \
    -n "cargo nextest run" "cargo nextest run --manifest-path $manifest --no-fail-fast" \
    -n "cargo test" "cargo test --manifest-path $manifest --tests"

echo
echo "peak RSS of cargo gate run (KiB):"
/usr/bin/time -f "%M" "$gate" run --manifest-path "$manifest" --no-doctests --progress lines --out-dir "$out/gate" 2>&1 >/dev/null | tail -1

python3 bench/gen_report.py "$out/big.json" 100000
hyperfine --warmup 1 --runs "${RUNS:-10}" --export-markdown "$out/render.md" \
    -n "markdown (100k cases)" "$gate report --format markdown $out/big.json -o $out/big.md" \
    -n "html (100k cases)" "$gate report --format html $out/big.json -o $out/big.html"
for f in markdown html; do
    printf "peak RSS rendering %s (KiB): " "$f"
    /usr/bin/time -f "%M" "$gate" report --format "$f" "$out/big.json" -o "$out/big.$f" 2>&1 >/dev/null | tail -1
done
ls -l "$out/big.html" "$out/big.markdown"
