//! Annotations: workflow commands (`::error file=..::`) for the first failures, which GitHub
//! shows inline, and check-run annotations for all of them, sent in batches of 50.

use http::Method;
use serde_json::{Value, json};

use super::client::{Api, ApiError};
use crate::report::{Case, CaseStatus, Report, VerdictStatus};

/// GitHub shows at most 10 annotations of each level per step.
pub const WORKFLOW_COMMAND_LIMIT: usize = 10;

/// GitHub accepts at most 50 annotations per check-run request.
pub const CHECK_RUN_BATCH: usize = 50;

/// One annotation.
#[derive(Debug, Clone, PartialEq)]
pub struct Annotation {
    /// `failure` (error) or `warning`.
    pub level: &'static str,
    /// Path relative to the repository root, when known.
    pub path: Option<String>,
    /// 1-based line.
    pub line: u32,
    /// Short title.
    pub title: String,
    /// The message.
    pub message: String,
}

/// Annotations for failures (errors) and flaky tests (warnings), failures first.
pub fn collect(report: &Report) -> Vec<Annotation> {
    let prefix = report
        .run
        .root_in_repo
        .as_deref()
        .filter(|p| !p.is_empty())
        .map(|p| format!("{}/", p.trim_end_matches('/')));
    let mut out = Vec::new();
    for level in ["failure", "warning"] {
        for suite in &report.suites {
            for case in &suite.cases {
                let wanted = match case.status {
                    CaseStatus::Failed | CaseStatus::TimedOut => "failure",
                    CaseStatus::Flaky | CaseStatus::Quarantined => "warning",
                    _ => continue,
                };
                if wanted == level {
                    out.push(annotation(case, level, prefix.as_deref()));
                }
            }
        }
    }
    out
}

fn annotation(case: &Case, level: &'static str, prefix: Option<&str>) -> Annotation {
    let path = case
        .location
        .as_ref()
        .map(|l| format!("{}{}", prefix.unwrap_or(""), l.file));
    let status = match case.status {
        CaseStatus::TimedOut => "timed out",
        CaseStatus::Flaky => "flaky",
        CaseStatus::Quarantined => "failed (quarantined)",
        _ => "failed",
    };
    Annotation {
        level,
        path,
        line: case.location.as_ref().map_or(1, |l| l.line.max(1)),
        title: format!("{} {status}", case.id),
        message: case
            .detail
            .clone()
            .or_else(|| case.message.clone())
            .unwrap_or_else(|| status.to_string()),
    }
}

fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Workflow commands for the first [`WORKFLOW_COMMAND_LIMIT`] errors and warnings.
pub fn workflow_commands(annotations: &[Annotation]) -> Vec<String> {
    let mut lines = Vec::new();
    for level in ["failure", "warning"] {
        let command = if level == "failure" {
            "error"
        } else {
            "warning"
        };
        for a in annotations
            .iter()
            .filter(|a| a.level == level)
            .take(WORKFLOW_COMMAND_LIMIT)
        {
            let mut props = Vec::new();
            if let Some(p) = &a.path {
                props.push(format!("file={}", escape_property(p)));
                props.push(format!("line={}", a.line));
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
            let message: String = a.message.chars().take(60_000).collect();
            Some(json!({
                "path": path,
                "start_line": a.line,
                "end_line": a.line,
                "annotation_level": a.level,
                "title": a.title.chars().take(250).collect::<String>(),
                "message": message,
            }))
        })
        .collect()
}

/// Creates a completed check run on `head_sha` with every annotation, 50 per request.
pub async fn check_run(
    api: &Api,
    repo: &str,
    head_sha: &str,
    name: &str,
    report: &Report,
    summary: &str,
    annotations: &[Annotation],
) -> Result<u64, ApiError> {
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
                "details_url": report.run.github.as_ref().and_then(|g| g.run_url.clone()),
                "output": { "title": title, "summary": summary, "annotations": first },
            })),
        )
        .await?;
    let id = created.body["id"].as_u64().unwrap_or(0);
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

    fn a(level: &'static str, n: usize) -> Annotation {
        Annotation {
            level,
            path: Some(format!("src/a{n}.rs")),
            line: 3,
            title: format!("t{n}"),
            message: "left: 1,\nright: 2 (100%)".to_string(),
        }
    }

    #[test]
    fn workflow_commands_are_escaped_and_limited() {
        let anns: Vec<Annotation> = (0..15)
            .map(|n| a("failure", n))
            .chain([a("warning", 99)])
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
            ..a("failure", 1)
        };
        assert_eq!(
            workflow_commands(&[no_file])[0],
            "::error title=x%2C y%3A z::left: 1,%0Aright: 2 (100%25)"
        );
    }

    #[test]
    fn check_run_annotations_need_a_path() {
        let anns = vec![
            a("failure", 1),
            Annotation {
                path: None,
                ..a("failure", 2)
            },
        ];
        let v = check_run_annotations(&anns);
        assert_eq!(v.len(), 1);
        assert_eq!(v[0]["annotation_level"], "failure");
        assert_eq!(v[0]["start_line"], 3);
    }
}
