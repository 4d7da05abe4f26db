#!/usr/bin/env bash
# cargo-gate's security suite beside cargo-deny (crates.io) on the same lock files, the same
# advisory database and the same license policy, nothing fetched on either side (cargo-deny
# --offline; cargo-gate reads the database as a local directory): the advisory
# ids each reports, the crates whose license each refuses, and the time of each (hyperfine).
#
#   DB=/path/to/advisory-db PROJECTS="/path/to/repo-a /path/to/repo-b" bench/security.sh
#
# DB is a git checkout of RustSec's advisory-db (default: fixtures/advisory-db, committed as a
# repository on the fly). PROJECTS are git repositories with a Cargo.lock (default: this one);
# each is cloned into bench/out/security/ so nothing of the original is touched.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || apt-get install -y -qq hyperfine >/dev/null
command -v cargo-deny >/dev/null || cargo install cargo-deny --locked --quiet
cargo build --release --quiet
gate="$PWD/target/release/cargo-gate"
out="$PWD/bench/out/security"
rm -rf "$out" && mkdir -p "$out"
db_src="${DB:-}"
if [ -z "$db_src" ]; then
    db_src="$out/fixture-db"
    cp -r fixtures/advisory-db "$db_src"
    git -C "$db_src" init -q && git -C "$db_src" add -A
    git -C "$db_src" -c user.name=b -c user.email=b@b commit -q -m db
fi
git clone -q "$db_src" "$out/db"
# cargo-deny reads RustSec's database from db-path under a directory named after its URL; with
# --offline it never fetches, so the same checkout is cloned there.
mkdir -p "$out/deny-db"
git clone -q "$db_src" "$out/deny-db/advisory-db-3157b0e258782691"
read -r -a projects <<<"${PROJECTS:-$PWD}"
# cargo-gate's `allow` takes license ids; a `WITH` exception is decided by its license alone.
allow='"MIT", "Apache-2.0", "Apache-2.0 WITH LLVM-exception", "BSD-2-Clause", "BSD-3-Clause", "ISC", "Unicode-3.0", "Unicode-DFS-2016", "Zlib", "MPL-2.0", "CC0-1.0", "Unlicense", "BSL-1.0", "CDLA-Permissive-2.0"'
gate_allow=${allow//'"Apache-2.0 WITH LLVM-exception", '/}

for src in "${projects[@]}"; do
    name=$(basename "$src")
    # A mirror's git directory is `OWNER+NAME/repo`: named after its parent.
    if [ "$name" = repo ]; then name=$(basename "$(dirname "$src")"); fi
    dir="$out/$name"
    git clone -q "$src" "$dir"
    cat > "$dir/deny.toml" <<DENY
[advisories]
db-path = "$out/deny-db"
db-urls = ["https://github.com/rustsec/advisory-db"]
maximum-db-staleness = "P3650D"
yanked = "allow"
[licenses]
allow = [$allow]
confidence-threshold = 0.93
[sources]
unknown-registry = "deny"
unknown-git = "deny"
DENY
    cat > "$dir/gate.toml" <<GATE
[security]
advisory_db = "$out/db"
base = "HEAD"
[security.licenses]
allow = [$gate_allow]
[security.secrets]
enabled = false
GATE
    (cd "$dir" && cargo deny --offline --format json check advisories licenses sources 2> "$out/$name.deny.json" >/dev/null) || true
    (cd "$dir" && "$gate" run --suite security --out-dir "$out/$name.gate" >/dev/null 2>&1) || true
    python3 - "$out/$name.deny.json" "$out/$name.gate/report.json" "$name" <<'PY'
import json, sys
deny_file, gate_file, name = sys.argv[1:]
deny_adv, deny_lic = set(), set()
for line in open(deny_file):
    try:
        d = json.loads(line)
    except ValueError:
        continue
    f = d.get("fields", {})
    adv = f.get("advisory")
    if adv:
        krate = ""
        for g in f.get("graphs", []):
            krate = g.get("Krate", {}).get("name", "")
        deny_adv.add((adv["id"], krate))
    elif f.get("code") in ("rejected", "unlicensed"):
        for g in f.get("graphs", []):
            deny_lic.add(g.get("Krate", {}).get("name", ""))
r = json.load(open(gate_file))
sec = next(s for s in r["suites"] if s["kind"] == "security")
findings = sec["details"]["security"]["findings"]
gate_adv = {(f["id"], f["package"].split(" ")[0]) for f in findings if f["kind"] in ("vulnerability", "unmaintained", "unsound", "notice")}
gate_lic = {f["package"].split(" ")[0] for f in findings if f["kind"] == "license"}
print(f"== {name}: {sec['details']['security']['packages']} locked packages")
print(f"advisories: cargo-deny {len(deny_adv)}, cargo-gate {len(gate_adv)}, both {len(deny_adv & gate_adv)}")
for a in sorted(deny_adv - gate_adv):
    print(f"  only cargo-deny: {a[0]} {a[1]}")
for a in sorted(gate_adv - deny_adv):
    print(f"  only cargo-gate: {a[0]} {a[1]}")
print(f"licenses refused: cargo-deny {len(deny_lic)}, cargo-gate {len(gate_lic)}, both {len(deny_lic & gate_lic)}")
for c in sorted(deny_lic - gate_lic):
    print(f"  only cargo-deny: {c}")
for c in sorted(gate_lic - deny_lic):
    print(f"  only cargo-gate: {c}")
PY
    hyperfine --runs "${RUNS:-5}" --warmup 1 --ignore-failure --style basic \
        -n cargo-deny "cd $dir && cargo deny --offline check advisories licenses sources" \
        -n cargo-gate "cd $dir && $gate run --suite security --out-dir $out/$name.gate" 2>&1 |
        grep -E 'Time \(mean|^Benchmark|faster|±' || true
done
