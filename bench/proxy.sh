#!/usr/bin/env bash
# The fault proxy with no toxic vs a direct connection, side by side with wrk on the same local
# server (examples/load_server.rs): throughput and latency percentiles, for a server that
# answers at once (CPU-bound: client, server and proxy share the cores) and for one with a 1 ms
# service time (the usual case: the server, not the CPU, sets the pace).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || apt-get install -y wrk >/dev/null
cargo build --release --quiet --examples
cargo build --release --quiet
secs="${SECS:-10}"
conns="${CONNS:-32}"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null' EXIT
target/release/examples/load_server --port 18190 >/dev/null 2>&1 & pids+=($!)
target/release/examples/load_server --port 18192 --delay-ms 1 >/dev/null 2>&1 & pids+=($!)
target/release/cargo-gate proxy 127.0.0.1:18191 127.0.0.1:18190 2>/dev/null & pids+=($!)
target/release/cargo-gate proxy 127.0.0.1:18193 127.0.0.1:18192 2>/dev/null & pids+=($!)
sleep 0.5
run() {
    echo "-- $1"
    wrk -t"$(( $2 < 2 ? 1 : 2 ))" -c"$2" -d"${secs}s" --latency "http://127.0.0.1:$3/" | grep -E "Requests/sec|50%|99%"
}
echo "== instant server, $conns connections"
run direct "$conns" 18190
run proxy "$conns" 18191
echo "== instant server, 1 connection"
run direct 1 18190
run proxy 1 18191
echo "== 1 ms server, $conns connections"
run direct "$conns" 18192
run proxy "$conns" 18193
