//! Command-line definitions (clap derive). Behaviour lives in `commands`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::RunIgnored;
use crate::model::SuiteKind;
use crate::render::Format;

/// A quality gate and test orchestrator for Rust projects.
#[derive(Debug, Parser)]
#[command(name = "cargo-gate", bin_name = "cargo gate", version, about, long_about = None)]
pub struct Cli {
    /// Options every command takes.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Path to the workspace's Cargo.toml (default: found from the current directory).
    #[arg(long, global = true, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,
    /// Path to gate.toml (default: gate.toml at the workspace root, if present).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Colour: `auto` (on a terminal, unless NO_COLOR is set), `always` or `never`; the default
    /// comes from CARGO_TERM_COLOR, as in cargo.
    #[arg(long, global = true, value_name = "WHEN")]
    pub color: Option<crate::util::color::ColorWhen>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a commented starter gate.toml and .github/workflows/gate.yml at the workspace root.
    Init {
        /// Overwrite existing files.
        #[arg(long)]
        force: bool,
        /// Write only gate.toml.
        #[arg(long)]
        no_workflow: bool,
        /// Also write gate-publish.yml, so fork pull requests get their comment too (a public
        /// repository wants this; init cannot tell from here whether it is public).
        #[arg(long, conflicts_with = "shards")]
        fork_safe: bool,
        /// Run the tests in N shards side by side, then merge their reports in one job.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(2..=64))]
        shards: Option<u32>,
        /// Also enable `[security]` and write security.yml: the security suite every day on the
        /// default branch, keeping its issue and uploading SARIF to code scanning.
        #[arg(long)]
        security: bool,
    },
    /// Validate gate.toml (every profile); exit 2 with file:line:col on error.
    Check,
    /// Build and run the suites, write target/gate/, apply the gate.
    Run(RunArgs),
    /// Show what would run, without running it (builds the tests to list them).
    List(ListArgs),
    /// Render a saved report.json in another format.
    Report {
        /// Output format.
        #[arg(long, value_enum, default_value = "terminal")]
        format: Format,
        /// Directory of templates overriding the built-in ones (by file name).
        #[arg(long, value_name = "DIR")]
        template: Option<PathBuf>,
        /// Write to this file instead of standard output.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// The report to render.
        #[arg(value_name = "REPORT", default_value = "target/gate/report.json")]
        report: PathBuf,
    },
    /// Publish a report on GitHub: sticky PR comment, job summary, annotations, check run.
    Comment(CommentArgs),
    /// Performance baselines stored as git notes (refs/notes/cargo-gate).
    Baseline {
        /// What to do.
        #[command(subcommand)]
        action: BaselineAction,
    },
    /// Print the reference entry of a gate.toml key, a metric or a rule, from the book's
    /// reference; with no argument, list every key and metric.
    Explain {
        /// A key (`tests.retries`, `retries`, `[tests]`), a metric (`tests.failed`,
        /// `load.api.p(95)`) or a rule in quotes (`'coverage.patch >= 80%'`).
        #[arg(value_name = "KEY|METRIC|RULE")]
        query: Option<String>,
    },
    /// cargo's runner for a doctest during a mutants run: runs it once per mutant (internal).
    #[command(hide = true, name = "mutants-doctest")]
    MutantsDoctest {
        /// What to run: written by the mutants suite.
        spec: PathBuf,
        /// The compiled doctest.
        program: PathBuf,
        /// Its arguments, as rustdoc passes them.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<std::ffi::OsString>,
    },
    /// Run the built-in TCP fault proxy with no toxic (to measure its overhead, or to debug).
    Proxy {
        /// Address to listen on, e.g. 127.0.0.1:18081.
        listen: String,
        /// Address to forward to, e.g. 127.0.0.1:18080.
        upstream: String,
    },
    /// Each test's outcomes over the default branch's runs (from the notes `baseline save`
    /// writes): runs, passes, failures, flaky runs, flake rate, last failure, longest passing
    /// streak; the flakiest first.
    History(HistoryArgs),
    /// Combine shard reports into one and apply the gate to the whole.
    Merge {
        /// Profile whose rules apply (default: the profile recorded in the reports).
        #[arg(long)]
        profile: Option<String>,
        /// Where to write the merged report.
        #[arg(
            short,
            long,
            value_name = "FILE",
            default_value = "target/gate/report.json"
        )]
        output: PathBuf,
        /// Shard reports.
        #[arg(value_name = "REPORT", required = true, num_args = 1..)]
        reports: Vec<PathBuf>,
    },
}

/// `cargo gate baseline ...`.
#[derive(Debug, Subcommand)]
pub enum BaselineAction {
    /// Record the report's measurements as a note on a commit (merged with what is there).
    Save {
        /// The report whose metrics are saved.
        #[arg(long, default_value = "target/gate/report.json")]
        report: PathBuf,
        /// The commit (default: HEAD).
        #[arg(long, default_value = "HEAD")]
        rev: String,
    },
    /// Print the note on a commit.
    Show {
        /// The commit (default: HEAD).
        #[arg(default_value = "HEAD")]
        rev: String,
    },
    /// History of metrics along first-parent commits, with sparklines.
    Log {
        /// Commits to read.
        #[arg(short = 'n', long, default_value_t = 30)]
        count: usize,
        /// Only this metric, one line per commit.
        #[arg(long)]
        metric: Option<String>,
        /// Start here (default: HEAD).
        #[arg(long, default_value = "HEAD")]
        rev: String,
    },
    /// Fetch the remote's notes and merge them into ours.
    Fetch {
        /// Remote (default: `remote` in gate.toml, else origin).
        #[arg(long)]
        remote: Option<String>,
    },
    /// Push our notes; a concurrent push is merged and retried, never forced.
    Push {
        /// Remote (default: `remote` in gate.toml, else origin).
        #[arg(long)]
        remote: Option<String>,
    },
    /// Find the first commit between GOOD and BAD where METRIC regressed, by measuring commits
    /// (binary search, first-parent) in temporary worktrees.
    Bisect {
        /// The metric, e.g. bench.parse/large.
        metric: String,
        /// A commit where the metric is fine.
        good: String,
        /// A later commit where it regressed.
        bad: String,
        /// The measurement, run with `sh -c` in each commit's worktree.
        #[arg(long, default_value = "cargo gate run --suite bench --no-baseline")]
        cmd: String,
        /// The report the command writes, relative to the worktree.
        #[arg(long, default_value = "target/gate/report.json")]
        report: PathBuf,
    },
    /// Compare a report's measurements with the baseline.
    Compare {
        /// Where to look for the baseline (default: merge base with the PR base, else HEAD^).
        rev: Option<String>,
        /// The report to compare.
        #[arg(long, default_value = "target/gate/report.json")]
        report: PathBuf,
        /// Print the comparisons as JSON (as in report.json) instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// Options of `cargo gate comment`.
#[derive(Debug, Args)]
pub struct CommentArgs {
    /// The report to publish (default: target/gate/report.json).
    #[arg(value_name = "REPORT", conflicts_with = "from_artifact")]
    pub report: Option<PathBuf>,
    /// Publish a report downloaded from another workflow's artifact (the `workflow_run`
    /// pattern for fork PRs): DIR/report.json, with the PR number taken from it and verified.
    #[arg(long, value_name = "DIR")]
    pub from_artifact: Option<PathBuf>,
    /// The largest artifact report read, in bytes (`--from-artifact` only): an untrusted file
    /// must not decide how much memory the trusted job uses.
    #[arg(long, value_name = "BYTES", default_value_t = 50 * 1024 * 1024)]
    pub max_artifact_bytes: u64,
    /// Link to the uploaded report artifact (the HTML report), shown in the comment and the
    /// summary (the action passes upload-artifact's `artifact-url`).
    #[arg(long, value_name = "URL")]
    pub artifact_url: Option<String>,
    /// Id in the hidden marker, for several gates on one PR (default: workflow/job).
    #[arg(long)]
    pub id: Option<String>,
    /// What to do with our earlier comment.
    #[arg(long, value_enum, default_value = "update")]
    pub previous: crate::publish::github::sticky::Previous,
    /// Delete our comment when the gate passes.
    #[arg(long)]
    pub delete_on_pass: bool,
    /// Login whose comments are ours (default: the token's user, or github-actions[bot]).
    #[arg(long)]
    pub author: Option<String>,
    /// Do not post the PR comment.
    #[arg(long)]
    pub no_comment: bool,
    /// Do not create a check run.
    #[arg(long)]
    pub no_check_run: bool,
    /// Do not write the job summary.
    #[arg(long)]
    pub no_summary: bool,
    /// Do not print workflow-command annotations.
    #[arg(long)]
    pub no_annotations: bool,
    /// Name of the check run.
    #[arg(long, default_value = "cargo-gate")]
    pub check_name: String,
    /// Keep the branch's security issue ("Security advisories on BRANCH", the branch from
    /// GITHUB_REF_NAME): opened or updated while the report's security suite has findings,
    /// closed when it has none. For a scheduled run on the default branch.
    #[arg(long)]
    pub issue: bool,
    /// Exit 3 when publishing fails (by default a publishing problem is a warning).
    #[arg(long)]
    pub strict_publish: bool,
    /// Directory of templates overriding the built-in ones (comment.md.j2, summary.md.j2).
    #[arg(long, value_name = "DIR")]
    pub template: Option<PathBuf>,
}

/// Test selection shared by `run` and `list`.
#[derive(Debug, Args, Clone)]
pub struct SelectArgs {
    /// gate.toml profile to apply (`[profile.NAME]`).
    #[arg(long, short = 'P')]
    pub profile: Option<String>,
    /// Only these packages (repeatable).
    #[arg(long, short = 'p', value_name = "SPEC")]
    pub package: Vec<String>,
    /// Only packages a change since REV can affect: those with changed files and every
    /// workspace member depending on them (REV's merge base with HEAD vs the working tree).
    #[arg(long, value_name = "REV")]
    pub affected_since: Option<String>,
    /// Run one shard: `hash:K/N` (stable under test additions), `count:K/N` (balanced counts)
    /// or `time:K/N` (balanced by the test durations in the baseline notes).
    #[arg(long, value_name = "hash:K/N|count:K/N|time:K/N")]
    pub partition: Option<String>,
    /// Which ignored tests run.
    #[arg(long, value_enum)]
    pub run_ignored: Option<RunIgnored>,
    /// Filters must equal test names instead of being substrings.
    #[arg(long)]
    pub exact: bool,
    /// Leave out tests whose name contains this (repeatable).
    #[arg(long, value_name = "PATTERN")]
    pub skip: Vec<String>,
    /// Run only tests whose name contains one of these.
    #[arg(value_name = "FILTER")]
    pub filters: Vec<String>,
}

/// Options of `cargo gate run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Selection.
    #[command(flatten)]
    pub select: SelectArgs,
    /// Only these suites (repeatable); the names and what each runs come from the suite registry.
    #[arg(long, value_name = "SUITE", value_parser = SuiteParser)]
    pub suite: Vec<SuiteKind>,
    /// Tests run at once (default: available cores, or `jobs` in gate.toml).
    #[arg(long, short = 'j')]
    pub jobs: Option<usize>,
    /// Extra attempts for a failing test (overrides gate.toml).
    #[arg(long)]
    pub retries: Option<u32>,
    /// Stop scheduling tests after the first failure.
    #[arg(long, overrides_with = "no_fail_fast")]
    pub fail_fast: bool,
    /// Run every test even after failures (overrides gate.toml).
    #[arg(long)]
    pub no_fail_fast: bool,
    /// Do not run doctests.
    #[arg(long)]
    pub no_doctests: bool,
    /// Pass even when no test ran (by default a filter that matches nothing fails the run).
    #[arg(long)]
    pub allow_empty: bool,
    /// Do not compare with baselines.
    #[arg(long)]
    pub no_baseline: bool,
    /// Compare with the baseline found from this revision.
    #[arg(long, value_name = "REV", conflicts_with = "no_baseline")]
    pub baseline_rev: Option<String>,
    /// Measure the timed benchmarks A/B against REV in this job, interleaved round by round
    /// (`merge-base`: the merge base with the pull request's base branch).
    #[arg(long, value_name = "REV")]
    pub paired: Option<String>,
    /// Use the cached advisory database as it is, without fetching (the security suite says
    /// how old it is).
    #[arg(long)]
    pub offline: bool,
    /// Mutate these files or functions instead of the change's lines (mutants suite):
    /// `src/lib.rs`, `src/parse.rs:Parser::next`. Repeatable.
    #[arg(long, value_name = "PATH[:FN]")]
    pub mutate: Vec<String>,
    /// Output directory (default: target/gate).
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// Directory of templates overriding the built-in ones.
    #[arg(long, value_name = "DIR")]
    pub template: Option<PathBuf>,
    /// How to show progress.
    #[arg(long, value_enum, default_value = "auto")]
    pub progress: ProgressMode,
    /// `json`: one JSON object per event on standard output (schema: docs/events.schema.json),
    /// for IDEs and other tools; no scorecard there.
    #[arg(long, value_enum, default_value = "human")]
    pub message_format: MessageFormat,
}

/// How `run` reports its events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MessageFormat {
    /// Progress for people on standard error, the scorecard on standard output.
    Human,
    /// One JSON object per line on standard output.
    Json,
    /// The same objects, indented (for reading).
    JsonPretty,
}

/// Options of `cargo gate list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Selection.
    #[command(flatten)]
    pub select: SelectArgs,
    /// Output as lines or JSON.
    #[arg(long, value_enum, default_value = "human")]
    pub format: ListFormat,
}

/// Progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProgressMode {
    /// A bar on a terminal, lines otherwise.
    Auto,
    /// A bar (lines when standard error is not a terminal: a bar there would show nothing).
    Bar,
    /// One line per finished test.
    Lines,
}

/// `list` output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// One test per line.
    Human,
    /// A JSON array.
    Json,
}

/// Arguments as cargo passes them: `cargo-gate gate run ...` → `cargo-gate run ...`.
pub fn normalize_args(mut args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    if args.get(1).is_some_and(|a| a == "gate") {
        args.remove(1);
    }
    args
}

/// `--suite NAME`: the registry's names, with its help lines in `--help`, and its "did you
/// mean" for a typo.
#[derive(Debug, Clone, Copy)]
pub struct SuiteParser;

impl clap::builder::TypedValueParser for SuiteParser {
    type Value = SuiteKind;

    fn parse_ref(
        &self,
        _cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<SuiteKind, clap::Error> {
        let name = value.to_string_lossy();
        crate::suites::by_name(&name).map(|e| e.kind).map_err(|e| {
            let hint = e
                .hint()
                .map(|h| format!("\n  help: {h}"))
                .unwrap_or_default();
            clap::Error::raw(clap::error::ErrorKind::InvalidValue, format!("{e}{hint}\n"))
        })
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(crate::suites::REGISTRY.iter().map(|e| {
            clap::builder::PossibleValue::new(e.kind.as_str()).help(e.help)
        })))
    }
}

/// `cargo gate history`.
#[derive(Debug, clap::Args)]
pub struct HistoryArgs {
    /// Only tests whose id contains this, or matches it as a glob (`*`, `?`).
    #[arg(long, value_name = "PATTERN")]
    pub test: Option<String>,
    /// How many runs (commits with outcomes) to look at, newest first.
    #[arg(short = 'n', long, value_name = "RUNS", default_value_t = 30)]
    pub runs: usize,
    /// Only tests that were flaky at least once.
    #[arg(long)]
    pub flaky: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: ListFormat,
    /// Where the history starts (first-parent ancestors of it, itself included).
    #[arg(value_name = "REV", default_value = "HEAD")]
    pub rev: String,
}
