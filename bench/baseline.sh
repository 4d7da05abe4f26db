#!/usr/bin/env bash
# `cargo gate baseline log` over 10 000 commits with notes, and `baseline compare` against a
# 1 000-entry history, side by side with `git log --notes` on the same repository.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || apt-get install -y hyperfine >/dev/null
cargo build --release --quiet
gate="$PWD/target/release/cargo-gate"
repo="$PWD/bench/out/history"
rm -rf "$repo" && mkdir -p "$repo"
git -C "$repo" init -q
python3 bench/gen_history.py 10000 | git -C "$repo" fast-import --quiet
git -C "$repo" checkout -q main
printf '[baseline]\nhistory = 1000\nmax_depth = 1000\n' > "$repo/gate.toml"
cat > "$repo/report.json" <<'JSON'
{"schema":1,"tool_version":"bench","run":{"id":"now","started":"2026-01-01T00:00:00Z","duration":1,"profile":"default"},
 "suites":[{"kind":"bench","name":"bench","status":"passed","duration":1,"cases":[],
   "metrics":[{"name":"bench.parse","unit":"ns","direction":"lower_is_better","samples":[1050,1040,1061,1047,1052,1049,1055,1043,1058,1051]},
              {"name":"tests.duration","unit":"s","direction":"lower_is_better","samples":[14.2]}]}],
 "verdict":{"status":"passed","reasons":[]}}
JSON
echo "notes: $(git -C "$repo" notes --ref cargo-gate list | wc -l)"
cd "$repo"
hyperfine --warmup 1 --runs "${RUNS:-10}" --export-markdown ../baseline.md \
    -n "cargo gate baseline log -n 10000" "$gate baseline log -n 10000" \
    -n "cargo gate baseline log -n 10000 --metric bench.parse" "$gate baseline log -n 10000 --metric bench.parse" \
    -n "git log --notes=cargo-gate -n 10000" "git log --notes=cargo-gate -n 10000 --format='%h %N'" \
    -n "cargo gate baseline compare (1000-entry history)" "$gate baseline compare HEAD --report report.json"
"$gate" baseline compare HEAD --report report.json
