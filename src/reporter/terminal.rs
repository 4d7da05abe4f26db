//! The human reporter: what a person sees on standard error while a run goes on. The tests
//! suite's header, one line per finished test (`(n/N)` and its time, each retried attempt on
//! its own `TRY` line) and every failure's output as it happens — above a bar naming the
//! longest-running tests on a terminal, or with a status line every `status_every` in a CI log,
//! so a slow test never leaves the log silent. Other suites: their output streamed as lines in
//! a log or a spinner on a terminal, one line as each finishes.

use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::progress::{
    Counts, LABEL_WIDTH, Running, case_label, case_time, header_line, running_summary, status_line,
};
use crate::event::{Event, LoadTick, TestsPlanned};
use crate::model::{Attempt, Case, CaseStatus, SuiteKind, SuiteStatus};
use crate::util::color::{Role, paint};
use crate::util::sanitize::strip_controls;
use crate::util::units::format_seconds;

/// Lines of a failing test's output echoed immediately.
const ECHO_LINES: usize = 30;

/// How often the display is woken with nothing happening: the bar's running times and the
/// log's status lines move on with it.
const TICK: Duration = Duration::from_millis(500);

/// The terminal reporter. Events may come from any thread; a ticker thread of its own prints
/// the periodic status line.
pub struct Terminal {
    state: Arc<Mutex<State>>,
    stop: Option<mpsc::Sender<()>>,
    ticker: Option<JoinHandle<()>>,
}

struct State {
    /// A bar and a spinner on a terminal; plain lines otherwise.
    tty: bool,
    color: bool,
    status_every: Duration,
    bar: Option<ProgressBar>,
    spinner: Option<ProgressBar>,
    counts: Counts,
    /// Units running: their label, the tests they stand for, their expected seconds, and when
    /// they started.
    running: Vec<(String, usize, f64, Instant)>,
    start: Instant,
    last_status: Instant,
}

impl Terminal {
    /// A reporter drawing a bar when `tty` is true, lines with a status line every
    /// `status_every` otherwise.
    pub fn new(tty: bool, status_every: Duration) -> Terminal {
        let now = Instant::now();
        let state = Arc::new(Mutex::new(State {
            tty,
            color: crate::util::color::stderr(),
            status_every,
            bar: None,
            spinner: None,
            counts: Counts::default(),
            running: Vec::new(),
            start: now,
            last_status: now,
        }));
        let (stop, stopped) = mpsc::channel::<()>();
        let shared = Arc::clone(&state);
        let ticker = std::thread::Builder::new()
            .name("cargo-gate-ticker".to_string())
            .spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(TICK) {
                    lock(&shared).tick();
                }
            })
            .ok();
        Terminal {
            state,
            stop: Some(stop),
            ticker,
        }
    }

    /// Shows one event.
    pub fn event(&self, event: &Event<'_>) {
        lock(&self.state).event(event);
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        self.stop.take();
        if let Some(t) = self.ticker.take() {
            let _ = t.join();
        }
        let state = lock(&self.state);
        for bar in state.bar.iter().chain(&state.spinner) {
            bar.finish_and_clear();
        }
    }
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}

impl State {
    fn event(&mut self, event: &Event<'_>) {
        match event {
            Event::RunStarted { .. } | Event::SuiteStarted(_) | Event::RunFinished(_) => {}
            Event::TestsPlanned(plan) => self.planned(plan),
            Event::CompilerMessage { rendered } => {
                let text = strip_controls(rendered, self.color);
                let text = crate::util::sanitize::no_workflow_commands(&text);
                let text = text.strip_suffix('\n').unwrap_or(&text);
                self.println(text);
            }
            Event::TestStarted {
                unit,
                tests,
                weight,
            } => {
                self.running
                    .push((unit.to_string(), *tests, *weight, Instant::now()));
                self.refresh();
            }
            Event::TestSlow { id, elapsed } => {
                let label = self.paint_role(&format!("{:>LABEL_WIDTH$}", "SLOW"), Role::Notice);
                let time = format!(">{}", format_seconds(elapsed.as_secs_f64()));
                self.println(&format!("{label} [{time:>8}] {}", self.clean(id)));
            }
            Event::TestRetry {
                id,
                attempt,
                previous,
            } => self.retrying(id, *attempt, previous),
            Event::TestFinished { unit, cases } => self.finished(unit, cases),
            Event::Output { .. }
            | Event::Benchmark { .. }
            | Event::LoadTick(_)
            | Event::ChaosPhase { .. } => self.suite_progress(event),
            Event::Warning { message, .. } => {
                let w = self.paint_role("warning", Role::Notice);
                self.println(&format!("{w}: {}", self.clean(message)));
            }
            Event::Notice(message) => self.println(&self.clean(message)),
            Event::SuiteFinished(s) => {
                if let Some(spinner) = self.spinner.take() {
                    spinner.finish_and_clear();
                }
                if s.kind == SuiteKind::Tests {
                    if let Some(bar) = self.bar.take() {
                        bar.finish_and_clear();
                    }
                    self.running.clear();
                } else {
                    let line = finished_line(s);
                    self.println(&self.clean(&line));
                }
            }
        }
    }

    /// The tests are about to run: the header, and the bar on a terminal.
    fn planned(&mut self, plan: &TestsPlanned) {
        let now = Instant::now();
        self.counts = Counts {
            // The doctests of every package run as one unit.
            total: plan.tests + usize::from(plan.doc_packages > 0),
            expected_left: plan.expected_seconds,
            jobs: plan.jobs.max(1),
            ..Counts::default()
        };
        self.running.clear();
        self.start = now;
        self.last_status = now;
        if self.tty {
            self.bar = Some(new_bar(self.counts.total));
        }
        self.println(&header_line(plan));
    }

    /// An attempt of `id` ended as `previous` and `attempt` starts. The output waits for the
    /// case's end: a failure that repeats is shown once, and a flaky test's first failure under
    /// its final line.
    fn retrying(&self, id: &str, attempt: u32, previous: &Attempt) {
        let label = format!(
            "{:>LABEL_WIDTH$}",
            format!(
                "TRY {} {}",
                attempt.saturating_sub(1),
                previous.status.label()
            )
        );
        self.println(&format!(
            "{} [{:>8}] {}",
            self.paint_role(&label, Role::Notice),
            format_seconds(previous.duration),
            self.clean(id)
        ));
    }

    /// What the suites other than the tests say while they run: lines in a log, the spinner's
    /// message on a terminal.
    fn suite_progress(&mut self, event: &Event<'_>) {
        match event {
            Event::Output { suite, line } => {
                // The suite's commands print what they like: controls out, colour only on a
                // terminal.
                let line = strip_controls(line, self.color);
                let line = crate::util::sanitize::no_workflow_commands(&line).into_owned();
                if !self.tty {
                    self.println(&format!("{:>LABEL_WIDTH$} │ {line}", suite.as_str()));
                } else if !line.trim().is_empty() && !self.spinner_named_benchmark() {
                    let text = format!("{}: {}", suite.as_str(), line.trim());
                    self.spinner().set_message(text);
                }
            }
            Event::Benchmark { suite, name } if self.tty => {
                let text = format!("{}: benchmarking {}", suite.as_str(), self.clean(name));
                self.spinner().set_message(text);
            }
            Event::LoadTick(t) => {
                let line = strip_controls(&load_line(t), false).into_owned();
                if self.tty {
                    self.spinner().set_message(line.trim().to_string());
                } else {
                    self.println(&line);
                }
            }
            Event::ChaosPhase { experiment, phase } => {
                let line = format!(
                    "{:>LABEL_WIDTH$} {}: {}",
                    "CHAOS",
                    self.clean(experiment),
                    self.clean(phase)
                );
                self.println(&line);
            }
            _ => {}
        }
    }

    /// Text from outside (ids, names, messages) as text: controls visible, no workflow
    /// command.
    fn clean(&self, text: &str) -> String {
        crate::util::sanitize::for_log(text)
    }

    fn spinner(&mut self) -> &ProgressBar {
        self.spinner.get_or_insert_with(|| {
            let bar = ProgressBar::new_spinner();
            bar.enable_steady_tick(Duration::from_millis(100));
            bar
        })
    }

    /// The spinner names a benchmark: the harness's other lines do not replace it until the
    /// next benchmark starts.
    fn spinner_named_benchmark(&self) -> bool {
        self.spinner
            .as_ref()
            .is_some_and(|s| s.message().contains(": benchmarking "))
    }

    /// Prints a line above the bar (or plainly).
    fn println(&self, line: &str) {
        match self.bar.as_ref().or(self.spinner.as_ref()) {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }

    fn running_now(&self) -> Vec<(String, Duration)> {
        self.running
            .iter()
            .map(|(id, _, _, t)| (id.clone(), t.elapsed()))
            .collect()
    }

    fn refresh(&self) {
        if let Some(bar) = &self.bar {
            bar.set_length(self.counts.total as u64);
            bar.set_position(self.counts.done as u64);
            let mut msg = String::new();
            if self.counts.failed > 0 {
                msg.push_str(&format!("{} failed · ", self.counts.failed));
            }
            let running = self.running_now();
            if !running.is_empty() {
                let named = strip_controls(&running_summary(&running), false).into_owned();
                msg.push_str(&format!("running: {named}"));
            }
            bar.set_message(msg);
        }
    }

    /// Time passed with nothing finished: the bar's running times move on, and a CI log gets
    /// its status line when one is due.
    fn tick(&mut self) {
        if self.bar.is_some() {
            self.refresh();
            return;
        }
        if self.last_status.elapsed() >= self.status_every && !self.running.is_empty() {
            self.last_status = Instant::now();
            let elapsed = self.start.elapsed();
            let running: Vec<Running> = self
                .running
                .iter()
                .map(|(_, _, weight, t)| Running {
                    weight: *weight,
                    elapsed: t.elapsed(),
                })
                .collect();
            let eta = self.counts.eta(elapsed, &running);
            let line = status_line(elapsed, &self.counts, &self.running_now(), eta);
            let label = self.paint_role(&format!("{:>LABEL_WIDTH$}", "RUNNING"), Role::Dim);
            self.println(&format!("{label} {}", self.clean(&line)));
        }
    }

    fn echo(&self, output: &str) {
        for l in crate::util::excerpt::excerpt(output, ECHO_LINES).lines() {
            // The test's own output: colour survives on a terminal, nothing else does.
            let l = strip_controls(l, self.color);
            self.println(&format!("{:>LABEL_WIDTH$} │ {l}", ""));
        }
    }

    /// The unit `label` finished with these cases (a doctest batch yields several).
    fn finished(&mut self, label: &str, cases: &[Case]) {
        let (expected, weight) = match self.running.iter().position(|(l, _, _, _)| l == label) {
            Some(i) => {
                let r = self.running.remove(i);
                (r.1, r.2)
            }
            None => (0, 0.0),
        };
        let shown = self.counts.finish_weighted(expected, weight, cases);
        for (case, n) in cases.iter().zip(shown) {
            let label = format!("{:>LABEL_WIDTH$}", case_label(case));
            self.println(&format!(
                "{} [{:>8}] ({n}/{}) {}",
                self.paint_status(case.status, &label),
                case_time(case),
                self.counts.total,
                self.clean(&case.id)
            ));
            let shown = match case.status {
                CaseStatus::Failed | CaseStatus::TimedOut | CaseStatus::Quarantined => {
                    case.attempts.last()
                }
                CaseStatus::Flaky => case.attempts.first(),
                CaseStatus::Passed | CaseStatus::Skipped => None,
            };
            if let Some(attempt) = shown {
                self.echo(&attempt.output_tail);
            }
        }
        self.refresh();
    }

    fn paint_status(&self, status: CaseStatus, text: &str) -> String {
        let role = match status {
            CaseStatus::Passed => Role::Good,
            CaseStatus::Failed | CaseStatus::TimedOut => Role::Bad,
            CaseStatus::Flaky | CaseStatus::Quarantined => Role::Notice,
            CaseStatus::Skipped => Role::Dim,
        };
        paint(text, role, self.color)
    }

    fn paint_role(&self, text: &str, role: Role) -> String {
        paint(text, role, self.color)
    }
}

fn new_bar(total: usize) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(
        "{spinner:.green} [{elapsed_precise}] {bar:30.cyan/blue} {pos}/{len} ETA {eta} {wide_msg}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ");
    bar.set_style(style);
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}

/// `       LOAD api  12s/30s  4980 rps  p95 3.2ms  errors 0`.
pub fn load_line(t: &LoadTick<'_>) -> String {
    format!(
        "{:>11} {}  {:.0}s/{:.0}s  {:.0} rps  p95 {:.1}ms  errors {}",
        "LOAD", t.scenario, t.elapsed, t.total, t.rps, t.p95_ms, t.errors
    )
}

/// `       PASSED bench: 4 benchmarks, 1 regressed (12.3s)`: what a finished suite did, in its
/// own terms — benchmarks for the bench suite, mutants for the mutants suite, cases for the
/// others.
pub fn finished_line(s: &crate::model::Suite) -> String {
    let status = match s.status {
        SuiteStatus::Passed => "passed",
        SuiteStatus::Failed => "failed",
        SuiteStatus::Error => "could not run",
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
    } else if let Some(m) = s.mutants() {
        m.counts_line()
    } else {
        format!(
            "{} passed, {} failed",
            c.passed + c.flaky,
            c.failed + c.timed_out
        )
    };
    format!(
        "{:>LABEL_WIDTH$} {}: {what} ({})",
        status.to_uppercase(),
        s.name,
        format_seconds(s.duration)
    )
}
