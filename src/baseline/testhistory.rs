//! Each test's history along the default branch, from the outcomes notes keep: what `cargo gate
//! history` prints, what a run's cases are compared with (new failure or already failing), and
//! which tests are flaky enough to quarantine. Pure: the notes are read elsewhere.
//!
//! A commit can hold several runs (shards, reruns, machines). Per commit a test is one of: it
//! passed; it failed (every attempt of every run); it was flaky — it failed and then passed in
//! one run, or passed in one run and failed in another on the same commit (the same code, two
//! outcomes); or it was skipped.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;

use super::outcomes::{OutcomesError, TestRun};
use crate::model::CaseStatus;

/// What a test did on one commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Seen {
    /// Not in any run of the commit.
    Absent,
    /// Passed.
    Passed,
    /// Failed on every attempt.
    Failed,
    /// Failed, and passed on the same code.
    Flaky,
    /// Skipped (ignored, filtered).
    Skipped,
}

impl Seen {
    fn of(status: CaseStatus) -> Seen {
        match status {
            CaseStatus::Passed => Seen::Passed,
            CaseStatus::Failed | CaseStatus::TimedOut | CaseStatus::Quarantined => Seen::Failed,
            CaseStatus::Flaky => Seen::Flaky,
            CaseStatus::Skipped => Seen::Skipped,
        }
    }

    /// Two runs of the same commit together.
    fn and(self, other: Seen) -> Seen {
        use Seen::*;
        match (self, other) {
            (Absent, x) | (x, Absent) => x,
            (Skipped, x) | (x, Skipped) => x,
            (Flaky, _) | (_, Flaky) => Flaky,
            (Passed, Failed) | (Failed, Passed) => Flaky,
            (x, _) => x,
        }
    }

    /// It ran (passed, failed or flaky).
    pub fn ran(self) -> bool {
        matches!(self, Seen::Passed | Seen::Failed | Seen::Flaky)
    }
}

/// Tests' outcomes over commits, newest commit first.
#[derive(Debug, Default)]
pub struct TestHistory {
    /// The commits with outcomes (short ids), newest first.
    pub commits: Vec<String>,
    /// Test ids.
    pub ids: Vec<String>,
    /// `seen[t][c]`: test `t` on commit `c`.
    pub seen: Vec<Vec<Seen>>,
    /// Milliseconds of the newest passing run of each test (0 when none), for ETAs.
    pub millis: Vec<u32>,
    index: HashMap<String, usize>,
    /// Each distinct id list's tests as indices here, by the list's address in `cache` (which
    /// keeps every list alive, so an address is never reused): one lookup per id per distinct
    /// list instead of one per id per run.
    positions: HashMap<usize, Arc<Vec<usize>>>,
    cache: IdCache,
}

/// Decoded id lists by their stored form: consecutive commits usually have the same list, and
/// each distinct one is decoded once.
#[derive(Default, Debug)]
struct IdCache {
    lists: HashMap<String, Arc<Vec<String>>>,
}

impl IdCache {
    fn get(&mut self, field: &str) -> Result<Arc<Vec<String>>, OutcomesError> {
        if let Some(l) = self.lists.get(field) {
            return Ok(Arc::clone(l));
        }
        let list = Arc::new(super::outcomes::decode_ids(field)?);
        self.lists.insert(field.to_string(), Arc::clone(&list));
        Ok(list)
    }
}

impl TestHistory {
    /// Adds the next older commit with its runs (none: a commit without outcomes, which is not
    /// counted). Runs that cannot be read are passed over and returned as errors.
    pub fn push(&mut self, commit: &str, runs: &[TestRun]) -> Vec<OutcomesError> {
        let mut errors = Vec::new();
        let mut decoded = Vec::new();
        for run in runs {
            match (self.cache.get(&run.ids), run.outcomes()) {
                (Ok(ids), Ok(outcomes)) if ids.len() == outcomes.len() => {
                    decoded.push((ids, outcomes));
                }
                (Ok(ids), Ok(outcomes)) => {
                    errors.push(OutcomesError::mismatch(ids.len(), outcomes.len()))
                }
                (Err(e), _) | (_, Err(e)) => errors.push(e),
            }
        }
        if decoded.is_empty() {
            return errors;
        }
        let c = self.commits.len();
        self.commits.push(commit.to_string());
        for row in &mut self.seen {
            row.push(Seen::Absent);
        }
        for (ids, outcomes) in decoded {
            let positions = self.positions_of(&ids, c);
            for (&t, o) in positions.iter().zip(outcomes) {
                let cell = &mut self.seen[t][c];
                *cell = cell.and(Seen::of(o.status));
                if o.status == CaseStatus::Passed && self.millis[t] == 0 {
                    self.millis[t] = o.millis;
                }
            }
        }
        errors
    }

    /// The tests of an id list as indices, adding those not seen before (absent on the `c`
    /// commits before this one).
    fn positions_of(&mut self, ids: &Arc<Vec<String>>, c: usize) -> Arc<Vec<usize>> {
        let key = Arc::as_ptr(ids) as usize;
        if let Some(p) = self.positions.get(&key) {
            return Arc::clone(p);
        }
        let mut p = Vec::with_capacity(ids.len());
        for id in ids.iter() {
            let t = match self.index.get(id) {
                Some(&t) => t,
                None => {
                    let t = self.ids.len();
                    self.ids.push(id.clone());
                    self.index.insert(id.clone(), t);
                    self.seen.push(vec![Seen::Absent; c + 1]);
                    self.millis.push(0);
                    t
                }
            };
            p.push(t);
        }
        let p = Arc::new(p);
        self.positions.insert(key, Arc::clone(&p));
        p
    }

    /// The index of a test.
    pub fn find(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    /// A test's figures over the newest `window` commits with outcomes.
    pub fn stats(&self, t: usize, window: usize) -> Stats {
        let seen = &self.seen[t][..self.commits.len().min(window)];
        let mut s = Stats::default();
        let mut streak = 0;
        for (c, &x) in seen.iter().enumerate() {
            match x {
                Seen::Passed => {
                    s.passed += 1;
                    streak += 1;
                    s.longest_pass_streak = s.longest_pass_streak.max(streak);
                }
                Seen::Failed | Seen::Flaky => {
                    if x == Seen::Failed {
                        s.failed += 1;
                    } else {
                        s.flaky += 1;
                        s.flaky_commits.push(self.commits[c].clone());
                    }
                    streak = 0;
                    s.last_failure
                        .get_or_insert_with(|| self.commits[c].clone());
                }
                Seen::Absent | Seen::Skipped => {}
            }
        }
        s.runs = s.passed + s.failed + s.flaky;
        let ran: Vec<Seen> = seen.iter().copied().filter(|x| x.ran()).collect();
        s.clean_streak = ran.iter().take_while(|x| **x == Seen::Passed).count();
        s.failing_streak = ran.iter().take_while(|x| **x == Seen::Failed).count();
        s
    }
}

/// One test's figures over a window of commits.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Stats {
    /// Commits it ran on.
    pub runs: usize,
    /// Of those, passed.
    pub passed: usize,
    /// Failed on every attempt.
    pub failed: usize,
    /// Flaky.
    pub flaky: usize,
    /// The newest commit it failed (or was flaky) on.
    pub last_failure: Option<String>,
    /// The longest run of consecutive passes.
    pub longest_pass_streak: usize,
    /// Passes since its last failure, newest first.
    pub clean_streak: usize,
    /// Consecutive failures up to the newest run: a test failing every attempt run after run is
    /// broken, not flaky.
    pub failing_streak: usize,
    /// The commits it was flaky on, newest first.
    pub flaky_commits: Vec<String>,
}

impl Stats {
    /// Flaky runs per run (0 without runs).
    pub fn flake_rate(&self) -> f64 {
        if self.runs == 0 {
            0.0
        } else {
            self.flaky as f64 / self.runs as f64
        }
    }
}

/// When a test's history makes it quarantined (`[tests.flaky] quarantine = "auto"`).
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// Commits looked at.
    pub window: usize,
    /// Flaky runs needed in the window.
    pub min_flaky: usize,
    /// And at least this flake rate (0–1).
    pub rate: f64,
    /// Released after this many clean runs in a row.
    pub release_after: usize,
    /// A test failing on this many consecutive runs is broken and never quarantined.
    pub broken_after: usize,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            window: 30,
            min_flaky: 2,
            rate: 0.0,
            release_after: 10,
            broken_after: 2,
        }
    }
}

/// Why a test is quarantined, or `None`: flaky often enough in the window, not broken, not yet
/// released by clean runs. The reason names the evidence (`flaky in 4 of the last 30 runs on
/// the base: a1b2c3d, e4f5a6b, …`).
pub fn quarantine(stats: &Stats, policy: &Policy) -> Option<String> {
    if stats.flaky < policy.min_flaky.max(1)
        || stats.flake_rate() < policy.rate
        || stats.failing_streak >= policy.broken_after
        || stats.clean_streak >= policy.release_after
    {
        return None;
    }
    let mut shown: Vec<&str> = stats
        .flaky_commits
        .iter()
        .take(5)
        .map(String::as_str)
        .collect();
    if stats.flaky_commits.len() > 5 {
        shown.push("…");
    }
    Some(format!(
        "flaky in {} of the last {} runs: {}",
        stats.flaky,
        stats.runs,
        shown.join(", ")
    ))
}

/// Letters of the recent strip, by what the test did.
fn letter(x: Seen) -> char {
    match x {
        Seen::Absent => '-',
        Seen::Passed => 'p',
        Seen::Failed => 'f',
        Seen::Flaky => 'k',
        Seen::Skipped => 's',
    }
}

/// Runs shown in a case's recent strip.
pub const RECENT: usize = 20;

/// Marks each case of a tests suite with its history on the base (the figures over `window`
/// runs, its change against the newest run that ran it, the recent strip, why the history
/// quarantined it), records the base's totals on the suite and — when `complete`, i.e. this run
/// selected every test — the tests the base had that this run does not. The gate counts
/// `tests.new_failures`, `tests.still_failing` and `tests.new_flaky` from the cases (so merged
/// shards count right). Nothing happens without history: returns whether it did.
pub fn annotate(
    suite: &mut crate::model::Suite,
    h: &TestHistory,
    window: usize,
    complete: bool,
    quarantined: &std::collections::BTreeMap<String, String>,
    base_duration: Option<f64>,
) -> bool {
    use crate::model::{BaseTests, CaseHistory, Change};
    let Some(newest) = h.commits.first() else {
        return false;
    };
    let mut here = std::collections::HashSet::new();
    for case in &mut suite.cases {
        here.insert(case.id.clone());
        let Some(t) = h.find(&case.id) else {
            case.history = Some(CaseHistory {
                runs: 0,
                failed: 0,
                flaky: 0,
                change: (case.status != CaseStatus::Skipped).then_some(Change::NewTest),
                recent: String::new(),
                quarantined: None,
            });
            continue;
        };
        let stats = h.stats(t, window);
        let last = h.seen[t][..h.commits.len().min(window)]
            .iter()
            .copied()
            .find(|x| x.ran());
        // A quarantined failure is reported, never counted against the change: it is neither a
        // new failure nor one the gate should see as still failing.
        let failing = case.status.is_failure();
        let passing = matches!(case.status, CaseStatus::Passed | CaseStatus::Flaky);
        let change = match (last, failing, passing) {
            (None, _, _) if case.status != CaseStatus::Skipped => Some(Change::NewTest),
            (Some(Seen::Failed), true, _) => Some(Change::StillFailing),
            (Some(_), true, _) => Some(Change::NewFailure),
            (Some(Seen::Failed), _, true) => Some(Change::Fixed),
            _ => None,
        };
        let recent: String = h.seen[t][..h.commits.len().min(RECENT)]
            .iter()
            .rev()
            .map(|&x| letter(x))
            .collect();
        case.history = Some(CaseHistory {
            runs: stats.runs,
            failed: stats.failed,
            flaky: stats.flaky,
            change,
            recent,
            quarantined: quarantined.get(&case.id).cloned(),
        });
    }
    let on_base: Vec<&String> = h
        .ids
        .iter()
        .enumerate()
        .filter(|(t, _)| h.seen[*t][0] != Seen::Absent)
        .map(|(_, id)| id)
        .collect();
    suite.tests_mut().base = Some(BaseTests {
        commit: newest.clone(),
        tests: on_base.len(),
        duration: base_duration,
        removed: if complete {
            on_base
                .into_iter()
                .filter(|id| !here.contains(*id))
                .cloned()
                .collect()
        } else {
            Vec::new()
        },
    });
    true
}

/// The tests to quarantine for a run from the base's history, with the evidence.
pub fn quarantined(h: &TestHistory, policy: &Policy) -> std::collections::BTreeMap<String, String> {
    h.ids
        .iter()
        .enumerate()
        .filter_map(|(t, id)| {
            quarantine(&h.stats(t, policy.window), policy).map(|why| (id.clone(), why))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::outcomes::Outcome;
    use super::*;

    fn run(id: &str, tests: &[(&str, CaseStatus)]) -> TestRun {
        let outcomes: Vec<(&str, Outcome)> = tests
            .iter()
            .map(|&(name, status)| {
                (
                    name,
                    Outcome {
                        status,
                        attempts: if status == CaseStatus::Flaky { 2 } else { 1 },
                        millis: 5,
                    },
                )
            })
            .collect();
        TestRun::new(id, "", &outcomes)
    }

    /// `commits` newest first, each a list of runs.
    fn history(commits: &[&[&[(&str, CaseStatus)]]]) -> TestHistory {
        let mut h = TestHistory::default();
        for (i, runs) in commits.iter().enumerate() {
            let runs: Vec<TestRun> = runs.iter().map(|r| run(&format!("r{i}"), r)).collect();
            assert!(h.push(&format!("c{i}"), &runs).is_empty());
        }
        h
    }

    use CaseStatus::{Failed, Flaky, Passed};

    #[test]
    fn mixed_outcomes_on_one_commit_are_flaky() {
        let h = history(&[&[&[("t", Passed)], &[("t", Failed)]], &[&[("t", Passed)]]]);
        let t = h.find("t").unwrap();
        assert_eq!(h.seen[t], [Seen::Flaky, Seen::Passed]);
        let s = h.stats(t, 30);
        assert_eq!((s.runs, s.passed, s.flaky, s.failed), (2, 1, 1, 0));
        assert_eq!(s.last_failure.as_deref(), Some("c0"));
    }

    #[test]
    fn streaks_and_rates_are_counted_over_the_window() {
        // Newest first: F P P F P P P K P
        let seq = [
            Failed, Passed, Passed, Failed, Passed, Passed, Passed, Flaky, Passed,
        ];
        let commits: Vec<Vec<(&str, CaseStatus)>> = seq.iter().map(|&s| vec![("t", s)]).collect();
        let runs: Vec<Vec<&[(&str, CaseStatus)]>> =
            commits.iter().map(|c| vec![c.as_slice()]).collect();
        let refs: Vec<&[&[(&str, CaseStatus)]]> = runs.iter().map(Vec::as_slice).collect();
        let h = history(&refs);
        let s = h.stats(0, 30);
        assert_eq!((s.runs, s.failed, s.flaky, s.passed), (9, 2, 1, 6));
        assert_eq!(s.longest_pass_streak, 3);
        assert_eq!((s.clean_streak, s.failing_streak), (0, 1));
        assert!((s.flake_rate() - 1.0 / 9.0).abs() < 1e-9);
        let small = h.stats(0, 3);
        assert_eq!((small.runs, small.failed), (3, 1));
    }

    #[test]
    fn quarantine_takes_the_flaky_never_the_broken_and_releases_after_clean_runs() {
        let policy = Policy {
            min_flaky: 2,
            release_after: 3,
            ..Policy::default()
        };
        let stats = |seq: &[Seen]| {
            let mut h = TestHistory::default();
            for (i, &x) in seq.iter().enumerate() {
                h.commits.push(format!("c{i}"));
                if h.seen.is_empty() {
                    h.seen.push(Vec::new());
                }
                h.seen[0].push(x);
            }
            h.stats(0, 30)
        };
        use Seen::{Failed as F, Flaky as K, Passed as P};
        let flaky = stats(&[P, K, P, K, P]);
        let why = quarantine(&flaky, &policy).expect("flaky twice");
        assert_eq!(why, "flaky in 2 of the last 5 runs: c1, c3");
        // Broken: failing run after run, whatever its past.
        assert_eq!(quarantine(&stats(&[F, F, K, K, P]), &policy), None);
        // Released: three clean runs since.
        assert_eq!(quarantine(&stats(&[P, P, P, K, K]), &policy), None);
        // Once is not enough.
        assert_eq!(quarantine(&stats(&[P, K, P, P]), &policy), None);
        // A rate: 2 in 5 is 40 %, under a 50 % threshold.
        let strict = Policy {
            rate: 0.5,
            ..policy.clone()
        };
        assert_eq!(quarantine(&flaky, &strict), None);
    }

    #[test]
    fn cases_are_told_what_changed_against_the_base() {
        use crate::model::{Case, Change};
        let h = history(&[
            &[&[
                ("b old", Passed),
                ("b broken", Failed),
                ("b fixed", Failed),
                ("b gone", Passed),
                ("b q", Passed),
            ]],
            &[&[("b old", Passed), ("b broken", Failed), ("b fixed", Passed)]],
        ]);
        let case =
            |id: &str, status| Case::single(id, id, status, 0.1, String::new(), String::new());
        let mut suite = crate::suites::suite(
            crate::model::SuiteKind::Tests,
            1.0,
            vec![
                case("b old", Failed),
                case("b broken", Failed),
                case("b fixed", Passed),
                case("b new", Passed),
                // Quarantined: reported, not counted as a new failure.
                case("b q", CaseStatus::Quarantined),
            ],
        );
        assert!(annotate(
            &mut suite,
            &h,
            30,
            true,
            &Default::default(),
            Some(2.0)
        ));
        let change = |id: &str| {
            suite
                .cases
                .iter()
                .find(|c| c.id == id)
                .unwrap()
                .history
                .clone()
                .unwrap()
                .change
        };
        assert_eq!(change("b old"), Some(Change::NewFailure));
        assert_eq!(change("b broken"), Some(Change::StillFailing));
        assert_eq!(change("b fixed"), Some(Change::Fixed));
        assert_eq!(change("b new"), Some(Change::NewTest));
        assert_eq!(change("b q"), None);
        // What the gate counts from the cases.
        let count = |want| {
            suite
                .cases
                .iter()
                .filter(|c| c.history.as_ref().and_then(|h| h.change) == Some(want))
                .count()
        };
        assert_eq!(
            (count(Change::NewFailure), count(Change::StillFailing)),
            (1, 1)
        );
        let base = suite.base().cloned().unwrap();
        assert_eq!((base.commit.as_str(), base.tests), ("c0", 5));
        assert_eq!(base.removed, ["b gone"]);
        let old = suite.cases.iter().find(|c| c.id == "b old").unwrap();
        assert_eq!(old.history.as_ref().unwrap().recent, "pp");
        // A filtered run cannot tell a removed test from one it did not select.
        let mut partial = crate::suites::suite(crate::model::SuiteKind::Tests, 1.0, vec![]);
        annotate(&mut partial, &h, 30, false, &Default::default(), None);
        assert!(partial.base().unwrap().removed.is_empty());
        // Without history nothing is added.
        let mut none = crate::suites::suite(crate::model::SuiteKind::Tests, 1.0, vec![]);
        assert!(!annotate(
            &mut none,
            &TestHistory::default(),
            30,
            true,
            &Default::default(),
            None
        ));
        assert!(none.base().is_none());
    }

    #[test]
    fn a_run_whose_lists_disagree_is_reported_and_passed_over() {
        let good = run("r", &[("a", Passed)]);
        let bad = TestRun {
            outcomes: run("r", &[("a", Passed), ("b", Passed)]).outcomes,
            ..good.clone()
        };
        let mut h = TestHistory::default();
        let errors = h.push("c0", &[bad]);
        assert_eq!(errors.len(), 1);
        assert!(
            h.commits.is_empty(),
            "a commit with nothing readable is not counted"
        );
    }
}
