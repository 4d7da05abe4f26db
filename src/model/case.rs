//! One case of a suite (a test, a check, a scenario) and its attempts.

use serde::{Deserialize, Serialize};

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

    /// Its longest attempt, in seconds: how long the test takes, where `duration` sums its
    /// retries (a test that timed out at 3 s twice took 3 s, not 6).
    pub fn longest_attempt(&self) -> f64 {
        self.attempts.iter().map(|a| a.duration).fold(0.0, f64::max)
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
