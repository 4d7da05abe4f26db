//! `cargo gate history`: each test's outcomes over the runs the notes recorded.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::baseline::notes::Store;
use crate::baseline::testhistory::{Stats, TestHistory};
use crate::cli::{HistoryArgs, ListFormat};
use crate::error::{EXIT_PASS, Error, Result};

/// One test's line.
#[derive(Serialize)]
struct Row<'a> {
    test: &'a str,
    #[serde(flatten)]
    stats: Stats,
    flake_rate: f64,
}

/// The rows of `history` for these arguments, flakiest first (then most failures, then by id).
fn rows<'a>(h: &'a TestHistory, args: &HistoryArgs) -> Vec<Row<'a>> {
    let mut rows: Vec<Row<'a>> = h
        .ids
        .iter()
        .enumerate()
        .filter(|(_, id)| match &args.test {
            None => true,
            Some(p) if p.contains(['*', '?', '[', '{']) => crate::util::glob::matches(p, id),
            Some(p) => id.contains(p.as_str()),
        })
        .map(|(t, id)| {
            let stats = h.stats(t, args.runs);
            Row {
                test: id,
                flake_rate: stats.flake_rate(),
                stats,
            }
        })
        .filter(|r| r.stats.runs > 0 && (!args.flaky || r.stats.flaky > 0))
        .collect();
    rows.sort_by(|a, b| {
        b.flake_rate
            .total_cmp(&a.flake_rate)
            .then_with(|| b.stats.failed.cmp(&a.stats.failed))
            .then_with(|| a.test.cmp(b.test))
    });
    rows
}

fn table(rows: &[Row<'_>], commits: usize) -> String {
    let width = rows
        .iter()
        .map(|r| r.test.chars().count())
        .max()
        .unwrap_or(4)
        .max(4);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<width$}  {:>4}  {:>6}  {:>6}  {:>5}  {:>10}  {:<12}  {:>13}",
        "test", "runs", "passed", "failed", "flaky", "flake rate", "last failure", "longest streak"
    );
    for r in rows {
        let s = &r.stats;
        let _ = writeln!(
            out,
            "{:<width$}  {:>4}  {:>6}  {:>6}  {:>5}  {:>9.1}%  {:<12}  {:>13}",
            crate::util::sanitize::strip_controls(r.test, false),
            s.runs,
            s.passed,
            s.failed,
            s.flaky,
            r.flake_rate * 100.0,
            s.last_failure.as_deref().unwrap_or("—"),
            s.longest_pass_streak
        );
    }
    let _ = writeln!(
        out,
        "{} test(s) over the last {commits} run(s) with outcomes",
        rows.len()
    );
    out
}

/// Runs `cargo gate history`.
pub fn history(manifest: Option<&Path>, args: HistoryArgs) -> Result<i32> {
    if args.runs == 0 {
        return Err(Error::usage(
            "-n 0 looks at no runs",
            Some("give the number of runs to look at, e.g. -n 30".to_string()),
        ));
    }
    let dir: PathBuf = match manifest.and_then(Path::parent) {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::env::current_dir()
            .map_err(|e| Error::io("cannot read the current directory", e))?,
    };
    let hint = || {
        Some(
            "run inside the git repository; outcomes are recorded by `cargo gate baseline save` (the action saves on the default branch)"
                .to_string(),
        )
    };
    let store = Store::open(&dir).map_err(|e| Error::usage(e.to_string(), hint()))?;
    let from = store
        .resolve(&args.rev)
        .map_err(|e| Error::usage(e.to_string(), hint()))?;
    // Commits without outcomes are walked past: a few times the runs asked for, as the depth.
    let depth = args.runs.saturating_mul(4).max(100);
    let (history, warnings) = crate::baseline::test_history(&store, from, depth, args.runs)
        .map_err(|e| Error::usage(e.to_string(), hint()))?;
    let h = history.tests;
    for w in &warnings {
        eprintln!("warning: {}", crate::util::sanitize::for_log(w));
    }
    let commits = h.commits.len().min(args.runs);
    let rows = rows(&h, &args);
    let text = match args.format {
        ListFormat::Json => {
            serde_json::to_string_pretty(&rows).map_err(|e| Error::Internal(e.to_string()))? + "\n"
        }
        ListFormat::Human if h.commits.is_empty() => format!(
            "no test outcomes in the notes of {} or its first-parent ancestors: `cargo gate baseline save` records them\n",
            args.rev
        ),
        ListFormat::Human => table(&rows, commits),
    };
    print!("{text}");
    Ok(EXIT_PASS)
}
