//! What the checks read from a `Cargo.lock`: its packages, how the workspace reaches each, and
//! the line each is declared on (for annotations).

use std::collections::{HashMap, VecDeque};

use rustsec::Lockfile;

/// A lock file parsed, with the line each package is declared on.
pub struct Lock {
    /// The parsed file.
    pub file: Lockfile,
    /// The 1-based line of each `[[package]]`'s `name = "…"`, by `(name, version)`: indexed once,
    /// since the license check asks for every package's.
    lines: HashMap<(String, String), u32>,
}

impl Lock {
    /// Parses a lock file's text.
    pub fn parse(text: &str) -> Result<Lock, String> {
        let file: Lockfile = text
            .parse()
            .map_err(|e| format!("cannot read Cargo.lock: {e}"))?;
        let field = |line: &str, key: &str| {
            line.strip_prefix(key)?
                .strip_prefix(" = \"")?
                .strip_suffix('"')
                .map(str::to_string)
        };
        let all: Vec<&str> = text.lines().collect();
        let mut lines = HashMap::new();
        for (i, w) in all.windows(2).enumerate() {
            if let (Some(name), Some(version)) = (field(w[0], "name"), field(w[1], "version")) {
                // The first entry wins, should two sources lock the same name and version.
                lines.entry((name, version)).or_insert(i as u32 + 1);
            }
        }
        Ok(Lock { file, lines })
    }

    /// The 1-based line of `name = "…"` in the `[[package]]` entry for `name` at `version`.
    pub fn line_of(&self, name: &str, version: &str) -> Option<u32> {
        self.lines
            .get(&(name.to_string(), version.to_string()))
            .copied()
    }

    /// How a workspace member (a package with no source) reaches each package: the shortest
    /// chain of names from a member, the package itself last, by `(name, version)`.
    pub fn paths(&self) -> HashMap<(String, String), Vec<String>> {
        let packages = &self.file.packages;
        let key = |name: &str, version: &str| (name.to_string(), version.to_string());
        let index: HashMap<(String, String), usize> = packages
            .iter()
            .enumerate()
            .map(|(i, p)| (key(p.name.as_str(), &p.version.to_string()), i))
            .collect();
        // A dependency entry may leave out the version when only one package has the name.
        let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, p) in packages.iter().enumerate() {
            by_name.entry(p.name.as_str()).or_default().push(i);
        }
        let mut parent: Vec<Option<usize>> = vec![None; packages.len()];
        let mut seen = vec![false; packages.len()];
        let mut queue = VecDeque::new();
        for (i, p) in packages.iter().enumerate() {
            if p.source.is_none() {
                seen[i] = true;
                queue.push_back(i);
            }
        }
        while let Some(i) = queue.pop_front() {
            for d in &packages[i].dependencies {
                let found = index
                    .get(&key(d.name.as_str(), &d.version.to_string()))
                    .copied()
                    .or_else(|| {
                        by_name
                            .get(d.name.as_str())
                            .and_then(|v| (v.len() == 1).then(|| v[0]))
                    });
                if let Some(j) = found
                    && !seen[j]
                {
                    seen[j] = true;
                    parent[j] = Some(i);
                    queue.push_back(j);
                }
            }
        }
        let mut out = HashMap::new();
        for (i, p) in packages.iter().enumerate() {
            if !seen[i] || p.source.is_none() {
                continue;
            }
            let mut chain = vec![p.name.to_string()];
            let mut at = parent[i];
            // Bounded by the package count: the parents form a tree.
            while let Some(j) = at {
                chain.push(packages[j].name.to_string());
                at = parent[j];
                if chain.len() > packages.len() {
                    break;
                }
            }
            chain.reverse();
            out.insert(key(p.name.as_str(), &p.version.to_string()), chain);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = r#"version = 4

[[package]]
name = "app"
version = "0.1.0"
dependencies = [
 "middle",
]

[[package]]
name = "leaf"
version = "1.2.3"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "middle"
version = "0.5.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
dependencies = [
 "leaf",
]
"#;

    #[test]
    fn paths_run_from_a_member_and_lines_point_at_the_entry() {
        let lock = Lock::parse(LOCK).expect("parses");
        let paths = lock.paths();
        assert_eq!(
            paths[&("leaf".to_string(), "1.2.3".to_string())],
            ["app", "middle", "leaf"]
        );
        assert_eq!(lock.line_of("leaf", "1.2.3"), Some(11));
        assert_eq!(lock.line_of("leaf", "9.9.9"), None);
        assert!(Lock::parse("[[package]]\nname = 3").is_err());
    }
}
