//! A suite's part of the report: its kind, status, cases and metrics, and what only its kind
//! records ([`Details`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Case, CaseStatus, CoverageSummary, Metric, PairedSamples, SecuritySummary};

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
    /// Advisories, licenses and sources of the dependencies; secrets in the change.
    Security,
    /// Mutation testing of the change.
    Mutants,
}

impl SuiteKind {
    /// Every kind, in registry order.
    pub const ALL: &[SuiteKind] = &[
        SuiteKind::Tests,
        SuiteKind::Snapshots,
        SuiteKind::Property,
        SuiteKind::Bench,
        SuiteKind::Coverage,
        SuiteKind::Security,
        SuiteKind::Mutants,
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
            SuiteKind::Security => "security",
            SuiteKind::Mutants => "mutants",
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
    /// The security suite's findings.
    Security(SecuritySummary),
    /// The mutants suite's mutants.
    Mutants(super::MutantsSummary),
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
    /// The compiler's errors when the build failed, each once, in the order cargo gave them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub build_errors: Vec<CompilerError>,
}

/// One error the compiler reported: where, what, and the source lines it showed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CompilerError {
    /// The target being compiled (`my_crate`, `integration`).
    pub target: String,
    /// The message (`mismatched types`).
    pub message: String,
    /// The primary span's file, as cargo gave it (relative to the workspace root for members).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Its 1-based line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// Its 1-based column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub col: Option<u32>,
    /// The error as rustc renders it (source lines, carets, notes), without colour; capped.
    #[serde(default)]
    pub rendered: String,
}

impl CompilerError {
    /// `target: file:line:col: message`, for lists and logs.
    pub fn one_line(&self) -> String {
        match (&self.file, self.line) {
            (Some(f), Some(l)) => match self.col {
                Some(c) => format!("{}: {f}:{l}:{c}: {}", self.target, self.message),
                None => format!("{}: {f}:{l}: {}", self.target, self.message),
            },
            _ => format!("{}: {}", self.target, self.message),
        }
    }
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
                build_errors: Vec::new(),
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

    /// What the security suite found.
    pub fn security(&self) -> Option<&SecuritySummary> {
        match &self.details {
            Details::Security(s) => Some(s),
            _ => None,
        }
    }

    /// What the mutants suite tried.
    pub fn mutants(&self) -> Option<&super::MutantsSummary> {
        match &self.details {
            Details::Mutants(m) => Some(m),
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

#[cfg(test)]
mod tests {
    use super::*;

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
