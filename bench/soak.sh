#!/usr/bin/env bash
# A long load run, measured from outside: cargo-gate's open loop at RATE requests per second on
# CONNS connections for SECS seconds against the local server (examples/load_server.rs), its
# resident memory and CPU time sampled from /proc every second; then wrk (Debian package) on
# the same server for the same time, sampled the same way. Prints RSS after 10 s and at the
# end, peak RSS, CPU time and CPU per request.
#
#   SECS=600 CONNS=64 RATE=5000 bench/soak.sh      (the defaults; CI-length: SECS=60)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null
cargo build --release --quiet --examples
cargo build --release --quiet
gate="$PWD/target/release/cargo-gate"
secs="${SECS:-600}"
conns="${CONNS:-64}"
rate="${RATE:-5000}"
out="$PWD/bench/out/soak"
rm -rf "$out" && mkdir -p "$out/src"
printf '[package]\nname = "soak"\nversion = "0.1.0"\nedition = "2021"\n[workspace]\n' > "$out/Cargo.toml"
touch "$out/src/lib.rs"
printf '[[load]]\nname = "soak"\nurl = "http://127.0.0.1:18091/"\nrate = %s\nconnections = %s\nduration = "%ss"\n' \
    "$rate" "$conns" "$secs" > "$out/gate.toml"

target/release/examples/load_server --port 18091 > "$out/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null' EXIT
sleep 0.5

# Samples PID's RSS (kB) and CPU ticks once a second into FILE until it exits.
sample() {
    local pid=$1 file=$2 t=0
    : > "$file"
    while kill -0 "$pid" 2>/dev/null; do
        rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
        cpu=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)
        echo "$t $rss $cpu" >> "$file"
        sleep 1
        t=$((t + 1))
    done
}

(cd "$out" && exec "$gate" run --suite load --no-baseline --progress lines --out-dir "$out/gate" >"$out/gate.log" 2>&1) &
gate_pid=$!
sample "$gate_pid" "$out/gate.samples"
wait "$gate_pid" || true

wrk -t2 -c"$conns" -d"${secs}s" http://127.0.0.1:18091/ > "$out/wrk.log" 2>&1 &
wrk_pid=$!
sample "$wrk_pid" "$out/wrk.samples"
wait "$wrk_pid" || true

python3 - "$out" "$secs" "$conns" "$rate" <<'PY'
import json, os, sys
out, secs, conns, rate = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
hz = os.sysconf("SC_CLK_TCK")

def figures(name):
    rows = [tuple(map(int, l.split())) for l in open(f"{out}/{name}.samples") if l.strip()]
    rows = [r for r in rows if r[1] > 0]
    at10 = next((r[1] for r in rows if r[0] >= 10), rows[0][1])
    return at10, rows[-1][1], max(r[1] for r in rows), rows[-1][2] / hz

r = json.load(open(f"{out}/gate/report.json"))
m = {x["name"]: x["samples"][0] for x in r["suites"][0]["metrics"] if x["samples"]}
gate_requests = m["load.soak.requests"]
wrk_requests = 0
for line in open(f"{out}/wrk.log"):
    if "requests in" in line:
        wrk_requests = int(line.split()[0])
print(f"{secs} s, {conns} connections; cargo-gate open loop at {rate}/s, wrk closed loop at full speed")
print("| | RSS after 10 s | RSS at the end | peak RSS | CPU | requests | CPU per 1 000 requests |")
print("|---|---:|---:|---:|---:|---:|---:|")
for name, requests in (("gate", gate_requests), ("wrk", wrk_requests)):
    at10, end, peak, cpu = figures(name)
    per = cpu / max(requests, 1) * 1000
    print(f"| {name} | {at10 / 1024:.1f} MB | {end / 1024:.1f} MB | {peak / 1024:.1f} MB | {cpu:.1f} s | {requests:.0f} | {per * 1000:.1f} ms |")
PY
