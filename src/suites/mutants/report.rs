//! The mutants suite's report: a case per mutant (caught passes, missed fails, a timeout
//! times out, unviable is skipped), one summary case first, the `mutants.*` metrics, and
//! `mutants.json` (cargo-mutants' `outcomes.json` in spirit: the same names and outcome words).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use super::Tried;
use super::generate::{Edit, Genre, Mutant};
use super::rounds::Numbered;
use crate::model::{
    Case, CaseStatus, DiffKind, DiffLine, Direction, Metric, MutantOutcome, MutantResult,
    MutantsSummary, Role, SourceLocation, Suite, SuiteKind,
};

const ID: &str = "mutants of the change";

/// The report of a run that could not start.
pub fn could_not(why: String, secs: f64) -> Suite {
    let mut s = crate::suites::suite(
        SuiteKind::Mutants,
        secs,
        vec![summary_case(
            CaseStatus::Failed,
            secs,
            format!("could not run: {why}"),
        )],
    );
    s.metrics = metrics(&MutantsSummary::default(), true);
    s
}

fn summary_case(status: CaseStatus, secs: f64, message: String) -> Case {
    let mut c = Case::single(ID, "mutants", status, secs, message, String::new());
    c.attempts.clear();
    c
}

/// The source line as it is and with the mutant in (a body replaced shows its first line,
/// `…` where the rest was cut).
pub fn lines(source: &str, m: &Mutant) -> (String, String) {
    let at = match (&m.edit, m.genre) {
        (Edit::Part(r, _), _) if m.genre != Genre::FnValue => r.start,
        _ => m.span.start,
    };
    let start = source[..at].rfind('\n').map_or(0, |n| n + 1);
    let end = source[at..].find('\n').map_or(source.len(), |n| at + n);
    let original = source[start..end].trim().to_string();
    let mutated = match &m.edit {
        Edit::Part(r, text) => {
            let line_end = end.max(r.end);
            format!(
                "{}{text}{}",
                &source[start..r.start],
                &source[r.end..line_end]
            )
        }
        Edit::Whole(text) => {
            let after = if m.span.end <= end {
                &source[m.span.end..end]
            } else {
                ""
            };
            format!("{}{text}{after}", &source[start..m.span.start])
        }
    };
    (original, mutated.trim().to_string())
}

/// The report from what became of each mutant (`problem`: why the run stopped early).
pub fn assemble(
    mut summary: MutantsSummary,
    chosen: &[Numbered],
    sources: &BTreeMap<String, String>,
    tried: &BTreeMap<u32, Tried>,
    problem: Option<String>,
    clock: Instant,
) -> Suite {
    let secs = clock.elapsed().as_secs_f64();
    let mut cases = Vec::new();
    for n in chosen {
        let Some(t) = tried.get(&n.id) else { continue };
        let source = sources.get(&n.mutant.file).map_or("", String::as_str);
        let (original, mutated) = lines(source, &n.mutant);
        let result = MutantResult {
            id: n.id,
            name: n.mutant.name(),
            file: n.mutant.file.clone(),
            line: n.mutant.line,
            col: n.mutant.col,
            package: n.package.clone(),
            function: n.mutant.function.clone(),
            genre: serde_json::to_value(n.mutant.genre)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            description: n.mutant.description.clone(),
            original,
            mutated,
            outcome: t.verdict,
            by: t.by.clone(),
            tests_run: t.tests_run,
            seconds: t.seconds,
            built: if t.alone { "alone" } else { "schema" }.to_string(),
        };
        cases.push(case_of(&result));
        summary.mutants.push(result);
    }
    let could_not = problem.is_some() || summary.mutants.len() < chosen.len();
    if let Some(score) = summary.score().filter(|_| !could_not) {
        summary.trend.push(("this run".to_string(), score));
    }
    let message = match &problem {
        Some(p) => format!("could not run: {p}"),
        None if chosen.is_empty() => "no mutants: the change touches no mutable code".to_string(),
        None => describe(&summary),
    };
    let status = if could_not {
        CaseStatus::Failed
    } else {
        CaseStatus::Passed
    };
    cases.insert(0, summary_case(status, secs, message));
    let mut s = crate::suites::suite(SuiteKind::Mutants, secs, cases);
    s.metrics = metrics(&summary, could_not);
    s.details = crate::model::Details::Mutants(summary);
    s
}

/// `40 mutants: 31 caught, 5 missed, 1 timeout, 3 unviable · score 86.1% · 2 schema builds`.
pub fn describe(s: &MutantsSummary) -> String {
    let mut text = s.counts_line();
    if let Some(score) = s.score() {
        text.push_str(&format!(" · score {score:.1}%"));
    }
    let alone = s.mutants.iter().filter(|m| m.built == "alone").count();
    text.push_str(&format!(
        " · {} schema build{}",
        s.schema_builds,
        if s.schema_builds == 1 { "" } else { "s" }
    ));
    if alone > 0 {
        text.push_str(&format!(", {alone} built alone"));
    }
    text
}

fn case_of(r: &MutantResult) -> Case {
    let status = match r.outcome {
        MutantOutcome::Caught => CaseStatus::Passed,
        MutantOutcome::Missed => CaseStatus::Failed,
        MutantOutcome::Timeout => CaseStatus::TimedOut,
        MutantOutcome::Unviable => CaseStatus::Skipped,
    };
    let message = match (r.outcome, &r.by) {
        (MutantOutcome::Caught, Some(by)) => format!("caught by {by}"),
        (MutantOutcome::Missed, _) => format!(
            "missed: {} test{} passed with it in",
            r.tests_run,
            if r.tests_run == 1 { "" } else { "s" }
        ),
        (MutantOutcome::Timeout, Some(by)) => format!("timeout: {by} ran past its timeout"),
        (MutantOutcome::Unviable, _) => "unviable: does not compile".to_string(),
        (o, _) => o.label().to_string(),
    };
    let mut c = Case::single(
        format!("mutant {}", r.name),
        r.description.clone(),
        status,
        r.seconds,
        message,
        String::new(),
    );
    c.attempts.clear();
    c.package = Some(r.package.clone());
    c.location = Some(SourceLocation {
        file: r.file.clone(),
        line: r.line,
        col: Some(r.col),
    });
    c.diff = vec![
        DiffLine {
            kind: DiffKind::Removed,
            text: r.original.clone(),
        },
        DiffLine {
            kind: DiffKind::Added,
            text: r.mutated.clone(),
        },
    ];
    c.detail = Some(format!("-{}\n+{}", r.original, r.mutated));
    c
}

/// `mutants.missed`, `.caught`, `.timeout`, `.unviable`, `.score`, `.failed`.
fn metrics(s: &MutantsSummary, could_not: bool) -> Vec<Metric> {
    let count = |name: &str, outcome, direction| {
        Metric::new(
            name,
            "count",
            direction,
            Role::Gated,
            vec![s.count(outcome) as f64],
        )
    };
    let mut out = vec![
        Metric::new(
            "mutants.failed",
            "count",
            Direction::LowerIsBetter,
            Role::Gated,
            vec![if could_not { 1.0 } else { 0.0 }],
        ),
        count(
            "mutants.missed",
            MutantOutcome::Missed,
            Direction::LowerIsBetter,
        ),
        count(
            "mutants.caught",
            MutantOutcome::Caught,
            Direction::HigherIsBetter,
        ),
        count(
            "mutants.timeout",
            MutantOutcome::Timeout,
            Direction::LowerIsBetter,
        ),
        count(
            "mutants.unviable",
            MutantOutcome::Unviable,
            Direction::LowerIsBetter,
        ),
    ];
    if let Some(score) = s.score() {
        out.push(Metric::new(
            "mutants.score",
            "percent",
            Direction::HigherIsBetter,
            Role::Trend,
            vec![score],
        ));
    }
    out
}

/// `mutants.json`: the summary's counts and every mutant with cargo-mutants' outcome word.
pub fn write_json(s: &MutantsSummary, path: &Path) -> crate::error::Result<()> {
    let outcomes: Vec<serde_json::Value> = s
        .mutants
        .iter()
        .map(|m| {
            serde_json::json!({
                "id": m.id,
                "name": m.name,
                "package": m.package,
                "file": m.file,
                "line": m.line,
                "column": m.col,
                "function": m.function,
                "genre": m.genre,
                "description": m.description,
                "original": m.original,
                "mutated": m.mutated,
                "outcome": m.outcome.label(),
                "summary": m.outcome.cargo_mutants_summary(),
                "by": m.by,
                "tests_run": m.tests_run,
                "seconds": m.seconds,
                "built": m.built,
            })
        })
        .collect();
    let doc = serde_json::json!({
        "base": s.base,
        "total_mutants": s.mutants.len(),
        "caught": s.count(MutantOutcome::Caught),
        "missed": s.count(MutantOutcome::Missed),
        "timeout": s.count(MutantOutcome::Timeout),
        "unviable": s.count(MutantOutcome::Unviable),
        "score": s.score(),
        "schema_builds": s.schema_builds,
        "build_seconds": s.build_seconds,
        "outcomes": outcomes,
    });
    let text = serde_json::to_string_pretty(&doc)
        .map_err(|e| crate::error::Error::Internal(format!("mutants.json: {e}")))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| crate::error::Error::io(format!("cannot create {}", dir.display()), e))?;
    }
    std::fs::write(path, text)
        .map_err(|e| crate::error::Error::io(format!("cannot write {}", path.display()), e))
}

#[cfg(test)]
mod tests {
    use super::super::generate::mutants;
    use super::*;

    #[test]
    fn a_mutant_shows_as_one_line_before_and_after() {
        let source =
            "pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\npub fn one() -> u8 { 1 }\n";
        let found = mutants("src/lib.rs", source).unwrap();
        let shown: Vec<(String, String)> = found.iter().map(|m| lines(source, m)).collect();
        assert!(
            shown.contains(&("a + b".to_string(), "a - b".to_string())),
            "{shown:#?}"
        );
        assert!(shown.contains(&("a + b".to_string(), "0".to_string())));
        assert!(shown.contains(&(
            "pub fn one() -> u8 { 1 }".to_string(),
            "pub fn one() -> u8 { 0 }".to_string()
        )));
    }
}
