//! `[bench]` in gate.toml.

use serde::Deserialize;
use toml::Spanned;

use crate::error::Result;
use crate::util::spans::{At, config_error, count_in};

/// A command timed by the bench suite.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchCommand {
    /// Metric name (`bench.<name>`).
    pub name: String,
    /// Program and arguments.
    pub cmd: Vec<String>,
    /// Measured runs.
    pub runs: u32,
    /// Unmeasured runs first.
    pub warmup: u32,
    /// What is measured: wall time, or a count that only the code changes.
    pub counter: Counter,
    /// The command prints cargo-gate's custom bench JSON on stdout: its metrics are taken
    /// instead of its wall time (so any harness can take part, paired runs included).
    pub json: bool,
}

/// What a timed command measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Counter {
    /// Wall time of each run, in seconds.
    #[default]
    Time,
    /// Instructions executed, counted by `valgrind --tool=callgrind`: the same for every run
    /// of the same code on any machine, so compared by their ratio alone.
    Instructions,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCommand {
    name: Spanned<String>,
    cmd: Spanned<Vec<String>>,
    runs: Option<Spanned<u64>>,
    warmup: Option<Spanned<u64>>,
    #[serde(default)]
    counter: Counter,
    json: Option<Spanned<bool>>,
}

#[derive(Debug, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBench {
    enabled: Option<bool>,
    run: Option<Spanned<Vec<String>>>,
    criterion: Option<bool>,
    libtest: Option<bool>,
    iai: Option<bool>,
    hyperfine: Option<Vec<String>>,
    custom: Option<Vec<String>>,
    command: Option<Vec<RawCommand>>,
    paired: Option<Spanned<String>>,
    rounds: Option<Spanned<u64>>,
    paired_min_effect: Option<Spanned<String>>,
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
    /// Read iai-callgrind's and gungraun's callgrind outputs from `<target>/iai` and
    /// `<target>/gungraun` (instruction counts).
    pub iai: bool,
    /// `hyperfine --export-json` files, relative to the workspace root.
    pub hyperfine: Vec<String>,
    /// Files in cargo-gate's custom JSON format.
    pub custom: Vec<String>,
    /// Timed commands.
    pub commands: Vec<BenchCommand>,
    /// Measure the timed commands A/B against this revision in the same job (`merge-base`:
    /// the merge base with the pull request's base branch).
    pub paired: Option<String>,
    /// Rounds of a paired run (each runs both sides once, in alternating order).
    pub rounds: usize,
    /// The smallest change, in percent, a paired run reports as a regression or improvement.
    pub paired_min_effect_pct: f64,
}

/// Rounds of a paired run unless configured: enough for a 2 % change at 1 % noise.
pub const DEFAULT_ROUNDS: usize = 20;

pub(crate) fn resolve(raw: Option<&RawBench>, at: At<'_>) -> Result<BenchConfig> {
    let Some(raw) = raw else {
        return Ok(BenchConfig {
            criterion: true,
            libtest: true,
            iai: true,
            rounds: DEFAULT_ROUNDS,
            paired_min_effect_pct: 1.0,
            ..BenchConfig::default()
        });
    };
    let mut commands: Vec<BenchCommand> = Vec::new();
    for c in raw.command.iter().flatten() {
        let command = command(at, c)?;
        if commands.iter().any(|o| o.name == command.name) {
            return Err(config_error(
                at,
                crate::util::spans::inside(c.name.span()),
                format!("two [[bench.command]] are called `{}`", command.name),
                "give each timed command its own name",
            ));
        }
        commands.push(command);
    }
    let rounds = match &raw.rounds {
        Some(r) => count_in(
            at,
            r,
            "rounds",
            (3, 10_000),
            "run 3 to 10000 rounds (20 is usual)",
        )? as usize,
        None => DEFAULT_ROUNDS,
    };
    let paired_min_effect_pct = match &raw.paired_min_effect {
        Some(p) => crate::util::spans::percent(at, p, 100.0, "1%")?,
        None => 1.0,
    };
    if let Some(p) = raw
        .paired
        .as_ref()
        .filter(|p| p.get_ref().trim().is_empty())
    {
        return Err(config_error(
            at,
            crate::util::spans::inside(p.span()),
            "`paired` is empty".to_string(),
            "name a revision (e.g. \"main\") or \"merge-base\"",
        ));
    }
    if let Some(run) = raw.run.as_ref().filter(|r| r.get_ref().is_empty()) {
        return Err(config_error(
            at,
            run.span(),
            "`[bench] run` is an empty command".to_string(),
            "write run = [\"cargo\", \"bench\"] or remove the key",
        ));
    }
    Ok(BenchConfig {
        enabled: raw.enabled.unwrap_or(true),
        run: raw
            .run
            .as_ref()
            .map(|r| r.get_ref().clone())
            .unwrap_or_default(),
        criterion: raw.criterion.unwrap_or(true),
        libtest: raw.libtest.unwrap_or(true),
        iai: raw.iai.unwrap_or(true),
        hyperfine: raw.hyperfine.clone().unwrap_or_default(),
        custom: raw.custom.clone().unwrap_or_default(),
        commands,
        paired: raw.paired.as_ref().map(|p| p.get_ref().trim().to_string()),
        rounds,
        paired_min_effect_pct,
    })
}

/// One `[[bench.command]]`.
fn command(at: At<'_>, c: &RawCommand) -> Result<BenchCommand> {
    let name = c.name.get_ref();
    if name.is_empty()
        || !name
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '_' | '-' | '.' | '/'))
    {
        return Err(config_error(
            at,
            crate::util::spans::inside(c.name.span()),
            format!(
                "bench command name `{}` is not a valid name",
                name.escape_debug()
            ),
            "it becomes the metric bench.NAME: use letters, digits, `_`, `-`, `.` or `/`",
        ));
    }
    if c.cmd.get_ref().is_empty() || c.cmd.get_ref()[0].is_empty() {
        return Err(config_error(
            at,
            c.cmd.span(),
            format!("bench command `{name}` has an empty `cmd`"),
            "write cmd = [\"program\", \"arg\"]",
        ));
    }
    let runs = match &c.runs {
        Some(r) => count_in(at, r, "runs", (1, 100_000), "measure at least 1 run")? as u32,
        None => 10,
    };
    let warmup = match &c.warmup {
        Some(w) => count_in(at, w, "warmup", (0, 10_000), "warm up 0 to 10000 times")? as u32,
        None => 1,
    };
    let json = c.json.as_ref().is_some_and(|j| *j.get_ref());
    if let Some(j) = c
        .json
        .as_ref()
        .filter(|_| json && c.counter == Counter::Instructions)
    {
        return Err(config_error(
            at,
            j.span(),
            format!(
                "bench command `{name}`: `json = true` takes the metrics the command prints, `counter = \"instructions\"` counts the command itself"
            ),
            "choose one: remove `json` or `counter`",
        ));
    }
    Ok(BenchCommand {
        name: name.clone(),
        cmd: c.cmd.get_ref().clone(),
        // A count is the same every run: one is enough.
        runs: if c.counter == Counter::Instructions {
            1
        } else {
            runs
        },
        warmup: if c.counter == Counter::Instructions {
            0
        } else {
            warmup
        },
        counter: c.counter,
        json,
    })
}
