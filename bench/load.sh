#!/usr/bin/env bash
# cargo-gate's load generator side by side with wrk (Debian package) on the same local server
# (examples/load_server.rs), same connections, same duration:
#   1. maximum throughput: wrk -c N vs a closed loop with N users, ROUNDS rounds taken in turn,
#      each rate counted by the server (`GET /__count` before and after), not by the client;
#   2. latency with 4 connections: wrk -c 4 vs a closed loop with 4 users;
#   3. an open loop at RATE requests per second, beside wrk2 (the rate-fixing fork of wrk, not
#      packaged: build it from source and pass its binary as WRK2=…): latency and CPU time
#      per request, the CPU taken from the kernel's accounting of each finished process.
#
#   CONNS=32 SECS=5 ROUNDS=5 RATE=5000 WRK2=/path/to/wrk2 bench/load.sh
#   SLACK=1ms …: the open loop with `pacing_slack = "1ms"` (default 0s: each request on time)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null
cargo build --release --quiet --examples
cargo build --release --quiet
gate="$PWD/target/release/cargo-gate"
conns="${CONNS:-32}"
secs="${SECS:-5}"
rounds="${ROUNDS:-5}"
rate="${RATE:-5000}"
wrk2="${WRK2:-}"
slack="${SLACK:-0s}"   # the open loop's pacing_slack, e.g. SLACK=1ms (wrk2's own step)
out="$PWD/bench/out/load"
rm -rf "$out" && mkdir -p "$out/src"
printf '[package]\nname = "lb"\nversion = "0.1.0"\nedition = "2021"\n[workspace]\n' > "$out/Cargo.toml"
touch "$out/src/lib.rs"
url=http://127.0.0.1:18090/

target/release/examples/load_server --port 18090 > "$out/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null' EXIT
sleep 0.5

served() { python3 -c "import urllib.request; print(urllib.request.urlopen('${url}__count').read().decode())"; }
# Runs a command and prints the CPU seconds (user + system) it and its children used.
cpu_of() {
    python3 - "$@" <<'PY'
import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"{r.ru_utime + r.ru_stime:.3f}")
PY
}
# Writes the scenario NAME with its load settings, then runs cargo-gate on it.
gate_run() {
    printf '[[load]]\nname = "%s"\nurl = "%s"\n%s\nduration = "%ss"\n' "$1" "$url" "$2" "$secs" > "$out/gate.toml"
    (cd "$out" && "$gate" run --suite load --no-baseline --progress lines --out-dir "$out/gate" >/dev/null 2>&1) || true
}
# Prints cargo-gate's own figures for scenario NAME from the last report.
gate_figures() {
    python3 - "$out/gate/report.json" "$1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
n = sys.argv[2]
m = {x["name"]: x["samples"][0] for x in r["suites"][0]["metrics"] if x["samples"]}
print(f"cargo-gate {n}: {m[f'load.{n}.rps']:.0f} req/s, p50 {m[f'load.{n}.med']:.3f} ms, p99 {m[f'load.{n}.p(99)']:.3f} ms, requests {m[f'load.{n}.requests']:.0f}")
PY
}

echo "== max throughput, $conns connections, ${secs}s, $rounds rounds, counted by the server"
ratios=()
for i in $(seq "$rounds"); do
    c0=$(served); wrk -t2 -c"$conns" -d"${secs}s" "$url" > /dev/null; c1=$(served)
    gate_run closed_max "users = $conns"; c2=$(served)
    w=$(( (c1 - c0) / secs )); g=$(( (c2 - c1) / secs ))
    ratio=$(python3 -c "print(f'{$g / max($w, 1):.2f}')")
    ratios+=("$ratio")
    echo "round $i: wrk $w req/s, cargo-gate $g req/s, ratio $ratio"
done
python3 -c "import statistics, sys; r = sorted(map(float, sys.argv[1:])); print(f'cargo-gate / wrk: median {statistics.median(r):.2f}, range {r[0]:.2f}-{r[-1]:.2f}')" "${ratios[@]}"

echo "== 4 connections: wrk -c 4 vs a closed loop with 4 users"
wrk -t2 -c4 -d"${secs}s" --latency "$url" | grep -E "Requests/sec|50%|99%"
gate_run closed_four "users = 4"
gate_figures closed_four

echo "== open loop at $rate req/s, $conns connections"
printf '[[load]]\nname = "open_fixed"\nurl = "%s"\nrate = %s\nconnections = %s\nduration = "%ss"\npacing_slack = "%s"\n' \
    "$url" "$rate" "$conns" "$secs" "$slack" > "$out/gate.toml"
for i in $(seq "$rounds"); do
    cpu=$(cd "$out" && cpu_of "$gate" run --suite load --no-baseline --out-dir "$out/gate")
    echo "cargo-gate: CPU $cpu s, $(gate_figures open_fixed)"
    if [ -n "$wrk2" ]; then
        cpu=$(cpu_of "$wrk2" -t2 -c"$conns" -d"${secs}s" -R"$rate" "$url")
        "$wrk2" -t2 -c"$conns" -d"${secs}s" -R"$rate" --latency "$url" > "$out/wrk2.log" 2>&1
        echo "wrk2: CPU $cpu s (a second run for its figures: $(grep -E 'requests in' "$out/wrk2.log" | awk '{print $1}') requests, p50 $(awk '/50.000%/ {print $2}' "$out/wrk2.log"), p99 $(awk '/99.000%/ {print $2}' "$out/wrk2.log"))"
    fi
done
