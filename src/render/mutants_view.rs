//! What the outputs show of the mutants suite: its one line, the missed mutants as one-line
//! diffs at their places, the timeouts, and the score's trend. Every text here comes from the
//! user's source (a line before and after the mutant) or cargo-mutants-style names: the
//! templates escape it.

use serde::Serialize;

use crate::model::{CaseStatus, MutantOutcome, MutantResult, Report, SuiteKind};

/// Missed mutants listed open; more are listed collapsed.
const OPEN: usize = 5;

/// The mutants section.
#[derive(Serialize)]
pub struct MutantsView<'a> {
    status: CaseStatus,
    /// The summary case's one line (`35 mutants: 29 caught, 3 missed … · score 90.6 %`).
    message: &'a str,
    /// `main (abc1234)`, when mutants came from a diff.
    base: Option<&'a str>,
    /// No test noticed these.
    missed: Vec<Row<'a>>,
    /// These ran past their timeout.
    timeouts: Vec<Row<'a>>,
    /// More missed than shown open: list them collapsed.
    collapse: bool,
    /// The score over the noted history and this run, as an SVG chart (HTML only), or empty.
    trend_svg: minijinja::Value,
}

/// One mutant, ready to show.
#[derive(Serialize)]
struct Row<'a> {
    /// cargo-mutants' name.
    name: &'a str,
    /// `src/lib.rs:15`.
    place: String,
    function: &'a str,
    description: &'a str,
    /// The line as it is, and with the mutant in.
    original: &'a str,
    mutated: &'a str,
    /// The binary that timed out.
    by: &'a str,
}

fn row(m: &MutantResult) -> Row<'_> {
    Row {
        name: &m.name,
        place: format!("{}:{}", m.file, m.line),
        function: m.function.as_deref().unwrap_or(""),
        description: &m.description,
        original: &m.original,
        mutated: &m.mutated,
        by: m.by.as_deref().unwrap_or(""),
    }
}

/// The section, when the mutants suite ran.
pub fn view(report: &Report) -> Option<MutantsView<'_>> {
    let suite = report.suite(SuiteKind::Mutants)?;
    let first = suite.cases.first()?;
    let summary = suite.mutants();
    let all: &[MutantResult] = summary.map_or(&[], |s| &s.mutants);
    let pick = |o: MutantOutcome| all.iter().filter(|m| m.outcome == o).map(row).collect();
    let missed: Vec<Row<'_>> = pick(MutantOutcome::Missed);
    let trend = summary.map_or(&[][..], |s| &s.trend);
    Some(MutantsView {
        status: first.status,
        message: first.message.as_deref().unwrap_or(""),
        base: summary.and_then(|s| s.base.as_deref()),
        collapse: missed.len() > OPEN,
        missed,
        timeouts: pick(MutantOutcome::Timeout),
        trend_svg: trend_chart(trend),
    })
}

/// The score over the noted commits and this run; empty with fewer than two points.
fn trend_chart(trend: &[(String, f64)]) -> minijinja::Value {
    let values: Vec<f64> = trend.iter().map(|(_, v)| *v).collect();
    let labels: Vec<String> = trend.iter().map(|(r, _)| r.clone()).collect();
    // The chart escapes its labels; the SVG is built here, never from the report's text.
    minijinja::Value::from_safe_string(super::html::chart(&values, &labels, "%", false))
}
