#!/usr/bin/env bash
# A bench-only project with history, for the HTML check: a fresh repository in DIR whose
# [[bench.command]] is timed on six commits, each run saved as the baseline, then a seventh run
# compared with that history (report in DIR/out).
# Usage: bench_history.sh CARGO_GATE DIR
set -euo pipefail
gate=$1
dir=$2
mkdir -p "$dir/src"
cd "$dir"
printf '[package]\nname = "timed"\nversion = "0.1.0"\nedition = "2021"\n[workspace]\n' >Cargo.toml
touch src/lib.rs
printf 'target/\nout/\nlog\n' >.gitignore
printf '[bench]\n[[bench.command]]\nname = "startup"\ncmd = ["true"]\nruns = 5\nwarmup = 1\n' >gate.toml
commit() { git -c user.name=ci -c user.email=ci@localhost commit -q --allow-empty -m "$1"; }
# Quiet unless it fails.
quiet() { "$@" >log 2>&1 || { cat log >&2; return 1; }; }
git init -q .
git add -A
commit project
for i in 1 2 3 4 5 6; do
    quiet "$gate" gate run --suite bench --progress lines --out-dir out
    quiet "$gate" gate baseline save --report out/report.json
    commit "change $i"
done
quiet "$gate" gate run --suite bench --progress lines --out-dir out
