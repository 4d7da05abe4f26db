//! `cargo gate baseline bisect`: binary search along first-parent history for the first commit
//! where a metric regressed against a good commit, measuring each commit in a temporary git
//! worktree (the user's checkout is never touched).

use std::path::Path;
use std::process::Command;

use super::compare::{Input, Settings, compare};
use crate::exec::{git, process};

/// How long measuring one commit may take (a build and a benchmark run).
const MEASURE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3600);
use super::notes::Store;
use crate::model::{PerfVerdict, Report};

/// How each commit is measured: a shell command that writes a report, and where progress
/// goes (the command prints it).
pub struct Job<'a> {
    pub cmd: &'a str,
    pub report: &'a Path,
    pub progress: &'a dyn Fn(&str),
}

fn measure(
    repo: &Path,
    commit: &str,
    metric: &str,
    job: &Job<'_>,
) -> Result<(Vec<f64>, String, crate::model::Direction), String> {
    let (cmd, report) = (job.cmd, job.report);
    let wt = git::Worktree::add(repo, commit, "bisect")?;
    (job.progress)(&format!(
        "bisect: measuring {} ...",
        &commit[..12.min(commit.len())]
    ));
    let mut sh = Command::new("sh");
    sh.arg("-c").arg(cmd).current_dir(&wt.dir);
    let out = process::run(
        sh,
        &process::Limits {
            tail_bytes: 64 * 1024,
            slow: None,
            timeout: Some(MEASURE_TIMEOUT),
        },
    )
    .map_err(|e| format!("cannot run `{cmd}`: {e}"))?;
    if out.exit == process::Exit::Interrupted {
        return Err("interrupted".to_string());
    }
    let path = wt.dir.join(report);
    let r = Report::read(&path).map_err(|e| {
        format!(
            "`{cmd}` on {commit} left no usable report ({e}); it ended with {}, its output:\n{}",
            out.exit,
            out.output_text()
        )
    })?;
    let m = r
        .suites
        .iter()
        .flat_map(|s| s.metrics.iter())
        .find(|m| m.name == metric)
        .ok_or_else(|| format!("the report of {commit} has no metric `{metric}`"))?;
    Ok((m.samples.clone(), m.unit.clone(), m.direction))
}

/// Returns a text naming the first regressing commit.
pub fn bisect(
    store: &Store,
    metric: &str,
    good: &str,
    bad: &str,
    job: &Job<'_>,
    settings: &Settings,
) -> Result<String, String> {
    let good_id = store.resolve(good).map_err(|e| e.to_string())?;
    let bad_id = store.resolve(bad).map_err(|e| e.to_string())?;
    // First-parent commits after GOOD up to BAD, oldest first.
    let chain = store
        .first_parent(bad_id, usize::MAX)
        .map_err(|e| e.to_string())?;
    let pos = chain
        .iter()
        .position(|c| *c == good_id)
        .filter(|p| *p > 0)
        .ok_or_else(|| {
            format!("{good} is not an earlier commit on the first-parent history of {bad}")
        })?;
    let mut between = chain[..pos].to_vec();
    between.reverse();
    let repo = store.dir();
    let (base, unit, direction) = measure(&repo, &good_id.to_string(), metric, job)?;
    let regressed = |commit: git2::Oid| -> Result<(bool, f64), String> {
        let (samples, _, _) = measure(&repo, &commit.to_string(), metric, job)?;
        let c = compare(
            &Input {
                metric,
                unit: &unit,
                direction,
                current: Some(&samples),
                baseline: Some((&base, "good")),
                history: &[],
            },
            settings,
        );
        Ok((
            c.verdict == PerfVerdict::Regressed,
            c.delta_pct.unwrap_or(0.0),
        ))
    };
    let (bad_regressed, bad_delta) = regressed(bad_id)?;
    if !bad_regressed {
        return Err(format!(
            "`{metric}` did not regress between {good} and {bad} ({bad_delta:+.1}%): nothing to bisect"
        ));
    }
    // Invariant: everything before `lo` is fine, `hi` regressed.
    let (mut lo, mut hi) = (0usize, between.len() - 1);
    let mut delta = bad_delta;
    let mut steps = 1;
    while lo < hi {
        let mid = (lo + hi) / 2;
        let (r, d) = regressed(between[mid])?;
        steps += 1;
        if r {
            hi = mid;
            delta = d;
        } else {
            lo = mid + 1;
        }
    }
    let first = between[hi];
    let subject = git2::Repository::open(&repo)
        .ok()
        .and_then(|r| {
            let commit = r.find_commit(first).ok()?;
            Some(String::from_utf8_lossy(commit.summary_bytes()?).into_owned())
        })
        .unwrap_or_default();
    Ok(format!(
        "first regressing commit: {} {subject}\n`{metric}` {delta:+.1}% against {} ({} commits, {steps} measured besides {good})\n",
        first,
        &good_id.to_string()[..12],
        between.len()
    ))
}
