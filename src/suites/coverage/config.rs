//! `[coverage]` in gate.toml.

use std::path::PathBuf;

use serde::Deserialize;
use toml::Spanned;

use crate::error::Result;
use crate::util::spans::{At, config_error};

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCoverage {
    lcov: Spanned<String>,
    command: Option<Spanned<Vec<String>>>,
    base: Option<String>,
    #[serde(default)]
    patch_without_base: Option<NoBase>,
    #[serde(default)]
    partials: Option<Partials>,
    #[serde(default)]
    fixes: Vec<Spanned<String>>,
}

/// What patch coverage does when the base commit is not in the clone (a shallow checkout, the
/// first commit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum NoBase {
    /// Rules on `coverage.patch` fail, saying how to fetch the base.
    #[default]
    Fail,
    /// Rules on `coverage.patch` are skipped.
    Skip,
}

/// How a partial line (run, with a branch never taken) counts in line coverage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Partials {
    /// As a line not covered (as Codecov counts it).
    #[default]
    Miss,
    /// As a covered line.
    Hit,
}

/// The coverage suite: an LCOV file to read (and optionally the command that writes it).
#[derive(Debug, Clone, PartialEq)]
pub struct CoverageConfig {
    /// The LCOV file, relative to the workspace root.
    pub lcov: PathBuf,
    /// Run first, in the workspace root (e.g. `cargo llvm-cov --lcov --output-path ...`).
    pub command: Option<Vec<String>>,
    /// The revision patch coverage counts changes from (default: the baseline's base).
    pub base: Option<String>,
    /// Without the base commit.
    pub patch_without_base: NoBase,
    /// How partial lines count.
    pub partials: Partials,
    /// Path fixes applied to the LCOV file's paths first: `(before, after)` prefixes.
    pub fixes: Vec<(String, String)>,
}

pub(crate) fn resolve(raw: &RawCoverage, at: At<'_>) -> Result<CoverageConfig> {
    if raw.lcov.get_ref().trim().is_empty() {
        return Err(config_error(
            at,
            raw.lcov.span(),
            "`lcov` is empty".to_string(),
            "name the LCOV file, e.g. lcov = \"target/lcov.info\"",
        ));
    }
    if let Some(cmd) = raw.command.as_ref().filter(|c| c.get_ref().is_empty()) {
        return Err(config_error(
            at,
            cmd.span(),
            "`command` is empty".to_string(),
            "remove it, or give the program and its arguments",
        ));
    }
    let mut fixes = Vec::new();
    for f in &raw.fixes {
        match f.get_ref().split_once("::") {
            Some((before, after)) if !before.is_empty() || !after.is_empty() => {
                fixes.push((before.to_string(), after.to_string()));
            }
            _ => {
                return Err(config_error(
                    at,
                    crate::util::spans::inside(f.span()),
                    format!("path fix `{}` is not `before::after`", f.get_ref()),
                    "e.g. fixes = [\"semver/::\"] drops a leading `semver/`, [\"/build/::src/\"] replaces a prefix",
                ));
            }
        }
    }
    Ok(CoverageConfig {
        lcov: PathBuf::from(raw.lcov.get_ref()),
        command: raw.command.as_ref().map(|c| c.get_ref().clone()),
        base: raw.base.clone(),
        patch_without_base: raw.patch_without_base.unwrap_or_default(),
        partials: raw.partials.unwrap_or_default(),
        fixes,
    })
}
