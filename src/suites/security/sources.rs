//! Sources: every crate of the lock file comes from crates.io, a registry the config allows,
//! or a git URL under an allowed prefix. Path dependencies are the workspace's own.

use super::lockfile::Lock;
use crate::model::{Finding, FindingKind};

/// The packages whose source is not allowed, `file` naming the lock file.
pub fn check(lock: &Lock, registries: &[String], git: &[String], file: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    for p in &lock.file.packages {
        let Some(source) = &p.source else { continue };
        if source.is_default_registry() {
            continue;
        }
        let url = source.url().as_str();
        let trimmed = |u: &str| u.trim_end_matches('/').trim_end_matches(".git").to_string();
        let allowed = if source.is_git() {
            git.iter().any(|prefix| {
                url.starts_with(prefix.as_str()) || trimmed(url).starts_with(&trimmed(prefix))
            })
        } else if source.is_registry() || source.is_remote_registry() {
            registries.iter().any(|r| trimmed(r) == trimmed(url))
        } else {
            continue;
        };
        if allowed {
            continue;
        }
        let what = if source.is_git() {
            "git repository"
        } else {
            "registry"
        };
        let version = p.version.to_string();
        out.push(Finding {
            package: Some(format!("{} {version}", p.name)),
            file: Some(file.to_string()),
            line: lock.line_of(p.name.as_str(), &version),
            ..Finding::new(
                FindingKind::Source,
                url,
                format!("from a {what} not allowed: {url}"),
            )
        });
    }
    out
}
