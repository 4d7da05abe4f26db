//! Annotations: workflow commands (`::error file=..::`) for the first failures, which GitHub
//! shows inline, and check-run annotations for all of them, sent in batches of 50.

use http::Method;
use serde_json::{Value, json};

use super::client::{Api, ApiError};
use crate::model::{Case, CaseStatus, Report, VerdictStatus};

/// GitHub shows at most 10 annotations of each level per step.
pub const WORKFLOW_COMMAND_LIMIT: usize = 10;

/// GitHub accepts at most 50 annotations per check-run request.
pub const CHECK_RUN_BATCH: usize = 50;

/// How serious an annotation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// A failure: `::error` in the log, `failure` on a check run.
    Failure,
    /// A warning: `::warning`, `warning`.
    Warning,
}

impl Level {
    /// The workflow command that shows it in the log.
    fn command(self) -> &'static str {
        match self {
            Level::Failure => "error",
            Level::Warning => "warning",
        }
    }
}

/// One annotation.
#[derive(Debug, Clone, PartialEq)]
pub struct Annotation {
    /// How serious it is.
    pub level: Level,
    /// Path relative to the repository root, when known.
    pub path: Option<String>,
    /// 1-based line.
    pub line: u32,
    /// Last line of the span (the same as `line` for one line).
    pub end_line: u32,
    /// Short title.
    pub title: String,
    /// The message.
    pub message: String,
}

/// Annotations for failures (errors), flaky tests and changed lines the tests never ran
/// (warnings), failures first.
pub fn collect(report: &Report) -> Vec<Annotation> {
    let prefix = report
        .run
        .root_in_repo
        .as_deref()
        .filter(|p| !p.is_empty())
        .map(|p| format!("{}/", p.trim_end_matches('/')));
    let mut out = Vec::new();
    // The run never happened: the one thing to show is where the configuration is wrong.
    if let Some(c) = &report.config_error {
        let line = u32::try_from(c.line).ok().filter(|l| plausible_line(*l));
        let located = repo_path(prefix.as_deref(), &c.file).filter(|_| line.is_some());
        let line = line.filter(|_| located.is_some()).unwrap_or(1).max(1);
        out.push(Annotation {
            level: Level::Failure,
            path: located,
            line,
            end_line: line,
            title: "cargo-gate could not run: configuration error".to_string(),
            message: match &c.hint {
                Some(h) => format!("{} (column {})\nhelp: {h}", c.message, c.col),
                None => format!("{} (column {})", c.message, c.col),
            },
        });
    }
    out.extend(build_errors(report, prefix.as_deref()));
    for level in [Level::Failure, Level::Warning] {
        // Mutants are annotated as what they are, below.
        for suite in report
            .suites
            .iter()
            .filter(|s| s.kind != crate::model::SuiteKind::Mutants)
        {
            for case in &suite.cases {
                let wanted = match case.status {
                    CaseStatus::Failed | CaseStatus::TimedOut => Level::Failure,
                    CaseStatus::Flaky | CaseStatus::Quarantined => Level::Warning,
                    _ => continue,
                };
                if wanted == level {
                    out.push(annotation(case, level, prefix.as_deref()));
                }
            }
        }
    }
    out.extend(uncovered(report, prefix.as_deref()));
    out.extend(missed_mutants(report, prefix.as_deref()));
    out
}

/// A warning at each mutant of the change no test noticed, with the line before and after.
fn missed_mutants(report: &Report, prefix: Option<&str>) -> Vec<Annotation> {
    let Some(summary) = report
        .suite(crate::model::SuiteKind::Mutants)
        .and_then(|s| s.mutants())
    else {
        return Vec::new();
    };
    summary
        .mutants
        .iter()
        .filter(|m| m.outcome == crate::model::MutantOutcome::Missed)
        .filter_map(|m| {
            let path = repo_path(prefix, &m.file)?;
            let line = Some(m.line).filter(|l| plausible_line(*l))?.max(1);
            Some(Annotation {
                level: Level::Warning,
                path: Some(path),
                line,
                end_line: line,
                title: format!("mutant not caught: {}", m.description),
                message: format!(
                    "Every test passed with this change in:\n-{}\n+{}",
                    m.original, m.mutated
                ),
            })
        })
        .collect()
}

/// An error at each line the compiler refused, with rustc's own rendering as the message: the
/// most common failure of a pull request, shown where it is.
fn build_errors(report: &Report, prefix: Option<&str>) -> Vec<Annotation> {
    let errors = report
        .suite(crate::model::SuiteKind::Tests)
        .and_then(|s| s.tests())
        .map_or(&[][..], |t| t.build_errors.as_slice());
    errors
        .iter()
        .map(|e| {
            let located = e
                .line
                .filter(|l| plausible_line(*l))
                .zip(e.file.as_deref().and_then(|f| repo_path(prefix, f)));
            Annotation {
                level: Level::Failure,
                line: located.as_ref().map_or(1, |(l, _)| (*l).max(1)),
                end_line: located.as_ref().map_or(1, |(l, _)| (*l).max(1)),
                path: located.map(|(_, p)| p),
                title: format!("{} does not compile: {}", e.target, e.message),
                message: if e.rendered.is_empty() {
                    e.message.clone()
                } else {
                    e.rendered.clone()
                },
            }
        })
        .collect()
}

/// Warnings on the regions cases point at: the changed lines the tests never ran.
fn uncovered(report: &Report, prefix: Option<&str>) -> Vec<Annotation> {
    let mut out = Vec::new();
    for region in report
        .suites
        .iter()
        .flat_map(|s| &s.cases)
        .flat_map(|c| &c.regions)
    {
        let (first, last) = (region.line, region.end_line);
        let lines = if first == last {
            format!("line {first} was")
        } else {
            format!("lines {first}-{last} were")
        };
        let Some(path) = repo_path(prefix, &region.file) else {
            continue;
        };
        if !plausible_line(first) || !plausible_line(last) {
            continue;
        }
        out.push(Annotation {
            level: Level::Warning,
            path: Some(path),
            line: first,
            end_line: last,
            title: "not covered by tests".to_string(),
            message: format!("Changed {lines} never run by the tests (patch coverage)."),
        });
    }
    out
}

fn annotation(case: &Case, level: Level, prefix: Option<&str>) -> Annotation {
    // A location that is not a plausible file of this repository (absolute, `..`, a line past
    // any real file) becomes an annotation without a position rather than one GitHub rejects
    // or one that points outside the checkout.
    let located = case
        .location
        .as_ref()
        .filter(|l| plausible_line(l.line))
        .and_then(|l| Some((repo_path(prefix, &l.file)?, l.line)));
    let path = located.as_ref().map(|(p, _)| p.clone());
    let status = match case.status {
        CaseStatus::TimedOut => "timed out",
        CaseStatus::Flaky => "flaky",
        CaseStatus::Quarantined => "failed (quarantined)",
        _ => "failed",
    };
    let line = located.map_or(1, |(_, line)| line.max(1));
    Annotation {
        level,
        path,
        line,
        end_line: line,
        title: format!("{} {status}", case.id),
        message: case
            .detail
            .clone()
            .or_else(|| case.message.clone())
            .unwrap_or_else(|| status.to_string()),
    }
}

/// Lines beyond this are not a source file's.
const MAX_LINE: u32 = 10_000_000;

fn plausible_line(line: u32) -> bool {
    line <= MAX_LINE
}

/// `file` as a path from the repository root, or `None` when it cannot be one: absolute, with
/// `..`, empty, or holding control characters. `./` and duplicate separators are dropped.
pub fn repo_path(prefix: Option<&str>, file: &str) -> Option<String> {
    // An absolute file is outside the checkout whatever the prefix.
    if file.starts_with('/') {
        return None;
    }
    let joined = format!("{}{file}", prefix.unwrap_or(""));
    if joined.starts_with('/') || joined.contains('\\') || joined.chars().any(char::is_control) {
        return None;
    }
    let mut parts = Vec::new();
    for part in joined.split('/') {
        match part {
            "" | "." => {}
            ".." => return None,
            p if p.len() >= 2 && p.as_bytes()[1] == b':' && parts.is_empty() => return None,
            p => parts.push(p),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// Text of a workflow command's message: controls (ANSI, BEL…) removed, then `%`, CR and LF
/// encoded so nothing can end the command or start another.
fn escape_data(s: &str) -> String {
    crate::util::sanitize::strip_controls(s, false)
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Workflow commands for the first [`WORKFLOW_COMMAND_LIMIT`] errors and warnings.
pub fn workflow_commands(annotations: &[Annotation]) -> Vec<String> {
    let mut lines = Vec::new();
    for level in [Level::Failure, Level::Warning] {
        let command = level.command();
        for a in annotations
            .iter()
            .filter(|a| a.level == level)
            .take(WORKFLOW_COMMAND_LIMIT)
        {
            let mut props = Vec::new();
            if let Some(p) = &a.path {
                props.push(format!("file={}", escape_property(p)));
                props.push(format!("line={}", a.line));
                if a.end_line > a.line {
                    props.push(format!("endLine={}", a.end_line));
                }
            }
            props.push(format!("title={}", escape_property(&a.title)));
            lines.push(format!(
                "::{command} {}::{}",
                props.join(","),
                escape_data(&a.message)
            ));
        }
    }
    lines
}

/// Check-run annotations need a file; those without one are left to the summary.
fn check_run_annotations(annotations: &[Annotation]) -> Vec<Value> {
    annotations
        .iter()
        .filter_map(|a| {
            let path = a.path.as_ref()?;
            let message: String = crate::util::sanitize::strip_controls(&a.message, false)
                .chars()
                .take(60_000)
                .collect();
            Some(json!({
                "path": path,
                "start_line": a.line,
                "end_line": a.end_line.max(a.line),
                "annotation_level": a.level,
                "title": crate::util::sanitize::strip_controls(&a.title, false)
                    .chars()
                    .take(250)
                    .collect::<String>(),
                "message": message,
            }))
        })
        .collect()
}

/// What a check run is made of besides the report: where it goes and what it links to.
pub struct CheckRun<'a> {
    /// `owner/name`.
    pub repo: &'a str,
    /// The commit it attaches to.
    pub head_sha: &'a str,
    /// Its name.
    pub name: &'a str,
    /// The link to the run that produced the report (from the trusted environment).
    pub details_url: Option<&'a str>,
}

/// Creates a completed check run on `run.head_sha` with every annotation, 50 per request.
pub async fn check_run(
    api: &Api,
    run: &CheckRun<'_>,
    report: &Report,
    summary: &str,
    annotations: &[Annotation],
) -> Result<u64, ApiError> {
    let CheckRun {
        repo,
        head_sha,
        name,
        details_url,
    } = *run;
    let all = check_run_annotations(annotations);
    let mut batches = all.chunks(CHECK_RUN_BATCH);
    let conclusion = match report.verdict.status {
        VerdictStatus::Passed => "success",
        VerdictStatus::Failed => "failure",
    };
    let title = format!(
        "cargo-gate: {}",
        if conclusion == "success" {
            "passed"
        } else {
            "failed"
        }
    );
    let summary: String = summary.chars().take(65_000).collect();
    let first = batches.next().unwrap_or(&[]);
    let created = api
        .request(
            Method::POST,
            &format!("/repos/{repo}/check-runs"),
            Some(&json!({
                "name": name,
                "head_sha": head_sha,
                "status": "completed",
                "conclusion": conclusion,
                "details_url": details_url,
                "output": { "title": title, "summary": summary, "annotations": first },
            })),
        )
        .await?;
    let id = super::client::decode::<super::client::models::Created>(
        &created.body,
        "the created check run",
    )?
    .id;
    for batch in batches {
        api.request(
            Method::PATCH,
            &format!("/repos/{repo}/check-runs/{id}"),
            Some(
                &json!({ "output": { "title": title, "summary": summary, "annotations": batch } }),
            ),
        )
        .await?;
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SuiteKind;

    fn a(level: Level, n: usize) -> Annotation {
        Annotation {
            level,
            path: Some(format!("src/a{n}.rs")),
            line: 3,
            end_line: 3,
            title: format!("t{n}"),
            message: "left: 1,\nright: 2 (100%)".to_string(),
        }
    }

    #[test]
    fn workflow_commands_are_escaped_and_limited() {
        let anns: Vec<Annotation> = (0..15)
            .map(|n| a(Level::Failure, n))
            .chain([a(Level::Warning, 99)])
            .collect();
        let lines = workflow_commands(&anns);
        assert_eq!(lines.len(), 11);
        assert_eq!(
            lines[0],
            "::error file=src/a0.rs,line=3,title=t0::left: 1,%0Aright: 2 (100%25)"
        );
        assert!(lines[10].starts_with("::warning file=src/a99.rs"));
        let no_file = Annotation {
            path: None,
            title: "x, y: z".into(),
            ..a(Level::Failure, 1)
        };
        assert_eq!(
            workflow_commands(&[no_file])[0],
            "::error title=x%2C y%3A z::left: 1,%0Aright: 2 (100%25)"
        );
    }

    #[test]
    fn paths_outside_the_repository_lose_their_position() {
        assert_eq!(
            repo_path(None, "./src//lib.rs").as_deref(),
            Some("src/lib.rs")
        );
        assert_eq!(
            repo_path(Some("crates/a/"), "src/x.rs").as_deref(),
            Some("crates/a/src/x.rs")
        );
        for bad in [
            "../../etc/passwd",
            "/etc/passwd",
            "src/../../x",
            "C:/x.rs",
            "",
            "a\x1b[2J.rs",
            "a\\b",
        ] {
            assert_eq!(repo_path(None, bad), None, "{bad:?}");
        }
        let mut case = Case::single("t", "t", CaseStatus::Failed, 0.0, "boom", String::new());
        case.location = Some(crate::model::SourceLocation {
            file: "../../etc/passwd".into(),
            line: 4,
            col: None,
        });
        let ann = annotation(&case, Level::Failure, None);
        assert_eq!((ann.path, ann.line), (None, 1));
        case.location = Some(crate::model::SourceLocation {
            file: "src/lib.rs".into(),
            line: u32::MAX,
            col: None,
        });
        assert_eq!(annotation(&case, Level::Failure, None).path, None);
    }

    #[test]
    fn workflow_command_text_holds_no_controls() {
        let hostile = Annotation {
            title: "t\x1b]0;owned\x07".into(),
            message: "x\r\n::error::forged\x1b[2K".into(),
            ..a(Level::Failure, 1)
        };
        let line = &workflow_commands(&[hostile])[0];
        assert!(!line.chars().any(char::is_control), "{line:?}");
        // One line: whatever the message says, the runner reads one command.
        assert!(
            line.starts_with("::error file=src/a1.rs,line=3,title=t::"),
            "{line}"
        );
        assert!(line.ends_with("x%0A::error::forged"), "{line}");
    }

    #[test]
    fn compiler_errors_are_annotated_at_their_line() {
        let mut report = Report::new(crate::model::RunInfo::default(), Vec::new());
        let mut suite = crate::model::Suite::new(SuiteKind::Tests);
        let error = |file: &str, line| crate::model::CompilerError {
            target: "app".into(),
            message: "mismatched types".into(),
            file: Some(file.into()),
            line: Some(line),
            col: Some(18),
            rendered: "error[E0308]: mismatched types\n --> src/lib.rs:3:18".into(),
        };
        suite.details = crate::model::Details::Tests(crate::model::TestsDetails {
            build_errors: vec![error("src/lib.rs", 3), error("/usr/lib/x.rs", 9)],
            ..Default::default()
        });
        report.suites.push(suite);
        report.run.root_in_repo = Some("rust/app".into());
        let anns = collect(&report);
        assert_eq!(anns.len(), 2);
        assert_eq!(anns[0].path.as_deref(), Some("rust/app/src/lib.rs"));
        assert_eq!((anns[0].line, anns[0].level), (3, Level::Failure));
        assert_eq!(anns[0].title, "app does not compile: mismatched types");
        assert!(anns[0].message.starts_with("error[E0308]"));
        // A file outside the checkout keeps the error, without a position.
        assert_eq!((anns[1].path.as_deref(), anns[1].line), (None, 1));
    }

    #[test]
    fn check_run_annotations_need_a_path() {
        let anns = vec![
            a(Level::Failure, 1),
            Annotation {
                path: None,
                ..a(Level::Failure, 2)
            },
        ];
        let v = check_run_annotations(&anns);
        assert_eq!(v.len(), 1);
        assert_eq!(v[0]["annotation_level"], "failure");
        assert_eq!(v[0]["start_line"], 3);
    }

    #[test]
    fn changed_lines_without_coverage_become_warnings_on_their_span() {
        let mut case = Case::single(
            "coverage report",
            "lcov",
            CaseStatus::Passed,
            0.0,
            "",
            String::new(),
        );
        let region = |line, end_line| crate::model::Region {
            file: "src/lib.rs".to_string(),
            line,
            end_line,
        };
        case.regions = vec![region(7, 7), region(12, 14)];
        let flaky = Case::single(
            "app tests::x",
            "x",
            CaseStatus::Flaky,
            0.0,
            "",
            String::new(),
        );
        let suite = |kind: SuiteKind, cases: Vec<Case>| crate::model::Suite {
            kind,
            name: kind.as_str().to_string(),
            status: crate::model::SuiteStatus::Passed,
            duration: 0.0,
            error: None,
            cases,
            metrics: Vec::new(),
            details: crate::model::Details::None,
        };
        let report = Report {
            schema: 1,
            tool_version: "test".into(),
            run: crate::model::RunInfo {
                root_in_repo: Some("rust".to_string()),
                ..Default::default()
            },
            suites: vec![
                suite(SuiteKind::Coverage, vec![case]),
                suite(SuiteKind::Tests, vec![flaky]),
            ],
            comparisons: vec![],
            baseline_note: None,
            config_error: None,
            gates: vec![],
            verdict: crate::model::Verdict {
                status: VerdictStatus::Passed,
                reasons: vec![],
            },
        };
        let anns = collect(&report);
        // The flaky test first, then one warning per span of uncovered changed lines.
        assert_eq!(anns.len(), 3);
        assert_eq!(anns[0].title, "app tests::x flaky");
        assert_eq!(
            anns[1].message,
            "Changed line 7 was never run by the tests (patch coverage)."
        );
        assert_eq!(anns[2].path.as_deref(), Some("rust/src/lib.rs"));
        assert_eq!((anns[2].line, anns[2].end_line), (12, 14));
        assert_eq!(anns[2].level, Level::Warning);
        assert_eq!(
            anns[2].message,
            "Changed lines 12-14 were never run by the tests (patch coverage)."
        );
        let commands = workflow_commands(&anns);
        assert!(
            commands[2].starts_with("::warning file=rust/src/lib.rs,line=12,endLine=14,"),
            "{}",
            commands[2]
        );
        // The check run takes only annotations with a file: the two coverage spans.
        let check = check_run_annotations(&anns);
        assert_eq!(check.len(), 2);
        assert_eq!(
            (&check[1]["start_line"], &check[1]["end_line"]),
            (&json!(12), &json!(14))
        );
    }
}
