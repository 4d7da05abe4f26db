//! The RustSec advisory database: a local directory, or a git clone kept in a cache directory
//! and brought up to date through the git process layer (a bounded shallow fetch).

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::config::SecurityConfig;
use crate::exec::git;

/// How long fetching the database may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(300);

/// The database opened, and a line saying which one.
pub struct Opened {
    /// The advisories.
    pub db: rustsec::Database,
    /// `RustSec advisory-db at 1a2b3c4 (fetched now)`.
    pub describe: String,
}

/// Where cached clones live: `$XDG_CACHE_HOME/cargo-gate`, else `~/.cache/cargo-gate`.
pub fn cache_root() -> Option<PathBuf> {
    std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .map(|c| c.join("cargo-gate"))
}

/// The clone's directory for `url`: the default database in `advisory-db`, another URL in a
/// directory named after it, so two projects with different databases never share one.
fn clone_dir(root: &Path, url: &str) -> PathBuf {
    if url == super::config::DEFAULT_DB {
        return root.join("advisory-db");
    }
    let name: String = url
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    root.join(format!("advisory-db-{}", name.trim_matches('-')))
}

/// Opens the database the config names, fetching it first unless offline or local.
pub fn open(cfg: &SecurityConfig, ws_root: &Path) -> Result<Opened, String> {
    if let Some(dir) = super::config::local_db(cfg, ws_root) {
        let db = load(&dir)?;
        return Ok(Opened {
            db,
            describe: format!("advisory database at {}", dir.display()),
        });
    }
    let root = cache_root().ok_or("no cache directory: set HOME or XDG_CACHE_HOME")?;
    let dir = clone_dir(&root, &cfg.advisory_db);
    let fetched = if cfg.offline {
        if !dir.join(".git").exists() {
            return Err(format!(
                "offline, and no copy of {} in {}: run once online to fetch it",
                cfg.advisory_db,
                dir.display()
            ));
        }
        false
    } else {
        fetch(&cfg.advisory_db, &dir)?;
        true
    };
    let db = load(&dir)?;
    let commit = git::run(&dir, &["log", "-1", "--format=%h %ct"], git::LOCAL_TIMEOUT)
        .map(|o| o.stdout_text())
        .unwrap_or_default();
    let mut parts = commit.split_whitespace();
    let short = parts.next().unwrap_or("?").to_string();
    let age = if fetched {
        "fetched now".to_string()
    } else {
        let when = std::fs::metadata(dir.join(".git").join("FETCH_HEAD"))
            .or_else(|_| std::fs::metadata(dir.join(".git").join("HEAD")))
            .and_then(|m| m.modified())
            .ok();
        match when.and_then(|w| SystemTime::now().duration_since(w).ok()) {
            Some(age) => format!(
                "offline: fetched {} ago",
                humantime::format_duration(Duration::from_secs(age.as_secs() / 60 * 60))
            ),
            None => "offline".to_string(),
        }
    };
    Ok(Opened {
        db,
        describe: format!("{} at {short} ({age})", cfg.advisory_db),
    })
}

fn load(dir: &Path) -> Result<rustsec::Database, String> {
    rustsec::Database::open(dir).map_err(|e| {
        format!(
            "cannot read the advisory database in {}: {e}",
            dir.display()
        )
    })
}

/// Clones `url` into `dir`, or brings the clone there up to date (shallow: only the newest
/// tree is read). A failed update of an existing clone is an error, not a silent use of old
/// advisories: `offline = true` says to use it as it is.
fn fetch(url: &str, dir: &Path) -> Result<(), String> {
    if dir.join(".git").exists() {
        let steps: [&[&str]; 2] = [
            &["fetch", "--quiet", "--depth", "1", url, "HEAD"],
            &["reset", "--quiet", "--hard", "FETCH_HEAD"],
        ];
        for args in steps {
            git::run(dir, args, FETCH_TIMEOUT).map_err(|e| {
                format!(
                    "cannot update the advisory database in {}: {e}; set [security] offline = true to use the copy as it is",
                    dir.display()
                )
            })?;
        }
        return Ok(());
    }
    let parent = dir.parent().unwrap_or(dir);
    std::fs::create_dir_all(parent)
        .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    // Cloned beside its final place, then renamed: an interrupted clone never looks complete.
    let partial = dir.with_extension("partial");
    let _ = std::fs::remove_dir_all(&partial);
    let target = partial.to_string_lossy().to_string();
    git::run(
        parent,
        &["clone", "--quiet", "--depth", "1", url, &target],
        FETCH_TIMEOUT,
    )
    .map_err(|e| format!("cannot fetch the advisory database from {url}: {e}"))?;
    std::fs::rename(&partial, dir)
        .map_err(|e| format!("cannot move the clone into {}: {e}", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_url_has_its_own_clone() {
        let root = Path::new("/cache");
        assert_eq!(
            clone_dir(root, super::super::config::DEFAULT_DB),
            root.join("advisory-db")
        );
        let other = clone_dir(root, "https://example.com/mirror/advisory-db.git");
        assert_eq!(
            other,
            root.join("advisory-db-https---example-com-mirror-advisory-db-git")
        );
    }
}
