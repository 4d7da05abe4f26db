#!/usr/bin/env bash
# What the action's install step costs: scripts/install.sh fetching and verifying a release
# archive (the release build of this checkout, packed as the release workflow packs it, served
# by a local HTTP server) against `cargo install --locked --path .` (what a missing release
# falls back to, and what the action did before). The prebuilt path runs RUNS times (default 5,
# hyperfine); cargo install once (it takes minutes), from an empty target directory; SOURCE=0
# leaves it out. Prints a Markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || apt-get install -y hyperfine >/dev/null
runs="${RUNS:-5}"
work="$(mktemp -d)"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$work"' EXIT

cargo build --release --quiet
target=x86_64-unknown-linux-musl   # the name the script asks for on Linux x86_64
tag=v0.0.0-bench
name="cargo-gate-$tag-$target"
mkdir -p "$work/srv/$tag" "$work/$name"
cp README.md "$work/$name/"
# Stripped, as the release workflow builds it (no debug info, no symbols).
strip -o "$work/$name/cargo-gate" target/release/cargo-gate
tar -czf "$work/srv/$tag/$name.tar.gz" -C "$work" "$name"
(cd "$work/srv/$tag" && sha256sum "$name.tar.gz" >"$name.tar.gz.sha256")
port=18631
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$work/srv" >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/" >/dev/null && break; sleep 0.1; done

size=$(du -k "$work/srv/$tag/$name.tar.gz" | cut -f1)
hyperfine --runs "$runs" --warmup 1 --export-json "$work/prebuilt.json" \
    --prepare "rm -rf $work/root" \
    "VERSION=${tag#v} ROOT=$work/root RELEASES=http://127.0.0.1:$port TARGET=$target bash scripts/install.sh" \
    >/dev/null
prebuilt=$(python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['results'][0]; print(f\"{r['mean']:.2f} s ± {r['stddev']:.2f}\")" "$work/prebuilt.json")

source_secs=""
if [ "${SOURCE:-1}" != 0 ]; then
    start=$(date +%s.%N)
    CARGO_TARGET_DIR="$work/build" cargo install --locked --quiet --path . --root "$work/src-root" >/dev/null 2>&1
    end=$(date +%s.%N)
    source_secs=$(python3 -c "print(f'{$end - $start:.0f}')")
fi

echo "| install step | time |"
echo "|---|---|"
echo "| release archive ($size KiB, stripped binary): download, sha256 check, unpack (scripts/install.sh, $runs runs) | $prebuilt |"
if [ -n "$source_secs" ]; then
    echo "| \`cargo install --locked --path .\` from an empty target directory (1 run) | ${source_secs} s |"
fi
