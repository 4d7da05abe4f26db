//! Performance baselines stored in the repository as git notes: the note model, the git2
//! store, sharing through a remote, statistics, and comparison.

pub mod bisect;
pub mod change;
pub mod compare;
pub mod config;
pub mod note;
pub mod notes;
pub mod outcomes;
pub mod remote;
pub mod stats;
pub mod testhistory;

use std::collections::BTreeSet;

use git2::Oid;

use crate::model::{Comparison, Metric, PerfVerdict, Report, Role};
use compare::{Input, compare};
use config::BaselineConfig;
use note::{Entry, Note};
use notes::{Store, StoreError, history};

/// The report's metrics of a role, with samples.
fn metrics_with(report: &Report, role: Role) -> impl Iterator<Item = &Metric> {
    report
        .suites
        .iter()
        .flat_map(|s| s.metrics.iter())
        .filter(move |m| m.role == role && !m.samples.is_empty())
}

/// The report's performance metrics: the ones compared with baselines (benchmarks, the tests'
/// wall time, load latencies and throughput). Counts such as `tests.failed` are gated directly,
/// never compared.
pub fn perf_metrics(report: &Report) -> Vec<&Metric> {
    metrics_with(report, Role::Compared).collect()
}

/// The note `baseline save` writes for a report: the metrics whose role is saved (compared and
/// trend metrics) and test times.
pub fn note_from_report(report: &Report) -> Note {
    Note {
        schema: note::NOTE_SCHEMA,
        entries: metrics_with(report, Role::Compared)
            .chain(metrics_with(report, Role::Trend))
            .map(|m| Entry {
                metric: m.name.clone(),
                unit: m.unit.clone(),
                direction: m.direction,
                samples: m.samples.clone(),
                run_id: report.run.id.clone(),
                recorded: report.run.started.clone(),
                role: Some(m.role),
                machine: report.run.machine.clone(),
            })
            .collect(),
        test_times: test_times(report),
        tests: test_outcomes(report).into_iter().collect(),
    }
}

/// Every test's outcome in the report (the tests suite's cases), or `None` without a tests
/// suite.
fn test_outcomes(report: &Report) -> Option<outcomes::TestRun> {
    let suite = report.suite(crate::model::SuiteKind::Tests)?;
    let tests: Vec<(&str, outcomes::Outcome)> = suite
        .cases
        .iter()
        .map(|c| {
            (
                c.id.as_str(),
                outcomes::Outcome {
                    status: c.status,
                    attempts: u32::try_from(c.attempts.len()).unwrap_or(u32::MAX),
                    // Whole milliseconds are plenty for an ETA and keep the note small.
                    millis: (c.duration() * 1000.0)
                        .round()
                        .clamp(0.0, f64::from(u32::MAX)) as u32,
                },
            )
        })
        .collect();
    Some(outcomes::TestRun::new(
        &report.run.id,
        &report.run.started,
        &tests,
    ))
}

/// Each test's outcomes along first-parent history from `from`: the newest `runs` commits with
/// outcomes, `depth` commits walked at most; the `tests.duration` noted beside the newest
/// outcomes; and what had to be skipped (notes that cannot be read, runs whose outcomes
/// cannot).
pub fn test_history(
    store: &Store,
    from: Oid,
    depth: usize,
    runs: usize,
) -> Result<(BaseHistory, Vec<String>), StoreError> {
    let noted = store.noted_commits();
    let mut warnings = Vec::new();
    let mut out = testhistory::TestHistory::default();
    let mut duration = None;
    for oid in store.first_parent(from, depth)? {
        if out.commits.len() >= runs {
            break;
        }
        let Some(blob) = noted.get(&oid) else {
            continue;
        };
        let short = store.short(oid);
        let note = match store.read_blob(*blob) {
            Ok(n) => n,
            Err(e) => {
                warnings.push(format!("note on {short} skipped: {e}"));
                continue;
            }
        };
        if note.tests.is_empty() {
            continue;
        }
        if out.commits.is_empty() {
            duration = note
                .metric("tests.duration")
                .map(|(s, _, _)| stats::median(&s));
        }
        for e in out.push(&short, &note.tests) {
            warnings.push(format!("outcomes on {short} skipped: {e}"));
        }
    }
    Ok((
        BaseHistory {
            tests: out,
            duration,
        },
        warnings,
    ))
}

/// The base's test history for a run: the outcomes, and the `tests.duration` of the newest run
/// that recorded outcomes.
pub struct BaseHistory {
    /// Outcomes along the base's first parents.
    pub tests: testhistory::TestHistory,
    /// The base's tests time (seconds).
    pub duration: Option<f64>,
}

/// The test history of the comparison base (`explicit`, else as [`resolve_base`] decides):
/// `None` outside a repository, without notes, or when no note within `depth` commits holds
/// outcomes. Warnings name what had to be skipped.
pub fn base_history(
    root: &std::path::Path,
    explicit: Option<&str>,
    depth: usize,
) -> (Option<BaseHistory>, Vec<String>) {
    let Ok(store) = Store::open(root) else {
        return (None, Vec::new());
    };
    if store.notes_tip().is_none() {
        return (None, Vec::new());
    }
    let Ok((base, _)) = resolve_base(&store, explicit) else {
        return (None, Vec::new());
    };
    let Ok((history, warnings)) = test_history(&store, base, depth, usize::MAX) else {
        return (None, Vec::new());
    };
    if history.tests.commits.is_empty() {
        return (None, warnings);
    }
    (Some(history), warnings)
}

/// Durations of the tests that ran (the last attempt's: the one a rerun would repeat).
fn test_times(report: &Report) -> note::TestTimes {
    note::TestTimes::from_durations(
        report
            .suites
            .iter()
            .filter(|s| s.kind == crate::model::SuiteKind::Tests)
            .flat_map(|s| &s.cases)
            .filter_map(|c| Some((c.id.clone(), c.attempts.last()?.duration)))
            // Doctests have no time of their own (libtest times the batch only).
            .filter(|(_, d)| *d > 0.0),
    )
}

/// The newest recorded test durations along first-parent history from the comparison base
/// (see [`resolve_base`]), at most `depth` commits back: the commit they are noted on and the
/// times. Unreadable notes are passed over.
pub fn recorded_test_times(
    store: &Store,
    depth: usize,
) -> Result<Option<(Oid, note::TestTimes)>, StoreError> {
    let (base, _) = resolve_base(store, None)?;
    for commit in store.first_parent(base, depth)? {
        if let Ok(Some(n)) = store.read(commit)
            && !n.test_times.is_empty()
        {
            return Ok(Some((commit, n.test_times)));
        }
    }
    Ok(None)
}

/// The commit comparisons start from: `explicit`, else the merge base with the PR's base
/// branch (`GITHUB_BASE_REF`), else HEAD's parent. Returns the commit and how it was chosen.
pub fn resolve_base(store: &Store, explicit: Option<&str>) -> Result<(Oid, String), StoreError> {
    if let Some(rev) = explicit {
        return Ok((store.resolve(rev)?, rev.to_string()));
    }
    let head = store.resolve("HEAD")?;
    if let Ok(base) = std::env::var("GITHUB_BASE_REF")
        && !base.is_empty()
    {
        let remote = format!("origin/{base}");
        if let Ok(b) = store.resolve(&remote)
            && let Some(mb) = store.merge_base(head, b)
        {
            return Ok((mb, format!("merge base with {remote}")));
        }
    }
    Ok((store.resolve("HEAD^")?, "HEAD^".to_string()))
}

/// [`resolve_base`] brought back to where the change left it: the merge base of that commit
/// and `HEAD` (the commit itself when they share no history). What the change is diffed
/// against.
pub fn change_base(store: &Store, explicit: Option<&str>) -> Result<(Oid, String), StoreError> {
    let (commit, name) = resolve_base(store, explicit)?;
    let commit = store
        .resolve("HEAD")
        .ok()
        .and_then(|head| store.merge_base(head, commit))
        .unwrap_or(commit);
    Ok((commit, name))
}

/// Comparisons of every performance metric of the report, worst first, and the notes that had
/// to be skipped (corrupt, newer schema).
pub fn compare_report(
    store: &Store,
    report: &Report,
    base: Oid,
    config: &BaselineConfig,
) -> Result<(Vec<Comparison>, Vec<String>), StoreError> {
    let depth = config.max_depth.max(config.history);
    let hist = history(store, base, depth)?;
    let warnings: Vec<String> = hist
        .skipped
        .iter()
        .map(|s| format!("note on {} skipped: {}", s.commit, s.error))
        .collect();
    let current = perf_metrics(report);
    let mut names: BTreeSet<String> = current.iter().map(|m| m.name.clone()).collect();
    // Metrics of the nearest note that this run did not measure are reported as missing.
    if let Some(nearest) = hist
        .commits
        .iter()
        .take(config.max_depth)
        .find_map(|(_, n)| n.as_ref())
    {
        names.extend(nearest.metric_names_of(Role::Compared));
    }
    let mut out = Vec::new();
    for name in names {
        let cur = current.iter().find(|m| m.name == name);
        let mut baseline: Option<(Vec<f64>, String, String, crate::model::Direction)> = None;
        let mut values = Vec::new();
        let mut same_machine = Vec::new();
        // The commit of each history value, for the chart's labels.
        let mut revs = Vec::new();
        let mut same_machine_revs = Vec::new();
        let central = |samples: &[f64]| {
            if samples.len() >= 2 {
                stats::median(samples)
            } else {
                stats::mean(samples)
            }
        };
        for (i, (oid, note)) in hist.commits.iter().enumerate() {
            let Some(note) = note.as_ref() else { continue };
            let Some((samples, unit, dir)) = note.metric(&name) else {
                continue;
            };
            if samples.is_empty() {
                continue;
            }
            if baseline.is_none() && i < config.max_depth {
                baseline = Some((samples.clone(), store.short(*oid), unit.to_string(), dir));
            }
            if values.len() < config.history {
                values.push(central(&samples));
                revs.push(store.short(*oid));
            }
            if let Some(machine) = report.run.machine.as_deref()
                && same_machine.len() < config.history
                && let Some((on, _, _)) = note.metric_on(&name, machine)
                && !on.is_empty()
            {
                same_machine.push(central(&on));
                same_machine_revs.push(store.short(*oid));
            }
        }
        // Machines of one class are compared among themselves when there are enough runs of
        // it; otherwise every run's value is the history (their spread then includes the
        // differences between classes).
        let mut history_machine = None;
        if same_machine.len() >= settings_min_history(config, &name) {
            values = same_machine;
            revs = same_machine_revs;
            history_machine = report.run.machine.clone();
        }
        values.reverse();
        revs.reverse();
        let (unit, direction) = match (cur, &baseline) {
            (Some(m), _) => (m.unit.clone(), m.direction),
            (None, Some((_, _, u, d))) => (u.clone(), *d),
            (None, None) => continue,
        };
        let settings = config.settings_for(&name);
        let input = Input {
            metric: &name,
            unit: &unit,
            direction,
            current: cur.map(|m| m.samples.as_slice()),
            baseline: baseline
                .as_ref()
                .map(|(s, rev, _, _)| (s.as_slice(), rev.as_str())),
            history: &values,
        };
        out.push(Comparison {
            history_machine,
            history_revs: revs,
            ..compare(&input, &settings)
        });
    }
    sort_worst_first(&mut out);
    Ok((out, warnings))
}

fn settings_min_history(config: &BaselineConfig, metric: &str) -> usize {
    config.settings_for(metric).min_history
}

/// Every performance metric of the report as `new`, for when there is no baseline at all.
pub fn all_new(report: &Report) -> Vec<Comparison> {
    let settings = compare::Settings::default();
    let mut out: Vec<Comparison> = perf_metrics(report)
        .into_iter()
        .map(|m| {
            compare(
                &Input {
                    metric: &m.name,
                    unit: &m.unit,
                    direction: m.direction,
                    current: Some(&m.samples),
                    baseline: None,
                    history: &[],
                },
                &settings,
            )
        })
        .collect();
    sort_worst_first(&mut out);
    out
}

/// Regressions first (largest first), then improvements, unchanged, new, missing.
pub fn sort_worst_first(c: &mut [Comparison]) {
    c.sort_by(|a, b| {
        a.verdict.cmp(&b.verdict).then_with(|| {
            let (da, db) = (
                a.delta_pct.unwrap_or(0.0).abs(),
                b.delta_pct.unwrap_or(0.0).abs(),
            );
            db.total_cmp(&da).then_with(|| a.metric.cmp(&b.metric))
        })
    });
}

/// Counts by verdict, for summaries.
pub fn verdict_counts(c: &[Comparison]) -> [(PerfVerdict, usize); 5] {
    let n = |v| c.iter().filter(|x| x.verdict == v).count();
    [
        (PerfVerdict::Regressed, n(PerfVerdict::Regressed)),
        (PerfVerdict::Improved, n(PerfVerdict::Improved)),
        (PerfVerdict::Unchanged, n(PerfVerdict::Unchanged)),
        (PerfVerdict::New, n(PerfVerdict::New)),
        (PerfVerdict::Missing, n(PerfVerdict::Missing)),
    ]
}
