#!/usr/bin/env bash
# The fault proxy with no toxic vs a direct connection, side by side with wrk on the same local
# servers (examples/load_server.rs), with haproxy in TCP mode as the reference for what any
# user-space proxy hop costs on this machine. Two servers: one with a 1 ms service time (the
# usual case: the server sets the pace) and one that answers at once (CPU-bound: wrk, server and
# proxy compete for the cores). Each cell is the median of REPS runs, taken in turn so that
# drift in the machine's load hits every column alike; the last column is the median of the
# per-run ratios of the proxy to haproxy. Prints a Markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in wrk haproxy; do
    command -v "$tool" >/dev/null || apt-get install -y "$tool" >/dev/null
done
cargo build --release --quiet --examples
cargo build --release --quiet
secs="${SECS:-5}"
reps="${REPS:-3}"
read -r -a conns <<<"${CONNS:-1 8 32}"
work="$(mktemp -d)"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$work"' EXIT

# Ports: server, cargo-gate proxy, haproxy — for the instant (1819x) and 1 ms (1829x) servers.
cat >"$work/haproxy.cfg" <<EOF
global
    nbthread 1
defaults
    mode tcp
    timeout connect 5s
    timeout client 60s
    timeout server 60s
listen instant
    bind 127.0.0.1:18192
    server s 127.0.0.1:18190
listen slow
    bind 127.0.0.1:18292
    server s 127.0.0.1:18290
EOF
target/release/examples/load_server --port 18190 >/dev/null 2>&1 & pids+=($!)
target/release/examples/load_server --port 18290 --delay-ms 1 >/dev/null 2>&1 & pids+=($!)
target/release/cargo-gate proxy 127.0.0.1:18191 127.0.0.1:18190 2>/dev/null & pids+=($!)
target/release/cargo-gate proxy 127.0.0.1:18291 127.0.0.1:18290 2>/dev/null & pids+=($!)
haproxy -f "$work/haproxy.cfg" >/dev/null 2>&1 & pids+=($!)
sleep 0.5

# One wrk run: prints "requests/s p50_µs".
measure() {
    wrk -t"$(($1 < 2 ? 1 : 2))" -c"$1" -d"${secs}s" --latency "http://127.0.0.1:$2/" | awk '
        function us(v) {
            if (v ~ /us$/) return v + 0
            if (v ~ /ms$/) return v * 1000
            return v * 1000000
        }
        /Requests\/sec/ { rps = $2 }
        / 50%/ { p50 = us($2) }
        END { printf "%d %d\n", rps, p50 }'
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "| server | connections | direct | cargo-gate proxy | haproxy (tcp mode) | proxy ÷ haproxy (paired) |"
echo "|---|---|---|---|---|---|"
for server in "1 ms service time:18290" "instant:18190"; do
    name="${server%%:*}"
    base="${server##*:}"
    for c in "${conns[@]}"; do
        for target in 0 1 2; do : >"$work/$target"; done
        for ((i = 0; i < reps; i++)); do
            for target in 0 1 2; do
                measure "$c" "$((base + target))" >>"$work/$target"
            done
        done
        rps0=$(cut -d' ' -f1 "$work/0" | median)
        p500=$(cut -d' ' -f2 "$work/0" | median)
        row="| $name | $c | $rps0 req/s, p50 $p500 µs"
        for target in 1 2; do
            rps=$(cut -d' ' -f1 "$work/$target" | median)
            p50=$(cut -d' ' -f2 "$work/$target" | median)
            row+=" | $rps req/s ($(awk -v a="$rps" -v b="$rps0" 'BEGIN { printf "%+.1f %%", (a / b - 1) * 100 }')), p50 $p50 µs (+$((p50 - p500)) µs)"
        done
        # Each run of the proxy against haproxy's run right after it: drift in the machine's
        # speed, which moves both columns' medians, cancels out of the pair.
        pairs=$(paste -d' ' <(cut -d' ' -f1 "$work/1") <(cut -d' ' -f1 "$work/2") |
            awk '{ printf "%.3f\n", $1 / $2 }' | sort -n)
        row+=" | $(echo "$pairs" | median)× (runs: $(echo "$pairs" | head -1)–$(echo "$pairs" | tail -1))"
        echo "$row |"
    done
done
