//! What the user sees while tests run: a header, one line per finished test (`(n/N)` and its
//! time, each retried attempt on its own `TRY` line) and every failure's output as it happens —
//! above a bar naming the longest-running tests on a terminal, and with a status line every
//! `status_every` in a CI log, so a slow test never leaves the log silent.
//!
//! The counting and wording are pure (`Counts`, `status_line`, `running_summary`), so they are
//! tested without a clock or processes; `Progress` only adds the clock and the output.

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::model::{Attempt, Case, CaseStatus};
use crate::util::color::{Role, paint};
use crate::util::units::format_seconds;

/// Lines of a failing test's output echoed immediately.
const ECHO_LINES: usize = 30;
/// Running tests named on the bar and in status lines.
const NAMED_RUNNING: usize = 3;
/// Width of the status column (`TRY 2 TIMEOUT` is the longest).
const LABEL_WIDTH: usize = 13;
/// How often a CI log gets a status line unless `CARGO_GATE_STATUS_INTERVAL` says otherwise.
pub const DEFAULT_STATUS_EVERY: Duration = Duration::from_secs(15);

/// What the run is about to do, for the header.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Header {
    /// Tests that will run, doctests aside.
    pub tests: usize,
    /// Distinct test binaries among them.
    pub binaries: usize,
    /// Packages whose doctests run (how many doctests is known when each batch ends, so each
    /// counts as one test until then).
    pub doc_packages: usize,
    /// Tests the plan skipped (filters, `#[ignore]`, other shards).
    pub skipped: usize,
}

impl Header {
    /// `Starting 500 tests across 5 binaries and the doctests of 2 packages (3 skipped)`.
    pub fn line(&self) -> String {
        let plural =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        let mut s = format!(
            "Starting {} across {}",
            plural(self.tests, "test", "tests"),
            plural(self.binaries, "binary", "binaries")
        );
        if self.doc_packages > 0 {
            s.push_str(&format!(
                " and the doctests of {}",
                plural(self.doc_packages, "package", "packages")
            ));
        }
        if self.skipped > 0 {
            s.push_str(&format!(" ({} skipped)", self.skipped));
        }
        s
    }
}

/// Tests done and expected: a unit of work is announced with the number of tests it stands for
/// and, when it ends, replaced by the cases it produced (a doctest batch's count is only known
/// then).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counts {
    /// Tests expected in all.
    pub total: usize,
    /// Tests finished.
    pub done: usize,
    /// Of those, failed or timed out.
    pub failed: usize,
    /// Seconds the tests not yet finished took last time, by the durations the notes recorded
    /// (`None` without them), and the jobs that share them.
    pub expected_left: Option<f64>,
    /// Tests at once.
    pub jobs: usize,
}

impl Counts {
    /// A unit announced as `expected` tests, expected to take `weight` seconds, finished with
    /// `cases`.
    pub fn finish_weighted(&mut self, expected: usize, weight: f64, cases: &[Case]) {
        if let Some(left) = &mut self.expected_left {
            *left = (*left - weight).max(0.0);
        }
        self.finish(expected, cases);
    }

    /// A unit announced as `expected` tests finished with `cases`.
    pub fn finish(&mut self, expected: usize, cases: &[Case]) {
        self.total = self.total.saturating_sub(expected) + cases.len();
        self.done += cases.len();
        self.failed += cases.iter().filter(|c| c.status.is_failure()).count();
    }

    /// Time left: by the recorded durations of the tests still to finish, shared by the jobs,
    /// when the notes had them; else at the pace so far (`None` before the first test ends).
    pub fn eta(&self, elapsed: Duration) -> Option<Duration> {
        if let Some(left) = self.expected_left {
            return Some(Duration::from_secs_f64(left / self.jobs.max(1) as f64));
        }
        if self.done == 0 {
            return None;
        }
        let left = self.total.saturating_sub(self.done) as f64;
        Some(Duration::from_secs_f64(
            elapsed.as_secs_f64() / self.done as f64 * left,
        ))
    }
}

/// The longest-running first: `db::migrate 41s, api::slow 3.0s, +2 more`.
pub fn running_summary(running: &[(String, Duration)]) -> String {
    let mut sorted: Vec<&(String, Duration)> = running.iter().collect();
    sorted.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let mut parts: Vec<String> = sorted
        .iter()
        .take(NAMED_RUNNING)
        .map(|(id, d)| format!("{id} {}", whole_seconds(*d)))
        .collect();
    if sorted.len() > NAMED_RUNNING {
        parts.push(format!("+{} more", sorted.len() - NAMED_RUNNING));
    }
    parts.join(", ")
}

/// The periodic line of a CI log: `RUNNING [ 1m05s] 12/35 done, 1 failed · running: … · ETA 20s`.
pub fn status_line(elapsed: Duration, counts: &Counts, running: &[(String, Duration)]) -> String {
    let mut s = format!(
        "[{:>8}] {}/{} done",
        whole_seconds(elapsed),
        counts.done,
        counts.total
    );
    if counts.failed > 0 {
        s.push_str(&format!(", {} failed", counts.failed));
    }
    if !running.is_empty() {
        s.push_str(&format!(
            " · {} running: {}",
            running.len(),
            running_summary(running)
        ));
    }
    if let Some(eta) = counts.eta(elapsed) {
        s.push_str(&format!(" · ETA {}", whole_seconds(eta)));
    }
    s
}

/// Seconds without decimals above ten, as a person reads a clock: `41s`, `1m05s`, `3.2s`.
fn whole_seconds(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 10.0 {
        format!("{secs:.1}s")
    } else if secs < 60.0 {
        format!("{}s", d.as_secs())
    } else {
        let s = d.as_secs();
        format!("{}m{:02}s", s / 60, s % 60)
    }
}

/// The status column of a finished case: `PASS`, or `TRY 2 PASS` when it took more than one
/// attempt, so the line says which attempt it was.
pub fn case_label(case: &Case) -> String {
    match case.attempts.len() {
        0 | 1 => case.status.label().to_string(),
        n => {
            let last = case.attempts.last().map_or(case.status, |a| a.status);
            format!("TRY {n} {}", last.label())
        }
    }
}

/// The time column: the last attempt's time (each earlier one had its own `TRY` line), `~`
/// before a doctest's share of its batch.
pub fn case_time(case: &Case) -> String {
    match case.attempts.last() {
        Some(a) if a.shared => format!("~{}", format_seconds(a.duration)),
        Some(a) => format_seconds(a.duration),
        None => format_seconds(0.0),
    }
}

/// Progress display; owned by the thread that collects results.
pub struct Progress {
    bar: Option<ProgressBar>,
    color: bool,
    counts: Counts,
    /// Units running: their label, the tests they stand for, their expected seconds, and when
    /// they started.
    running: Vec<(String, usize, f64, Instant)>,
    start: Instant,
    status_every: Duration,
    last_status: Instant,
}

impl Progress {
    /// A display for the run `header` describes; a bar when `tty` is true. `expected`: the
    /// seconds all of it took last time (by the notes), shared by `jobs`.
    pub fn new(
        header: &Header,
        tty: bool,
        status_every: Duration,
        expected: Option<f64>,
        jobs: usize,
    ) -> Progress {
        let bar = tty.then(|| {
            let bar = ProgressBar::with_draw_target(
                Some((header.tests + header.doc_packages) as u64),
                ProgressDrawTarget::stderr(),
            );
            let style = ProgressStyle::with_template(
                "{spinner:.green} [{elapsed_precise}] {bar:30.cyan/blue} {pos}/{len} ETA {eta} {wide_msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
            bar.set_style(style);
            bar.enable_steady_tick(Duration::from_millis(100));
            bar
        });
        let now = Instant::now();
        let p = Progress {
            color: crate::util::color::stderr(),
            bar,
            counts: Counts {
                total: header.tests + header.doc_packages,
                expected_left: expected,
                jobs,
                ..Counts::default()
            },
            running: Vec::new(),
            start: now,
            status_every,
            last_status: now,
        };
        p.println(&header.line());
        p
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
                msg.push_str(&format!("running: {}", running_summary(&running)));
            }
            bar.set_message(msg);
        }
    }

    /// Prints a line above the bar (or plainly).
    pub fn println(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }

    /// A unit standing for `tests` tests, expected to take `weight` seconds, started.
    pub fn started(&mut self, label: String, tests: usize, weight: f64) {
        self.running.push((label, tests, weight, Instant::now()));
        self.refresh();
    }

    /// Time passed with nothing finished: the bar's running times move on, and a CI log gets
    /// its status line when one is due.
    pub fn tick(&mut self) {
        if self.bar.is_some() {
            self.refresh();
            return;
        }
        if self.last_status.elapsed() >= self.status_every && !self.running.is_empty() {
            self.last_status = Instant::now();
            let line = status_line(self.start.elapsed(), &self.counts, &self.running_now());
            self.println(&format!(
                "{} {line}",
                paint(
                    &format!("{:>LABEL_WIDTH$}", "RUNNING"),
                    Role::Dim,
                    self.color
                )
            ));
        }
    }

    /// A test is still running after its slow timeout.
    pub fn slow(&self, id: &str, elapsed: Duration) {
        let label = paint(
            &format!("{:>LABEL_WIDTH$}", "SLOW"),
            Role::Notice,
            self.color,
        );
        self.println(&format!(
            "{label} [{:>8}] {id}",
            format!(">{}", format_seconds(elapsed.as_secs_f64()))
        ));
    }

    /// Attempt `attempt - 1` of a test ended as `previous` and the test runs again. Its output
    /// waits for the case's end: a failure that repeats is shown once, and a flaky test's first
    /// failure is shown under its final line.
    pub fn retrying(&self, id: &str, attempt: u32, previous: &Attempt) {
        let label = format!(
            "{:>LABEL_WIDTH$}",
            format!(
                "TRY {} {}",
                attempt.saturating_sub(1),
                previous.status.label()
            )
        );
        self.println(&format!(
            "{} [{:>8}] {id}",
            paint(&label, Role::Notice, self.color),
            format_seconds(previous.duration)
        ));
    }

    fn echo(&self, output: &str) {
        for l in crate::util::excerpt::excerpt(output, ECHO_LINES).lines() {
            // The test's own output: colour survives on a terminal, nothing else does.
            let l = crate::util::sanitize::strip_controls(l, self.color);
            self.println(&format!("{:>LABEL_WIDTH$} │ {l}", ""));
        }
    }

    /// The unit `label` finished with these cases (a doctest batch yields several).
    pub fn finished(&mut self, label: &str, cases: &[Case]) {
        let (expected, weight) = match self.running.iter().position(|(l, _, _, _)| l == label) {
            Some(i) => {
                let r = self.running.remove(i);
                (r.1, r.2)
            }
            None => (0, 0.0),
        };
        self.counts.finish_weighted(expected, weight, cases);
        let mut n = self.counts.done - cases.len();
        for case in cases {
            n += 1;
            let label = format!("{:>LABEL_WIDTH$}", case_label(case));
            self.println(&format!(
                "{} [{:>8}] ({n}/{}) {}",
                self.paint(case.status, &label),
                case_time(case),
                self.counts.total,
                case.id
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

    fn paint(&self, status: CaseStatus, text: &str) -> String {
        let role = match status {
            CaseStatus::Passed => Role::Good,
            CaseStatus::Failed | CaseStatus::TimedOut => Role::Bad,
            CaseStatus::Flaky | CaseStatus::Quarantined => Role::Notice,
            CaseStatus::Skipped => Role::Dim,
        };
        paint(text, role, self.color)
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// `CARGO_GATE_STATUS_INTERVAL` (a duration such as `30s`), else the default; a value that is
/// not a duration is ignored with a warning rather than stopping the run.
pub fn status_every() -> Duration {
    match std::env::var("CARGO_GATE_STATUS_INTERVAL") {
        Ok(v) => match crate::util::units::parse_duration(&v) {
            Ok(d) if !d.is_zero() => d,
            _ => {
                eprintln!(
                    "warning: CARGO_GATE_STATUS_INTERVAL is `{v}`, not a duration such as `30s`; using {}s",
                    DEFAULT_STATUS_EVERY.as_secs()
                );
                DEFAULT_STATUS_EVERY
            }
        },
        Err(_) => DEFAULT_STATUS_EVERY,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(status: CaseStatus, attempts: &[(CaseStatus, f64)]) -> Case {
        Case {
            attempts: attempts
                .iter()
                .map(|&(status, duration)| Attempt {
                    status,
                    duration,
                    output_tail: String::new(),
                    shared: false,
                })
                .collect(),
            ..Case::single("b t", "t", status, 0.0, String::new(), String::new())
        }
    }

    #[test]
    fn the_header_counts_tests_binaries_doctests_and_skips() {
        let h = Header {
            tests: 500,
            binaries: 5,
            doc_packages: 2,
            skipped: 3,
        };
        assert_eq!(
            h.line(),
            "Starting 500 tests across 5 binaries and the doctests of 2 packages (3 skipped)"
        );
        let one = Header {
            tests: 1,
            binaries: 1,
            ..Header::default()
        };
        assert_eq!(one.line(), "Starting 1 test across 1 binary");
    }

    #[test]
    fn a_doctest_batch_replaces_its_placeholder_with_its_cases() {
        let mut c = Counts {
            total: 9,
            ..Counts::default()
        };
        let pass = case(CaseStatus::Passed, &[(CaseStatus::Passed, 0.1)]);
        let fail = case(CaseStatus::Failed, &[(CaseStatus::Failed, 0.1)]);
        c.finish(1, &[pass.clone(), pass.clone(), fail]);
        assert_eq!((c.total, c.done, c.failed), (11, 3, 1));
        // A batch of 8 tests announced as 8 that yields 8 leaves the total alone.
        c.finish(8, &vec![pass; 8]);
        assert_eq!((c.total, c.done), (11, 11));
    }

    #[test]
    fn eta_follows_the_recorded_durations_when_there_are_some() {
        let mut c = Counts {
            total: 3,
            expected_left: Some(12.0),
            jobs: 2,
            ..Counts::default()
        };
        assert_eq!(c.eta(Duration::ZERO), Some(Duration::from_secs(6)));
        let pass = case(CaseStatus::Passed, &[(CaseStatus::Passed, 0.1)]);
        c.finish_weighted(1, 8.0, &[pass]);
        assert_eq!(
            c.eta(Duration::from_secs(100)),
            Some(Duration::from_secs(2))
        );
    }

    #[test]
    fn eta_follows_the_pace_so_far() {
        let c = Counts {
            total: 40,
            done: 10,
            ..Counts::default()
        };
        assert_eq!(
            c.eta(Duration::from_secs(20)),
            Some(Duration::from_secs(60))
        );
        assert_eq!(Counts::default().eta(Duration::from_secs(5)), None);
    }

    #[test]
    fn the_longest_running_tests_are_named_first() {
        let running = vec![
            ("a".to_string(), Duration::from_secs(3)),
            ("db::migrate".to_string(), Duration::from_secs(41)),
            ("b".to_string(), Duration::from_millis(200)),
            ("c".to_string(), Duration::from_secs(75)),
            ("d".to_string(), Duration::from_secs(1)),
        ];
        assert_eq!(
            running_summary(&running),
            "c 1m15s, db::migrate 41s, a 3.0s, +2 more"
        );
    }

    #[test]
    fn a_status_line_says_where_the_run_is() {
        let c = Counts {
            total: 35,
            done: 12,
            failed: 1,
            ..Counts::default()
        };
        let running = vec![("db::migrate".to_string(), Duration::from_secs(41))];
        assert_eq!(
            status_line(Duration::from_secs(65), &c, &running),
            "[   1m05s] 12/35 done, 1 failed · 1 running: db::migrate 41s · ETA 2m04s"
        );
    }

    #[test]
    fn a_retried_case_says_which_attempt_and_its_own_time() {
        let flaky = case(
            CaseStatus::Flaky,
            &[(CaseStatus::Failed, 1.2), (CaseStatus::Passed, 0.3)],
        );
        assert_eq!(case_label(&flaky), "TRY 2 PASS");
        assert_eq!(case_time(&flaky), "300ms");
        let timeout = case(
            CaseStatus::TimedOut,
            &[(CaseStatus::TimedOut, 3.0), (CaseStatus::TimedOut, 3.0)],
        );
        assert_eq!(case_label(&timeout), "TRY 2 TIMEOUT");
        assert_eq!(case_time(&timeout), "3.00s");
        let once = case(CaseStatus::Passed, &[(CaseStatus::Passed, 0.01)]);
        assert_eq!(case_label(&once), "PASS");
        let mut doc = once.clone();
        doc.attempts[0].shared = true;
        assert_eq!(case_time(&doc), "~10.0ms");
    }
}
