//! Everything after the suites: the test history's marks on each case, the comparisons with
//! the baselines in git notes and with paired rounds, and the gate. `run` judges its own report
//! here; `merge` and `comment` judge a report made elsewhere with the same functions, so a
//! comparison is always computed from the metrics of the report being judged — never carried
//! over from a shard or an artifact.

use std::path::Path;

use crate::baseline::BaseHistory;
use crate::config::Config;
use crate::event::{Event, Sink};
use crate::model::{Comparison, Report, SuiteKind, VerdictStatus};

/// Where the comparisons' base commit comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Base<'a> {
    /// As a run decides it: `--baseline-rev`, else the merge base with the pull request's
    /// base branch, else `HEAD^` (`baseline::resolve_base`).
    Run(Option<&'a str>),
    /// The checkout's `HEAD` itself: a publishing job checks out the default branch, whose
    /// head is the base of the pull request it publishes for.
    Head,
}

/// What judging needs besides the report.
pub struct Judge<'a> {
    /// The repository whose notes hold the baselines (no notes: every metric is new).
    pub root: Option<&'a Path>,
    pub config: &'a Config,
    pub base: Base<'a>,
    /// `--no-baseline`.
    pub no_baseline: bool,
    pub events: Sink<'a>,
}

impl Judge<'_> {
    /// Comparisons (stored baselines, then paired rounds) and the gate.
    pub fn judge(&self, report: &mut Report) {
        self.compare(report);
        attach_paired(report, self.config);
        crate::gate::apply(report, &self.config.rules);
    }

    /// Judges a report another job made (an artifact of an untrusted fork): suite statuses
    /// from their cases, comparisons from its metrics and this checkout's notes, the gate with
    /// this checkout's rules — and fails it when it lacks what those rules measure, or says
    /// its job could not run.
    pub fn rejudge_untrusted(&self, report: &mut Report) {
        for suite in &mut report.suites {
            suite.refresh_status();
        }
        self.judge(report);
        // Rules whose suite is missing are skipped, so an artifact stripped of a suite (or of
        // its tests) would pass on what is left: the trusted rules say what must be there.
        // And a status its attempts contradict, or a quarantine this checkout never declared,
        // is a forged outcome.
        let mut wrong = missing_evidence(report, self.config);
        wrong.extend(contradicted_statuses(report, self.config));
        if !wrong.is_empty() {
            report.verdict.status = VerdictStatus::Failed;
            report.verdict.reasons.extend(wrong);
        }
        // An artifact that says its job could not run has nothing to pass on: failing is the
        // safe reading of an untrusted claim either way.
        if report.config_error.is_some() {
            report.verdict.status = VerdictStatus::Failed;
            report
                .verdict
                .reasons
                .push("the artifact's job could not run (configuration error)".to_string());
        }
    }

    /// Compares the report's performance metrics with the baselines in the notes; says why not
    /// when it cannot (the rules on regressions are then skipped, never silently passed).
    pub fn compare(&self, report: &mut Report) {
        self.compare_all(report);
        for c in &mut report.comparisons {
            c.unasked = !asked_for(self.config, &c.metric);
        }
    }

    fn compare_all(&self, report: &mut Report) {
        report.comparisons.clear();
        report.baseline_note = None;
        if crate::baseline::perf_metrics(report).is_empty() {
            return;
        }
        let store = self
            .root
            .and_then(|r| crate::baseline::notes::Store::open(r).ok());
        let has_notes = store.as_ref().is_some_and(|s| s.notes_tip().is_some());
        // Without benchmarks and without any saved note, the team does not use baselines: a
        // table of one "new" test duration on every run would only be noise.
        let has_bench =
            report.suite(SuiteKind::Bench).is_some() || report.suite(SuiteKind::Load).is_some();
        if !has_bench && !has_notes {
            return;
        }
        if self.no_baseline {
            report.baseline_note = Some("baseline comparison is off (--no-baseline)".to_string());
            return;
        }
        if !self.config.baseline.enabled {
            report.baseline_note = Some("baseline comparison is off in gate.toml".to_string());
            return;
        }
        let store = match store {
            Some(store) if has_notes || self.base != Base::Head => store,
            _ => {
                report.baseline_note = Some(if self.base == Base::Head {
                    "no baseline: the publishing checkout has no notes (fetch them with `cargo gate baseline fetch` before publishing)"
                } else {
                    "no baseline: not in a git repository (the notes are read from the repository the command runs in)"
                }.to_string());
                report.comparisons = crate::baseline::all_new(report);
                return;
            }
        };
        let result = (|| {
            let (base, how) = match self.base {
                Base::Run(rev) => crate::baseline::resolve_base(&store, rev)?,
                Base::Head => (
                    store.resolve("HEAD")?,
                    "the publishing checkout's HEAD".into(),
                ),
            };
            let (comparisons, warnings) =
                crate::baseline::compare_report(&store, report, base, &self.config.baseline)?;
            Ok::<_, crate::baseline::notes::StoreError>((comparisons, warnings, how))
        })();
        match result {
            Ok((comparisons, warnings, how)) => {
                for w in warnings {
                    crate::event::warn(self.events, None, &w);
                }
                if comparisons.iter().all(|c| c.baseline_rev.is_none()) {
                    report.baseline_note = Some(format!(
                        "no baseline: no note within {} commits of {how} (save one with `cargo gate baseline save` on the default branch)",
                        self.config.baseline.max_depth
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
}

/// Whether the user asked to see a compared metric: the ones a suite names after what the user
/// configured (a benchmark, a load scenario) are asked for by being configured; a fixed metric
/// every run records (`tests.duration`) only by a rule that reads it or a
/// `[baseline.metric."NAME"]` table. The rest is saved for the trend and not shown, so a team
/// with no benchmarks gets no performance table from run-to-run noise.
fn asked_for(config: &Config, metric: &str) -> bool {
    use crate::gate::Target;
    if crate::gate::metric_def(metric).is_none() {
        return true;
    }
    config.baseline.per_metric.contains_key(metric)
        || config.rules.iter().any(|r| match &r.target {
            Target::Static(def) => def.name == metric,
            Target::Regression { pattern } => crate::util::glob::matches(pattern, metric),
            Target::Aggregate { .. } | Target::Load { .. } => false,
        })
}

/// What the trusted gate.toml's fail rules need and the report lacks: a suite they measure
/// (the tests suite only when gate.toml leaves it on), or any test at all in the tests suite.
fn missing_evidence(report: &Report, config: &Config) -> Vec<String> {
    use crate::gate::Target;
    let mut needed: Vec<SuiteKind> = Vec::new();
    for rule in config
        .rules
        .iter()
        .filter(|r| r.level == crate::model::RuleLevel::Fail)
    {
        let kind = match &rule.target {
            Target::Static(def) => def.suite,
            Target::Aggregate { .. } => SuiteKind::Bench,
            Target::Load { .. } => SuiteKind::Load,
            // Regressions are judged from comparisons, made again from the notes.
            Target::Regression { .. } => continue,
        };
        if (kind != SuiteKind::Tests || config.tests.enabled) && !needed.contains(&kind) {
            needed.push(kind);
        }
    }
    let mut reasons = Vec::new();
    for kind in needed {
        match report.suite(kind) {
            None => reasons.push(format!(
                "the report has no `{}` suite, which the trusted gate.toml's rules measure",
                kind.as_str()
            )),
            Some(s) if kind == SuiteKind::Tests && s.cases.is_empty() => reasons.push(
                "the report's tests suite holds no test: there is nothing to pass".to_string(),
            ),
            Some(_) => {}
        }
    }
    reasons
}

/// Test cases whose status their own attempts contradict (`passed` or `flaky` with no passing
/// attempt, `flaky` or `failed` with no failing one, `skipped` after a failed attempt), or that
/// are `quarantined` although this checkout's gate.toml quarantines nothing of that name.
/// At most a few are named; the count says how many.
fn contradicted_statuses(report: &Report, config: &Config) -> Vec<String> {
    use crate::model::CaseStatus;
    let Some(tests) = report.suite(SuiteKind::Tests) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for c in &tests.cases {
        let passed = c.attempts.iter().any(|a| a.status == CaseStatus::Passed);
        let failed = c.attempts.iter().any(|a| a.status.is_failure());
        let last_passed = c
            .attempts
            .last()
            .is_some_and(|a| a.status == CaseStatus::Passed);
        let why = match c.status {
            CaseStatus::Passed if !last_passed => Some("passed, but its last attempt did not"),
            CaseStatus::Flaky if !(last_passed && failed) => {
                Some("flaky, but it has no failed attempt before a passing one")
            }
            CaseStatus::Failed | CaseStatus::TimedOut if !failed => {
                Some("failed, but no attempt failed")
            }
            CaseStatus::Skipped if failed || passed => Some("skipped, but it ran"),
            CaseStatus::Quarantined if !config.tests.is_quarantined(&c.id, &c.name) => {
                Some("quarantined, but this checkout's gate.toml quarantines no such test")
            }
            _ => None,
        };
        if let Some(why) = why {
            found.push(format!(
                "case `{}` says {why}",
                crate::util::sanitize::for_log(&c.id)
            ));
        }
    }
    if found.len() > 5 {
        let more = found.len() - 5;
        found.truncate(5);
        found.push(format!(
            "and {more} more cases whose status contradicts them"
        ));
    }
    found
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

/// Benchmarks measured A/B in the job are judged by their rounds, not by the notes: their
/// comparisons replace the stored-baseline ones (rules on regressions then use them).
pub fn attach_paired(report: &mut Report, config: &Config) {
    let paired: Vec<Comparison> = report
        .suites
        .iter()
        .flat_map(|s| s.paired())
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

/// The base's test history read for a run: it quarantines flaky tests before the suites run
/// (`[tests.flaky] quarantine = "auto"`) and marks each case after them.
pub fn read_history(
    root: &Path,
    config: &mut Config,
    base: Option<&str>,
    events: Sink<'_>,
) -> Option<BaseHistory> {
    let depth = config
        .baseline
        .max_depth
        .max(config.tests.flaky.policy.window * 2);
    let (history, warnings) = crate::baseline::base_history(root, base, depth);
    for w in warnings {
        crate::event::warn(events, None, &w);
    }
    let history = history?;
    if config.tests.flaky.quarantine == crate::config::FlakyQuarantine::Auto {
        config.tests.auto_quarantine =
            crate::baseline::testhistory::quarantined(&history.tests, &config.tests.flaky.policy);
        for (id, why) in &config.tests.auto_quarantine {
            events(&Event::Notice(&format!(
                "quarantined by history: {id} ({why})"
            )));
        }
    }
    Some(history)
}

/// Marks each test case with its history and its change against the base. `complete`: the run
/// ran every test, so a test it lacks is gone (only such a run can say so).
pub fn annotate_history(
    report: &mut Report,
    history: &BaseHistory,
    config: &Config,
    complete: bool,
) {
    if let Some(tests) = report
        .suites
        .iter_mut()
        .find(|s| s.kind == SuiteKind::Tests)
    {
        crate::baseline::testhistory::annotate(
            tests,
            &history.tests,
            config.tests.flaky.policy.window,
            complete,
            &config.tests.auto_quarantine,
            history.duration,
        );
    }
}
