//! `cargo gate comment`: publish a report on GitHub (sticky comment, job summary, annotations,
//! check run). The verdict decides the exit code; a publishing problem never replaces it.

use std::path::PathBuf;

use crate::cli::CommentArgs;
use crate::error::{EXIT_GATE_FAILED, EXIT_PASS, Error, Result};
use crate::model::{Report, VerdictStatus};
use crate::render::Renderer;

pub fn comment(args: CommentArgs) -> Result<i32> {
    let report_path = match (&args.from_artifact, &args.report) {
        (Some(dir), _) => dir.join("report.json"),
        (None, Some(p)) => p.clone(),
        (None, None) => PathBuf::from("target/gate/report.json"),
    };
    let report = Report::read(&report_path)?;
    let (env, event) = crate::publish::github::context::read_env();
    let ctx = crate::publish::github::context::from_env(&env, &event).map_err(|m| {
        Error::usage(
            m,
            Some("`cargo gate comment` publishes from GitHub Actions; locally, use `cargo gate report --format markdown`".to_string()),
        )
    })?;
    let renderer = Renderer::new(args.template.as_deref(), false)?;
    let backoff = std::env::var("CARGO_GATE_GITHUB_BACKOFF_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(
            std::time::Duration::from_secs(1),
            std::time::Duration::from_millis,
        );
    let opts = crate::publish::github::PublishOptions {
        sticky: crate::publish::github::sticky::StickyOptions {
            id: args.id.clone().unwrap_or_else(|| ctx.default_id.clone()),
            previous: args.previous,
            delete_on_pass: args.delete_on_pass,
            author: args.author.clone(),
        },
        comment: !args.no_comment,
        check_run: !args.no_check_run,
        check_name: args.check_name.clone(),
        summary: !args.no_summary,
        annotations: !args.no_annotations,
        from_artifact: args.from_artifact.is_some(),
        report_path: std::fs::canonicalize(&report_path).unwrap_or(report_path.clone()),
        backoff,
    };
    // The token is read here and handed to the client only; it is never printed or stored.
    let token = std::env::var("GITHUB_TOKEN").ok();
    let outcome =
        crate::publish::github::publish(&report, &renderer, &opts, &ctx, &env, token.as_deref())?;
    for line in &outcome.done {
        eprintln!("cargo-gate: {line}");
    }
    for w in &outcome.warnings {
        eprintln!("warning: {w}");
    }
    Ok(match report.verdict.status {
        // The gate's verdict is never hidden by a publishing problem.
        VerdictStatus::Failed => EXIT_GATE_FAILED,
        VerdictStatus::Passed if args.strict_publish && !outcome.warnings.is_empty() => {
            crate::error::EXIT_INTERNAL
        }
        VerdictStatus::Passed => EXIT_PASS,
    })
}
