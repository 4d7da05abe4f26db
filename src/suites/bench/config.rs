//! `[bench]` in gate.toml.

use serde::Deserialize;

/// A command timed by the bench suite.
#[derive(Debug, Deserialize, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BenchCommand {
    /// Metric name (`bench.<name>`).
    pub name: String,
    /// Program and arguments.
    pub cmd: Vec<String>,
    /// Measured runs.
    #[serde(default = "default_runs")]
    pub runs: u32,
    /// Unmeasured runs first.
    #[serde(default = "default_warmup")]
    pub warmup: u32,
}

fn default_runs() -> u32 {
    10
}

fn default_warmup() -> u32 {
    1
}

#[derive(Debug, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBench {
    enabled: Option<bool>,
    run: Option<Vec<String>>,
    criterion: Option<bool>,
    libtest: Option<bool>,
    hyperfine: Option<Vec<String>>,
    custom: Option<Vec<String>>,
    command: Option<Vec<BenchCommand>>,
}

/// Settings of the bench suite.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BenchConfig {
    /// Whether the suite runs (on when gate.toml has a `[bench]` table).
    pub enabled: bool,
    /// A command run first in the workspace root (e.g. `cargo bench`).
    pub run: Vec<String>,
    /// Read criterion's results from `<target>/criterion`.
    pub criterion: bool,
    /// Parse libtest `bench:` lines from the run command's output.
    pub libtest: bool,
    /// `hyperfine --export-json` files, relative to the workspace root.
    pub hyperfine: Vec<String>,
    /// Files in cargo-gate's custom JSON format.
    pub custom: Vec<String>,
    /// Timed commands.
    pub commands: Vec<BenchCommand>,
}

pub(crate) fn resolve(raw: Option<&RawBench>) -> BenchConfig {
    let Some(raw) = raw else {
        return BenchConfig {
            criterion: true,
            libtest: true,
            ..BenchConfig::default()
        };
    };
    BenchConfig {
        enabled: raw.enabled.unwrap_or(true),
        run: raw.run.clone().unwrap_or_default(),
        criterion: raw.criterion.unwrap_or(true),
        libtest: raw.libtest.unwrap_or(true),
        hyperfine: raw.hyperfine.clone().unwrap_or_default(),
        custom: raw.custom.clone().unwrap_or_default(),
        commands: raw.command.clone().unwrap_or_default(),
    }
}
