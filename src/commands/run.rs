//! `cargo gate run`: the selected suites, the baseline comparison, the gate, the outputs.

use std::io::IsTerminal;
use std::path::Path;

use super::{Prepared, color_stdout, exit_for, prepare, print_scorecard};
use crate::cli::{ProgressMode, RunArgs};
use crate::config::Config;
use crate::context::display_path;
use crate::error::{EXIT_GATE_FAILED, Error, Result};
use crate::exec::process;
use crate::gate;
use crate::model::{Report, SuiteKind, VerdictStatus};
use crate::render::{Format, Renderer};
use crate::suites::{self, RunContext};

pub fn run(manifest: Option<&Path>, explicit: Option<&Path>, args: RunArgs) -> Result<i32> {
    if args.jobs == Some(0) {
        return Err(Error::usage("--jobs must be at least 1", None));
    }
    let Prepared {
        ws,
        mut config,
        mut opts,
    } = match prepare(manifest, explicit, &args.select) {
        Ok(p) => p,
        Err(e) => {
            report_config_error(manifest, &args, &e);
            return Err(e);
        }
    };
    let tests = &mut config.tests;
    if let Some(j) = args.jobs {
        tests.jobs = Some(j);
    }
    if let Some(r) = args.retries {
        tests.retries = r;
    }
    if args.fail_fast {
        tests.fail_fast = true;
    }
    if args.no_fail_fast {
        tests.fail_fast = false;
    }
    if args.no_doctests {
        tests.doctests = false;
    }
    let terminal = std::io::stderr().is_terminal();
    opts.tty = match args.progress {
        ProgressMode::Auto => terminal,
        // A bar drawn nowhere would hide every line, failures included: lines instead.
        ProgressMode::Bar if !terminal => {
            eprintln!("--progress bar: standard error is not a terminal, showing lines instead");
            false
        }
        ProgressMode::Bar => true,
        ProgressMode::Lines => false,
    };
    let renderer = Renderer::new(args.template.as_deref(), color_stdout())?;
    let out_dir = args.out_dir.clone().unwrap_or_else(|| ws.out_dir());
    process::install_signal_handler();

    let started = chrono::Utc::now();
    let clock = std::time::Instant::now();
    let later_shard = opts.partition.is_some_and(|p| p.shard > 1);
    if later_shard && args.suite.is_empty() {
        eprintln!(
            "partition shard > 1: only the tests run here; shard 1 runs the other configured suites"
        );
    }
    // The base's test history: it quarantines flaky tests before the run and tells each case
    // after it whether its failure is new.
    let history = if args.no_baseline || !config.baseline.enabled {
        None
    } else {
        let depth = config
            .baseline
            .max_depth
            .max(config.tests.flaky.policy.window * 2);
        let (h, warnings) =
            crate::baseline::base_history(&ws.root, args.baseline_rev.as_deref(), depth);
        for w in warnings {
            eprintln!("warning: {w}");
        }
        h
    };
    if config.tests.flaky.quarantine == crate::config::FlakyQuarantine::Auto
        && let Some(h) = &history
    {
        config.tests.auto_quarantine =
            crate::baseline::testhistory::quarantined(&h.tests, &config.tests.flaky.policy);
        for (id, why) in &config.tests.auto_quarantine {
            // Ids come from the notes, which anyone who can push may have written.
            let id = crate::util::sanitize::strip_controls(id, false);
            eprintln!("quarantined by history: {id} ({why})");
        }
    }
    let selected = suites::select(&config, &ws, &args.suite, later_shard);
    let progress = SuiteProgress::new(opts.tty);
    let show = |e: &suites::Event<'_>| progress.show(e);
    let mut cx = RunContext {
        ws: &ws,
        config: &config,
        select: &opts,
        out_dir: &out_dir,
        baseline_rev: args.baseline_rev.as_deref(),
        paired: args.paired.as_deref(),
        test_env: Vec::new(),
        finished: Vec::new(),
        environment: None,
        events: &show,
    };
    suites::run_all(&selected, &mut cx)?;
    let suites = std::mem::take(&mut cx.finished);
    // The verdict is decided by `gate::apply` below, before anything reads it.
    let mut report = Report::new(
        crate::context::run_info(&ws, &config, &opts, started, clock.elapsed().as_secs_f64()),
        suites,
    );
    if let Some(h) = &history
        && let Some(tests) = report
            .suites
            .iter_mut()
            .find(|s| s.kind == SuiteKind::Tests)
    {
        // Only a run of every test can say a test is gone.
        let complete = opts.filters.is_empty()
            && !args.no_doctests
            && opts.skip.is_empty()
            && opts.packages.is_empty()
            && opts.partition.is_none()
            && opts.affected.is_none();
        crate::baseline::testhistory::annotate(
            tests,
            &h.tests,
            config.tests.flaky.policy.window,
            complete,
            &config.tests.auto_quarantine,
            h.duration,
        );
    }
    attach_baseline(&mut report, &ws.root, &config, &args);
    attach_paired(&mut report, &config);
    gate::apply(&mut report, &config.rules);
    let written = write_outputs(&report, &renderer, &out_dir);
    print_scorecard(&renderer, &report);
    match written {
        Ok(()) => {
            eprintln!("reports written to {}", display_path(&out_dir).display());
            Ok(exit_for(&report))
        }
        // A failed gate stays a failed gate (exit 1) even when an output cannot be written;
        // a passing gate whose outputs are missing is an internal error (exit 3).
        Err(e) => {
            eprintln!("error: {e}");
            if let Some(hint) = e.hint() {
                eprintln!("  help: {hint}");
            }
            Ok(match report.verdict.status {
                VerdictStatus::Failed => EXIT_GATE_FAILED,
                VerdictStatus::Passed => crate::error::EXIT_INTERNAL,
            })
        }
    }
}

/// Benchmarks measured A/B in this job are judged by their rounds, not by the notes: their
/// comparisons replace the stored-baseline ones (rules on regressions then use them).
fn attach_paired(report: &mut Report, config: &Config) {
    let paired: Vec<crate::model::Comparison> = report
        .suites
        .iter()
        .flat_map(|s| &s.paired)
        .map(|p| {
            crate::baseline::compare::compare_paired(
                &p.metric,
                &p.unit,
                p.direction,
                &p.base,
                &p.current,
                &p.rev,
                config.bench.paired_min_effect_pct,
            )
        })
        .collect();
    if paired.is_empty() {
        return;
    }
    report
        .comparisons
        .retain(|c| !paired.iter().any(|p| p.metric == c.metric));
    report.comparisons.extend(paired);
    crate::baseline::sort_worst_first(&mut report.comparisons);
}

/// Compares the run's performance metrics with the baseline in git notes; says why not when it
/// cannot (the rules on regressions are then skipped, never silently passed).
fn attach_baseline(report: &mut Report, root: &Path, config: &Config, args: &RunArgs) {
    if crate::baseline::perf_metrics(report).is_empty() {
        return;
    }
    // Without benchmarks and without any saved note, the team does not use baselines: a table
    // of one "new" test duration on every run would only be noise.
    let has_bench =
        report.suite(SuiteKind::Bench).is_some() || report.suite(SuiteKind::Load).is_some();
    let has_notes =
        crate::baseline::notes::Store::open(root).is_ok_and(|s| s.notes_tip().is_some());
    if !has_bench && !has_notes {
        return;
    }
    let why_not = if args.no_baseline {
        Some("baseline comparison is off (--no-baseline)".to_string())
    } else if !config.baseline.enabled {
        Some("baseline comparison is off in gate.toml".to_string())
    } else {
        None
    };
    if let Some(reason) = why_not {
        report.baseline_note = Some(reason);
        return;
    }
    let result = crate::baseline::notes::Store::open(root).and_then(|store| {
        let (base, how) = crate::baseline::resolve_base(&store, args.baseline_rev.as_deref())?;
        let (comparisons, warnings) =
            crate::baseline::compare_report(&store, report, base, &config.baseline)?;
        Ok((comparisons, warnings, how))
    });
    match result {
        Ok((comparisons, warnings, how)) => {
            for w in warnings {
                eprintln!("warning: {w}");
            }
            if comparisons.iter().all(|c| c.baseline_rev.is_none()) {
                report.baseline_note = Some(format!(
                    "no baseline: no note within {} commits of {how} (save one with `cargo gate baseline save` on the default branch)",
                    config.baseline.max_depth
                ));
            }
            report.comparisons = comparisons;
        }
        Err(e) => {
            report.baseline_note = Some(no_baseline(&e));
            report.comparisons = crate::baseline::all_new(report);
        }
    }
}

/// Why there is nothing to compare with, in the user's terms: the first commit of a repository
/// has no `HEAD^` (a first run, not a problem).
fn no_baseline(e: &crate::baseline::notes::StoreError) -> String {
    use crate::baseline::notes::StoreError;
    match e {
        StoreError::BadRev { rev, .. } if rev == "HEAD^" => "no baseline: first commit, nothing to compare with yet; this run becomes the baseline once saved (`cargo gate baseline save`, which the action does on the default branch)".to_string(),
        other => format!("no baseline: {other}"),
    }
}

/// Writes report.json first (the source of truth), then the renderings.
fn write_outputs(report: &Report, renderer: &Renderer, dir: &Path) -> Result<()> {
    report.write(&dir.join("report.json"))?;
    let outputs = [
        ("junit.xml", Format::Junit),
        ("summary.md", Format::Markdown),
        ("report.html", Format::Html),
    ];
    for (name, format) in outputs {
        let text = renderer.render(report, format)?;
        crate::util::fs::write_atomic(&dir.join(name), text.as_bytes())?;
    }
    // Badges, for a default-branch job to publish (e.g. to GitHub Pages or a badges branch).
    let passed = report.verdict.status == crate::model::VerdictStatus::Passed;
    crate::util::fs::write_atomic(
        &dir.join("gate.svg"),
        crate::render::badge::verdict(passed).as_bytes(),
    )?;
    if let Some(c) = report
        .suite(crate::model::SuiteKind::Coverage)
        .and_then(|s| s.coverage.as_ref())
    {
        crate::util::fs::write_atomic(
            &dir.join("coverage.svg"),
            crate::render::badge::coverage(c.head.percent).as_bytes(),
        )?;
    }
    Ok(())
}

/// What the suites other than the tests show while they run (the tests suite shows its own
/// progress test by test): one line per suite as it finishes, so a CI log says what ran while
/// the run goes on, and a running suite's output — streamed as lines in a log, a spinner naming
/// the current benchmark on a terminal.
struct SuiteProgress {
    tty: bool,
    color: bool,
    spinner: std::cell::RefCell<Option<indicatif::ProgressBar>>,
}

impl SuiteProgress {
    fn new(tty: bool) -> SuiteProgress {
        SuiteProgress {
            tty,
            color: crate::util::color::stderr(),
            spinner: std::cell::RefCell::new(None),
        }
    }

    fn show(&self, event: &suites::Event<'_>) {
        match event {
            suites::Event::Started(_) => {}
            suites::Event::Output(kind, line) => {
                // The suite's commands print what they like: controls out, colour only on a
                // terminal.
                let line = crate::util::sanitize::strip_controls(line, self.color);
                if self.tty {
                    let mut spinner = self.spinner.borrow_mut();
                    let bar = spinner.get_or_insert_with(|| {
                        let bar = indicatif::ProgressBar::new_spinner();
                        bar.enable_steady_tick(std::time::Duration::from_millis(100));
                        bar
                    });
                    let shown = crate::suites::bench::benchmark_named(&line)
                        .map_or_else(|| line.trim().to_string(), |b| format!("benchmarking {b}"));
                    if !shown.is_empty() {
                        bar.set_message(format!("{}: {shown}", kind.as_str()));
                    }
                } else {
                    eprintln!("{:>13} │ {line}", kind.as_str());
                }
            }
            suites::Event::Finished(s) => {
                if let Some(bar) = self.spinner.borrow_mut().take() {
                    bar.finish_and_clear();
                }
                if s.kind != SuiteKind::Tests {
                    eprintln!("{}", finished_line(s));
                }
            }
        }
    }
}

/// `       PASSED bench: 4 benchmarks, 1 regressed (12.3s)`: what a finished suite did, in its
/// own terms — benchmarks for the bench suite, cases for the others.
fn finished_line(s: &crate::model::Suite) -> String {
    let status = match s.status {
        crate::model::SuiteStatus::Passed => "passed",
        crate::model::SuiteStatus::Failed => "failed",
        crate::model::SuiteStatus::Error => "could not run",
    };
    let c = crate::model::Counts::of(&s.cases);
    let what = if s.kind == SuiteKind::Bench {
        let mut w = format!(
            "{} benchmark{}",
            s.metrics.len(),
            if s.metrics.len() == 1 { "" } else { "s" }
        );
        if c.failed + c.timed_out > 0 {
            w.push_str(&format!(", {} error(s)", c.failed + c.timed_out));
        }
        w
    } else {
        format!(
            "{} passed, {} failed",
            c.passed + c.flaky,
            c.failed + c.timed_out
        )
    };
    format!(
        "{:>13} {}: {what} ({})",
        status.to_uppercase(),
        s.name,
        crate::util::units::format_seconds(s.duration)
    )
}

/// A config error still leaves a `report.json` — verdict failed, the error and its position,
/// nothing run — so `cargo gate comment` can put it on the pull request: an annotation at the
/// broken line, a comment and summary saying the gate could not run and why. The exit code
/// stays 2. Other errors (no workspace, a bad command line) leave nothing: there is no
/// `target/` to write to, or the user is at the terminal.
fn report_config_error(manifest: Option<&Path>, args: &RunArgs, e: &Error) {
    let Error::Config {
        location,
        message,
        hint,
    } = e
    else {
        return;
    };
    let Ok(ws) = crate::workspace::Workspace::load(manifest) else {
        return;
    };
    let Ok(config) = Config::defaults(None) else {
        return;
    };
    let out_dir = args.out_dir.clone().unwrap_or_else(|| ws.out_dir());
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
    if let Some(p) = &args.select.profile {
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
