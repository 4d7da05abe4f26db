//! Yanked versions, read from the crates.io index cargo keeps on disk (the sparse index's cache,
//! or the git index's): no network, and no finding at all for a crate cargo has never looked
//! up on this machine. A locked version its index entry marks `"yanked": true` is a finding.

use std::path::{Path, PathBuf};

use super::lockfile::Lock;
use crate::model::{Finding, FindingKind};

/// The cache directories of crates.io's index under `cargo_home`.
pub fn index_caches(cargo_home: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(cargo_home.join("registry").join("index")) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with("index.crates.io-") || name.starts_with("github.com-")
        })
        .map(|e| e.path().join(".cache"))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// `CARGO_HOME`, else `~/.cargo`.
pub fn cargo_home() -> Option<PathBuf> {
    std::env::var_os("CARGO_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
}

/// Where the index keeps a crate's entry: `1/a`, `2/ab`, `3/a/abc`, `se/rd/serde`.
fn entry_path(name: &str) -> PathBuf {
    let n = name.to_lowercase();
    match n.len() {
        0 => PathBuf::new(),
        1 => PathBuf::from("1").join(&n),
        2 => PathBuf::from("2").join(&n),
        3 => PathBuf::from("3").join(&n[..1]).join(&n),
        _ => PathBuf::from(&n[..2]).join(&n[2..4]).join(&n),
    }
}

/// Whether `version` is yanked, from one cache file's bytes: a header (cache version, index
/// format version, the index's own version and a NUL), then `version NUL json NUL` pairs.
/// `None` when the file does not say (another layout, the version missing).
pub fn yanked_in(cache: &[u8], version: &str) -> Option<bool> {
    let rest = cache.get(5..)?;
    let mut parts = rest.split(|b| *b == 0);
    parts.next()?; // the index version
    loop {
        let v = parts.next()?;
        let json = parts.next()?;
        if v == version.as_bytes() {
            let entry: serde_json::Value = serde_json::from_slice(json).ok()?;
            return entry.get("yanked").and_then(serde_json::Value::as_bool);
        }
    }
}

/// The locked crates.io packages whose version is yanked, as far as the local index knows.
pub fn check(lock: &Lock, caches: &[PathBuf], file: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    for p in &lock.file.packages {
        if !p.source.as_ref().is_some_and(|s| s.is_default_registry()) {
            continue;
        }
        let version = p.version.to_string();
        let rel = entry_path(p.name.as_str());
        let known = caches
            .iter()
            .filter_map(|c| std::fs::read(c.join(&rel)).ok())
            .find_map(|bytes| yanked_in(&bytes, &version));
        if known != Some(true) {
            continue;
        }
        out.push(Finding {
            package: Some(format!("{} {version}", p.name)),
            file: Some(file.to_string()),
            line: lock.line_of(p.name.as_str(), &version),
            ..Finding::new(
                FindingKind::Yanked,
                "yanked",
                format!("{} {version} is yanked from crates.io", p.name),
            )
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache(entries: &[(&str, bool)]) -> Vec<u8> {
        let mut bytes = vec![3, 2, 0, 0, 0];
        bytes.extend_from_slice(b"etag: \"abc\"\0");
        for (v, yanked) in entries {
            bytes.extend_from_slice(v.as_bytes());
            bytes.push(0);
            bytes.extend_from_slice(
                format!("{{\"name\":\"x\",\"vers\":\"{v}\",\"yanked\":{yanked}}}").as_bytes(),
            );
            bytes.push(0);
        }
        bytes
    }

    #[test]
    fn the_cache_format_is_read_entry_by_entry() {
        let c = cache(&[("1.0.0", false), ("1.0.1", true)]);
        assert_eq!(yanked_in(&c, "1.0.1"), Some(true));
        assert_eq!(yanked_in(&c, "1.0.0"), Some(false));
        assert_eq!(yanked_in(&c, "2.0.0"), None);
        assert_eq!(yanked_in(b"\x03", "1.0.0"), None, "cut short");
        assert_eq!(yanked_in(&c[..20], "1.0.1"), None, "cut inside an entry");
    }

    #[test]
    fn entries_live_where_cargo_puts_them() {
        assert_eq!(entry_path("a"), PathBuf::from("1/a"));
        assert_eq!(entry_path("ab"), PathBuf::from("2/ab"));
        assert_eq!(entry_path("Abc"), PathBuf::from("3/a/abc"));
        assert_eq!(entry_path("serde"), PathBuf::from("se/rd/serde"));
    }
}
