#!/usr/bin/env bash
# A long load run, measured from outside: cargo-gate's open loop at RATE requests per second on
# CONNS connections for SECS seconds against the local server (examples/load_server.rs), its
# resident memory sampled from /proc every second and its CPU time taken from the kernel's
# accounting when it ends; then the same for wrk2 at the same rate (the rate-fixing fork of
# wrk, not packaged: build it and pass its binary as WRK2=…) and for wrk at full speed (Debian
# package). Prints RSS after 10 s and at the end, peak RSS, CPU time and CPU per request.
#
#   SECS=600 CONNS=64 RATE=5000 WRK2=/path/to/wrk2 bench/soak.sh   (the defaults but WRK2)
#   CHECK=1 SECS=30 PROFILE=debug bench/soak.sh                     (what .ci/run runs)
#   SLACK=1ms …: cargo-gate with `pacing_slack = "1ms"` (wakes each millisecond, as wrk2)
# WRK=0 leaves wrk out.
# With CHECK=1 only cargo-gate runs, and the script fails unless its RSS at the end is at most
# 1.2 times its RSS after 10 s and at most 64 MB. PROFILE=debug uses the debug build the test
# command has already made instead of building a release.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${SECS:-600}"
conns="${CONNS:-64}"
rate="${RATE:-5000}"
profile="${PROFILE:-release}"
check="${CHECK:-}"
wrk2="${WRK2:-}"
if [ "$profile" = release ]; then
    cargo build --release --quiet --examples
    cargo build --release --quiet
else
    cargo build --quiet --example load_server
    cargo build --quiet
fi
bin="${CARGO_TARGET_DIR:-$PWD/target}/$profile"
out="$PWD/bench/out/soak"
rm -rf "$out" && mkdir -p "$out/src"
printf '[package]\nname = "soak"\nversion = "0.1.0"\nedition = "2021"\n[workspace]\n' > "$out/Cargo.toml"
touch "$out/src/lib.rs"
printf '[[load]]\nname = "soak"\nurl = "http://127.0.0.1:18091/"\nrate = %s\nconnections = %s\nduration = "%ss"\npacing_slack = "%s"\n' \
    "$rate" "$conns" "$secs" "${SLACK:-0s}" > "$out/gate.toml"

"$bin/examples/load_server" --port 18091 > "$out/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null' EXIT
for _ in $(seq 100); do grep -q listening "$out/server.log" && break; sleep 0.05; done

# Runs NAME's command (the rest), sampling its RSS (kB) once a second into NAME.samples, and
# writes the CPU seconds (user + system) it and its children used into NAME.cpu.
measure() {
    local name=$1
    shift
    python3 - "$out/$name" "$@" <<'PY'
import resource, subprocess, sys, time
base = sys.argv[1]
child = subprocess.Popen(sys.argv[2:], stdout=open(base + ".log", "w"), stderr=subprocess.STDOUT)
start = time.monotonic()
with open(base + ".samples", "w") as samples:
    while child.poll() is None:
        try:
            rss = next(l.split()[1] for l in open(f"/proc/{child.pid}/status") if l.startswith("VmRSS:"))
            samples.write(f"{time.monotonic() - start:.1f} {rss}\n")
            samples.flush()
        except (OSError, StopIteration):
            pass
        time.sleep(1)
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
open(base + ".cpu", "w").write(f"{usage.ru_utime + usage.ru_stime}\n")
PY
}

(cd "$out" && measure gate "$bin/cargo-gate" run --suite load --no-baseline --progress lines --out-dir "$out/gate")
if [ -z "$check" ]; then
    if [ -n "$wrk2" ]; then
        measure wrk2 "$wrk2" -t2 -c"$conns" -d"${secs}s" -R"$rate" http://127.0.0.1:18091/
    fi
    if [ "${WRK:-1}" != 0 ]; then
        command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null
        measure wrk wrk -t2 -c"$conns" -d"${secs}s" http://127.0.0.1:18091/
    fi
fi

python3 - "$out" "$secs" "$conns" "$rate" "$check" <<'PY'
import json, os, sys
out, secs, conns, rate, check = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]

def figures(name):
    rows = [tuple(map(float, l.split())) for l in open(f"{out}/{name}.samples") if l.strip()]
    at10 = next((r[1] for r in rows if r[0] >= 10), rows[-1][1])
    cpu = float(open(f"{out}/{name}.cpu").read())
    return at10, rows[-1][1], max(r[1] for r in rows), cpu

def wrk_requests(name):
    for line in open(f"{out}/{name}.log"):
        if "requests in" in line:
            return int(line.split()[0])
    return 0

r = json.load(open(f"{out}/gate/report.json"))
m = {x["name"]: x["samples"][0] for x in r["suites"][0]["metrics"] if x["samples"]}
runs = [("cargo-gate (open loop)", "gate", m["load.soak.requests"])]
if os.path.exists(f"{out}/wrk2.samples"):
    runs.append(("wrk2 (open loop)", "wrk2", wrk_requests("wrk2")))
if os.path.exists(f"{out}/wrk.samples"):
    runs.append(("wrk (closed loop, full speed)", "wrk", wrk_requests("wrk")))
print(f"{secs} s, {conns} connections, open loops at {rate} req/s")
print("| | RSS after 10 s | RSS at the end | peak RSS | CPU time | requests | CPU per request |")
print("|---|---:|---:|---:|---:|---:|---:|")
for label, name, requests in runs:
    at10, end, peak, cpu = figures(name)
    per = cpu / max(requests, 1) * 1e6
    print(f"| {label} | {at10 / 1024:.1f} MB | {end / 1024:.1f} MB | {peak / 1024:.1f} MB | {cpu:.1f} s | {requests:.0f} | {per:.1f} µs |")
if check:
    at10, end, _, _ = figures("gate")
    planned = int(rate) * secs
    problems = []
    if end > 1.2 * at10:
        problems.append(f"RSS grew from {at10 / 1024:.1f} MB after 10 s to {end / 1024:.1f} MB (limit 1.2x)")
    if end > 64 * 1024:
        problems.append(f"RSS at the end is {end / 1024:.1f} MB (limit 64 MB)")
    if m["load.soak.requests"] != planned:
        problems.append(f"{m['load.soak.requests']:.0f} requests measured, {planned} planned")
    if problems:
        sys.exit("soak check failed: " + "; ".join(problems))
    print("soak check passed: RSS flat and under 64 MB, every planned request measured")
PY
