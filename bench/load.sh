#!/usr/bin/env bash
# cargo-gate's load generator side by side with wrk (Debian package) on the same local server
# (examples/load_server.rs), same connections, same duration:
#   1. maximum throughput: wrk -c N vs a closed loop with N users;
#   2. latency with 4 connections: wrk -c 4 vs a closed loop with 4 users;
#   3. an open loop at a fixed rate below saturation
#      (wrk2, the rate-fixing fork, is not packaged; below saturation both measure service time).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || apt-get install -y wrk >/dev/null
cargo build --release --quiet --examples
cargo build --release --quiet
gate="$PWD/target/release/cargo-gate"
conns="${CONNS:-32}"
secs="${SECS:-10}"
rate="${RATE:-5000}"
out="$PWD/bench/out/load"
rm -rf "$out" && mkdir -p "$out/src"
printf '[package]\nname = "lb"\nversion = "0.1.0"\nedition = "2021"\n[workspace]\n' > "$out/Cargo.toml"
touch "$out/src/lib.rs"

target/release/examples/load_server --port 18090 > "$out/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null' EXIT
sleep 0.5

# Runs one scenario (NAME, then its load settings) and prints throughput and latency.
measure() {
    local name=$1 settings=$2
    printf '[[load]]\nname = "%s"\nurl = "http://127.0.0.1:18090/"\n%s\nduration = "%ss"\nwarmup = "1s"\n' \
        "$name" "$settings" "$secs" > "$out/gate.toml"
    if ! (cd "$out" && "$gate" run --suite load --no-baseline --progress lines --out-dir "$out/gate" >/dev/null 2>&1); then
        echo "(the scenario's gate failed; figures below are still what was measured)"
    fi
    python3 - "$out/gate/report.json" "$name" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
n = sys.argv[2]
m = {x["name"]: x["samples"][0] for x in r["suites"][0]["metrics"] if x["samples"]}
print(f"cargo-gate {n}: {m[f'load.{n}.rps']:.0f} req/s, p50 {m[f'load.{n}.med']:.3f} ms, p99 {m[f'load.{n}.p(99)']:.3f} ms")
PY
}

echo "== max throughput, $conns connections, ${secs}s"
wrk -t2 -c"$conns" -d"${secs}s" --latency http://127.0.0.1:18090/ | grep -E "Requests/sec|50%|99%"
measure closed_max "users = $conns"

echo "== 4 connections: wrk -c 4 vs a closed loop with 4 users"
wrk -t2 -c4 -d"${secs}s" --latency http://127.0.0.1:18090/ | grep -E "Requests/sec|50%|99%"
measure closed_four "users = 4"

echo "== open loop at $rate req/s (below saturation)"
measure open_fixed "rate = $rate
connections = $conns"
