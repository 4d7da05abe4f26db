//! `[security]` in gate.toml.

use std::path::PathBuf;

use serde::Deserialize;
use toml::Spanned;

use crate::error::Result;
use crate::util::spans::{At, config_error, inside};

/// Where the RustSec advisory database is cloned from by default.
pub const DEFAULT_DB: &str = "https://github.com/rustsec/advisory-db";

#[derive(Debug, Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSecurity {
    advisory_db: Option<Spanned<String>>,
    #[serde(default)]
    offline: bool,
    base: Option<String>,
    #[serde(default)]
    ignore: Vec<Spanned<RawIgnore>>,
    licenses: Option<RawLicenses>,
    #[serde(default)]
    sources: RawSources,
    #[serde(default)]
    secrets: RawSecrets,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct RawIgnore {
    id: String,
    reason: Option<String>,
    until: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
struct RawLicenses {
    #[serde(default)]
    allow: Vec<Spanned<String>>,
    #[serde(default)]
    deny: Vec<Spanned<String>>,
    #[serde(default)]
    exceptions: Vec<RawException>,
    #[serde(default)]
    private: Option<bool>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct RawException {
    #[serde(rename = "crate")]
    name: String,
    allow: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
struct RawSources {
    enabled: Option<bool>,
    #[serde(default)]
    registries: Vec<String>,
    #[serde(default)]
    git: Vec<String>,
}

#[derive(Debug, Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
struct RawSecrets {
    enabled: Option<bool>,
    #[serde(default)]
    allow_paths: Vec<Spanned<String>>,
    #[serde(default)]
    allow_fingerprints: Vec<String>,
}

/// An advisory (or license finding) set aside, with why and until when.
#[derive(Debug, Clone, PartialEq)]
pub struct Ignore {
    /// `RUSTSEC-2026-0104`, or a crate name for a license finding.
    pub id: String,
    /// Why it is set aside (shown beside it).
    pub reason: Option<String>,
    /// The last day it holds; after it the finding counts again, saying so.
    pub until: Option<chrono::NaiveDate>,
}

/// Which licenses crates may have.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LicensePolicy {
    /// SPDX license ids allowed.
    pub allow: Vec<String>,
    /// SPDX license ids refused even where an expression offers another choice.
    pub deny: Vec<String>,
    /// Extra ids allowed for one crate: `(crate, ids)`.
    pub exceptions: Vec<(String, Vec<String>)>,
    /// Check workspace members that are not published (`publish = false`) too.
    pub private: bool,
}

/// The security suite's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct SecurityConfig {
    /// A git URL to clone, or a local directory holding the database.
    pub advisory_db: String,
    /// Use the cached clone as it is, without fetching.
    pub offline: bool,
    /// The revision the change is compared with (default: the baseline's base).
    pub base: Option<String>,
    /// Findings set aside.
    pub ignore: Vec<Ignore>,
    /// Checked only when `[security.licenses]` is written.
    pub licenses: Option<LicensePolicy>,
    /// Whether sources are checked (default on).
    pub sources: bool,
    /// Registry index URLs allowed besides crates.io.
    pub registries: Vec<String>,
    /// Git URL prefixes allowed (`https://github.com/my-org/`).
    pub git: Vec<String>,
    /// Whether the change's added lines are scanned for secrets (default on).
    pub secrets: bool,
    /// Paths (globs, from the repository root) never scanned for secrets.
    pub allow_paths: Vec<String>,
    /// Fingerprints of findings known not to be secrets (shown with each finding).
    pub allow_fingerprints: Vec<String>,
}

impl SecurityConfig {
    /// What `[security]` with nothing in it means: advisories from RustSec's database, sources
    /// (crates.io only) and secrets; licenses only with a policy.
    pub fn defaults() -> SecurityConfig {
        SecurityConfig {
            advisory_db: DEFAULT_DB.to_string(),
            offline: false,
            base: None,
            ignore: Vec::new(),
            licenses: None,
            sources: true,
            registries: Vec::new(),
            git: Vec::new(),
            secrets: true,
            allow_paths: Vec::new(),
            allow_fingerprints: Vec::new(),
        }
    }
}

fn known_license(at: At<'_>, id: &Spanned<String>) -> Result<String> {
    match spdx::license_id(id.get_ref()) {
        Some(l) => Ok(l.name.to_string()),
        None => {
            let names: Vec<&str> = spdx::identifiers::LICENSES.iter().map(|l| l.name).collect();
            let hint = crate::util::suggest::closest(id.get_ref(), &names)
                .map(|g| format!("did you mean `{g}`? "))
                .unwrap_or_default();
            Err(config_error(
                at,
                inside(id.span()),
                format!("`{}` is not an SPDX license id", id.get_ref()),
                &format!("{hint}ids are listed at https://spdx.org/licenses/"),
            ))
        }
    }
}

pub(crate) fn resolve(raw: &RawSecurity, at: At<'_>) -> Result<SecurityConfig> {
    let mut ignore = Vec::new();
    for i in &raw.ignore {
        let until = match &i.get_ref().until {
            None => None,
            Some(u) => Some(
                chrono::NaiveDate::parse_from_str(u.get_ref(), "%Y-%m-%d").map_err(|_| {
                    config_error(
                        at,
                        inside(u.span()),
                        format!("`until = \"{}\"` is not a date", u.get_ref()),
                        "write it as YYYY-MM-DD, e.g. until = \"2027-01-31\"",
                    )
                })?,
            ),
        };
        ignore.push(Ignore {
            id: i.get_ref().id.clone(),
            reason: i.get_ref().reason.clone(),
            until,
        });
    }
    let licenses = match &raw.licenses {
        None => None,
        Some(l) => {
            let ids = |list: &[Spanned<String>]| -> Result<Vec<String>> {
                list.iter().map(|id| known_license(at, id)).collect()
            };
            let mut exceptions = Vec::new();
            for e in &l.exceptions {
                exceptions.push((e.name.clone(), ids(&e.allow)?));
            }
            Some(LicensePolicy {
                allow: ids(&l.allow)?,
                deny: ids(&l.deny)?,
                exceptions,
                private: l.private.unwrap_or(false),
            })
        }
    };
    for p in &raw.secrets.allow_paths {
        if let Err(e) = globset::Glob::new(p.get_ref()) {
            return Err(config_error(
                at,
                inside(p.span()),
                format!("`{}` is not a glob: {}", p.get_ref(), e.kind()),
                "e.g. allow_paths = [\"tests/fixtures/**\"]",
            ));
        }
    }
    if let Some(db) = raw
        .advisory_db
        .as_ref()
        .filter(|d| d.get_ref().trim().is_empty())
    {
        return Err(config_error(
            at,
            inside(db.span()),
            "`advisory_db` is empty".to_string(),
            "remove it for RustSec's database, or give a git URL or a local directory",
        ));
    }
    Ok(SecurityConfig {
        advisory_db: raw
            .advisory_db
            .as_ref()
            .map_or_else(|| DEFAULT_DB.to_string(), |d| d.get_ref().clone()),
        offline: raw.offline,
        base: raw.base.clone(),
        ignore,
        licenses,
        sources: raw.sources.enabled.unwrap_or(true),
        registries: raw.sources.registries.clone(),
        git: raw.sources.git.clone(),
        secrets: raw.secrets.enabled.unwrap_or(true),
        allow_paths: raw
            .secrets
            .allow_paths
            .iter()
            .map(|p| p.get_ref().clone())
            .collect(),
        allow_fingerprints: raw.secrets.allow_fingerprints.clone(),
    })
}

/// Where a local database path is resolved from: the workspace root.
pub fn local_db(cfg: &SecurityConfig, ws_root: &std::path::Path) -> Option<PathBuf> {
    let looks_remote = cfg.advisory_db.contains("://") || cfg.advisory_db.starts_with("git@");
    (!looks_remote).then(|| ws_root.join(&cfg.advisory_db))
}
