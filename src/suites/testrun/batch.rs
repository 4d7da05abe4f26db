//! Binary isolation: a test binary's tests run in a few processes, each a chunk of them, as
//! `cargo test` runs a binary, which costs a few process starts for thousands of tiny tests
//! instead of one each (`schedule` deals the chunks to the jobs). Every
//! test that fails in the batch runs again alone in its own process, so its outcome, retries,
//! timeout and output are per test as in process isolation; tests the batch never finished (it
//! hung past the timeout, or crashed) run alone too.

use std::collections::HashMap;
use std::sync::mpsc;

use super::build::TestBinary;
use super::libtest::{LineOutcome, failure_section, parse_result_lines};
use super::single::{Event, Selected, run_test};
use super::{INTERRUPTED_WHILE_RUNNING, not_run, test_command};
use crate::baseline::note::TestTimes;
use crate::config::{Isolation, TestsConfig};
use crate::exec::process::{self, Exit};
/// How a binary's tests run, as the report records it.
pub use crate::model::Isolation as Mode;
use crate::model::{Attempt, Case, CaseStatus};

/// With no recorded durations, a binary with at least this many selected tests runs as one
/// batch: below it, process starts cost little and isolation is worth more.
pub const MIN_TESTS_WITHOUT_HISTORY: usize = 32;
/// With recorded durations, a binary batches when it has at least this many tests ...
pub const MIN_TESTS_WITH_HISTORY: usize = 8;
/// ... and they take this long on average at most (seconds): slow tests keep their own process.
pub const MAX_MEAN_SECS: f64 = 0.05;

/// Bytes kept per test for its result line (`test NAME ... ok`), names included.
const RESULT_LINE_ROOM: usize = 512;

/// Names per libtest invocation when only some of a binary's tests are selected: well within
/// the kernel's argument limits.
const NAMES_PER_INVOCATION: usize = 1000;

/// The mode for a binary whose selected tests have these ids.
pub fn mode(isolation: Isolation, ids: &[&str], times: Option<&TestTimes>) -> Mode {
    match isolation {
        Isolation::Process => Mode::Process,
        Isolation::Binary => Mode::Binary,
        Isolation::Auto => {
            let n = ids.len();
            let batch = match times.filter(|t| !t.is_empty()) {
                None => n >= MIN_TESTS_WITHOUT_HISTORY,
                Some(t) => {
                    let mean = ids.iter().map(|id| t.weight(id)).sum::<f64>() / n.max(1) as f64;
                    n >= MIN_TESTS_WITH_HISTORY && mean <= MAX_MEAN_SECS
                }
            };
            if batch { Mode::Binary } else { Mode::Process }
        }
    }
}

/// One test of a batch.
#[derive(Debug, Clone)]
pub struct BatchTest {
    /// The test's name.
    pub name: String,
    /// Its case id.
    pub id: String,
    /// Marked `#[ignore]`.
    pub ignored: bool,
}

/// Runs `tests` of `bin` as batches (all of them at once when `everything` is selected), then
/// every failing or unfinished test alone.
pub(super) fn run(
    bin: &TestBinary,
    tests: &[BatchTest],
    everything: bool,
    cfg: &TestsConfig,
    ws_root: &std::path::Path,
    tx: &mpsc::Sender<Event>,
) -> Vec<Case> {
    let chunks: Vec<&[BatchTest]> = if everything {
        vec![tests]
    } else {
        tests.chunks(NAMES_PER_INVOCATION).collect()
    };
    let mut cases = Vec::new();
    for chunk in chunks {
        cases.extend(run_chunk(bin, chunk, everything, cfg, ws_root, tx));
    }
    cases
}

/// One libtest invocation, then its failures alone.
fn run_chunk(
    bin: &TestBinary,
    tests: &[BatchTest],
    everything: bool,
    cfg: &TestsConfig,
    ws_root: &std::path::Path,
    tx: &mpsc::Sender<Event>,
) -> Vec<Case> {
    let mut cmd = test_command(bin, cfg);
    // One thread: the scheduler runs as many chunks side by side as there are jobs, so the
    // tests never outnumber the jobs (see `schedule`).
    cmd.arg("--test-threads").arg("1");
    cmd.args(super::ignored_arg(cfg.run_ignored));
    if !everything {
        cmd.arg("--exact");
        cmd.args(tests.iter().map(|t| &t.name));
    }
    // Every result line must be kept (a test whose line was cut would run again alone), and
    // the failures section holds the failing tests' output: room for both.
    let tail_bytes = tests
        .len()
        .saturating_mul(RESULT_LINE_ROOM)
        .saturating_add(cfg.output_tail.saturating_mul(tests.len().min(64)))
        .max(1024 * 1024);
    let outcome = process::run_with_progress(cmd, tail_bytes, cfg.timeout, is_result_line);
    // A batch that could not start leaves every test to run alone.
    let output = outcome.as_ref().map_or(String::new(), |o| o.output_text());
    if matches!(&outcome, Ok(o) if o.exit == Exit::Interrupted) {
        return tests
            .iter()
            .map(|t| not_run(bin, &t.name, t.id.clone(), INTERRUPTED_WHILE_RUNNING))
            .collect();
    }
    let results = results_by_name(&output);
    let outcome_of = |name: &str| results.get(name).copied();
    let mut cases = Vec::new();
    for t in tests {
        let alone = || {
            run_test(
                bin,
                Selected {
                    name: &t.name,
                    ignored: t.ignored,
                    whole: false,
                },
                &t.id,
                cfg,
                ws_root,
                tx,
            )
        };
        match outcome_of(&t.name) {
            Some(LineOutcome::Ok) => cases.push(passed(bin, t)),
            Some(LineOutcome::Ignored) => {
                cases.push(not_run(bin, &t.name, t.id.clone(), "ignored"))
            }
            Some(LineOutcome::Failed) => {
                // libtest prints failures' output at the end: a batch stopped early has none.
                let section = failure_section(&output, &t.name)
                    .unwrap_or("(the batch was stopped before libtest printed this test's output)");
                let first = Attempt {
                    shared: false,
                    status: CaseStatus::Failed,
                    duration: 0.0,
                    output_tail: super::doctest::tail(section, cfg.output_tail),
                };
                cases.extend(
                    alone()
                        .into_iter()
                        .map(|c| after_batch_failure(c, first.clone())),
                );
            }
            // The batch ended (timeout, crash, a test that exited the process) before this one
            // finished: it runs on its own, as in process isolation.
            None => cases.extend(alone()),
        }
    }
    cases
}

/// Each test's outcome in a batch's output, by name (for thousands of tests). libtest marks
/// `#[should_panic]` tests in its result lines: `test NAME - should panic ... ok`.
fn results_by_name(output: &str) -> HashMap<String, LineOutcome> {
    parse_result_lines(output)
        .into_iter()
        .map(|r| {
            let name = match r.name.strip_suffix(" - should panic") {
                Some(n) => n.to_string(),
                None => r.name,
            };
            (name, r.outcome)
        })
        .collect()
}

fn is_result_line(line: &str) -> bool {
    line.starts_with("test ")
        && (line.ends_with(" ... ok")
            || line.ends_with(" ... FAILED")
            || line.contains(" ... ignored"))
}

fn passed(bin: &TestBinary, t: &BatchTest) -> Case {
    Case {
        id: t.id.clone(),
        name: t.name.clone(),
        package: Some(bin.package.clone()),
        binary: Some(bin.id.clone()),
        status: CaseStatus::Passed,
        // libtest does not time tests one by one in a batch; the suite's wall time covers them.
        attempts: vec![Attempt {
            shared: false,
            status: CaseStatus::Passed,
            duration: 0.0,
            output_tail: String::new(),
        }],
        location: None,
        message: None,
        detail: None,
        regions: Vec::new(),
        diff: Vec::new(),
        history: None,
    }
}

/// A test that failed in the batch and was then run alone: the batch's attempt comes first. A
/// pass alone makes it flaky: it depends on what runs beside it (shared state, order, load).
fn after_batch_failure(mut case: Case, first: Attempt) -> Case {
    case.attempts.insert(0, first);
    if case.status == CaseStatus::Passed {
        case.status = CaseStatus::Flaky;
        case.message = Some(
            "failed when run with the other tests of its binary, passed when run alone".to_string(),
        );
    }
    case
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_batches_many_quick_tests_and_isolates_few_or_slow_ones() {
        let many: Vec<String> = (0..40).map(|i| format!("b t{i}")).collect();
        let ids: Vec<&str> = many.iter().map(String::as_str).collect();
        assert_eq!(mode(Isolation::Auto, &ids, None), Mode::Binary);
        assert_eq!(mode(Isolation::Auto, &ids[..5], None), Mode::Process);
        assert_eq!(mode(Isolation::Process, &ids, None), Mode::Process);
        assert_eq!(mode(Isolation::Binary, &ids[..1], None), Mode::Binary);
        let quick = TestTimes::from_durations(ids.iter().map(|id| (id.to_string(), 0.001)));
        assert_eq!(
            mode(Isolation::Auto, &ids[..10], Some(&quick)),
            Mode::Binary
        );
        let slow = TestTimes::from_durations(ids.iter().map(|id| (id.to_string(), 0.5)));
        assert_eq!(mode(Isolation::Auto, &ids, Some(&slow)), Mode::Process);
    }

    #[test]
    fn batch_results_are_read_by_test_name() {
        let out = "running 3 tests\ntest a::b ... ok\ntest a::p - should panic ... ok\ntest a::c ... FAILED\nnoise\n";
        let r = results_by_name(out);
        assert_eq!(r.get("a::b"), Some(&LineOutcome::Ok));
        assert_eq!(
            r.get("a::p"),
            Some(&LineOutcome::Ok),
            "should_panic tests by their name"
        );
        assert_eq!(r.get("a::c"), Some(&LineOutcome::Failed));
        assert_eq!(r.len(), 3);
    }

    #[test]
    fn result_lines_are_what_moves_a_batch_on() {
        assert!(is_result_line("test a::b ... ok"));
        assert!(is_result_line("test a::b ... FAILED"));
        assert!(is_result_line("test a::b ... ignored, slow"));
        assert!(!is_result_line("running 3 tests"));
        assert!(!is_result_line("test result: ok. 3 passed"));
    }
}
