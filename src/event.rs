//! The typed events of a run. The engine and every suite report what they do through one sink
//! ([`Sink`]); the reporter (`crate::reporter`) turns them into the terminal's bar, a CI log's
//! lines or a JSON stream. Nothing here prints: these are data, borrowed from whoever sends
//! them, so sending costs no copy.
//!
//! Text inside an event (a test's output, a line of `cargo bench`, a service's name from
//! gate.toml) is untrusted: every reporter neutralises it before it reaches a terminal or log.

use std::time::Duration;

use crate::model::{self, Attempt, Case, SuiteKind};

/// Where a run's events go. `Sync`: suites send from worker threads and async tasks.
pub type Sink<'a> = &'a (dyn Fn(&Event<'_>) + Sync);

/// What the tests suite is about to run, known before the first test starts: `tests` units,
/// and one more for the doctests when `doc_packages` is not 0.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TestsPlanned {
    /// Tests that will run, doctests aside.
    pub tests: usize,
    /// Distinct test binaries among them.
    pub binaries: usize,
    /// Packages whose doctests run; all of them run as one unit of work (one `cargo test
    /// --doc`), whose doctests are known when it ends.
    pub doc_packages: usize,
    /// Tests the plan skipped (filters, `#[ignore]`, other shards).
    pub skipped: usize,
    /// Seconds all of it took last time by the notes' recorded durations (`None` without them).
    pub expected_seconds: Option<f64>,
    /// Units of work that run at once.
    pub jobs: usize,
}

/// One measurement interval of a load scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadTick<'a> {
    /// The scenario's name from gate.toml.
    pub scenario: &'a str,
    /// Seconds measured so far, and in all.
    pub elapsed: f64,
    pub total: f64,
    /// Requests completed so far, and the completed rate.
    pub requests: u64,
    pub rps: f64,
    /// 95th percentile latency so far, milliseconds.
    pub p95_ms: f64,
    /// Requests that failed so far.
    pub errors: u64,
}

/// Something a run tells as it goes.
#[derive(Debug, Clone)]
pub enum Event<'a> {
    /// The run starts these suites, in this order.
    RunStarted {
        suites: &'a [SuiteKind],
        profile: &'a str,
        partition: Option<&'a str>,
    },
    /// A suite is about to run.
    SuiteStarted(SuiteKind),
    /// A compiler message from building the tests, as cargo rendered it (several lines; ANSI
    /// colour when standard error is a terminal).
    CompilerMessage { rendered: &'a str },
    /// The tests are built and listed: what runs.
    TestsPlanned(&'a TestsPlanned),
    /// A unit of work started: one test (its id) or a batch (`binary (N tests)`) standing for
    /// `tests` tests, expected to take `weight` seconds (0 without recorded durations).
    TestStarted {
        unit: &'a str,
        tests: usize,
        weight: f64,
    },
    /// A test is still running after its slow timeout.
    TestSlow { id: &'a str, elapsed: Duration },
    /// An attempt of a test ended as `previous` and attempt `attempt` starts.
    TestRetry {
        id: &'a str,
        attempt: u32,
        previous: &'a Attempt,
    },
    /// A unit of work finished with these cases (a doctest batch or a batch yields several).
    TestFinished { unit: &'a str, cases: &'a [Case] },
    /// A line of what a running suite is doing: a long command's own output (`cargo bench`),
    /// or a step (`round 3/10`). Untrusted text.
    Output { suite: SuiteKind, line: &'a str },
    /// A benchmark started (named from `cargo bench`'s or a command's output).
    Benchmark { suite: SuiteKind, name: &'a str },
    /// A load scenario's progress, about once a second.
    LoadTick(&'a LoadTick<'a>),
    /// A chaos experiment entered a phase (`steady state`, `fault injected`, `recovered`, …).
    ChaosPhase { experiment: &'a str, phase: &'a str },
    /// Something the user should know that does not stop the run.
    Warning {
        suite: Option<SuiteKind>,
        message: &'a str,
    },
    /// What the run decided before it started (affected packages, quarantined tests, the
    /// partition's basis).
    Notice(&'a str),
    /// A suite finished, with its report.
    SuiteFinished(&'a model::Suite),
    /// The run is judged: the report as written.
    RunFinished(&'a model::Report),
}

impl Event<'_> {
    /// The event's name in the JSON stream (`docs/events.schema.json`).
    pub fn name(&self) -> &'static str {
        match self {
            Event::RunStarted { .. } => "run-started",
            Event::SuiteStarted(_) => "suite-started",
            Event::CompilerMessage { .. } => "compiler-message",
            Event::TestsPlanned(_) => "tests-planned",
            Event::TestStarted { .. } => "test-started",
            Event::TestSlow { .. } => "test-slow",
            Event::TestRetry { .. } => "test-retry",
            Event::TestFinished { .. } => "test-finished",
            Event::Output { .. } => "output",
            Event::Benchmark { .. } => "benchmark",
            Event::LoadTick(_) => "load-tick",
            Event::ChaosPhase { .. } => "chaos-phase",
            Event::Warning { .. } => "warning",
            Event::Notice(_) => "notice",
            Event::SuiteFinished(_) => "suite-finished",
            Event::RunFinished(_) => "run-finished",
        }
    }
}

/// Sends a warning through `sink`.
pub fn warn(sink: Sink<'_>, suite: Option<SuiteKind>, message: &str) {
    sink(&Event::Warning { suite, message });
}
