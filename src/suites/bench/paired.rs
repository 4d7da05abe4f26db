//! Paired A/B runs: the benchmarks measured on another revision and on this checkout in the
//! same job, interleaved round by round (A B, B A, A B, …), so that a slow machine, drift and
//! noisy neighbours hit both sides alike. The other revision is checked out in a temporary
//! `git worktree` (the user's checkout is never touched) and builds with its own target
//! directory, kept between runs (`<target>/cargo-gate/paired`) so CI can cache it.
//!
//! What takes part: `[[bench.command]]` timed commands (their wall time), commands with
//! `json = true` (the metrics they print), and `[bench] run` — criterion's results, read from
//! a `CRITERION_HOME` of each side's own, and libtest `#[bench]` lines from its output. Each
//! round gives one value per benchmark and side (the best of that round's samples).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use super::config::{BenchCommand, BenchConfig, Counter};
use crate::exec::git;
use crate::exec::process::{self, Exit, Limits};
use crate::model::{Direction, Metric, PairedSamples};

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

/// One side of the comparison: where it runs and with what environment.
pub(super) struct Side {
    /// The workspace root on this side.
    pub dir: PathBuf,
    /// Extra environment (the base side's own target directory).
    pub env: Vec<(String, String)>,
    /// This side's `CRITERION_HOME`, emptied before each round.
    pub criterion_home: PathBuf,
}

/// One thing measured each round on each side.
enum Source<'a> {
    /// A `[[bench.command]]`.
    Command(&'a BenchCommand),
    /// `[bench] run`, read for criterion results and libtest lines.
    Harness(&'a BenchConfig),
}

impl Source<'_> {
    fn label(&self) -> String {
        match self {
            Source::Command(c) => format!("`{}`", c.name),
            Source::Harness(b) => format!("`{}`", b.run.join(" ")),
        }
    }
}

/// `argv` as a command in `dir` with `env`.
fn command(argv: &[String], dir: &Path, env: &[(String, String)]) -> Result<Command, String> {
    let (program, args) = argv.split_first().ok_or("the command is empty")?;
    let mut cmd = Command::new(program);
    cmd.args(args).current_dir(dir).envs(env.iter().cloned());
    Ok(cmd)
}

fn cannot_run(argv: &[String], e: &std::io::Error) -> String {
    format!(
        "cannot run `{}`: {e}",
        argv.first().map_or("", String::as_str)
    )
}

/// Whether `argv` in `dir` succeeded, from how it ended; else why not, with what it printed.
fn succeeded(
    argv: &[String],
    dir: &Path,
    exit: Exit,
    printed: impl FnOnce() -> String,
) -> Result<(), String> {
    match exit {
        Exit::Code(0) => Ok(()),
        Exit::Interrupted => Err("interrupted".to_string()),
        other => Err(format!(
            "`{}` in {} ended with {other}:\n{}",
            argv.join(" "),
            dir.display(),
            printed()
        )),
    }
}

/// Runs `argv` in `dir` with `env`: what it printed (stdout, stderr), or why it failed.
fn run_once(
    argv: &[String],
    dir: &Path,
    env: &[(String, String)],
    timeout: Duration,
) -> Result<(String, String), String> {
    let out = process::output(command(argv, dir, env)?, Some(timeout))
        .map_err(|e| cannot_run(argv, &e))?;
    let (stdout, stderr) = (out.stdout_text(), out.stderr_text());
    succeeded(argv, dir, out.exit, || format!("{stdout}\n{stderr}"))?;
    Ok((stdout, stderr))
}

/// One timed run of `c` in `dir` with `env`, in seconds (wall time of the whole command). Only
/// the last 4 KiB of its output are kept: a timed command's output is not read.
pub(super) fn time_once(
    c: &BenchCommand,
    dir: &Path,
    env: &[(String, String)],
) -> Result<f64, String> {
    let start = Instant::now();
    let outcome = process::run(
        command(&c.cmd, dir, env)?,
        &Limits {
            tail_bytes: 4096,
            slow: None,
            timeout: Some(Duration::from_secs(600)),
        },
    )
    .map_err(|e| cannot_run(&c.cmd, &e))?;
    let elapsed = start.elapsed().as_secs_f64();
    succeeded(&c.cmd, dir, outcome.exit, || outcome.output_text())?;
    Ok(elapsed)
}

/// The metrics a `json = true` command prints on stdout (cargo-gate's custom format).
pub(super) fn json_metrics(
    c: &BenchCommand,
    dir: &Path,
    env: &[(String, String)],
) -> Result<Vec<Metric>, String> {
    let (stdout, _) = run_once(&c.cmd, dir, env, Duration::from_secs(3600))?;
    super::parse_custom(&stdout).map_err(|e| format!("`{}` printed {e}", c.name))
}

/// `[bench] run` once on `side`: the criterion and libtest metrics it produced.
pub(super) fn harness_metrics(config: &BenchConfig, side: &Side) -> Result<Vec<Metric>, String> {
    let home = &side.criterion_home;
    // Only this run's results: criterion keeps old ones under the same names.
    let _ = std::fs::remove_dir_all(home);
    std::fs::create_dir_all(home).map_err(|e| format!("cannot create {}: {e}", home.display()))?;
    let mut env = side.env.clone();
    env.push(("CRITERION_HOME".to_string(), home.display().to_string()));
    let (stdout, stderr) = run_once(&config.run, &side.dir, &env, Duration::from_secs(3600))?;
    let mut metrics = Vec::new();
    if config.libtest {
        metrics.extend(super::parse_libtest(&format!("{stdout}\n{stderr}")));
    }
    if config.criterion {
        let (found, errors) = super::read_criterion(home, None);
        if let Some(e) = errors.first() {
            return Err(format!("criterion results: {e}"));
        }
        metrics.extend(found);
    }
    Ok(metrics)
}

/// One round's value from its samples: the best of them. A neighbour taking the CPU, a page
/// fault or a migration only ever makes a sample worse, never better, so under load the best
/// sample is the one least disturbed; the median would carry the load into the ratio.
fn round_value(samples: &[f64], direction: Direction) -> f64 {
    let finite = samples.iter().copied().filter(|v| v.is_finite());
    match direction {
        Direction::LowerIsBetter => finite.fold(f64::NAN, f64::min),
        Direction::HigherIsBetter => finite.fold(f64::NAN, f64::max),
    }
}

/// What one round gives on one side: `(metric, unit, direction) → value`.
type Round = BTreeMap<String, (String, Direction, f64)>;

fn sample(source: &Source<'_>, side: &Side) -> Result<Round, String> {
    let metrics = match source {
        Source::Command(c) if c.json => json_metrics(c, &side.dir, &side.env)?,
        Source::Command(c) => {
            let secs = time_once(c, &side.dir, &side.env)?;
            vec![super::metric(&c.name, "s", vec![secs])]
        }
        Source::Harness(config) => harness_metrics(config, side)?,
    };
    Ok(metrics
        .into_iter()
        .filter(|m| !m.samples.is_empty())
        .map(|m| {
            let value = round_value(&m.samples, m.direction);
            (m.name, (m.unit, m.direction, value))
        })
        .collect())
}

/// What a paired run measured: the pairs, and this checkout's values of benchmarks that the
/// base does not have (compared with stored baselines as usual).
pub struct Measured {
    /// One per benchmark found on both sides in every round.
    pub pairs: Vec<PairedSamples>,
    /// This checkout's per-round values of the rest.
    pub unpaired: Vec<Metric>,
}

/// Measures every source on both sides, `rounds` rounds each after unmeasured warm-up rounds
/// (a command's `warmup`, one for `[bench] run`, which also builds each side). `root` is the
/// workspace root, `in_repo` its path inside the repository (so the same directory is used in
/// the worktree), `target` the workspace's target directory.
pub fn measure(
    config: &BenchConfig,
    root: &Path,
    in_repo: &Path,
    target: &Path,
    base: &Base,
    say: &mut dyn FnMut(&str),
) -> Result<Measured, String> {
    let wt = git::Worktree::add(root, &base.commit, "paired")?;
    let scratch = target.join("cargo-gate");
    let sides = [
        Side {
            dir: wt.dir.join(in_repo),
            env: vec![(
                "CARGO_TARGET_DIR".to_string(),
                scratch.join("paired").display().to_string(),
            )],
            criterion_home: scratch.join("paired-criterion").join("base"),
        },
        Side {
            dir: root.to_path_buf(),
            env: Vec::new(),
            criterion_home: scratch.join("paired-criterion").join("current"),
        },
    ];
    let mut sources: Vec<(Source<'_>, u32)> = config
        .commands
        .iter()
        // Counts need no pairing: they are the same on any machine.
        .filter(|c| c.counter == Counter::Time)
        .map(|c| (Source::Command(c), c.warmup))
        .collect();
    if !config.run.is_empty() && (config.criterion || config.libtest) {
        sources.push((Source::Harness(config), 1));
    }
    let mut out = Measured {
        pairs: Vec::new(),
        unpaired: Vec::new(),
    };
    for (source, warmup) in &sources {
        if *warmup > 0 {
            say(&format!(
                "{}: warming up ({} round{} per side)",
                source.label(),
                warmup,
                if *warmup == 1 { "" } else { "s" }
            ));
        }
        for _ in 0..*warmup {
            for side in &sides {
                sample(source, side)?;
            }
        }
        let (mut b, mut a): (Vec<Round>, Vec<Round>) = (Vec::new(), Vec::new());
        for round in 0..config.rounds {
            if process::is_cancelled() {
                return Err("interrupted".to_string());
            }
            say(&format!(
                "{}: round {}/{}",
                source.label(),
                round + 1,
                config.rounds
            ));
            // A B, then B A: whatever changes during a round favours neither side.
            if round % 2 == 0 {
                b.push(sample(source, &sides[0])?);
                a.push(sample(source, &sides[1])?);
            } else {
                a.push(sample(source, &sides[1])?);
                b.push(sample(source, &sides[0])?);
            }
        }
        let (pairs, unpaired) = pair_up(&b, &a, &base.name);
        if pairs.is_empty() && unpaired.is_empty() {
            return Err(format!(
                "{} produced no benchmark results on either side",
                source.label()
            ));
        }
        out.pairs.extend(pairs);
        out.unpaired.extend(unpaired);
    }
    Ok(out)
}

/// Pairs the rounds: a benchmark measured on both sides in every round is paired; one this
/// checkout has in every round but the base lacks is returned unpaired.
fn pair_up(base: &[Round], current: &[Round], rev: &str) -> (Vec<PairedSamples>, Vec<Metric>) {
    let (mut pairs, mut unpaired) = (Vec::new(), Vec::new());
    let Some(first) = current.first() else {
        return (pairs, unpaired);
    };
    for (name, (unit, direction, _)) in first {
        let values = |rounds: &[Round]| -> Option<Vec<f64>> {
            rounds.iter().map(|r| r.get(name).map(|v| v.2)).collect()
        };
        let Some(now) = values(current) else {
            continue;
        };
        match values(base) {
            Some(then) => pairs.push(PairedSamples {
                metric: name.clone(),
                unit: unit.clone(),
                direction: *direction,
                rev: rev.to_string(),
                base: then,
                current: now,
            }),
            None => unpaired.push(Metric::new(
                name.clone(),
                unit,
                *direction,
                crate::model::Role::Compared,
                now,
            )),
        }
    }
    (pairs, unpaired)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round(values: &[(&str, f64)]) -> Round {
        values
            .iter()
            .map(|(n, v)| {
                (
                    n.to_string(),
                    ("ns".to_string(), Direction::LowerIsBetter, *v),
                )
            })
            .collect()
    }

    #[test]
    fn benchmarks_on_both_sides_in_every_round_are_paired_and_new_ones_are_not() {
        let base = vec![round(&[("bench.a", 1.0)]), round(&[("bench.a", 1.1)])];
        let current = vec![
            round(&[("bench.a", 2.0), ("bench.new", 5.0)]),
            round(&[("bench.a", 2.1), ("bench.new", 5.5)]),
        ];
        let (pairs, unpaired) = pair_up(&base, &current, "main");
        assert_eq!(pairs.len(), 1);
        assert_eq!(
            (pairs[0].base.clone(), pairs[0].current.clone()),
            (vec![1.0, 1.1], vec![2.0, 2.1])
        );
        assert_eq!(unpaired.len(), 1);
        assert_eq!(unpaired[0].name, "bench.new");
        assert_eq!(unpaired[0].samples, vec![5.0, 5.5]);
        // Missing from one round of this checkout: neither paired nor reported as new.
        let gappy = vec![round(&[("bench.a", 2.0)]), round(&[])];
        assert_eq!(pair_up(&base, &gappy, "main").0.len(), 0);
    }

    #[test]
    fn a_round_value_is_its_best_sample() {
        assert_eq!(round_value(&[3.0, 1.0, 2.0], Direction::LowerIsBetter), 1.0);
        assert_eq!(
            round_value(&[3.0, 1.0, 2.0], Direction::HigherIsBetter),
            3.0
        );
        assert_eq!(round_value(&[f64::NAN, 2.0], Direction::LowerIsBetter), 2.0);
        assert!(round_value(&[], Direction::LowerIsBetter).is_nan());
    }
}
