//! The built-in runner: the plan's tests scheduled on `jobs` threads — one process per test
//! (`single.rs`), or a binary at a time in binary isolation (`batch.rs`) — with fail-fast,
//! progress and Ctrl-C.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, mpsc};
use std::thread;
use std::time::Instant;

use super::batch::{self, BatchTest, Mode};
use super::schedule::{self, Chunk, Pool};
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
        Err(failure) => {
            let lines = failure.lines();
            let shown = lines[..lines.len().min(20)].join("\n");
            return Ok(Suite {
                status: SuiteStatus::Error,
                duration: start.elapsed().as_secs_f64(),
                error: Some(if crate::exec::process::is_cancelled() {
                    shown
                } else {
                    format!("build failed:\n{shown}")
                }),
                details: Details::Tests(TestsDetails {
                    build_duration: Some(start.elapsed().as_secs_f64()),
                    build_errors: failure.errors,
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
            ..TestsDetails::default()
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

/// What waits in the queue: a unit of the plan, or a binary's tests still to deal out.
enum Work {
    One(Unit),
    Pool(Pool),
}

/// What a worker runs: a unit, or a chunk of a pool.
enum Task {
    One(Unit),
    Chunk(Chunk),
}

/// The plan's units as work: the tests of a binary in binary isolation wait in a pool (but for
/// those the history knows to be slow, which run alone); the rest stay one unit each. With
/// recorded durations the heaviest work comes first. The modes chosen are returned by binary id.
fn work_of(cfg: &TestsConfig, opts: &RunOptions, plan: &Plan) -> (Vec<Work>, Vec<(String, Mode)>) {
    let times = opts.test_times.as_ref().filter(|t| !t.is_empty());
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
    // Binaries whose tests (but for the known-slow ones) wait in a pool.
    let mut pooled: BTreeSet<usize> = BTreeSet::new();
    let mut work = Vec::new();
    // Without filters or shards every listed test of a binary is selected, so a chunk that
    // takes them all can run the binary with no names at all.
    let everything = opts.filters.is_empty() && opts.skip.is_empty() && opts.partition.is_none();
    let slow = |id: &str| times.is_some_and(|t| t.weight(id) >= schedule::SLOW_ALONE_SECS);
    for (binary, units) in &by_binary {
        // Tests known to be slow run alone whatever the mode: the binary's mode is decided
        // by the others.
        let ids: Vec<&str> = units
            .iter()
            .map(|u| u.id())
            .filter(|id| !slow(id))
            .collect();
        let mode = batch::mode(cfg.isolation, &ids, times);
        modes.push((plan.binaries[*binary].id.clone(), mode));
        if mode != Mode::Binary {
            continue;
        }
        let tests: VecDeque<BatchTest> = units
            .iter()
            .filter_map(|u| match u {
                Unit::Test {
                    name, id, ignored, ..
                } if !slow(id) => Some(BatchTest {
                    name: name.clone(),
                    id: id.clone(),
                    ignored: *ignored,
                }),
                _ => None,
            })
            .collect();
        if tests.is_empty() {
            continue;
        }
        pooled.insert(*binary);
        let expected_per_test =
            times.map(|t| tests.iter().map(|x| t.weight(&x.id)).sum::<f64>() / tests.len() as f64);
        work.push(Work::Pool(Pool {
            binary: *binary,
            total: tests.len(),
            everything: everything && tests.len() == units.len(),
            tests,
            pace: Default::default(),
            expected_per_test,
        }));
    }
    for u in &plan.units {
        let in_pool = matches!(u, Unit::Test { binary, whole: false, id, .. }
            if pooled.contains(binary) && !slow(id));
        if !in_pool {
            work.push(Work::One(u.clone()));
        }
    }
    if let Some(t) = times {
        // Longest first, so no long piece of work starts last.
        work.sort_by(|a, b| b.weight(t).total_cmp(&a.weight(t)));
    }
    (work, modes)
}

/// Seconds a unit took last time, by the recorded durations.
fn unit_weight(u: &Unit, times: &crate::baseline::note::TestTimes) -> f64 {
    match u {
        // The doctests weigh what each package's doctests took.
        Unit::Doc { packages, .. } => packages.iter().map(|p| times.weight(&p.binary())).sum(),
        Unit::Test { id, .. } => times.weight(id),
    }
}

fn tests_weight(
    tests: impl IntoIterator<Item = impl AsRef<str>>,
    t: &crate::baseline::note::TestTimes,
) -> f64 {
    tests.into_iter().map(|id| t.weight(id.as_ref())).sum()
}

impl Work {
    /// Seconds it took last time, by the recorded durations.
    fn weight(&self, times: &crate::baseline::note::TestTimes) -> f64 {
        match self {
            Work::One(u) => unit_weight(u, times),
            Work::Pool(p) => tests_weight(p.tests.iter().map(|t| &t.id), times),
        }
    }
}

impl Task {
    /// Seconds it took last time, by the recorded durations.
    fn weight(&self, times: &crate::baseline::note::TestTimes) -> f64 {
        match self {
            Task::One(u) => unit_weight(u, times),
            Task::Chunk(c) => tests_weight(c.tests.iter().map(|t| &t.id), times),
        }
    }

    /// The name progress shows while it runs, and the tests it stands for.
    fn label(&self, plan: &Plan) -> (String, usize) {
        match self {
            Task::One(Unit::Doc { packages, .. }) => (
                format!(
                    "doctests ({} package{})",
                    packages.len(),
                    if packages.len() == 1 { "" } else { "s" }
                ),
                1,
            ),
            Task::One(u) => (u.id().to_string(), 1),
            Task::Chunk(c) => (
                format!("{} ({} tests)", plan.binaries[c.binary].id, c.tests.len()),
                c.tests.len(),
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
    // As many workers as pieces of work could run at once: a pool is dealt out test by test.
    let total: usize = work
        .iter()
        .map(|w| match w {
            Work::Pool(p) => p.tests.len(),
            _ => 1,
        })
        .sum();
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
                    let Some(task) = next_task(queue, jobs) else {
                        break;
                    };
                    let (label, tests) = task.label(plan);
                    let weight = opts.test_times.as_ref().map_or(0.0, |t| task.weight(t));
                    let _ = tx.send(Event::Started(label.clone(), tests, weight));
                    let started = Instant::now();
                    let result = perform(&task, plan, ws, cfg, opts, &tx);
                    if let Task::Chunk(chunk) = &task {
                        let mut pace = chunk.pace.lock().unwrap_or_else(|p| p.into_inner());
                        pace.tests += chunk.tests.len();
                        pace.secs += started.elapsed().as_secs_f64();
                    }
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

/// The next task for a free worker: a pool gives a chunk and stays at the front of the queue
/// for the next free worker while it holds tests.
fn next_task(queue: &Mutex<VecDeque<Work>>, jobs: usize) -> Option<Task> {
    let mut queue = queue.lock().unwrap_or_else(|p| p.into_inner());
    match queue.pop_front()? {
        Work::Pool(mut pool) => {
            let chunk = pool.take(jobs);
            if !pool.tests.is_empty() {
                queue.push_front(Work::Pool(pool));
            }
            Some(Task::Chunk(chunk))
        }
        Work::One(unit) => Some(Task::One(unit)),
    }
}

/// Runs one task on a worker thread.
fn perform(
    task: &Task,
    plan: &Plan,
    ws: &Workspace,
    cfg: &TestsConfig,
    opts: &RunOptions,
    tx: &mpsc::Sender<Event>,
) -> Vec<Case> {
    match task {
        // One libtest thread: the jobs are the test threads, however many batches run.
        Task::Chunk(chunk) => batch::run(
            &plan.binaries[chunk.binary],
            &chunk.tests,
            chunk.everything,
            cfg,
            &ws.root,
            tx,
        ),
        Task::One(Unit::Test {
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
        Task::One(Unit::Doc { packages, .. }) => doctest::run(ws, packages, cfg, opts),
    }
}

/// The cases of work that never ran (Ctrl-C, `--fail-fast`), so a partial report says what it
/// is missing.
fn not_done(work: Work, plan: &Plan, reason: &str) -> Vec<Case> {
    match work {
        Work::Pool(Pool { binary, tests, .. }) => tests
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baseline::note::TestTimes;
    use crate::suites::testrun::build::TestBinary;

    fn plan(n: usize) -> Plan {
        Plan {
            binaries: vec![TestBinary {
                id: "b".into(),
                package: "b".into(),
                package_dir: "/ws".into(),
                crate_name: "b".into(),
                path: "/ws/target/b".into(),
                custom_harness: false,
                dialect: Default::default(),
                env: Vec::new(),
            }],
            units: (0..n)
                .map(|i| Unit::Test {
                    binary: 0,
                    name: format!("t{i:02}"),
                    ignored: false,
                    id: format!("b t{i:02}"),
                    whole: false,
                })
                .collect(),
            skipped: Vec::new(),
            list_failures: Vec::new(),
        }
    }

    fn ids(work: &[Work]) -> Vec<String> {
        work.iter()
            .map(|w| match w {
                Work::One(u) => u.id().to_string(),
                Work::Pool(p) => format!("pool of {}", p.tests.len()),
            })
            .collect()
    }

    #[test]
    fn tests_known_to_be_slow_run_alone_and_first() {
        let times = TestTimes {
            slow: [("b t07".to_string(), 1.5), ("b t03".to_string(), 3.0)]
                .into_iter()
                .collect(),
            typical: 0.001,
        };
        let opts = RunOptions {
            test_times: Some(times),
            ..RunOptions::default()
        };
        let (work, modes) = work_of(&TestsConfig::default(), &opts, &plan(40));
        assert_eq!(ids(&work), ["b t03", "b t07", "pool of 38"]);
        assert_eq!(modes, [("b".to_string(), Mode::Binary)]);
        // No history: one pool of every test, in binary isolation from 32 tests on.
        let (work, _) = work_of(&TestsConfig::default(), &RunOptions::default(), &plan(40));
        assert_eq!(ids(&work), ["pool of 40"]);
        let (work, modes) = work_of(&TestsConfig::default(), &RunOptions::default(), &plan(4));
        assert_eq!(work.len(), 4);
        assert_eq!(modes, [("b".to_string(), Mode::Process)]);
    }
}
