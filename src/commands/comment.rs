//! `cargo gate comment`: publish a report on GitHub (sticky comment, job summary, annotations,
//! check run). The verdict decides the exit code; a publishing problem never replaces it.

use std::path::{Path, PathBuf};

use crate::cli::CommentArgs;
use crate::error::{EXIT_GATE_FAILED, EXIT_PASS, Error, Result};
use crate::model::{Report, VerdictStatus};
use crate::render::Renderer;

pub fn comment(explicit_config: Option<&Path>, args: CommentArgs) -> Result<i32> {
    let report_path = match (&args.from_artifact, &args.report) {
        (Some(dir), _) => dir.join("report.json"),
        (None, Some(p)) => p.clone(),
        (None, None) => PathBuf::from("target/gate/report.json"),
    };
    if args.from_artifact.is_some() {
        check_artifact_size(&report_path, args.max_artifact_bytes)?;
    }
    let mut report = Report::read(&report_path)?;
    if args.from_artifact.is_some() {
        // An artifact's verdict and gates are whatever its (untrusted) job wrote: they are
        // decided again here, from its cases and metrics, with this repository's gate.toml.
        rejudge(&mut report, explicit_config)?;
    }
    let env = crate::publish::github::context::github_vars();
    let event = crate::publish::github::context::read_event(&env).map_err(|m| {
        Error::usage(
            m,
            Some(
                "GitHub Actions writes this file; check a step that overrides GITHUB_EVENT_PATH"
                    .to_string(),
            ),
        )
    })?;
    let ctx = crate::publish::github::context::from_env(&env, &event).map_err(|m| {
        Error::usage(
            m,
            Some("`cargo gate comment` publishes from GitHub Actions; locally, preview the comment with `cargo gate report --format comment`".to_string()),
        )
    })?;
    if args.from_artifact.is_some()
        && let Some(gh) = report.run.github.as_mut()
    {
        // Every link rendered from the report (file links in the coverage table too) is built
        // on the trusted job's own run URL, never the artifact's.
        gh.run_url = ctx.run_url.clone();
    }
    // The artifact link comes only from this command line: a report's own is never shown.
    match (report.run.github.as_mut(), &args.artifact_url) {
        (Some(gh), url) => gh.artifact_url = url.clone(),
        (None, Some(url)) => {
            report.run.github = Some(crate::model::GithubRun {
                artifact_url: Some(url.clone()),
                ..crate::publish::github::context::record(&ctx)
            });
        }
        (None, None) => {}
    }
    let renderer = Renderer::new(args.template.as_deref(), false)?;
    let branch = env.get("GITHUB_REF_NAME").cloned().unwrap_or_default();
    if args.issue && branch.is_empty() {
        return Err(Error::usage(
            "--issue keeps the security issue of the branch, and GITHUB_REF_NAME names none",
            Some("run it from a workflow on a branch (push or schedule), where GitHub sets GITHUB_REF_NAME".to_string()),
        ));
    }
    let opts = publish_options(&args, &ctx, &report_path, &branch);
    // The token is read here and handed to the client only; it is never printed or stored.
    // A token the HTTP client cannot send is a publishing problem: the rest (summary,
    // annotations) is still published and the verdict is still the exit code.
    let (token, token_warning) = match token_from(std::env::var_os("GITHUB_TOKEN")) {
        Ok(t) => (t, None),
        Err(e) => (None, Some(e)),
    };
    // A test that printed the token put it in the report: it is masked before anything is
    // rendered from it.
    let report = report.masked(token.as_deref());
    let mut outcome =
        crate::publish::github::publish(&report, &renderer, &opts, &ctx, &env, token.as_deref())?;
    if let Some(e) = token_warning {
        let hint = e.hint().map(|h| format!(" ({h})")).unwrap_or_default();
        outcome.warnings.insert(0, format!("{e}{hint}"));
    }
    // Whatever GitHub answered is masked once more before it reaches the log.
    let shown = |t: &str| {
        let t = crate::util::sanitize::mask(t, token.as_deref());
        crate::util::sanitize::for_log(&t)
    };
    for line in &outcome.done {
        eprintln!("cargo-gate: {}", shown(line));
    }
    for w in &outcome.warnings {
        eprintln!("warning: {}", shown(w));
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

/// An artifact's report larger than the limit is refused before it is read.
fn check_artifact_size(path: &Path, limit: u64) -> Result<()> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.len() > limit => Err(Error::input(
            path,
            format!(
                "the artifact's report is {} bytes, more than --max-artifact-bytes {limit}",
                meta.len(),
            ),
            Some("raise --max-artifact-bytes if the report is genuinely this large".to_string()),
        )),
        _ => Ok(()),
    }
}

/// What to publish and how, from the command line.
fn publish_options(
    args: &CommentArgs,
    ctx: &crate::publish::github::context::Context,
    report_path: &Path,
    branch: &str,
) -> crate::publish::github::PublishOptions {
    let backoff = std::env::var("CARGO_GATE_GITHUB_BACKOFF_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(
            std::time::Duration::from_secs(1),
            std::time::Duration::from_millis,
        );
    crate::publish::github::PublishOptions {
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
        report_path: std::fs::canonicalize(report_path).unwrap_or(report_path.to_path_buf()),
        backoff,
        issue: args.issue.then(|| branch.to_string()),
    }
}

/// Judges an artifact again with the trusted checkout's gate.toml (`--config`, else the
/// nearest one above the current directory, else the defaults) for the profile the report
/// names, and this checkout's notes, against its HEAD.
fn rejudge(report: &mut Report, explicit: Option<&Path>) -> Result<()> {
    let path = match explicit {
        Some(p) => crate::context::config_path(None, Some(p))?,
        None => crate::context::find_upwards(crate::config::FILE_NAME),
    };
    let profile = report.run.profile.clone();
    let config = crate::context::load_config(path.as_deref(), Some(&profile))
        .or_else(|_| crate::context::load_config(path.as_deref(), None))?;
    let cwd = std::env::current_dir().unwrap_or_default();
    crate::engine::Judge {
        root: Some(&cwd),
        config: &config,
        base: crate::engine::Base::Head,
        no_baseline: false,
        events: &crate::reporter::plain,
    }
    .rejudge_untrusted(report);
    Ok(())
}

/// The token as an HTTP header can carry it: surrounding whitespace (a pasted secret's trailing
/// newline) is trimmed; anything else that is not visible ASCII is a usage error that names the
/// variable, never the value (the HTTP client would panic on it).
fn token_from(raw: Option<std::ffi::OsString>) -> Result<Option<String>> {
    let Some(raw) = raw else { return Ok(None) };
    let bad = || {
        Error::usage(
            "GITHUB_TOKEN holds characters an HTTP header cannot carry",
            Some("set it to the token alone (e.g. `${{ github.token }}`), without quotes or line breaks".to_string()),
        )
    };
    let text = raw.into_string().map_err(|_| bad())?;
    let token = text.trim();
    if !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad());
    }
    Ok((!token.is_empty()).then(|| token.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_trimmed_and_refused_when_a_header_cannot_carry_them() {
        let t = |s: &str| token_from(Some(s.into()));
        assert_eq!(t("ghs_abc\n").unwrap().as_deref(), Some("ghs_abc"));
        assert_eq!(t("  ").unwrap(), None);
        assert_eq!(token_from(None).unwrap(), None);
        let e = t("ghs_a\nb").unwrap_err();
        assert!(e.to_string().contains("GITHUB_TOKEN"));
        assert!(
            !e.to_string().contains("ghs_a"),
            "the token is never printed"
        );
        assert!(t("ghs_\u{e9}").is_err());
    }
}
