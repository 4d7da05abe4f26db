#!/usr/bin/env bash
# cargo-gate's load generator side by side with wrk (Debian package) on the same local server
# (examples/load_server.rs), same connections, same duration:
#   1. maximum throughput: wrk -c N vs a closed loop with N users;
#   2. latency at a fixed rate below saturation: our open loop vs wrk with few connections
#      (wrk2, the rate-fixing fork, is not packaged; below saturation both measure service time).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || apt-get install -y wrk >/dev/null
cargo build --release --quiet --examples
cargo build --release --quiet
gate="$PWD/target/release/cargo-gate"
conns="${CONNS:-32}"
secs="${SECS:-10}"
out="$PWD/bench/out/load"
rm -rf "$out" && mkdir -p "$out/src"

target/release/examples/load_server --port 18090 > "$out/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null' EXIT
sleep 0.5

printf '[package]\nname = "lb"\nversion = "0.1.0"\nedition = "2021"\n[workspace]\n' > "$out/Cargo.toml"
touch "$out/src/lib.rs"

echo "== max throughput, $conns connections, ${secs}s"
wrk -t2 -c"$conns" -d"${secs}s" --latency http://127.0.0.1:18090/ | tee "$out/wrk-max.txt"
cat > "$out/gate.toml" <<TOML
[[load]]
name = "max"
url = "http://127.0.0.1:18090/"
users = $conns
duration = "${secs}s"
warmup = "1s"
TOML
(cd "$out" && "$gate" run --suite load --no-baseline --progress lines --out-dir "$out/gate" >/dev/null 2>&1 || true)
python3 - "$out/gate/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
m = {x["name"]: x["samples"][0] for x in r["suites"][0]["metrics"] if x["samples"]}
print(f"cargo-gate closed loop: {m['load.max.rps']:.0f} req/s, p50 {m['load.max.med']:.3f} ms, p99 {m['load.max.p(99)']:.3f} ms")
PY

echo "== latency with 4 connections: wrk -c 4 vs a closed loop with 4 users"
wrk -t2 -c4 -d"${secs}s" --latency http://127.0.0.1:18090/ | tee "$out/wrk-low.txt"
cat > "$out/gate.toml" <<TOML
[[load]]
name = "four"
url = "http://127.0.0.1:18090/"
users = 4
duration = "${secs}s"
warmup = "1s"
TOML
(cd "$out" && "$gate" run --suite load --no-baseline --progress lines --out-dir "$out/gate" >/dev/null 2>&1 || true)
python3 - "$out/gate/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
m = {x["name"]: x["samples"][0] for x in r["suites"][0]["metrics"] if x["samples"]}
print(f"cargo-gate closed loop: {m['load.four.rps']:.0f} req/s, p50 {m['load.four.med']:.3f} ms, p99 {m['load.four.p(99)']:.3f} ms")
PY

rate="${RATE:-5000}"
echo "== open loop at $rate req/s (below saturation)"
cat > "$out/gate.toml" <<TOML
[[load]]
name = "fixed"
url = "http://127.0.0.1:18090/"
rate = $rate
connections = $conns
duration = "${secs}s"
warmup = "1s"
TOML
(cd "$out" && "$gate" run --suite load --no-baseline --progress lines --out-dir "$out/gate" >/dev/null 2>&1 || true)
python3 - "$out/gate/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
m = {x["name"]: x["samples"][0] for x in r["suites"][0]["metrics"] if x["samples"]}
print(f"cargo-gate open loop: {m['load.fixed.rps']:.0f} req/s, p50 {m['load.fixed.med']:.3f} ms, p99 {m['load.fixed.p(99)']:.3f} ms")
PY
