//! The coverage suite's figures in the report: the whole code, the base, the patch, per file.

use serde::{Deserialize, Serialize};

/// The coverage suite's figures: the whole code now and on the base, the patch, per file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CoverageSummary {
    /// The whole code in this run.
    pub head: CoverageTotals,
    /// The same on the base (from its note), with the commit it was noted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<CoverageTotals>,
    /// The commit `base` was noted on (short).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_rev: Option<String>,
    /// The changed lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch: Option<CoverageTotals>,
    /// Patch coverage per changed file with instrumented changed lines.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<CoverageFile>,
}

/// Line counts of some code.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct CoverageTotals {
    /// Files with instrumented lines.
    pub files: u64,
    /// Instrumented lines.
    pub lines: u64,
    /// Lines run (and every branch on them taken).
    pub hits: u64,
    /// Lines run with a branch never taken.
    pub partials: u64,
    /// Lines never run.
    pub misses: u64,
    /// Percent covered, partial lines counted as configured.
    pub percent: f64,
}

/// Patch coverage of one changed file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CoverageFile {
    /// Path relative to the workspace root.
    pub file: String,
    /// Changed lines fully covered.
    pub hits: u64,
    /// Changed lines run with a branch never taken.
    pub partials: u64,
    /// Instrumented changed lines.
    pub total: u64,
    /// Changed lines never run, as ranges (`7, 12-14`).
    pub missed: String,
    /// Partial changed lines, as ranges.
    pub partial_lines: String,
}
