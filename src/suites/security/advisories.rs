//! Advisories: each crates.io package of the lock file matched against the RustSec database
//! (withdrawn advisories left out; `patched` and `unaffected` ranges decided by rustsec).

use rustsec::advisory::Informational;
use rustsec::database::Query;
use rustsec::{Collection, Database};

use super::lockfile::Lock;
use crate::model::{Finding, FindingKind};

/// The advisories that affect the lock file's packages, `file` naming the lock file.
pub fn check(db: &Database, lock: &Lock, file: &str) -> Vec<Finding> {
    let paths = lock.paths();
    let mut out = Vec::new();
    for package in &lock.file.packages {
        if !package
            .source
            .as_ref()
            .is_some_and(|s| s.is_default_registry())
        {
            continue;
        }
        let query = Query::new()
            .collection(Collection::Crates)
            .withdrawn(false)
            .package_name(package.name.clone())
            .package_version(package.version.clone());
        for advisory in db.query(&query) {
            let meta = &advisory.metadata;
            let kind = match &meta.informational {
                None => FindingKind::Vulnerability,
                Some(Informational::Unmaintained) => FindingKind::Unmaintained,
                Some(Informational::Unsound) => FindingKind::Unsound,
                Some(_) => FindingKind::Notice,
            };
            let version = package.version.to_string();
            let id = meta.id.as_str().to_string();
            out.push(Finding {
                url: Some(meta.url.as_ref().map_or_else(
                    || format!("https://rustsec.org/advisories/{id}.html"),
                    |u| u.to_string(),
                )),
                package: Some(format!("{} {version}", package.name)),
                severity: advisory.severity().map(|s| s.to_string()),
                cvss: meta.cvss.as_ref().map(|c| c.score()),
                patched: advisory
                    .versions
                    .patched()
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
                path: paths
                    .get(&(package.name.to_string(), version.clone()))
                    .cloned()
                    .unwrap_or_default(),
                file: Some(file.to_string()),
                line: lock.line_of(package.name.as_str(), &version),
                ..Finding::new(kind, id, meta.title.clone())
            });
        }
    }
    out
}
