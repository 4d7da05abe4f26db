//! One test in a process of its own: its attempts (retries), slow notice, timeout, outcome,
//! message and location. The built-in runner schedules these; batches fall back on them for
//! every test that fails or does not finish in the batch.

use std::sync::{Mutex, mpsc};
use std::time::Duration;

use super::build::TestBinary;
use super::{INTERRUPTED_WHILE_RUNNING, libtest, not_run, place_panic, test_command};
use crate::config::TestsConfig;
use crate::exec::process::{self, Exit, Limits};
use crate::model::{Attempt, Case, CaseStatus};

/// What a running test tells the progress display.
pub(super) enum Event {
    /// A unit of work (its label) standing for this many tests, expected to take this many
    /// seconds (0 without recorded durations), started.
    Started(String, usize, f64),
    Slow(String, Duration),
    /// The test runs attempt `u32` after the attempt given ended.
    Retrying(String, u32, Attempt),
    /// The unit of work with this label produced these cases.
    Finished(String, Vec<Case>),
}

/// Which test of a binary to run, and how.
pub(super) struct Selected<'a> {
    pub(super) name: &'a str,
    pub(super) ignored: bool,
    pub(super) whole: bool,
}

pub(super) fn run_test(
    bin: &TestBinary,
    test: Selected<'_>,
    id: &str,
    cfg: &TestsConfig,
    ws_root: &std::path::Path,
    tx: &mpsc::Sender<Event>,
) -> Vec<Case> {
    let name = test.name;
    let max_attempts = cfg.retries.saturating_add(1);
    let mut attempts: Vec<Attempt> = Vec::new();
    let mut last_failure: Option<(String, Option<crate::model::SourceLocation>)> = None;
    let slow_tx = Mutex::new(tx.clone());
    let on_slow = |elapsed: Duration| {
        let _ = slow_tx
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .send(Event::Slow(id.to_string(), elapsed));
    };
    for attempt in 1..=max_attempts {
        if attempt > 1
            && let Some(previous) = attempts.last()
        {
            let _ = tx.send(Event::Retrying(id.to_string(), attempt, previous.clone()));
        }
        let mut cmd = test_command(bin, cfg);
        if !test.whole {
            cmd.arg("--exact").arg(test.name);
            cmd.args(bin.dialect.no_capture);
            if test.ignored {
                cmd.arg("--ignored");
            }
        }
        cmd.env("CARGO_GATE_ATTEMPT", attempt.to_string());
        cmd.env("CARGO_GATE_TOTAL_ATTEMPTS", max_attempts.to_string());
        let limits = Limits {
            tail_bytes: cfg.output_tail,
            slow: cfg.slow_timeout.map(|d| (d, &on_slow as &dyn Fn(Duration))),
            timeout: cfg.timeout,
        };
        let outcome = match process::run(cmd, &limits) {
            Ok(o) => o,
            Err(e) => {
                attempts.push(Attempt {
                    shared: false,
                    status: CaseStatus::Failed,
                    duration: 0.0,
                    output_tail: String::new(),
                });
                last_failure = Some((format!("cannot start {}: {e}", bin.path.display()), None));
                continue;
            }
        };
        let output = outcome.output_text();
        let secs = outcome.duration.as_secs_f64();
        let Some((status, failure)) = ended(&outcome.exit, &output, secs, bin, &test, ws_root)
        else {
            let mut case = not_run(bin, name, id.to_string(), INTERRUPTED_WHILE_RUNNING);
            case.attempts = attempts;
            return vec![case];
        };
        attempts.push(Attempt {
            shared: false,
            status,
            duration: secs,
            // Passing output is noise in a report; failures keep theirs.
            output_tail: if status.is_failure() {
                output
            } else {
                String::new()
            },
        });
        if status == CaseStatus::Passed {
            break;
        }
        last_failure = failure;
        // Ignored at run time: it would be ignored again.
        if status == CaseStatus::Skipped {
            break;
        }
    }
    let last = attempts.last().map_or(CaseStatus::Failed, |a| a.status);
    let status = match last {
        CaseStatus::Passed if attempts.len() > 1 => CaseStatus::Flaky,
        other => other,
    };
    let (status, message, location) =
        super::settle(cfg, id, name, status, attempts.len(), last_failure);
    vec![Case {
        id: id.to_string(),
        name: name.to_string(),
        package: Some(bin.package.clone()),
        binary: Some(bin.id.clone()),
        status,
        attempts,
        location,
        message,
        detail: None,
        regions: Vec::new(),
        diff: Vec::new(),
        history: None,
    }]
}

/// How one attempt ended: its status and, for a failure, why. `None` when Ctrl-C stopped it.
fn ended(
    exit: &Exit,
    output: &str,
    secs: f64,
    bin: &TestBinary,
    test: &Selected<'_>,
    ws_root: &std::path::Path,
) -> Option<(CaseStatus, Option<super::Failure>)> {
    let name = test.name;
    Some(match *exit {
        Exit::Interrupted => return None,
        Exit::Code(0) if !test.whole && output.contains("running 0 tests") => (
            CaseStatus::Failed,
            Some((
                format!("the test binary did not run `{name}`: it was not found by --exact"),
                None,
            )),
        ),
        // A harness whose tests decide at run time that they are ignored (libtest2-mimic's
        // `ignore_for`) says so in the result line, and exits 0.
        Exit::Code(0) if !test.whole && ignored_at_run_time(output, name) => (
            CaseStatus::Skipped,
            Some(("ignored by its harness when it ran".to_string(), None)),
        ),
        Exit::Code(0) => (CaseStatus::Passed, None),
        Exit::Code(code) => (
            CaseStatus::Failed,
            Some(
                libtest::parse_panic(output)
                    .map(|(m, loc)| place_panic(m, loc, &bin.package_dir, ws_root))
                    .or_else(|| libtest::failure_message(output, name).map(|m| (m, None)))
                    .unwrap_or_else(|| (format!("the test process exited with code {code}"), None)),
            ),
        ),
        Exit::Signal(sig) => (
            CaseStatus::Failed,
            Some((
                format!(
                    "the test process was killed by signal {} ({sig})",
                    crate::exec::process::signal_name(sig)
                ),
                None,
            )),
        ),
        Exit::TimedOut => (
            CaseStatus::TimedOut,
            Some((
                format!(
                    "timed out after {}; its process group was killed",
                    crate::util::units::format_seconds(secs)
                ),
                None,
            )),
        ),
    })
}

/// Whether the output's result line for `name` says `ignored`.
fn ignored_at_run_time(output: &str, name: &str) -> bool {
    libtest::parse_result_lines(output)
        .iter()
        .any(|r| r.name == name && r.outcome == libtest::LineOutcome::Ignored)
}
