//! `cargo gate baseline ...`: save, show, log, fetch, push and compare notes.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::baseline::notes::{History, NOTES_REF, Store, history};
use crate::baseline::stats::{mean, median};
use crate::baseline::{compare_report, note_from_report, remote, resolve_base, verdict_counts};
use crate::cli::BaselineAction;
use crate::context::{config_path, find_upwards, load_config};
use crate::error::{EXIT_PASS, Error, Result};
use crate::model::{Comparison, PerfVerdict, Report};
use crate::util::units::format_measure;
use crate::util::units::sparkline;

fn store_error(e: impl std::fmt::Display) -> Error {
    Error::usage(
        e.to_string(),
        Some(
            "run inside the git repository (baselines live in its notes), or check the revision"
                .to_string(),
        ),
    )
}

/// Runs a baseline subcommand.
pub fn main(
    manifest: Option<&Path>,
    explicit: Option<&Path>,
    action: BaselineAction,
) -> Result<i32> {
    let dir: PathBuf = match manifest.and_then(Path::parent) {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::env::current_dir()
            .map_err(|e| Error::io("cannot read the current directory", e))?,
    };
    let config = {
        let found = match explicit {
            Some(_) => config_path(None, explicit)?,
            None => find_upwards(crate::config::FILE_NAME),
        };
        load_config(found.as_deref(), None)?
    };
    let store = Store::open(&dir).map_err(store_error)?;
    let out = match action {
        BaselineAction::Save { report, rev } => save(&store, &report, &rev)?,
        BaselineAction::Show { rev } => show(&store, &rev)?,
        BaselineAction::Log { count, metric, rev } => {
            let from = store.resolve(&rev).map_err(store_error)?;
            let hist = history(&store, from, count).map_err(store_error)?;
            for s in &hist.skipped {
                eprintln!(
                    "warning: note on {} skipped: {}",
                    s.commit,
                    crate::util::sanitize::for_log(&s.error.to_string())
                );
            }
            match metric {
                Some(name) => log_metric(&store, &hist, &name, count),
                None => log_all(&hist),
            }
        }
        BaselineAction::Fetch { remote: r } => {
            let remote = r.unwrap_or_else(|| config.baseline.remote.clone());
            let n =
                remote::fetch(&store.dir(), &remote).map_err(|e| Error::Internal(e.to_string()))?;
            format!("fetched notes from {remote}: {n} commit(s) updated\n")
        }
        BaselineAction::Push { remote: r } => {
            let remote = r.unwrap_or_else(|| config.baseline.remote.clone());
            let attempts =
                remote::push(&store.dir(), &remote).map_err(|e| Error::Internal(e.to_string()))?;
            format!("pushed {NOTES_REF} to {remote} ({attempts} attempt(s))\n")
        }
        BaselineAction::Bisect {
            metric,
            good,
            bad,
            cmd,
            report,
        } => {
            let settings = config.baseline.settings_for(&metric);
            let job = crate::baseline::bisect::Job {
                cmd: &cmd,
                report: &report,
                progress: &|line| eprintln!("{line}"),
            };
            crate::baseline::bisect::bisect(&store, &metric, &good, &bad, &job, &settings)
                .map_err(|e| Error::usage(e, None))?
        }
        BaselineAction::Compare { rev, report, json } => {
            compare(&store, &config, &report, rev.as_deref(), json)?
        }
    };
    print!("{out}");
    Ok(EXIT_PASS)
}

/// `baseline save`: the report's metrics, test times and outcomes noted on `rev`.
fn save(store: &Store, report: &Path, rev: &str) -> Result<String> {
    let report = Report::read(report)?;
    if let Some(problem) = &report.config_error {
        return Err(Error::usage(
            format!(
                "the report is of a run that stopped on its config ({}:{}:{}: {}): it measured nothing",
                problem.file, problem.line, problem.col, problem.message
            ),
            Some("fix gate.toml, run `cargo gate run` again, then save that report".to_string()),
        ));
    }
    let note = note_from_report(&report);
    if note.entries.is_empty() && note.test_times.is_empty() && note.tests.is_empty() {
        return Err(Error::usage(
            "the report has no performance metrics to save",
            Some("add a [bench] table to gate.toml (criterion, hyperfine, timed commands) and run `cargo gate run`".to_string()),
        ));
    }
    let commit = store.resolve(rev).map_err(store_error)?;
    let merged = store.add(commit, &note).map_err(store_error)?;
    Ok(format!(
        "saved {} metric(s) on {} ({} entries in its note, {NOTES_REF}), with the times of {} slow test(s) and the outcomes of {} test(s)\n",
        note.entries.len(),
        store.short(commit),
        merged.entries.len(),
        note.test_times.slow.len(),
        report
            .suite(crate::model::SuiteKind::Tests)
            .map_or(0, |s| s.cases.len())
    ))
}

/// `baseline show`: the note on `rev`, one line a metric.
fn show(store: &Store, rev: &str) -> Result<String> {
    let commit = store.resolve(rev).map_err(store_error)?;
    let note = match store.read(commit) {
        Ok(None) => return Ok(format!("no note on {}\n", store.short(commit))),
        Err(e) => {
            return Err(Error::usage(
                format!("the note on {}: {e}", store.short(commit)),
                None,
            ));
        }
        Ok(Some(note)) => note,
    };
    let mut out = format!("{} ({} entries)\n", store.short(commit), note.entries.len());
    for name in note.metric_names() {
        if let Some((samples, unit, _)) = note.metric(&name) {
            let _ = writeln!(
                out,
                "  {name:<40} {:>12}  ({} sample(s))",
                format_measure(central(&samples), unit),
                samples.len()
            );
        }
    }
    Ok(out)
}

/// `baseline log METRIC`: one metric's value on each noted commit, one trend per machine class.
fn log_metric(store: &Store, hist: &History, name: &str, count: usize) -> String {
    let mut out = String::new();
    let classes = machine_classes(hist, name);
    let split = classes.len() > 1;
    for class in &classes {
        let points: Vec<(String, f64, String, usize)> = hist
            .commits
            .iter()
            .filter_map(|(oid, note)| {
                let (samples, unit, _) = note.as_ref()?.metric_of_class(name, class.as_deref())?;
                Some((
                    store.short(*oid),
                    central(&samples),
                    unit.to_string(),
                    samples.len(),
                ))
            })
            .collect();
        let values: Vec<f64> = points.iter().rev().map(|p| p.1).collect();
        // Machines of different classes are not comparable: one trend each.
        let on = if split {
            format!(" on {}", class_name(class))
        } else {
            String::new()
        };
        let _ = writeln!(out, "{name}{on}  {}  (oldest → newest)", sparkline(&values));
        for (commit, v, unit, n) in &points {
            let _ = writeln!(
                out,
                "{commit}  {:>12}  ({n} sample(s))",
                format_measure(*v, unit)
            );
        }
    }
    if classes.is_empty() {
        let _ = writeln!(out, "no note in the last {count} commits has `{name}`");
    }
    out
}

/// `baseline log`: every metric's latest value and trend.
fn log_all(hist: &History) -> String {
    let mut names: Vec<String> = hist
        .commits
        .iter()
        .filter_map(|(_, n)| n.as_ref())
        .flat_map(|n| n.metric_names())
        .collect();
    names.sort();
    names.dedup();
    let noted = hist.commits.iter().filter(|(_, n)| n.is_some()).count();
    let mut out = format!("{} commits read, {noted} with notes\n", hist.commits.len());
    for name in names {
        let classes = machine_classes(hist, &name);
        for class in &classes {
            let mut unit = String::new();
            let values: Vec<f64> = hist
                .commits
                .iter()
                .rev()
                .filter_map(|(_, n)| {
                    let (s, u, _) = n.as_ref()?.metric_of_class(&name, class.as_deref())?;
                    unit = u.to_string();
                    Some(central(&s))
                })
                .collect();
            let latest = values.last().copied().unwrap_or(f64::NAN);
            let label = if classes.len() > 1 {
                format!("{name} [{}]", class_name(class))
            } else {
                name.clone()
            };
            let _ = writeln!(
                out,
                "  {label:<40} {:>12}  {}",
                format_measure(latest, &unit),
                sparkline(&values)
            );
        }
    }
    out
}

/// `baseline compare`: a report's metrics against the base's notes.
fn compare(
    store: &Store,
    config: &crate::config::Config,
    report: &Path,
    rev: Option<&str>,
    json: bool,
) -> Result<String> {
    let report = Report::read(report)?;
    let (base, how) = resolve_base(store, rev).map_err(store_error)?;
    let (comparisons, warnings) =
        compare_report(store, &report, base, &config.baseline).map_err(store_error)?;
    for w in warnings {
        eprintln!("warning: {}", crate::util::sanitize::for_log(&w));
    }
    if json {
        let text = serde_json::to_string_pretty(&comparisons)
            .map_err(|e| Error::Internal(format!("cannot write JSON: {e}")))?;
        Ok(text + "\n")
    } else {
        Ok(format!(
            "baseline: {how} ({})\n{}",
            store.short(base),
            table(&comparisons)
        ))
    }
}

fn central(samples: &[f64]) -> f64 {
    if samples.len() >= 2 {
        median(samples)
    } else {
        mean(samples)
    }
}

/// A plain-text comparison table, worst first.
pub fn table(comparisons: &[Comparison]) -> String {
    let mut out = String::new();
    let counts = verdict_counts(comparisons);
    let summary: Vec<String> = counts
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(v, n)| format!("{n} {}", verdict_word(*v)))
        .collect();
    let _ = writeln!(
        out,
        "{}",
        if summary.is_empty() {
            "no metrics".to_string()
        } else {
            summary.join(", ")
        }
    );
    for c in comparisons {
        let fmt = |v: Option<f64>| v.map_or("-".to_string(), |v| format_measure(v, &c.unit));
        let delta = c.delta_pct.map_or("-".to_string(), |d| format!("{d:+.1}%"));
        let stat = match (c.p_value, c.z) {
            (Some(p), _) => format!("p={p:.3}"),
            (_, Some(z)) => format!("z={z:.1}"),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "  {:<10} {:<36} {:>10} → {:<10} {:>8} {:>9}  {}",
            verdict_word(c.verdict),
            c.metric,
            fmt(c.baseline),
            fmt(c.current),
            delta,
            stat,
            sparkline(&c.history)
        );
    }
    out
}

fn verdict_word(v: PerfVerdict) -> &'static str {
    match v {
        PerfVerdict::Regressed => "regressed",
        PerfVerdict::Improved => "improved",
        PerfVerdict::Unchanged => "unchanged",
        PerfVerdict::New => "new",
        PerfVerdict::Missing => "missing",
    }
}

/// The machine classes that measured `name` anywhere in `hist`, sorted.
fn machine_classes(hist: &crate::baseline::notes::History, name: &str) -> Vec<Option<String>> {
    let mut classes: Vec<Option<String>> = hist
        .commits
        .iter()
        .filter_map(|(_, n)| n.as_ref())
        .flat_map(|n| n.machines(name))
        .collect();
    classes.sort();
    classes.dedup();
    classes
}

fn class_name(class: &Option<String>) -> &str {
    class.as_deref().unwrap_or("unrecorded machine")
}
