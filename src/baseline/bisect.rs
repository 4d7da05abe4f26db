//! `cargo gate baseline bisect`: binary search along first-parent history for the first commit
//! where a metric regressed against a good commit, measuring each commit in a temporary git
//! worktree (the user's checkout is never touched).

use std::path::Path;
use std::process::Command;

use super::compare::{Input, Settings, compare};
use super::notes::Store;
use crate::report::{PerfVerdict, Report};

struct Worktree {
    repo: std::path::PathBuf,
    dir: std::path::PathBuf,
}

impl Worktree {
    fn add(repo: &Path, commit: &str) -> Result<Worktree, String> {
        // git creates the directory; the name only has to be unused.
        let dir = std::env::temp_dir().join(format!(
            "cargo-gate-bisect-{}-{}",
            std::process::id(),
            &commit[..12.min(commit.len())]
        ));
        let out = Command::new("git")
            .args(["worktree", "add", "--detach", "--quiet"])
            .arg(&dir)
            .arg(commit)
            .current_dir(repo)
            .output()
            .map_err(|e| format!("cannot run git: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "git worktree add {commit}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(Worktree {
            repo: repo.to_path_buf(),
            dir,
        })
    }
}

impl Drop for Worktree {
    fn drop(&mut self) {
        let _ = Command::new("git")
            .args(["worktree", "remove", "--force"])
            .arg(&self.dir)
            .current_dir(&self.repo)
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn measure(
    repo: &Path,
    commit: &str,
    metric: &str,
    cmd: &str,
    report: &Path,
) -> Result<(Vec<f64>, String, crate::report::Direction), String> {
    let wt = Worktree::add(repo, commit)?;
    eprintln!("bisect: measuring {} ...", &commit[..12.min(commit.len())]);
    let out = Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .current_dir(&wt.dir)
        .output()
        .map_err(|e| format!("cannot run `{cmd}`: {e}"))?;
    let path = wt.dir.join(report);
    let r = Report::read(&path).map_err(|e| {
        format!(
            "`{cmd}` on {commit} left no usable report ({e}); its output:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
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
    cmd: &str,
    report: &Path,
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
    let (base, unit, direction) = measure(&repo, &good_id.to_string(), metric, cmd, report)?;
    let regressed = |commit: git2::Oid| -> Result<(bool, f64), String> {
        let (samples, _, _) = measure(&repo, &commit.to_string(), metric, cmd, report)?;
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
    let subject = Command::new("git")
        .args(["log", "-1", "--format=%s"])
        .arg(first.to_string())
        .current_dir(&repo)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    Ok(format!(
        "first regressing commit: {} {subject}\n`{metric}` {delta:+.1}% against {} ({} commits, {steps} measured besides {good})\n",
        first,
        &good_id.to_string()[..12],
        between.len()
    ))
}
