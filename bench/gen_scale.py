#!/usr/bin/env python3
"""Writes a workspace for the scale benchmark into DIR. `members`: M members (default 50) of T
trivial unit tests each (default 200); `one`: one crate of N trivial tests in one binary
(default 20 000). Usage: gen_scale.py DIR members [M] [T] | gen_scale.py DIR one [N]"""
import sys
from pathlib import Path


def tests(prefix, n):
    out = ["#[cfg(test)]", "mod tests {"]
    for t in range(n):
        out += ["    #[test]", f"    fn {prefix}{t:05}() {{", f"        assert_eq!({t} % 7, {t % 7});", "    }"]
    out.append("}")
    return "\n".join(out) + "\n"


root = Path(sys.argv[1])
mode = sys.argv[2]
if mode == "members":
    m = int(sys.argv[3]) if len(sys.argv) > 3 else 50
    t = int(sys.argv[4]) if len(sys.argv) > 4 else 200
    names = [f"member{i:02}" for i in range(m)]
    (root).mkdir(parents=True, exist_ok=True)
    (root / "Cargo.toml").write_text(
        "[workspace]\nresolver = \"2\"\nmembers = [" + ", ".join(f'"{n}"' for n in names) + "]\n"
    )
    for n in names:
        (root / n / "src").mkdir(parents=True, exist_ok=True)
        (root / n / "Cargo.toml").write_text(
            f'[package]\nname = "{n}"\nversion = "0.1.0"\nedition = "2021"\npublish = false\n'
        )
        (root / n / "src" / "lib.rs").write_text(tests("t", t))
elif mode == "one":
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 20_000
    (root / "src").mkdir(parents=True, exist_ok=True)
    (root / "Cargo.toml").write_text(
        '[package]\nname = "one"\nversion = "0.1.0"\nedition = "2021"\npublish = false\n\n[workspace]\n'
    )
    per = 1000
    mods = (n + per - 1) // per
    (root / "src" / "lib.rs").write_text("".join(f"mod m{i:02};\n" for i in range(mods)))
    for i in range(mods):
        (root / "src" / f"m{i:02}.rs").write_text(tests(f"m{i:02}_", min(per, n - i * per)))
else:
    sys.exit("mode is `members` or `one`")
