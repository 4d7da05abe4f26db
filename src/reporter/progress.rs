//! The counting and wording of test progress: the header, `(n/N)`, the `TRY` and status
//! columns, the periodic status line and its ETA. Pure, so it is tested without a clock or
//! processes; `terminal.rs` adds the clock and the output.

use std::time::Duration;

use crate::event::TestsPlanned;
use crate::model::Case;
use crate::util::units::format_seconds;

/// Running tests named on the bar and in status lines.
const NAMED_RUNNING: usize = 3;
/// Width of the status column (`TRY 2 TIMEOUT` is the longest).
pub const LABEL_WIDTH: usize = 13;
/// How often a CI log gets a status line unless `CARGO_GATE_STATUS_INTERVAL` says otherwise.
pub const DEFAULT_STATUS_EVERY: Duration = Duration::from_secs(15);

/// `Starting 500 tests across 5 binaries and the doctests of 2 packages (3 skipped)`.
pub fn header_line(h: &TestsPlanned) -> String {
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut s = format!(
        "Starting {} across {}",
        plural(h.tests, "test", "tests"),
        plural(h.binaries, "binary", "binaries")
    );
    if h.doc_packages > 0 {
        s.push_str(&format!(
            " and the doctests of {}",
            plural(h.doc_packages, "package", "packages")
        ));
    }
    if h.skipped > 0 {
        s.push_str(&format!(" ({} skipped)", h.skipped));
    }
    s
}

/// Units of work done and planned. A unit is a test, or a package's doctest batch (how many
/// doctests it holds is known only once it has compiled them): the total is fixed when the run
/// starts, so `(n/N)` never changes its N, and every case of a batch shows its batch's `n`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counts {
    /// Units planned.
    pub total: usize,
    /// Units finished.
    pub done: usize,
    /// Cases failed or timed out so far.
    pub failed: usize,
    /// Seconds the units not yet finished took last time, by the durations the notes recorded
    /// (`None` without them), and the jobs that share them.
    pub expected_left: Option<f64>,
    /// Units at once.
    pub jobs: usize,
}

/// A running unit as the ETA sees it: the seconds it took last time and how long it has run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Running {
    pub weight: f64,
    pub elapsed: Duration,
}

impl Counts {
    /// A unit announced as `units` units (a batch of a binary's tests counts each test),
    /// expected to take `weight` seconds, finished with `cases`: the `n` to show on each case's
    /// line.
    pub fn finish_weighted(&mut self, units: usize, weight: f64, cases: &[Case]) -> Vec<usize> {
        if let Some(left) = &mut self.expected_left {
            *left = (*left - weight).max(0.0);
        }
        self.finish(units, cases)
    }

    /// A unit announced as `units` units finished with `cases`: the `n` of each case's line.
    /// A case nobody announced (`units` 0) counts as a unit of its own.
    pub fn finish(&mut self, units: usize, cases: &[Case]) -> Vec<usize> {
        let before = self.done;
        let units = if units == 0 {
            self.total += cases.len();
            cases.len()
        } else {
            units
        };
        self.done += units;
        self.failed += cases.iter().filter(|c| c.status.is_failure()).count();
        (1..=cases.len())
            .map(|i| (before + i).min(self.done))
            .collect()
    }

    /// Time left. With the recorded durations: what the unfinished units took last time, less
    /// what the running ones have already run, shared by the jobs — and never less than the
    /// longest running unit still needs (a long doctest batch alone at the end). Without them:
    /// at the pace so far (`None` before the first unit ends).
    pub fn eta(&self, elapsed: Duration, running: &[Running]) -> Option<Duration> {
        if let Some(left) = self.expected_left {
            let ran: f64 = running
                .iter()
                .map(|r| r.weight.min(r.elapsed.as_secs_f64()))
                .sum();
            let longest = running
                .iter()
                .map(|r| (r.weight - r.elapsed.as_secs_f64()).max(0.0))
                .fold(0.0, f64::max);
            let shared = (left - ran).max(0.0) / self.jobs.max(1) as f64;
            return Some(Duration::from_secs_f64(shared.max(longest)));
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
pub fn status_line(
    elapsed: Duration,
    counts: &Counts,
    running: &[(String, Duration)],
    eta: Option<Duration>,
) -> String {
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
    if let Some(eta) = eta {
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

/// The status period `CARGO_GATE_STATUS_INTERVAL` asks for (a duration such as `30s`), else
/// the default; a value that is not a duration gives the default and a warning rather than
/// stopping the run.
pub fn status_every(var: Option<&str>) -> (Duration, Option<String>) {
    match var {
        Some(v) => match crate::util::units::parse_duration(v) {
            Ok(d) if !d.is_zero() => (d, None),
            _ => (
                DEFAULT_STATUS_EVERY,
                Some(format!(
                    "CARGO_GATE_STATUS_INTERVAL is `{v}`, not a duration such as `30s`; using {}s",
                    DEFAULT_STATUS_EVERY.as_secs()
                )),
            ),
        },
        None => (DEFAULT_STATUS_EVERY, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Attempt, CaseStatus};

    #[test]
    fn the_status_period_is_read_or_defaulted_with_a_warning() {
        assert_eq!(status_every(Some("30s")), (Duration::from_secs(30), None));
        assert_eq!(status_every(None), (DEFAULT_STATUS_EVERY, None));
        let (d, warning) = status_every(Some("soon"));
        assert_eq!(d, DEFAULT_STATUS_EVERY);
        assert!(warning.is_some_and(|w| w.contains("`soon`")));
        assert!(status_every(Some("0s")).1.is_some());
    }

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
        let h = TestsPlanned {
            tests: 500,
            binaries: 5,
            doc_packages: 2,
            skipped: 3,
            ..TestsPlanned::default()
        };
        assert_eq!(
            header_line(&h),
            "Starting 500 tests across 5 binaries and the doctests of 2 packages (3 skipped)"
        );
        let one = TestsPlanned {
            tests: 1,
            binaries: 1,
            ..TestsPlanned::default()
        };
        assert_eq!(header_line(&one), "Starting 1 test across 1 binary");
    }

    #[test]
    fn the_total_is_fixed_and_a_doctest_batch_is_one_unit() {
        let mut c = Counts {
            total: 9,
            ..Counts::default()
        };
        let pass = case(CaseStatus::Passed, &[(CaseStatus::Passed, 0.1)]);
        let fail = case(CaseStatus::Failed, &[(CaseStatus::Failed, 0.1)]);
        // A doctest batch (one unit) of three doctests: each line shows the batch's n.
        let shown = c.finish(1, &[pass.clone(), pass.clone(), fail]);
        assert_eq!(shown, [1, 1, 1]);
        assert_eq!((c.total, c.done, c.failed), (9, 1, 1));
        // A batch of a binary's 8 tests announced as 8: one n per test, the total unchanged.
        let shown = c.finish(8, &vec![pass.clone(); 8]);
        assert_eq!(shown, (2..=9).collect::<Vec<_>>());
        assert_eq!((c.total, c.done), (9, 9));
        // A case nobody announced counts as a unit of its own.
        assert_eq!(c.finish(0, &[pass]), [10]);
        assert_eq!((c.total, c.done), (10, 10));
    }

    #[test]
    fn eta_follows_the_recorded_durations_when_there_are_some() {
        let mut c = Counts {
            total: 3,
            expected_left: Some(12.0),
            jobs: 2,
            ..Counts::default()
        };
        assert_eq!(c.eta(Duration::ZERO, &[]), Some(Duration::from_secs(6)));
        let pass = case(CaseStatus::Passed, &[(CaseStatus::Passed, 0.1)]);
        c.finish_weighted(1, 8.0, &[pass]);
        assert_eq!(
            c.eta(Duration::from_secs(100), &[]),
            Some(Duration::from_secs(2))
        );
    }

    /// A doctest batch that took 240 s last time runs alone at the end: the ETA is what it
    /// still needs, not the batch's time shared by idle jobs, and it falls as the batch runs.
    #[test]
    fn eta_counts_a_long_batch_by_its_recorded_time_while_it_runs() {
        let c = Counts {
            total: 8,
            done: 7,
            expected_left: Some(240.0),
            jobs: 2,
            ..Counts::default()
        };
        let at = |secs: u64| {
            c.eta(
                Duration::from_secs(10 + secs),
                &[Running {
                    weight: 240.0,
                    elapsed: Duration::from_secs(secs),
                }],
            )
        };
        assert_eq!(at(0), Some(Duration::from_secs(240)));
        assert_eq!(at(60), Some(Duration::from_secs(180)));
        assert_eq!(at(230), Some(Duration::from_secs(10)));
        assert_eq!(at(300), Some(Duration::ZERO), "overdue: no negative time");
    }

    #[test]
    fn eta_follows_the_pace_so_far() {
        let c = Counts {
            total: 40,
            done: 10,
            ..Counts::default()
        };
        assert_eq!(
            c.eta(Duration::from_secs(20), &[]),
            Some(Duration::from_secs(60))
        );
        assert_eq!(Counts::default().eta(Duration::from_secs(5), &[]), None);
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
            status_line(
                Duration::from_secs(65),
                &c,
                &running,
                c.eta(Duration::from_secs(65), &[])
            ),
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
