#!/usr/bin/env bash
# The HTML report on a generated 100 000-case report (bench/gen_report.py: 1 % failures with
# 200 lines of output each, 0.5 % flaky): its size against the previous template's (the plain
# page of before, kept in bench/report-plain.html.j2), the time to render it, and how long
# headless Chromium takes until the page's script is done (`data-ready-ms`: from navigation
# start, parsing and the first 1000 rows of the case table included), over RUNS runs.
# Needs chromium and hyperfine (Debian packages; installed when apt is available).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || apt-get install -y -qq hyperfine >/dev/null
command -v chromium >/dev/null || apt-get install -y -qq chromium >/dev/null
out=bench/out/html
mkdir -p "$out/plain"
cargo build --release --quiet
gate="$PWD/target/release/cargo-gate"
python3 bench/gen_report.py "$out/big.json" 100000
cp bench/report-plain.html.j2 "$out/plain/report.html.j2"
"$gate" report --format html "$out/big.json" -o "$out/big.html"
"$gate" report --format html --template "$out/plain" "$out/big.json" -o "$out/plain.html"
hyperfine --warmup 1 --runs "${RUNS:-5}" --export-markdown "$out/render.md" \
    -n "render html (100k cases)" "$gate report --format html $out/big.json -o $out/big.html"
ls -l "$out/big.html" "$out/plain.html"
ready() {
    chromium --headless --no-sandbox --disable-gpu --dump-dom "file://$PWD/$1" 2>/dev/null |
        grep -o 'data-ready-ms="[0-9]*"' | grep -o '[0-9]*'
}
for page in big.html plain.html; do
    printf '%s ready after (ms):' "$page"
    for _ in $(seq "${RUNS:-5}"); do printf ' %s' "$(ready "$out/$page" || echo '?')"; done
    echo
done
