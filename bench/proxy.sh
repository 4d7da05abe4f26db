#!/usr/bin/env bash
# The fault proxy with no toxic vs a direct connection, side by side with wrk on the same local
# server (examples/load_server.rs): throughput and latency percentiles.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || apt-get install -y wrk >/dev/null
cargo build --release --quiet --examples
cargo build --release --quiet
secs="${SECS:-10}"
conns="${CONNS:-32}"
target/release/examples/load_server --port 18190 >/dev/null 2>&1 &
server=$!
target/release/cargo-gate proxy 127.0.0.1:18191 127.0.0.1:18190 2>/dev/null &
proxy=$!
trap 'kill $server $proxy 2>/dev/null' EXIT
sleep 0.5
for target in "direct 18190" "proxy 18191"; do
    set -- $target
    echo "== $1"
    wrk -t2 -c"$conns" -d"${secs}s" --latency "http://127.0.0.1:$2/" | grep -E "Requests/sec|50%|99%"
done
echo "== one connection (latency added per request)"
for target in "direct 18190" "proxy 18191"; do
    set -- $target
    echo "-- $1"
    wrk -t1 -c1 -d"${secs}s" --latency "http://127.0.0.1:$2/" | grep -E "Requests/sec|50%|99%"
done
