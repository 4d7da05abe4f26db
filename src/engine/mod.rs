//! The run as one library call: [`run`] takes the parsed options and an event sink and returns
//! the judged [`Report`]. In order: the selection (`plan.rs`: workspace, config, packages,
//! partitions, affected packages), the base's test history and quarantine, the suites
//! (`suites::run_all`), the history's marks on each case, the comparisons with baselines and
//! paired rounds, and the gate (`judge.rs`). Commands only parse arguments, call this, render
//! and map the exit code; `merge` and `comment` judge through the same `judge.rs`.

pub mod judge;
pub mod plan;

use std::path::PathBuf;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::event::{Event, Sink};
use crate::model::{Report, SuiteKind};
use crate::suites::{self, RunContext, SuiteOptions};
use crate::workspace::Workspace;

pub use judge::{Base, Judge};
pub use plan::{Prepared, Selection, prepare};

/// The files a run writes in its output directory (`commands::run` writes them; the engine
/// removes an earlier run's before it starts).
pub const OUTPUT_FILES: &[&str] = &[
    "report.json",
    "junit.xml",
    "summary.md",
    "report.html",
    "gate.svg",
    "coverage.svg",
];

/// What a run is asked to do.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Workspace, config and tests.
    pub select: Selection,
    /// `--suite`: only these suites (empty: the configured ones).
    pub suites: Vec<SuiteKind>,
    /// `--jobs`.
    pub jobs: Option<usize>,
    /// `--retries`.
    pub retries: Option<u32>,
    /// `--fail-fast` (`Some(true)`) or `--no-fail-fast` (`Some(false)`).
    pub fail_fast: Option<bool>,
    /// `--no-doctests`.
    pub no_doctests: bool,
    /// `--allow-empty`.
    pub allow_empty: bool,
    /// `--no-baseline`.
    pub no_baseline: bool,
    /// `--baseline-rev`.
    pub baseline_rev: Option<String>,
    /// `--paired`.
    pub paired: Option<String>,
    /// `--offline`: the security suite uses its cached advisory database as it is.
    pub offline: bool,
    /// `--mutate`: what the mutants suite mutates instead of the change's lines.
    pub mutate: Vec<String>,
    /// `--out-dir`.
    pub out_dir: Option<PathBuf>,
}

/// A finished run: its judged report, and what the command needs to write it out.
pub struct Finished {
    pub report: Report,
    pub ws: Workspace,
    pub config: Config,
    pub out_dir: PathBuf,
}

/// Runs the selected suites and judges the result. `Err` is for what stops a run before it
/// has anything to report (a bad option, a config error, no workspace); a suite that cannot
/// run is a suite with status `error` in the report.
pub fn run(options: &Options, events: Sink<'_>) -> Result<Finished> {
    if options.jobs == Some(0) {
        return Err(Error::usage("--jobs must be at least 1", None));
    }
    let Prepared {
        ws,
        mut config,
        opts,
    } = prepare(&options.select, events)?;
    apply_overrides(&mut config, options);
    if !options.no_baseline {
        check_baseline_rev(&ws, options.baseline_rev.as_deref())?;
    }
    let out_dir = options.out_dir.clone().unwrap_or_else(|| ws.out_dir());
    // An earlier run's outputs go first: a run that dies before writing its own must not leave
    // an old report (or a badge saying 100 %) for `comment` or a badge job to pick up.
    for name in OUTPUT_FILES {
        let _ = std::fs::remove_file(out_dir.join(name));
    }
    crate::exec::process::install_signal_handler();

    let started = chrono::Utc::now();
    let clock = std::time::Instant::now();
    let later_shard = opts.partition.is_some_and(|p| p.shard > 1);
    if later_shard && options.suites.is_empty() {
        events(&Event::Notice(
            "partition shard > 1: only the tests run here; shard 1 runs the other configured suites",
        ));
    }
    let history = (!options.no_baseline && config.baseline.enabled)
        .then(|| {
            judge::read_history(
                &ws.root,
                &mut config,
                options.baseline_rev.as_deref(),
                events,
            )
        })
        .flatten();
    let selected = suites::select(&config, &ws, &options.suites, later_shard);
    let kinds: Vec<SuiteKind> = selected.iter().map(|e| e.kind).collect();
    let partition = opts.partition.map(|p| p.to_string());
    events(&Event::RunStarted {
        suites: &kinds,
        profile: &config.profile,
        partition: partition.as_deref(),
    });
    let every_test = opts.selects_every_test();
    let mut cx = RunContext {
        ws: &ws,
        config: &config,
        every_test,
        out_dir: &out_dir,
        baseline_rev: options.baseline_rev.as_deref(),
        test_env: Vec::new(),
        finished: Vec::new(),
        environment: None,
        events,
    };
    let suite_options = SuiteOptions {
        tests: opts,
        offline: options.offline,
        mutate: options.mutate.clone(),
    };
    suites::run_all(&selected, &suite_options, &mut cx)?;
    let suites = std::mem::take(&mut cx.finished);
    let opts = suite_options.tests;
    // Only a run of every test can say a test is gone (or that a quarantine entry names none).
    let complete = every_test && !options.no_doctests;
    if complete && let Some(tests) = suites.iter().find(|s| s.kind == SuiteKind::Tests) {
        warn_unmatched_quarantine(&config, tests, events);
    }
    // The verdict is decided by the judge below, before anything reads it.
    let mut report = Report::new(
        crate::context::run_info(&ws, &config, &opts, started, clock.elapsed().as_secs_f64()),
        suites,
    );
    if let Some(h) = &history {
        judge::annotate_history(&mut report, h, &config, complete);
    }
    Judge {
        root: Some(&ws.root),
        config: &config,
        base: Base::Run(options.baseline_rev.as_deref()),
        no_baseline: options.no_baseline,
        events,
    }
    .judge(&mut report);
    // A test that printed the job's token (GitHub's GITHUB_TOKEN, when a step passes it on)
    // put it in its output: the report is masked before anything is written from it.
    let report = report.masked(std::env::var("GITHUB_TOKEN").ok().as_deref());
    events(&Event::RunFinished(&report));
    Ok(Finished {
        report,
        ws,
        config,
        out_dir,
    })
}

/// `--baseline-rev` names a commit of this repository: a base that cannot be found would
/// silently compare with nothing.
fn check_baseline_rev(ws: &Workspace, rev: Option<&str>) -> Result<()> {
    let Some(rev) = rev else {
        return Ok(());
    };
    crate::baseline::notes::Store::open(&ws.root)
        .and_then(|store| store.resolve(rev))
        .map(|_| ())
        .map_err(|e| {
            Error::usage(
                format!("--baseline-rev `{rev}`: {e}"),
                Some("name a commit, branch or tag of this repository (fetch it first in a shallow CI checkout: actions/checkout with `fetch-depth: 0`)".to_string()),
            )
        })
}

/// A quarantine entry that names no test of a whole run quarantines nothing: said, not silent.
fn warn_unmatched_quarantine(config: &Config, tests: &crate::model::Suite, events: Sink<'_>) {
    let ran: Vec<(&str, &str)> = tests
        .cases
        .iter()
        .map(|c| (c.id.as_str(), c.name.as_str()))
        .collect();
    if ran.is_empty() {
        return;
    }
    for q in config.tests.unmatched_quarantine(&ran) {
        crate::event::warn(
            events,
            Some(SuiteKind::Tests),
            &format!(
                "gate.toml [tests] quarantine: `{q}` names no test of this workspace (a typo, or a test renamed or removed): it quarantines nothing"
            ),
        );
    }
}

/// The command line wins over gate.toml.
fn apply_overrides(config: &mut Config, options: &Options) {
    let tests = &mut config.tests;
    if let Some(j) = options.jobs {
        tests.jobs = Some(j);
    }
    if let Some(r) = options.retries {
        tests.retries = r;
    }
    if let Some(f) = options.fail_fast {
        tests.fail_fast = f;
    }
    if options.no_doctests {
        tests.doctests = false;
    }
    if options.allow_empty {
        tests.allow_empty = true;
    }
    if let Some(rev) = &options.paired {
        config.bench.paired = Some(rev.clone());
    }
}
