//! The built-in runner: the plan's tests scheduled on `jobs` threads — one process per test
//! (`single.rs`), or a binary at a time in binary isolation (`batch.rs`) — with fail-fast,
//! progress and Ctrl-C.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, mpsc};
use std::thread;
use std::time::Instant;

use super::batch::{self, BatchTest, Mode};
use super::single::{Event, Selected, run_test};
use super::{Backend, Plan, RunOptions, Unit, default_jobs, doctest, not_run, plan};
use crate::config::TestsConfig;
use crate::error::Result;
use crate::event::{self, Sink, TestsPlanned};
use crate::exec::process::{self};
use crate::model::{Case, CaseStatus, Details, Suite, SuiteKind, SuiteStatus, TestsDetails};
use crate::workspace::Workspace;

/// The built-in runner: one process per test, scheduled here.
pub struct Builtin;

impl Backend for Builtin {
    fn run(
        &self,
        ws: &Workspace,
        cfg: &TestsConfig,
        opts: &RunOptions,
        events: Sink<'_>,
    ) -> Result<Suite> {
        run_builtin(ws, cfg, opts, events)
    }
}

/// Runs the whole tests suite with the built-in runner.
fn run_builtin(
    ws: &Workspace,
    cfg: &TestsConfig,
    opts: &RunOptions,
    events: Sink<'_>,
) -> Result<Suite> {
    let start = Instant::now();
    let plan = match plan(ws, cfg, opts, events)? {
        Ok(p) => p,
        Err(errors) => {
            let shown: Vec<&str> = errors.iter().take(20).map(String::as_str).collect();
            return Ok(Suite {
                status: SuiteStatus::Error,
                duration: start.elapsed().as_secs_f64(),
                error: Some(if crate::exec::process::is_cancelled() {
                    shown.join("\n")
                } else {
                    format!("build failed:\n{}", shown.join("\n"))
                }),
                details: Details::Tests(TestsDetails {
                    build_duration: Some(start.elapsed().as_secs_f64()),
                    ..TestsDetails::default()
                }),
                ..Suite::new(SuiteKind::Tests)
            });
        }
    };
    let exec_start = Instant::now();
    let build_secs = (exec_start - start).as_secs_f64();
    let (mut cases, modes) = execute(ws, cfg, opts, &plan, events);
    let exec_secs = exec_start.elapsed().as_secs_f64();
    cases.extend(plan.skipped);
    cases.extend(plan.list_failures);
    cases.sort_by(|a, b| a.id.cmp(&b.id));
    let duration = start.elapsed().as_secs_f64();
    let mut suite = Suite {
        duration,
        error: None,
        cases,
        // Running time without the build (whose time depends on caches), stored in baselines so
        // a slower test suite shows up in the trend.
        metrics: vec![crate::model::Metric::wall_time("tests.duration", exec_secs)],
        details: Details::Tests(TestsDetails {
            isolation: modes.into_iter().collect(),
            build_duration: Some(build_secs),
            base: None,
        }),
        ..Suite::new(SuiteKind::Tests)
    };
    suite.refresh_status();
    Ok(suite)
}

/// The header's counts: what the plan runs and what it skipped.
fn header(plan: &Plan) -> TestsPlanned {
    let mut binaries = BTreeSet::new();
    let mut h = TestsPlanned {
        skipped: plan.skipped.len(),
        ..TestsPlanned::default()
    };
    for u in &plan.units {
        match u {
            Unit::Test { binary, .. } => {
                h.tests += 1;
                binaries.insert(*binary);
            }
            Unit::Doc { packages, .. } => h.doc_packages += packages.len(),
        }
    }
    h.binaries = binaries.len();
    h
}

/// What one worker picks up: a unit of the plan, or a binary's tests as one batch.
enum Work {
    One(Unit),
    Batch {
        binary: usize,
        tests: Vec<BatchTest>,
        everything: bool,
    },
}

/// The plan's units as work: the tests of binaries that run in binary isolation become one
/// batch per binary; the rest stay one unit each. The modes chosen are returned by binary id.
fn work_of(cfg: &TestsConfig, opts: &RunOptions, plan: &Plan) -> (Vec<Work>, Vec<(String, Mode)>) {
    let mut by_binary: BTreeMap<usize, Vec<&Unit>> = BTreeMap::new();
    for u in &plan.units {
        if let Unit::Test {
            binary,
            whole: false,
            ..
        } = u
        {
            by_binary.entry(*binary).or_default().push(u);
        }
    }
    let mut modes = Vec::new();
    let mut batched: BTreeSet<usize> = BTreeSet::new();
    let mut work = Vec::new();
    for (binary, units) in &by_binary {
        let ids: Vec<&str> = units.iter().map(|u| u.id()).collect();
        let mode = batch::mode(cfg.isolation, &ids, opts.test_times.as_ref());
        modes.push((plan.binaries[*binary].id.clone(), mode));
        if mode == Mode::Binary {
            batched.insert(*binary);
            let tests = units
                .iter()
                .filter_map(|u| match u {
                    Unit::Test {
                        name, id, ignored, ..
                    } => Some(BatchTest {
                        name: name.clone(),
                        id: id.clone(),
                        ignored: *ignored,
                    }),
                    Unit::Doc { .. } => None,
                })
                .collect();
            // Without filters or shards every listed test of the binary is here, so libtest can
            // be run with no names at all.
            let everything =
                opts.filters.is_empty() && opts.skip.is_empty() && opts.partition.is_none();
            work.push(Work::Batch {
                binary: *binary,
                tests,
                everything,
            });
        }
    }
    for u in &plan.units {
        let in_batch =
            matches!(u, Unit::Test { binary, whole: false, .. } if batched.contains(binary));
        if !in_batch {
            work.push(Work::One(u.clone()));
        }
    }
    (work, modes)
}

impl Work {
    /// Seconds it took last time, by the recorded durations.
    fn weight(&self, times: &crate::baseline::note::TestTimes) -> f64 {
        match self {
            // The doctests weigh what each package's doctests took.
            Work::One(Unit::Doc { packages, .. }) => {
                packages.iter().map(|p| times.weight(&p.binary())).sum()
            }
            Work::One(u) => times.weight(u.id()),
            Work::Batch { tests, .. } => tests.iter().map(|t| times.weight(&t.id)).sum(),
        }
    }

    /// The name progress shows while it runs, and the tests it stands for.
    fn label(&self, plan: &Plan) -> (String, usize) {
        match self {
            Work::One(Unit::Doc { packages, .. }) => (
                format!(
                    "doctests ({} package{})",
                    packages.len(),
                    if packages.len() == 1 { "" } else { "s" }
                ),
                1,
            ),
            Work::One(u) => (u.id().to_string(), 1),
            Work::Batch { binary, tests, .. } => (
                format!("{} ({} tests)", plan.binaries[*binary].id, tests.len()),
                tests.len(),
            ),
        }
    }
}

fn execute(
    ws: &Workspace,
    cfg: &TestsConfig,
    opts: &RunOptions,
    plan: &Plan,
    events: Sink<'_>,
) -> (Vec<Case>, Vec<(String, Mode)>) {
    let (work, modes) = work_of(cfg, opts, plan);
    let total = work.len();
    let jobs = cfg.jobs.unwrap_or_else(default_jobs).max(1);
    let mut header = header(plan);
    // What the tests took last time, when the notes recorded it: the ETA is then theirs.
    header.expected_seconds = opts
        .test_times
        .as_ref()
        .filter(|t| !t.is_empty())
        .map(|t| work.iter().map(|w| w.weight(t)).sum());
    header.jobs = jobs.min(total).max(1);
    events(&event::Event::TestsPlanned(&header));
    let queue: Mutex<VecDeque<Work>> = Mutex::new(work.into());
    let stop = AtomicBool::new(false);
    let mut cases = Vec::new();
    let (tx, rx) = mpsc::channel::<Event>();
    thread::scope(|s| {
        for _ in 0..jobs.min(total) {
            let tx = tx.clone();
            let queue = &queue;
            let stop = &stop;
            s.spawn(move || {
                loop {
                    if stop.load(Ordering::SeqCst) || process::is_cancelled() {
                        break;
                    }
                    let work = queue.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
                    let Some(work) = work else { break };
                    let (label, tests) = work.label(plan);
                    let weight = opts.test_times.as_ref().map_or(0.0, |t| work.weight(t));
                    let _ = tx.send(Event::Started(label.clone(), tests, weight));
                    let result = perform(&work, plan, ws, cfg, opts, &tx);
                    let _ = tx.send(Event::Finished(label, result));
                }
            });
        }
        drop(tx);
        // Workers hand their news to this thread, which passes it on in the order it came.
        for news in rx {
            match news {
                Event::Started(label, tests, weight) => events(&event::Event::TestStarted {
                    unit: &label,
                    tests,
                    weight,
                }),
                Event::Slow(id, elapsed) => events(&event::Event::TestSlow { id: &id, elapsed }),
                Event::Retrying(id, attempt, previous) => events(&event::Event::TestRetry {
                    id: &id,
                    attempt,
                    previous: &previous,
                }),
                Event::Finished(label, done) => {
                    events(&event::Event::TestFinished {
                        unit: &label,
                        cases: &done,
                    });
                    if cfg.fail_fast && done.iter().any(|c| c.status.is_failure()) {
                        stop.store(true, Ordering::SeqCst);
                    }
                    cases.extend(done);
                }
            }
        }
    });
    // Whatever was not run is reported, so a partial report says what it is missing.
    let reason = if process::is_cancelled() {
        "not run: the run was interrupted"
    } else {
        "not run: --fail-fast stopped the run after a failure"
    };
    let leftover: Vec<Work> = queue.into_inner().unwrap_or_else(|p| p.into_inner()).into();
    cases.extend(leftover.into_iter().flat_map(|w| not_done(w, plan, reason)));
    (cases, modes)
}

/// Runs one piece of work on a worker thread.
fn perform(
    work: &Work,
    plan: &Plan,
    ws: &Workspace,
    cfg: &TestsConfig,
    opts: &RunOptions,
    tx: &mpsc::Sender<Event>,
) -> Vec<Case> {
    match work {
        Work::Batch {
            binary,
            tests,
            everything,
        } => batch::run(
            &plan.binaries[*binary],
            tests,
            *everything,
            cfg,
            &ws.root,
            tx,
        ),
        Work::One(Unit::Test {
            binary,
            name,
            ignored,
            id,
            whole,
        }) => run_test(
            &plan.binaries[*binary],
            Selected {
                name,
                ignored: *ignored,
                whole: *whole,
            },
            id,
            cfg,
            &ws.root,
            tx,
        ),
        Work::One(Unit::Doc { packages, .. }) => doctest::run(ws, packages, cfg, opts),
    }
}

/// The cases of work that never ran (Ctrl-C, `--fail-fast`), so a partial report says what it
/// is missing.
fn not_done(work: Work, plan: &Plan, reason: &str) -> Vec<Case> {
    match work {
        Work::Batch { binary, tests, .. } => tests
            .into_iter()
            .map(|t| not_run(&plan.binaries[binary], &t.name, t.id, reason))
            .collect(),
        Work::One(Unit::Test {
            binary, name, id, ..
        }) => vec![not_run(&plan.binaries[binary], &name, id, reason)],
        Work::One(Unit::Doc { packages, .. }) => packages
            .iter()
            .map(|p| Case {
                id: format!("{} (doctests)", p.binary()),
                name: "(doctests)".to_string(),
                package: Some(p.name.clone()),
                binary: Some(p.binary()),
                status: CaseStatus::Skipped,
                attempts: Vec::new(),
                location: None,
                message: Some(reason.to_string()),
                detail: None,
                regions: Vec::new(),
                diff: Vec::new(),
                history: None,
            })
            .collect(),
    }
}
