//! What every command reads once before it works: where the config is, the config itself, and
//! the facts of the run (git, CI, host) that go into the report.

use std::path::{Path, PathBuf};

use crate::config::{self, Config};
use crate::error::{Error, Result};
use crate::model::{AffectedInfo, GitInfo, RunInfo};
use crate::suites::testrun::RunOptions;
use crate::workspace::Workspace;

/// The config file that applies: `--config`, else `gate.toml` at the workspace root if present.
pub fn config_path(ws_root: Option<&Path>, explicit: Option<&Path>) -> Result<Option<PathBuf>> {
    if let Some(p) = explicit {
        if !p.is_file() {
            return Err(Error::usage(
                format!("config file {} does not exist", p.display()),
                Some(
                    "pass an existing gate.toml to --config, or create one with `cargo gate init`"
                        .to_string(),
                ),
            ));
        }
        return Ok(Some(p.to_path_buf()));
    }
    Ok(ws_root
        .map(|r| r.join(config::FILE_NAME))
        .filter(|p| p.is_file()))
}

/// The config for a profile, with the suites' default rules when it lists no `fail` rules.
pub fn load_config(path: Option<&Path>, profile: Option<&str>) -> Result<Config> {
    let config = match path {
        Some(p) => Config::load(&display_path(p), profile)?,
        None => Config::defaults(profile)?,
    };
    crate::suites::with_default_rules(config)
}

/// Paths in messages are shown relative to the current directory when they are under it,
/// so `gate.toml:3:1` reads like a compiler message.
pub fn display_path(p: &Path) -> PathBuf {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| p.strip_prefix(&cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| p.to_path_buf())
}

/// The nearest `name` in the current directory or above it.
pub fn find_upwards(name: &str) -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok()?;
    cwd.ancestors().map(|d| d.join(name)).find(|p| p.is_file())
}

/// The facts of a run, read once: the commit (GitHub's variables first, as they name the PR's
/// head rather than a merge commit), the CI context, the host.
pub fn run_info(
    ws: &Workspace,
    config: &Config,
    select: &RunOptions,
    started: chrono::DateTime<chrono::Utc>,
    duration: f64,
) -> RunInfo {
    let facts = crate::exec::git::facts(&ws.root);
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let (env, event) = crate::publish::github::context::read_env();
    RunInfo {
        id: run_id(),
        started: started.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        duration,
        git: GitInfo {
            sha: var("GITHUB_SHA").or(facts.head),
            branch: var("GITHUB_HEAD_REF").or(facts.branch),
            base: var("GITHUB_BASE_REF"),
        },
        host: hostname(),
        machine: machine_class(),
        profile: config.profile.clone(),
        partition: select.partition.map(|p| p.to_string()),
        partition_basis: select.partition_basis.clone(),
        affected: select.affected.as_ref().map(|a| AffectedInfo {
            since: a.since.clone(),
            base: a.base.clone(),
            packages: select.packages.clone(),
        }),
        merged_from: Vec::new(),
        interrupted: crate::exec::process::is_cancelled(),
        root_in_repo: facts.prefix,
        github: crate::publish::github::context::run_record(&env, &event),
    }
}

fn run_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{:x}-{:x}", nanos, std::process::id())
}

/// `AMD EPYC 7763 64-Core Processor ×4`: what decides how fast the same code runs, unlike
/// the host name (every CI job has its own).
pub fn machine_class() -> Option<String> {
    let cores = std::thread::available_parallelism().ok()?.get();
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name") || l.starts_with("Model"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.split_whitespace().collect::<Vec<_>>().join(" "))
        })
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    Some(format!("{model} ×{cores}"))
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_default()
}
