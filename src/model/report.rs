//! The Report: the one data model every stage after "run" works on. JSON is the source of
//! truth; JUnit, markdown, HTML and the terminal scorecard are renderings of it.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{Suite, SuiteKind};
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
    use crate::model::{Case, CaseStatus, Details, SuiteStatus};

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
}
