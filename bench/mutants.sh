#!/usr/bin/env bash
# cargo-gate's mutants suite against cargo-mutants on the same change, mutant by mutant.
#
# Subjects: the fixture `fixtures/mutants` (its change: every function added) and real crates
# from the registry cache (default strsim 0.11.1, semver 1.0.27, regex-syntax 0.8.5), each copied into a git
# repository with a synthetic change that touches one body line of N functions (a comment added
# at its end). On each, `cargo mutants --in-diff` and `cargo gate run --suite mutants` run on
# the same working tree, both with JOBS jobs and from a cold start (no build output of their own
# yet); cargo-gate runs a second time with its build output kept (warm, as in CI with a cache).
# cargo-mutants gets --cap-lints=true: cargo-gate's schema never makes a mutant unviable for a
# warning, which is cargo-mutants' behaviour with that flag. It also gets --copy-target=true: the
# subject's target directory holds the dependencies built (as a CI job's `cargo test` leaves
# them), which cargo-gate takes for its copy, so cargo-mutants takes them too.
# Prints the per-mutant table (compare_mutants.py), both wall times and the ratio; exits 1 when a
# mutant both generate has different outcomes.
#
#   bench/mutants.sh                      # the fixture and three crates, 3 rounds each
#   ROUNDS=1 CRATES="strsim-0.11.1" FUNCTIONS=10 bench/mutants.sh
#   BACKTRACE=1 bench/mutants.sh          # both tools under RUST_BACKTRACE=1
#   SETUP=ci bench/mutants.sh             # as in CI with Swatinem/rust-cache (see below)
#
# SETUP=ci runs both tools under CARGO_INCREMENTAL=0, which Swatinem/rust-cache sets for the
# job (cargo-mutants' own example workflows use that cache). That cache also keeps only the
# dependencies' build output (it removes the workspace members' and every incremental
# directory, target/gate/mutants/target's too), so each cargo-gate run there is a cold run:
# the warm run is left out.
#
# cargo-mutants is installed from crates.io when missing (`cargo install --locked`).
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
ROUNDS="${ROUNDS:-3}"
JOBS="${JOBS:-2}"
FUNCTIONS="${FUNCTIONS:-12}"
CRATES="${CRATES:-strsim-0.11.1 semver-1.0.27 regex-syntax-0.8.5}"
work="${WORK:-$(mktemp -d /tmp/bench-mutants.XXXXXX)}"
# Both tools' tests run with the same RUST_BACKTRACE, 0 unless BACKTRACE says otherwise: with 1
# (common in CI) every failing test under cargo-mutants symbolizes a backtrace, which cargo-gate's
# mutant runs never do, so 0 is the figure that favours cargo-mutants.
export RUST_BACKTRACE="${BACKTRACE:-0}"
echo "RUST_BACKTRACE=$RUST_BACKTRACE"
SETUP="${SETUP:-local}"
case "$SETUP" in
  local) ;;
  ci) export CARGO_INCREMENTAL=0 ;;
  *) echo "SETUP is local or ci, not $SETUP" >&2; exit 2 ;;
esac
echo "SETUP=$SETUP${CARGO_INCREMENTAL:+ CARGO_INCREMENTAL=$CARGO_INCREMENTAL}"

command -v cargo-mutants >/dev/null || cargo install --locked cargo-mutants
cargo build --release --quiet --manifest-path "$here/Cargo.toml"
gate="${CARGO_TARGET_DIR:-$here/target}/release/cargo-gate"

registry_crate() {
  local name="$1"
  for d in "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/"$name"; do
    [ -d "$d" ] && { echo "$d"; return; }
  done
  echo "no $name in the registry cache (cargo fetch a project that uses it)" >&2
  return 1
}

# touch_functions DIR N: adds a comment at the end of the first body line of N functions of
# src/ (outside #[cfg(test)] modules), spread evenly over all of them, so the change touches
# exactly those functions.
touch_functions() {
  python3 - "$1" "$2" <<'EOF'
import os, re, sys
root, want = sys.argv[1], int(sys.argv[2])
candidates = []
files = {}
for dirpath, _, names in sorted(os.walk(os.path.join(root, "src"))):
    for f in sorted(names):
        if not f.endswith(".rs"):
            continue
        path = os.path.join(dirpath, f)
        lines = open(path).read().split("\n")
        files[path] = lines
        in_tests = False
        for i, line in enumerate(lines):
            if re.match(r"\s*#\[cfg\(test\)\]", line):
                in_tests = True
            if in_tests or i + 1 >= len(lines):
                continue
            if re.match(r"\s*(pub(\([a-z]+\))?\s+)?fn\s", line) and line.rstrip().endswith("{"):
                body = lines[i + 1]
                code = body.strip()
                if code and not code.startswith(("//", "}")) and not code.endswith(",") \
                        and '"' not in body and "'" not in body:
                    candidates.append((path, i + 1))
step = max(1, len(candidates) // max(1, want))
chosen = candidates[::step][:want]
for path, i in chosen:
    files[path][i] += " // touched by bench/mutants.sh"
for path in {p for p, _ in chosen}:
    open(path, "w").write("\n".join(files[path]))
print(len(chosen))
EOF
}

# subject NAME: prepares $work/NAME (a git repository with the change in its working tree).
subject() {
  local name="$1" dir="$work/$1"
  rm -rf "$dir"
  mkdir -p "$dir"
  if [ "$name" = fixture ]; then
    cp -r "$here/fixtures/mutants/." "$dir/"
    mv "$dir/calc/src/lib.rs" "$dir/calc.rs.new"
    mv "$dir/app/src/lib.rs" "$dir/app.rs.new"
    echo '//! calc' >"$dir/calc/src/lib.rs"
    echo '//! app' >"$dir/app/src/lib.rs"
  else
    cp -r "$(registry_crate "$name")/." "$dir/"
    rm -f "$dir/.cargo_vcs_info.json" "$dir/Cargo.toml.orig"
    # Dependencies resolved and built once, outside the timing, for both tools alike.
    (cd "$dir" && cargo generate-lockfile --quiet && cargo test --no-run --quiet >/dev/null 2>&1 || true)
  fi
  printf 'target/\nmutants.out*/\nout/\n*.new\n' >"$dir/.gitignore"
  printf '[mutants]\njobs = %s\nminimum_timeout = "%ss"\n' "$JOBS" "$(min_timeout "$name")" >"$dir/gate.toml"
  (cd "$dir" && git init -q && git add -A &&
    git -c user.name=bench -c user.email=bench@example.com commit -qm base)
  if [ "$name" = fixture ]; then
    mv "$dir/calc.rs.new" "$dir/calc/src/lib.rs"
    mv "$dir/app.rs.new" "$dir/app/src/lib.rs"
  else
    n="$(touch_functions "$dir" "$FUNCTIONS")"
    echo "$name: the change touches $n functions"
  fi
  (cd "$dir" && git diff >"$work/$name.diff")
}

now() { date +%s.%N; }

# The fixture's timeouts are cut at 3 s (its gate.toml); the crates keep both tools' default.
min_timeout() { if [ "$1" = fixture ]; then echo 3; else echo 20; fi; }

for name in fixture $CRATES; do
  subject "$name"
  dir="$work/$name"
  for round in $(seq 1 "$ROUNDS"); do
    rm -rf "$dir/mutants.out" "$dir/mutants.out.old" "$dir/target/gate"
    t0="$(now)"
    (cd "$dir" && cargo mutants --in-diff "$work/$name.diff" --test-workspace=true \
      --cap-lints=true --copy-target=true --jobs "$JOBS" --minimum-test-timeout "$(min_timeout "$name")" \
      >"$work/$name.cargo-mutants.log" 2>&1) || true
    t1="$(now)"
    (cd "$dir" && "$gate" run --suite mutants --baseline-rev HEAD --out-dir out \
      >"$work/$name.gate.log" 2>&1) || true
    t2="$(now)"
    theirs="$(echo "$t1 - $t0" | bc)"
    cold="$(echo "$t2 - $t1" | bc)"
    if [ "$SETUP" = ci ]; then
      printf '%s round %s: cargo-mutants %.1f s; cargo-gate %.1f s cold (%.1fx)\n' \
        "$name" "$round" "$theirs" "$cold" "$(echo "$theirs / $cold" | bc -l)"
      continue
    fi
    # Again with its build output kept (target/gate/mutants/target, which CI can cache).
    (cd "$dir" && "$gate" run --suite mutants --baseline-rev HEAD --out-dir out \
      >"$work/$name.gate-warm.log" 2>&1) || true
    t3="$(now)"
    warm="$(echo "$t3 - $t2" | bc)"
    printf '%s round %s: cargo-mutants %.1f s; cargo-gate %.1f s cold (%.1fx), %.1f s warm (%.1fx)\n' \
      "$name" "$round" "$theirs" "$cold" "$(echo "$theirs / $cold" | bc -l)" \
      "$warm" "$(echo "$theirs / $warm" | bc -l)"
  done
  python3 "$here/bench/compare_mutants.py" "$dir/out/mutants.json" \
    "$dir/mutants.out/outcomes.json" | tail -n "${TABLE_LINES:-1000}"
done
