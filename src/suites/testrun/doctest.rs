//! Doctests: `cargo test --doc` per library package, one case per doctest line of output.

use std::process::Command;
use std::time::Duration;

use super::RunOptions;
use super::libtest::{LineOutcome, failure_section, parse_panic, parse_result_lines};
use crate::config::TestsConfig;
use crate::exec::process::{self, Exit, Limits};
use crate::model::{Attempt, Case, CaseStatus};
use crate::workspace::{Workspace, cargo_bin};

/// Doctest batches can include compiling every doctest, so they get a generous floor.
const BATCH_TIMEOUT_FLOOR: Duration = Duration::from_secs(600);

/// One package's doctests, as cargo must be asked for them.
pub struct Batch<'a> {
    /// The package's name, for case ids.
    pub package: &'a str,
    /// Its package id spec: a bare name is ambiguous when the lock file has a crate of the same
    /// name (a member called `similar` next to the `similar` insta depends on).
    pub spec: &'a str,
    /// The features the workspace build resolved for it; without them `cargo test --doc -p`
    /// builds the package with its own defaults and feature-gated doctests silently vanish.
    pub features: Option<&'a [String]>,
}

/// `cargo test --doc` for the batch's package, up to and including the `--` before libtest's
/// own arguments.
fn command(ws: &Workspace, batch: &Batch<'_>, cfg: &TestsConfig) -> Command {
    let mut cmd = Command::new(cargo_bin());
    cmd.arg("test")
        .arg("--doc")
        .arg("--manifest-path")
        .arg(&ws.manifest_path)
        .arg("--package")
        .arg(batch.spec);
    if let Some(features) = batch.features {
        cmd.arg("--no-default-features");
        if !features.is_empty() {
            cmd.arg("--features").arg(features.join(","));
        }
    }
    cmd.args(&cfg.cargo_args)
        .env("CARGO_TERM_COLOR", "never")
        .envs(&cfg.env)
        .arg("--");
    cmd
}

/// The doctests of a batch, as `(name, marked ignore)`, for `list`: rustdoc collects them
/// without compiling any. `Err` says why they could not be listed.
pub fn list(
    ws: &Workspace,
    batch: &Batch<'_>,
    cfg: &TestsConfig,
    opts: &RunOptions,
) -> Result<Vec<(String, bool)>, String> {
    let names = |ignored: bool| -> Result<Vec<String>, String> {
        let mut cmd = command(ws, batch, cfg);
        cmd.args(["--list", "--format", "terse"]);
        cmd.args(&opts.filters);
        if opts.exact {
            cmd.arg("--exact");
        }
        for s in &opts.skip {
            cmd.arg("--skip").arg(s);
        }
        if ignored {
            cmd.arg("--ignored");
        }
        let limits = Limits {
            tail_bytes: 16 * 1024 * 1024,
            slow: None,
            timeout: Some(BATCH_TIMEOUT_FLOOR),
        };
        let out = process::run(cmd, &limits).map_err(|e| e.to_string())?;
        let text = out.output_text();
        if out.exit != Exit::Code(0) {
            return Err(text
                .lines()
                .find(|l| l.trim_start().starts_with("error"))
                .unwrap_or("`cargo test --doc -- --list` failed")
                .trim()
                .to_string());
        }
        Ok(text
            .lines()
            .filter_map(|l| l.strip_suffix(": test"))
            .map(str::to_string)
            .collect())
    };
    let all = names(false)?;
    let ignored = names(true)?;
    Ok(all
        .into_iter()
        .map(|n| {
            let is_ignored = ignored.contains(&n);
            (n, is_ignored)
        })
        .collect())
}

/// Runs the doctests of a package and returns one case per doctest.
pub fn run_batch(
    ws: &Workspace,
    batch: &Batch<'_>,
    cfg: &TestsConfig,
    opts: &RunOptions,
) -> Vec<Case> {
    let package = batch.package;
    let mut cmd = command(ws, batch, cfg);
    cmd.args(&opts.filters);
    if opts.exact {
        cmd.arg("--exact");
    }
    for s in &opts.skip {
        cmd.arg("--skip").arg(s);
    }
    cmd.args(super::ignored_arg(cfg.run_ignored));
    let binary = format!("{package}::doc");
    let limits = Limits {
        tail_bytes: 8 * 1024 * 1024,
        slow: None,
        timeout: cfg.timeout.map(|t| t.max(BATCH_TIMEOUT_FLOOR)),
    };
    let outcome = match process::run(cmd, &limits) {
        Ok(o) => o,
        Err(e) => {
            return vec![batch_case(
                package,
                &binary,
                CaseStatus::Failed,
                0.0,
                format!("cannot start `cargo test --doc`: {e}"),
                String::new(),
            )];
        }
    };
    if outcome.exit == Exit::Interrupted {
        return vec![batch_case(
            package,
            &binary,
            CaseStatus::Skipped,
            outcome.duration.as_secs_f64(),
            super::INTERRUPTED_WHILE_RUNNING.to_string(),
            String::new(),
        )];
    }
    let output = outcome.output_text();
    let lines = parse_result_lines(&output);
    let secs = outcome.duration.as_secs_f64();
    if lines.is_empty() {
        // Nothing ran: either there are no doctests, or rustdoc failed before running any.
        return match outcome.exit {
            Exit::Code(0) => Vec::new(),
            Exit::TimedOut => vec![batch_case(
                package,
                &binary,
                CaseStatus::TimedOut,
                secs,
                "the doctest batch timed out".to_string(),
                tail(&output, cfg.output_tail),
            )],
            // cargo's own first error says why (an ambiguous package, a build error).
            _ => vec![batch_case(
                package,
                &binary,
                CaseStatus::Failed,
                secs,
                match output.lines().find(|l| l.trim_start().starts_with("error")) {
                    Some(e) => format!(
                        "`cargo test --doc` failed before running any doctest: {}",
                        e.trim()
                    ),
                    None => "`cargo test --doc` failed before running any doctest".to_string(),
                },
                tail(&output, cfg.output_tail),
            )],
        };
    }
    // rustdoc times the batch (compiling the doctests included), not each doctest: each gets an
    // equal share, marked as such.
    let ran = lines
        .iter()
        .filter(|l| !matches!(l.outcome, LineOutcome::Ignored))
        .count();
    let share = secs / ran.max(1) as f64;
    lines
        .into_iter()
        .map(|l| {
            let status = match l.outcome {
                LineOutcome::Ok => CaseStatus::Passed,
                LineOutcome::Failed => CaseStatus::Failed,
                LineOutcome::Ignored => CaseStatus::Skipped,
            };
            let id = format!("{binary} {}", l.name);
            let section = failure_section(&output, &l.name).unwrap_or("");
            let (message, location) = match status {
                CaseStatus::Failed => match parse_panic(section) {
                    Some((m, loc)) => (Some(m), loc),
                    None => (Some(first_error_line(section)), None),
                },
                CaseStatus::Skipped => (Some("ignored".to_string()), None),
                _ => (None, None),
            };
            // A doctest runs once: one attempt.
            let status = if status == CaseStatus::Failed {
                cfg.quarantine_failure(&id, &l.name, 1).apply(status).0
            } else {
                status
            };
            Case {
                id,
                name: l.name,
                package: Some(package.to_string()),
                binary: Some(binary.clone()),
                status,
                attempts: if status == CaseStatus::Skipped {
                    Vec::new()
                } else {
                    vec![Attempt {
                        shared: true,
                        status: if status == CaseStatus::Passed {
                            CaseStatus::Passed
                        } else {
                            CaseStatus::Failed
                        },
                        duration: share,
                        output_tail: if status == CaseStatus::Passed {
                            String::new()
                        } else {
                            tail(section, cfg.output_tail)
                        },
                    }]
                },
                location,
                message,
                detail: None,
                regions: Vec::new(),
                history: None,
            }
        })
        .collect()
}

fn first_error_line(section: &str) -> String {
    section
        .lines()
        .find(|l| l.starts_with("error"))
        .or_else(|| section.lines().find(|l| !l.trim().is_empty()))
        .unwrap_or("doctest failed")
        .to_string()
}

/// The last `limit` bytes of `text` (on a character boundary), with a note of what was cut.
pub(super) fn tail(text: &str, limit: usize) -> String {
    if text.len() <= limit {
        return text.to_string();
    }
    let mut cut = text.len() - limit;
    while !text.is_char_boundary(cut) {
        cut += 1;
    }
    format!(
        "[... {cut} bytes of earlier output omitted ...]\n{}",
        &text[cut..]
    )
}

fn batch_case(
    package: &str,
    binary: &str,
    status: CaseStatus,
    secs: f64,
    message: String,
    output: String,
) -> Case {
    Case {
        package: Some(package.to_string()),
        binary: Some(binary.to_string()),
        ..Case::single(
            format!("{binary} (doctests)"),
            "(doctests)",
            status,
            secs,
            message,
            output,
        )
    }
}
