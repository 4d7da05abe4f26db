//! Paired A/B runs: the timed commands of `[[bench.command]]` measured on another revision and on
//! this checkout in the same job, interleaved round by round (A B, B A, A B, …), so that a slow
//! machine, drift and noisy neighbours hit both sides alike. The other revision is checked out
//! in a temporary `git worktree` (the user's checkout is never touched) and builds with its own
//! target directory, kept between runs (`<target>/cargo-gate/paired`) so CI can cache it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use super::config::BenchCommand;
use crate::exec::git;
use crate::exec::process::{self, Exit, Limits};
use crate::model::PairedSamples;

/// Where the revision is, once resolved.
pub struct Base {
    /// As given (`main`, `merge-base`, a sha).
    pub name: String,
    /// The commit.
    pub commit: String,
}

/// Resolves `rev` (`merge-base`: the merge base with the pull request's base branch, as the
/// baseline comparison uses) in the repository holding `root`.
pub fn resolve(root: &Path, rev: &str) -> Result<Base, String> {
    let store = crate::baseline::notes::Store::open(root).map_err(|e| e.to_string())?;
    let (oid, how) = if rev == "merge-base" {
        crate::baseline::resolve_base(&store, None).map_err(|e| e.to_string())?
    } else {
        (
            store.resolve(rev).map_err(|e| e.to_string())?,
            rev.to_string(),
        )
    };
    Ok(Base {
        name: if rev == "merge-base" {
            how
        } else {
            rev.to_string()
        },
        commit: oid.to_string(),
    })
}

/// One timed run of `c` in `dir` with `env`, in seconds (wall time of the whole command).
pub(super) fn time_once(
    c: &BenchCommand,
    dir: &Path,
    env: &[(String, String)],
) -> Result<f64, String> {
    let (program, args) = c.cmd.split_first().ok_or("`cmd` is empty")?;
    let mut cmd = Command::new(program);
    cmd.args(args).current_dir(dir).envs(env.iter().cloned());
    let start = Instant::now();
    let outcome = process::run(
        cmd,
        &Limits {
            tail_bytes: 4096,
            slow: None,
            timeout: Some(Duration::from_secs(600)),
        },
    )
    .map_err(|e| format!("cannot run `{program}`: {e}"))?;
    let elapsed = start.elapsed().as_secs_f64();
    match outcome.exit {
        Exit::Code(0) => Ok(elapsed),
        Exit::Interrupted => Err("interrupted".to_string()),
        other => Err(format!(
            "`{}` in {} ended with {other}:\n{}",
            c.cmd.join(" "),
            dir.display(),
            outcome.output_text()
        )),
    }
}

/// Measures every command on both sides, `rounds` rounds each after `warmup` unmeasured runs
/// of each side. `root` is the workspace root, `in_repo` its path inside the repository (so the
/// same directory is used in the worktree), `target` the workspace's target directory.
pub fn measure(
    commands: &[BenchCommand],
    root: &Path,
    in_repo: &Path,
    target: &Path,
    base: &Base,
    rounds: usize,
) -> Result<Vec<PairedSamples>, String> {
    let wt = git::Worktree::add(root, &base.commit, "paired")?;
    let base_root = wt.dir.join(in_repo);
    let base_target: PathBuf = target.join("cargo-gate").join("paired");
    let base_env = vec![(
        "CARGO_TARGET_DIR".to_string(),
        base_target.display().to_string(),
    )];
    let mut out = Vec::new();
    // Counts do not need pairing: they are the same on any machine.
    for c in commands
        .iter()
        .filter(|c| c.counter == super::config::Counter::Time)
    {
        let sides = [
            (&base_root, base_env.as_slice()),
            (&root.to_path_buf(), &[][..]),
        ];
        for _ in 0..c.warmup {
            for (dir, env) in sides {
                time_once(c, dir, env)?;
            }
        }
        let (mut b, mut a) = (Vec::new(), Vec::new());
        for round in 0..rounds {
            if crate::exec::process::is_cancelled() {
                return Err("interrupted".to_string());
            }
            // A B, then B A: whatever changes during a round favours neither side.
            if round % 2 == 0 {
                b.push(time_once(c, sides[0].0, sides[0].1)?);
                a.push(time_once(c, sides[1].0, sides[1].1)?);
            } else {
                a.push(time_once(c, sides[1].0, sides[1].1)?);
                b.push(time_once(c, sides[0].0, sides[0].1)?);
            }
        }
        out.push(PairedSamples {
            metric: super::metric_name(&c.name),
            unit: "s".to_string(),
            rev: base.name.clone(),
            base: b,
            current: a,
        });
    }
    Ok(out)
}
