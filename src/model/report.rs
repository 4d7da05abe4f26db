//! The Report: the one data model every stage after "run" works on. JSON is the source of
//! truth; JUnit, markdown, HTML and the terminal scorecard are renderings of it.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub use super::coverage::{CoverageFile, CoverageSummary, CoverageTotals};
pub use super::metric::{Direction, Metric, Role, ShardMerge};
pub use super::perf::{Comparison, Method, PairedSamples, PerfVerdict};

/// The schema version this build writes and reads. A report with a higher number was written
/// by a newer cargo-gate and is refused rather than misread. Schema 2 records each metric's role
/// (schema 1 reports are read with the roles their names had, see [`super::legacy_role`]);
/// schema 3 keeps what only one kind of suite records in [`Suite::details`].
pub const SCHEMA: u32 = 3;

/// A whole run: what ran, what happened, what the gate decided.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Report {
    /// Schema version, [`SCHEMA`].
    pub schema: u32,
    /// Version of cargo-gate that wrote the report.
    pub tool_version: String,
    /// Facts about the run.
    pub run: RunInfo,
    /// One entry per suite that ran.
    pub suites: Vec<Suite>,
    /// Metric comparisons with baselines (filled by the baseline stage).
    #[serde(default)]
    pub comparisons: Vec<Comparison>,
    /// Why no comparison was made, when none was (`--no-baseline`, no note found, no git).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline_note: Option<String>,
    /// Each gate rule with its outcome.
    #[serde(default)]
    pub gates: Vec<GateResult>,
    /// The overall decision.
    pub verdict: Verdict,
    /// Set when gate.toml could not be used: the run did not happen, this says why and where
    /// (so the pull request gets an annotation at the broken line). The exit code was 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_error: Option<ConfigProblem>,
}

/// Facts about the run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct RunInfo {
    /// Unique id of this run.
    pub id: String,
    /// Start time, RFC 3339, UTC.
    pub started: String,
    /// Wall time in seconds.
    pub duration: f64,
    /// The commit that was tested.
    #[serde(default)]
    pub git: GitInfo,
    /// Host name of the machine.
    #[serde(default)]
    pub host: String,
    /// The machine's class (`CPU model ×cores`): measurements are compared with history from
    /// the same class when there is enough of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine: Option<String>,
    /// The gate.toml profile used.
    pub profile: String,
    /// `hash:k/n` or `count:k/n` when this is one shard of a partitioned run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<String>,
    /// `--partition time:K/N`: the recorded durations the split used (`note <commit> <hash>`, or
    /// `none`). Shards merged together must agree, or tests may have run twice or not at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_basis: Option<String>,
    /// Set when `--affected-since` limited the tests to the packages a change can affect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affected: Option<AffectedInfo>,
    /// Partitions merged into this report (set by `cargo gate merge`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged_from: Vec<String>,
    /// True when the run was stopped by Ctrl-C or SIGTERM: the report is partial.
    #[serde(default)]
    pub interrupted: bool,
    /// The workspace root relative to the repository root (`""` when they are the same), so
    /// annotations can name files the way GitHub expects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_in_repo: Option<String>,
    /// Where the run happened on GitHub Actions, so a later trusted job can publish it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub github: Option<GithubRun>,
}

/// What `--affected-since` selected.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct AffectedInfo {
    /// The revision given.
    pub since: String,
    /// The commit the working tree was compared with (merge base of `since` and HEAD).
    pub base: String,
    /// The packages whose tests ran (none: no test ran).
    pub packages: Vec<String>,
}

/// GitHub Actions facts recorded by `cargo gate run` (never the token).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct GithubRun {
    /// `owner/name`.
    pub repository: String,
    /// The event that triggered the workflow.
    pub event: String,
    /// The pull request number, if the event has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pull_request: Option<u64>,
    /// The commit the PR's head points at (what checks attach to).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_sha: Option<String>,
    /// Link to the workflow run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_url: Option<String>,
    /// Link to the uploaded report artifact (set by `cargo gate comment --artifact-url`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_url: Option<String>,
}

/// The commit under test.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct GitInfo {
    /// Commit id of HEAD.
    #[serde(default)]
    pub sha: Option<String>,
    /// Current branch.
    #[serde(default)]
    pub branch: Option<String>,
    /// Base revision of the comparison (a PR's base).
    #[serde(default)]
    pub base: Option<String>,
}

/// Kinds of suites.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum SuiteKind {
    /// Unit, integration and doc tests.
    Tests,
    /// insta snapshots left pending by the tests.
    Snapshots,
    /// proptest properties that failed in the tests.
    Property,
    /// Benchmarks and timed commands.
    Bench,
    /// HTTP load scenarios.
    Load,
    /// Checks on services and the environment.
    Infra,
    /// Chaos experiments.
    Chaos,
    /// Code coverage read from an LCOV file.
    Coverage,
}

impl SuiteKind {
    /// Every kind, in registry order.
    pub const ALL: &[SuiteKind] = &[
        SuiteKind::Tests,
        SuiteKind::Snapshots,
        SuiteKind::Property,
        SuiteKind::Bench,
        SuiteKind::Coverage,
        SuiteKind::Infra,
        SuiteKind::Chaos,
        SuiteKind::Load,
    ];

    /// The name used in rules (`tests.failed`) and on screen.
    pub fn as_str(self) -> &'static str {
        match self {
            SuiteKind::Tests => "tests",
            SuiteKind::Snapshots => "snapshots",
            SuiteKind::Property => "property",
            SuiteKind::Bench => "bench",
            SuiteKind::Load => "load",
            SuiteKind::Infra => "infra",
            SuiteKind::Chaos => "chaos",
            SuiteKind::Coverage => "coverage",
        }
    }
}

/// Status of a suite or of the whole run.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SuiteStatus {
    /// Every case passed (flaky counts as passed).
    Passed,
    /// At least one case failed or timed out.
    Failed,
    /// The suite could not run (e.g. the build failed).
    Error,
}

/// One suite's results.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(from = "SuiteWire")]
pub struct Suite {
    /// What kind of suite this is.
    pub kind: SuiteKind,
    /// Its name (for tests: `tests`).
    pub name: String,
    /// Outcome.
    pub status: SuiteStatus,
    /// Wall time in seconds.
    pub duration: f64,
    /// Why the suite could not run, when `status` is `error` (e.g. the build failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The cases.
    pub cases: Vec<Case>,
    /// Measurements.
    #[serde(default)]
    pub metrics: Vec<Metric>,
    /// What only this kind of suite records (schema 3; schema 2 kept these fields on every
    /// suite, see [`SuiteWire`]).
    #[serde(default, skip_serializing_if = "Details::is_none")]
    pub details: Details,
}

/// What one kind of suite records and no other: the suite that writes a variant owns it, and
/// readers ask for it by kind ([`Suite::tests`], [`Suite::coverage`], [`Suite::paired`]).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Details {
    /// Nothing beyond cases and metrics.
    #[default]
    None,
    /// The tests suite's.
    Tests(TestsDetails),
    /// What the coverage suite measured, for the comment's tables and the badge.
    Coverage(CoverageSummary),
    /// The bench suite's.
    Bench(BenchDetails),
}

impl Details {
    /// Whether there is nothing (then the field is left out of the JSON).
    pub fn is_none(&self) -> bool {
        matches!(self, Details::None)
    }
}

/// What the tests suite records beyond its cases.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct TestsDetails {
    /// How each test binary ran (the built-in runner), by binary id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub isolation: BTreeMap<String, Isolation>,
    /// Seconds of `duration` spent building before anything ran (`cargo test --no-run`): shown
    /// apart, since it depends on caches and the tests do not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_duration: Option<f64>,
    /// The suite on the base, when the notes hold its outcomes: what it had, and the tests it
    /// had that this run does not (only for a run of every test).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<BaseTests>,
}

/// What the bench suite records beyond its metrics.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct BenchDetails {
    /// Benchmarks measured A/B against another revision in the same job (`--paired`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paired: Vec<PairedSamples>,
}

/// A suite as reports of every schema hold it: schemas 1 and 2 kept each suite's own data in
/// optional fields on every suite; they are read into [`Details`].
#[derive(Deserialize)]
struct SuiteWire {
    kind: SuiteKind,
    name: String,
    status: SuiteStatus,
    duration: f64,
    #[serde(default)]
    error: Option<String>,
    cases: Vec<Case>,
    #[serde(default)]
    metrics: Vec<Metric>,
    #[serde(default)]
    details: Details,
    #[serde(default)]
    isolation: BTreeMap<String, Isolation>,
    #[serde(default)]
    coverage: Option<CoverageSummary>,
    #[serde(default)]
    paired: Vec<PairedSamples>,
    #[serde(default)]
    build_duration: Option<f64>,
    #[serde(default)]
    base: Option<BaseTests>,
}

impl From<SuiteWire> for Suite {
    fn from(w: SuiteWire) -> Suite {
        let details = if !w.details.is_none() {
            w.details
        } else if let Some(c) = w.coverage {
            Details::Coverage(c)
        } else if !w.paired.is_empty() {
            Details::Bench(BenchDetails { paired: w.paired })
        } else if w.kind == SuiteKind::Tests
            && (!w.isolation.is_empty() || w.build_duration.is_some() || w.base.is_some())
        {
            Details::Tests(TestsDetails {
                isolation: w.isolation,
                build_duration: w.build_duration,
                base: w.base,
            })
        } else {
            Details::None
        };
        Suite {
            kind: w.kind,
            name: w.name,
            status: w.status,
            duration: w.duration,
            error: w.error,
            cases: w.cases,
            metrics: w.metrics,
            details,
        }
    }
}

/// The tests suite as the newest noted run of the base had it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BaseTests {
    /// The commit (short id).
    pub commit: String,
    /// How many tests it had.
    pub tests: usize,
    /// Its `tests.duration` (seconds), when noted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<f64>,
    /// Tests it had that this run does not; only filled when this run selected every test.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<String>,
}

/// How a test binary's tests ran.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Isolation {
    /// One process per test.
    Process,
    /// The binary once with libtest's threads; failures again alone.
    Binary,
}

/// Status of one case.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    /// Passed on the first attempt.
    Passed,
    /// Failed on every attempt.
    Failed,
    /// Failed at least once, then passed.
    Flaky,
    /// Not run (ignored, filtered by fail-fast or interruption).
    Skipped,
    /// Killed after its timeout.
    TimedOut,
    /// Failed, but the test is quarantined: reported, never failing the gate.
    Quarantined,
}

impl CaseStatus {
    /// Short upper-case label used in logs.
    pub fn label(self) -> &'static str {
        match self {
            CaseStatus::Passed => "PASS",
            CaseStatus::Failed => "FAIL",
            CaseStatus::Flaky => "FLAKY",
            CaseStatus::Skipped => "SKIP",
            CaseStatus::TimedOut => "TIMEOUT",
            CaseStatus::Quarantined => "QUARANTINED",
        }
    }

    /// True for statuses that count against the gate by default.
    pub fn is_failure(self) -> bool {
        matches!(self, CaseStatus::Failed | CaseStatus::TimedOut)
    }
}

/// One line of a diff.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DiffLine {
    /// What the line is.
    pub kind: DiffKind,
    /// Its text, without the marker (`+`, `-`, ` `) a unified diff puts before it.
    pub text: String,
}

/// What a diff line is.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DiffKind {
    /// The name of the old side (`--- a`).
    Old,
    /// The name of the new side (`+++ b`).
    New,
    /// The start of a hunk (`@@ -1,2 +1,3 @@`).
    Hunk,
    /// Only on the old side.
    Removed,
    /// Only on the new side.
    Added,
    /// On both sides.
    Context,
}

impl DiffLine {
    /// The line as a unified diff writes it.
    pub fn unified(&self) -> String {
        let marker = match self.kind {
            DiffKind::Old => "--- ",
            DiffKind::New => "+++ ",
            DiffKind::Hunk => "",
            DiffKind::Removed => "-",
            DiffKind::Added => "+",
            DiffKind::Context => " ",
        };
        format!("{marker}{}", self.text)
    }
}

/// One test, check or scenario.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Case {
    /// Unique id within the report: `<binary-id> <test name>`.
    pub id: String,
    /// The test's name.
    pub name: String,
    /// Package the case belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    /// Test binary id (`pkg`, `pkg::bin/name`, `pkg::it_name`, `pkg::doc`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary: Option<String>,
    /// Outcome.
    pub status: CaseStatus,
    /// Every attempt, in order.
    #[serde(default)]
    pub attempts: Vec<Attempt>,
    /// Where the failure happened, parsed from the panic message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<SourceLocation>,
    /// A one-paragraph reason for a failure or skip.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Longer evidence shown collapsed: a snapshot's unified diff, a property's minimal input
    /// and regression line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Places in the user's code the case points at besides its failure location: the changed
    /// lines a coverage run found never run. Annotations are made from these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regions: Vec<Region>,
    /// A snapshot's diff, line by line with each line's kind (`detail` holds the same diff as
    /// text for the outputs that show text; colours come from here, never from the text).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub diff: Vec<DiffLine>,
    /// What the notes say of this test on the base, when they hold its history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<CaseHistory>,
}

/// A test's history on the base (the runs `baseline save` recorded along its first parents).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CaseHistory {
    /// Runs it ran on, of the history looked at.
    pub runs: usize,
    /// Of those, failed on every attempt.
    pub failed: usize,
    /// Of those, flaky.
    pub flaky: usize,
    /// This run against the newest noted run of the base.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<Change>,
    /// Its recent outcomes, oldest first, a letter each: `p` passed, `f` failed, `k` flaky,
    /// `s` skipped, `-` not run.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub recent: String,
    /// Why the history quarantined it (`[tests.flaky] quarantine = "auto"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quarantined: Option<String>,
}

/// What a test did here against the base.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Fails here, passed on the base.
    NewFailure,
    /// Fails here and failed on the base.
    StillFailing,
    /// Passes here, failed on the base.
    Fixed,
    /// Not on the base.
    NewTest,
}

/// A span of lines in the user's code.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Region {
    /// File, relative to the workspace root.
    pub file: String,
    /// First line, 1-based.
    pub line: u32,
    /// Last line (the same as `line` for one line).
    pub end_line: u32,
}

impl Case {
    /// A case decided by one attempt (a check, a scenario, a setup step), with no package or
    /// binary; callers set those when they have them.
    pub fn single(
        id: impl Into<String>,
        name: impl Into<String>,
        status: CaseStatus,
        secs: f64,
        message: impl Into<String>,
        output: String,
    ) -> Case {
        Case {
            id: id.into(),
            name: name.into(),
            package: None,
            binary: None,
            status,
            attempts: vec![Attempt {
                shared: false,
                status,
                duration: secs,
                output_tail: output,
            }],
            location: None,
            message: Some(message.into()),
            detail: None,
            regions: Vec::new(),
            diff: Vec::new(),
            history: None,
        }
    }

    /// Total time spent on all attempts, in seconds.
    pub fn duration(&self) -> f64 {
        self.attempts.iter().map(|a| a.duration).sum()
    }
}

/// One execution of a case.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Attempt {
    /// Outcome of this attempt (`passed`, `failed` or `timed_out`).
    pub status: CaseStatus,
    /// Wall time in seconds.
    pub duration: f64,
    /// The end of the combined stdout/stderr (bounded; a note says how much was cut).
    #[serde(default)]
    pub output_tail: String,
    /// `duration` is this case's share of a batch timed as a whole (doctests: rustdoc times
    /// the batch, not each doctest), shown as `~` so nobody reads it as measured.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub shared: bool,
}

/// A position in the user's source code.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SourceLocation {
    /// File, relative to the workspace root when possible.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub col: Option<u32>,
}

/// The outcome of one gate rule.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct GateResult {
    /// The rule as written in gate.toml.
    pub rule: String,
    /// `fail` or `warn`.
    pub level: RuleLevel,
    /// What happened.
    pub status: GateStatus,
    /// The observed value, formatted with its unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed: Option<String>,
    /// The limit, formatted with its unit.
    pub limit: String,
    /// A sentence for people.
    pub message: String,
}

/// How strict a rule is.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RuleLevel {
    /// Failing the rule fails the gate.
    Fail,
    /// Failing the rule is reported but the gate still passes.
    Warn,
}

/// Outcome of one rule.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum GateStatus {
    /// The rule holds.
    Passed,
    /// A `fail` rule does not hold.
    Failed,
    /// A `warn` rule does not hold.
    Warned,
    /// The rule could not be evaluated because its suite did not run.
    Skipped,
}

/// The overall decision.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Verdict {
    /// `passed` or `failed`.
    pub status: VerdictStatus,
    /// Why the gate failed: failing rules, a failed build, an interruption.
    #[serde(default)]
    pub reasons: Vec<String>,
}

/// Pass or fail.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum VerdictStatus {
    /// Every `fail` rule holds.
    Passed,
    /// At least one `fail` rule does not hold, or the run could not complete.
    Failed,
}

/// Case counts by status for one suite.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Counts {
    /// All cases.
    pub total: u64,
    /// Passed on first attempt.
    pub passed: u64,
    /// Failed.
    pub failed: u64,
    /// Passed after a failure.
    pub flaky: u64,
    /// Not run.
    pub skipped: u64,
    /// Killed after the timeout.
    pub timed_out: u64,
    /// Failed but quarantined.
    pub quarantined: u64,
}

impl Counts {
    /// Counts the cases of a suite.
    pub fn of<'a>(cases: impl IntoIterator<Item = &'a Case>) -> Self {
        let mut c = Counts::default();
        for case in cases {
            c.total += 1;
            match case.status {
                CaseStatus::Passed => c.passed += 1,
                CaseStatus::Failed => c.failed += 1,
                CaseStatus::Flaky => c.flaky += 1,
                CaseStatus::Skipped => c.skipped += 1,
                CaseStatus::TimedOut => c.timed_out += 1,
                CaseStatus::Quarantined => c.quarantined += 1,
            }
        }
        c
    }

    /// Cases that ran to an outcome (everything but skipped).
    pub fn executed(&self) -> u64 {
        self.total - self.skipped
    }
}

impl Suite {
    /// A suite of this kind named after it, passed, with nothing in it yet.
    pub fn new(kind: SuiteKind) -> Suite {
        Suite {
            kind,
            name: kind.as_str().to_string(),
            status: SuiteStatus::Passed,
            duration: 0.0,
            error: None,
            cases: Vec::new(),
            metrics: Vec::new(),
            details: Details::None,
        }
    }

    /// The tests suite's own data, if this suite has any.
    pub fn tests(&self) -> Option<&TestsDetails> {
        match &self.details {
            Details::Tests(t) => Some(t),
            _ => None,
        }
    }

    /// The tests suite's own data, made empty first if this suite had none.
    pub fn tests_mut(&mut self) -> &mut TestsDetails {
        if !matches!(self.details, Details::Tests(_)) {
            self.details = Details::Tests(TestsDetails::default());
        }
        match &mut self.details {
            Details::Tests(t) => t,
            _ => unreachable!("set just above"),
        }
    }

    /// What the coverage suite measured.
    pub fn coverage(&self) -> Option<&CoverageSummary> {
        match &self.details {
            Details::Coverage(c) => Some(c),
            _ => None,
        }
    }

    /// The bench suite's paired measurements (none for other suites).
    pub fn paired(&self) -> &[PairedSamples] {
        match &self.details {
            Details::Bench(b) => &b.paired,
            _ => &[],
        }
    }

    /// The tests suite's record of the base.
    pub fn base(&self) -> Option<&BaseTests> {
        self.tests().and_then(|t| t.base.as_ref())
    }

    /// Seconds spent building before the tests ran.
    pub fn build_duration(&self) -> Option<f64> {
        self.tests().and_then(|t| t.build_duration)
    }

    /// Recomputes the status from the cases (an `error` status is kept).
    pub fn refresh_status(&mut self) {
        if self.status == SuiteStatus::Error {
            return;
        }
        self.status = if self.cases.iter().any(|c| c.status.is_failure()) {
            SuiteStatus::Failed
        } else {
            SuiteStatus::Passed
        };
    }
}

impl Suite {
    /// The first sample of the metric called `name`, if the suite measured it.
    pub fn metric_value(&self, name: &str) -> Option<f64> {
        self.metrics
            .iter()
            .find(|m| m.name == name)
            .and_then(|m| m.samples.first().copied())
    }
}

impl Report {
    /// A report of this build's schema for `run` with these suites, nothing compared or judged
    /// yet: the verdict is `failed` until `gate::apply` decides it.
    pub fn new(run: RunInfo, suites: Vec<Suite>) -> Report {
        Report {
            schema: SCHEMA,
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            run,
            suites,
            comparisons: Vec::new(),
            baseline_note: None,
            config_error: None,
            gates: Vec::new(),
            verdict: Verdict {
                status: VerdictStatus::Failed,
                reasons: Vec::new(),
            },
        }
    }

    /// The report with every occurrence of `secret` in the text it holds from outside (tests'
    /// output and messages, suites' errors, the verdict's reasons, gate messages, a config
    /// error) replaced by `***`: a test that prints the job's token puts it in its output, and
    /// from there in every rendering. Ids, names and numbers are the project's own.
    pub fn masked(mut self, secret: Option<&str>) -> Report {
        let Some(secret) = secret.map(str::trim).filter(|s| s.len() >= 8) else {
            return self;
        };
        let mask = |s: &mut String| {
            if s.contains(secret) {
                *s = s.replace(secret, "***");
            }
        };
        for suite in &mut self.suites {
            suite.error.iter_mut().for_each(mask);
            for case in &mut suite.cases {
                case.message.iter_mut().for_each(mask);
                case.detail.iter_mut().for_each(mask);
                for a in &mut case.attempts {
                    mask(&mut a.output_tail);
                }
            }
        }
        self.verdict.reasons.iter_mut().for_each(mask);
        for g in &mut self.gates {
            mask(&mut g.message);
        }
        self.baseline_note.iter_mut().for_each(mask);
        if let Some(c) = &mut self.config_error {
            mask(&mut c.message);
            c.hint.iter_mut().for_each(mask);
        }
        self
    }

    /// The suite of a kind, if it ran.
    pub fn suite(&self, kind: SuiteKind) -> Option<&Suite> {
        self.suites.iter().find(|s| s.kind == kind)
    }

    /// Serializes to pretty JSON.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self)
            .map_err(|e| Error::Internal(format!("cannot serialize the report: {e}")))
    }

    /// Writes the report as JSON, atomically (temp file + rename) so a reader never sees half a file.
    pub fn write(&self, path: &Path) -> Result<()> {
        let json = self.to_json()?;
        crate::util::fs::write_atomic(path, json.as_bytes())
    }

    /// Reads and checks a report file.
    pub fn read(path: &Path) -> Result<Report> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::input(
                path,
                format!("cannot read the report: {e}"),
                Some("pass the path of a report.json written by `cargo gate run`".to_string()),
            )
        })?;
        Self::parse(path, &text)
    }

    /// Parses report JSON, refusing newer schemas and explaining truncated files.
    pub fn parse(path: &Path, text: &str) -> Result<Report> {
        // Read the schema first with a probe that skips everything else, so a newer report is
        // refused with a clear message instead of a field error, without building a JSON tree.
        #[derive(Deserialize)]
        struct Probe {
            schema: Option<u64>,
        }
        let syntax = |e: serde_json::Error| {
            let hint = if e.is_eof() {
                "the file ends early: it was probably truncated (an interrupted upload or a full disk); produce it again with `cargo gate run`"
            } else {
                "the file is not JSON written by cargo-gate; produce it again with `cargo gate run`"
            };
            Error::input(
                path,
                format!("{}:{}: invalid JSON: {e}", e.line(), e.column()),
                Some(hint.to_string()),
            )
        };
        let probe: Probe = serde_json::from_str(text).map_err(|e| {
            if e.is_data() {
                Error::input(
                    path,
                    "not a cargo-gate report: the top level is not an object with a `schema` number",
                    Some("pass a report.json written by `cargo gate run`".to_string()),
                )
            } else {
                syntax(e)
            }
        })?;
        let schema = match probe.schema {
            None => {
                return Err(Error::input(
                    path,
                    "not a cargo-gate report: no `schema` field",
                    Some("pass a report.json written by `cargo gate run`".to_string()),
                ));
            }
            Some(s) if s > u64::from(SCHEMA) => {
                return Err(Error::input(
                    path,
                    format!(
                        "the report uses schema {s}, but this cargo-gate ({}) reads schema {SCHEMA} at most",
                        env!("CARGO_PKG_VERSION")
                    ),
                    Some("upgrade cargo-gate (`cargo install cargo-gate`) to read it".to_string()),
                ));
            }
            Some(s) => s,
        };
        serde_json::from_str(text).map_err(|e| {
            Error::input(
                path,
                format!("the report does not match schema {schema}: {e}"),
                Some("produce it again with this version of `cargo gate run`".to_string()),
            )
        })
    }
}

/// What was wrong with the configuration, and where.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ConfigProblem {
    /// The file, relative to the workspace root when inside it.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub col: usize,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn empty_suite(kind: SuiteKind) -> Suite {
        Suite {
            kind,
            name: kind.as_str().into(),
            status: SuiteStatus::Failed,
            duration: 0.1,
            error: None,
            cases: Vec::new(),
            metrics: Vec::new(),
            details: Details::None,
        }
    }

    #[test]
    fn a_report_is_masked_for_a_secret_wherever_it_appears() {
        let token = "ghs_0123456789abcdef";
        let mut case = Case::single(
            "b t",
            "t",
            CaseStatus::Failed,
            0.1,
            format!("token {token}"),
            format!("printed {token}\n"),
        );
        case.detail = Some(format!("detail {token}"));
        let suite = Suite {
            cases: vec![case],
            ..empty_suite(SuiteKind::Tests)
        };
        let report = Report::new(RunInfo::default(), vec![suite]).masked(Some(token));
        let text = serde_json::to_string(&report).unwrap();
        assert!(!text.contains(token), "{text}");
        assert_eq!(text.matches("***").count(), 3, "{text}");
        let same = Report::new(RunInfo::default(), Vec::new());
        assert_eq!(same.clone().masked(Some("short")), same);
    }

    #[test]
    fn a_report_with_a_value_json_cannot_hold_is_masked_too() {
        let token = "ghs_0123456789abcdef";
        let mut suite = empty_suite(SuiteKind::Bench);
        suite
            .metrics
            .push(crate::model::Metric::wall_time("bench.x", f64::NAN));
        suite.error = Some(format!("ran with {token}"));
        let report = Report::new(RunInfo::default(), vec![suite]).masked(Some(token));
        let text = serde_json::to_string(&report).unwrap();
        assert!(!text.contains(token), "{text}");
        assert_eq!(report.suites[0].metrics.len(), 1, "nothing is lost: {text}");
    }

    #[test]
    fn a_schema_2_suite_is_read_into_its_details() {
        let suite = |extra: &str, kind: &str| {
            let text = format!(
                r#"{{"kind": "{kind}", "name": "{kind}", "status": "passed", "duration": 1.0, "cases": [] {extra}}}"#
            );
            serde_json::from_str::<Suite>(&text).unwrap()
        };
        let tests = suite(
            r#", "isolation": {"a": "binary"}, "build_duration": 2.5, "base": {"commit": "abc", "tests": 4}"#,
            "tests",
        );
        let t = tests.tests().unwrap();
        assert_eq!(t.isolation["a"], Isolation::Binary);
        assert_eq!(tests.build_duration(), Some(2.5));
        assert_eq!(tests.base().unwrap().tests, 4);
        let bench = suite(
            r#", "paired": [{"metric": "bench.b", "unit": "s", "rev": "main", "base": [1.0], "current": [1.1]}]"#,
            "bench",
        );
        assert_eq!(bench.paired().len(), 1);
        assert!(suite("", "load").details.is_none());
        // Written back in schema 3's shape, and read again unchanged.
        let json = serde_json::to_value(&tests).unwrap();
        assert!(json.get("isolation").is_none());
        assert_eq!(json["details"]["tests"]["build_duration"], 2.5);
        assert_eq!(serde_json::from_value::<Suite>(json).unwrap(), tests);
    }
}
