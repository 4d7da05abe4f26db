//! `cargo gate run`: the engine's run, its outputs, its scorecard and its exit code.

use std::io::IsTerminal;
use std::path::Path;

use super::{color_stdout, exit_for, print_scorecard, selection, write_outputs};
use crate::cli::{MessageFormat, ProgressMode, RunArgs};
use crate::context::display_path;
use crate::engine::{self, Options};
use crate::error::{EXIT_GATE_FAILED, Error, Result};
use crate::model::{Report, VerdictStatus};
use crate::render::Renderer;
use crate::reporter::{Reporter, Style};

pub fn run(manifest: Option<&Path>, explicit: Option<&Path>, args: RunArgs) -> Result<i32> {
    let options = Options {
        select: selection(manifest, explicit, &args.select),
        suites: args.suite.clone(),
        jobs: args.jobs,
        retries: args.retries,
        fail_fast: match (args.fail_fast, args.no_fail_fast) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        },
        no_doctests: args.no_doctests,
        allow_empty: args.allow_empty,
        no_baseline: args.no_baseline,
        baseline_rev: args.baseline_rev.clone(),
        paired: args.paired.clone(),
        offline: args.offline,
        mutate: args.mutate.clone(),
        out_dir: args.out_dir.clone(),
    };
    let reporter = Reporter::new(style(&args));
    let renderer = Renderer::new(args.template.as_deref(), color_stdout())?;
    let finished = match engine::run(&options, &|e| reporter.event(e)) {
        Ok(f) => f,
        Err(e) => {
            report_config_error(&options, &e);
            return Err(e);
        }
    };
    // The reporter's bar and ticker end before the scorecard.
    let json = reporter.owns_stdout();
    drop(reporter);
    let report = &finished.report;
    let written = write_outputs(report, &renderer, &finished.out_dir);
    if !json {
        print_scorecard(&renderer, report);
    }
    match written {
        Ok(()) => {
            eprintln!(
                "reports written to {}",
                display_path(&finished.out_dir).display()
            );
            Ok(exit_for(report))
        }
        // A failed gate stays a failed gate (exit 1) even when an output cannot be written;
        // a passing gate whose outputs are missing is an internal error (exit 3).
        Err(e) => {
            eprintln!("error: {}", crate::util::sanitize::for_log(&e.to_string()));
            if let Some(hint) = e.hint() {
                eprintln!("  help: {}", crate::util::sanitize::for_log(hint));
            }
            Ok(match report.verdict.status {
                VerdictStatus::Failed => EXIT_GATE_FAILED,
                VerdictStatus::Passed => crate::error::EXIT_INTERNAL,
            })
        }
    }
}

/// `--message-format` first; else `--progress` and whether standard error is a terminal.
fn style(args: &RunArgs) -> Style {
    match args.message_format {
        MessageFormat::Json => return Style::Json,
        MessageFormat::JsonPretty => return Style::JsonPretty,
        MessageFormat::Human => {}
    }
    let terminal = std::io::stderr().is_terminal();
    match args.progress {
        ProgressMode::Auto if terminal => Style::Bar,
        ProgressMode::Auto | ProgressMode::Lines => Style::Lines,
        // A bar drawn nowhere would hide every line, failures included: lines instead.
        ProgressMode::Bar if !terminal => {
            eprintln!("--progress bar: standard error is not a terminal, showing lines instead");
            Style::Lines
        }
        ProgressMode::Bar => Style::Bar,
    }
}

/// A config error still leaves a `report.json` — verdict failed, the error and its position,
/// nothing run — so `cargo gate comment` can put it on the pull request: an annotation at the
/// broken line, a comment and summary saying the gate could not run and why. The exit code
/// stays 2. Other errors (no workspace, a bad command line) leave nothing: there is no
/// `target/` to write to, or the user is at the terminal.
fn report_config_error(options: &Options, e: &Error) {
    let Error::Config {
        location,
        message,
        hint,
    } = e
    else {
        return;
    };
    let Ok(ws) = crate::workspace::Workspace::load(options.select.manifest.as_deref()) else {
        return;
    };
    let Ok(config) = crate::config::Config::defaults(None) else {
        return;
    };
    let out_dir = options.out_dir.clone().unwrap_or_else(|| ws.out_dir());
    let file = location
        .path
        .strip_prefix(&ws.root)
        .unwrap_or(&location.path)
        .display()
        .to_string();
    let mut run = crate::context::run_info(
        &ws,
        &config,
        &crate::suites::testrun::RunOptions::default(),
        chrono::Utc::now(),
        0.0,
    );
    if let Some(p) = &options.select.profile {
        run.profile = p.clone();
    }
    let mut report = Report::new(run, Vec::new());
    report.verdict.reasons = vec![format!(
        "the gate could not run: {file}:{}:{}: {message}",
        location.line, location.col
    )];
    report.config_error = Some(crate::model::ConfigProblem {
        file,
        line: location.line,
        col: location.col,
        message: message.clone(),
        hint: hint.clone(),
    });
    if let Ok(renderer) = Renderer::new(None, false)
        && write_outputs(&report, &renderer, &out_dir).is_ok()
    {
        eprintln!(
            "the config error is in {} too, for `cargo gate comment`",
            display_path(&out_dir.join("report.json")).display()
        );
    }
}
