//! `[mutants]` in gate.toml.

use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::error::Result;
use crate::util::spans::{At, config_error, count_in, duration, inside, number_in};

#[derive(Debug, Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMutants {
    base: Option<String>,
    #[serde(default)]
    mutate: Vec<Spanned<String>>,
    #[serde(default)]
    exclude: Vec<Spanned<String>>,
    timeout_multiplier: Option<Spanned<f64>>,
    minimum_timeout: Option<Spanned<String>>,
    jobs: Option<Spanned<u64>>,
    build_rounds: Option<Spanned<u64>>,
    doctests: Option<bool>,
    coverage: Option<bool>,
}

/// The mutants suite's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct MutantsConfig {
    /// The revision the change is compared with (default: the baseline's base).
    pub base: Option<String>,
    /// `PATH` or `PATH:function`: mutate these whole instead of the change's lines.
    pub mutate: Vec<String>,
    /// Globs (from the workspace root) of files never mutated.
    pub exclude: Vec<String>,
    /// A mutant's timeout is this many times the unmutated run's time...
    pub timeout_multiplier: f64,
    /// ... and never less than this.
    pub minimum_timeout: Duration,
    /// Mutants run at once (default: the cores).
    pub jobs: usize,
    /// Schema builds tried, each without the mutants the last one found unviable, before the
    /// rest are built one by one.
    pub build_rounds: usize,
    /// Run the doctests of the mutated package for a mutant no other test caught (as
    /// `cargo test` does for cargo-mutants).
    pub doctests: bool,
    /// Run a mutant only against the test binaries and doctests whose unmutated run reached
    /// its code (a run that never reaches it cannot notice it).
    pub coverage: bool,
}

impl MutantsConfig {
    /// The timeout of something that took `secs` without mutants.
    pub fn timeout_after(&self, secs: f64) -> Duration {
        Duration::try_from_secs_f64(secs * self.timeout_multiplier)
            .unwrap_or(Duration::MAX)
            .max(self.minimum_timeout)
    }

    /// What `[mutants]` with nothing in it means.
    pub fn defaults() -> MutantsConfig {
        MutantsConfig {
            base: None,
            mutate: Vec::new(),
            exclude: Vec::new(),
            timeout_multiplier: 5.0,
            minimum_timeout: Duration::from_secs(20),
            jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
            build_rounds: 5,
            doctests: true,
            coverage: true,
        }
    }
}

pub(crate) fn resolve(raw: &RawMutants, at: At<'_>) -> Result<MutantsConfig> {
    let mut c = MutantsConfig::defaults();
    c.base = raw.base.clone();
    for m in &raw.mutate {
        check_target(m.get_ref()).map_err(|why| {
            config_error(
                at,
                inside(m.span()),
                why,
                "write a path from the workspace root, optionally with a function: \"src/lib.rs:parse\"",
            )
        })?;
        c.mutate.push(m.get_ref().clone());
    }
    for g in &raw.exclude {
        if let Err(e) = globset::Glob::new(g.get_ref()) {
            return Err(config_error(
                at,
                inside(g.span()),
                format!("`{}` is not a glob: {}", g.get_ref(), e.kind()),
                "e.g. exclude = [\"src/generated/**\"]",
            ));
        }
        c.exclude.push(g.get_ref().clone());
    }
    if let Some(m) = &raw.timeout_multiplier {
        c.timeout_multiplier = number_in(
            at,
            m,
            "timeout_multiplier",
            (1.0, 1000.0),
            "e.g. timeout_multiplier = 5.0",
        )?;
    }
    if let Some(d) = &raw.minimum_timeout {
        c.minimum_timeout = duration(at, d)?;
    }
    if let Some(j) = &raw.jobs {
        c.jobs = count_in(at, j, "jobs", (1, 256), "e.g. jobs = 2")? as usize;
    }
    if let Some(r) = &raw.build_rounds {
        c.build_rounds =
            count_in(at, r, "build_rounds", (1, 50), "e.g. build_rounds = 5")? as usize;
    }
    if let Some(on) = raw.coverage {
        c.coverage = on;
    }
    if let Some(d) = raw.doctests {
        c.doctests = d;
    }
    Ok(c)
}

/// `PATH[:function]`, checked for shape: a `.rs` path and, after a colon, a name.
pub fn check_target(target: &str) -> std::result::Result<(), String> {
    let (path, function) = split_target(target);
    if !path.ends_with(".rs") {
        return Err(format!("`{target}` does not name a `.rs` file"));
    }
    if function.is_some_and(|f| f.is_empty()) {
        return Err(format!("`{target}` has an empty function name after `:`"));
    }
    Ok(())
}

/// `("src/lib.rs", Some("parse"))` from `src/lib.rs:parse`.
pub fn split_target(target: &str) -> (&str, Option<&str>) {
    match target.split_once(".rs:") {
        Some((path, f)) => (&target[..path.len() + 3], Some(f)),
        None => (target, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_name_a_file_and_maybe_a_function() {
        assert_eq!(split_target("src/lib.rs"), ("src/lib.rs", None));
        assert_eq!(
            split_target("src/a.rs:Parser::next"),
            ("src/a.rs", Some("Parser::next"))
        );
        assert!(check_target("src/lib.rs:").is_err());
        assert!(check_target("src/lib").is_err());
        assert!(check_target("crates/x/src/lib.rs:add").is_ok());
    }
}
