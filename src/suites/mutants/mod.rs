//! The mutants suite: mutation testing of the change, built once. The mutants of the lines the
//! change touches (cargo-mutants' operators and names, `generate.rs`, `select.rs`) are all
//! written into a scratch copy of the workspace behind runtime switches (`schema.rs`) and built
//! with one `cargo test --no-run`; the compiler's errors take the unviable ones out, round by
//! round (`rounds.rs`). The unmutated tests run first and set the timeouts; then each mutant
//! runs by switching it on, only the tests that can reach it, the likeliest first, stopping at
//! the first failure, several mutants at once (`runner.rs`). Mutants the schema could not hold
//! are built alone, as cargo-mutants builds every one. The user's tree is never written.

pub mod config;
pub mod doctests;
pub mod generate;
pub mod report;
pub mod rounds;
pub mod runner;
pub mod schema;
pub mod scratch;
pub mod seed;
pub mod select;
pub mod values;

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use self::config::MutantsConfig;
use self::rounds::Numbered;
use self::runner::{Plan, Ran, Verdict};
use crate::event::{Event, Sink};
use crate::model::{MutantOutcome, SuiteKind};
use crate::suites::testrun::build::{BuildResult, TestBinary};
use crate::workspace::Workspace;

struct MutantsSuite {
    config: MutantsConfig,
}

/// Makes the suite from `[mutants]` (or its defaults) and `--mutate`.
pub fn build(
    config: &crate::config::Config,
    options: &crate::suites::SuiteOptions,
) -> crate::error::Result<Box<dyn crate::suites::Suite>> {
    let mut config = config
        .mutants
        .clone()
        .unwrap_or_else(MutantsConfig::defaults);
    config.mutate.extend(options.mutate.iter().cloned());
    Ok(Box::new(MutantsSuite { config }))
}

impl crate::suites::Suite for MutantsSuite {
    fn kind(&self) -> SuiteKind {
        SuiteKind::Mutants
    }

    fn list(
        &self,
        cx: &crate::suites::RunContext<'_>,
    ) -> crate::error::Result<Vec<crate::suites::Listed>> {
        // What the run would report as its own failure is listed, not made the list's.
        let names: Vec<String> = match choose(&self.config, cx.ws, cx.baseline_rev) {
            Ok(chosen) => chosen.mutants.iter().map(|m| m.mutant.name()).collect(),
            Err(why) => vec![format!("(none: {why})")],
        };
        Ok(crate::suites::Listed::all("mutant", &names))
    }

    fn run(
        &mut self,
        cx: &mut crate::suites::RunContext<'_>,
    ) -> crate::error::Result<crate::model::Suite> {
        let suite = run(&self.config, cx.ws, cx.baseline_rev, cx.events);
        if let Some(summary) = suite.mutants() {
            report::write_json(summary, &cx.out_dir.join("mutants.json"))?;
        }
        Ok(suite)
    }
}

/// The mutants to try, each file's source, and the base they were chosen against.
struct Chosen {
    mutants: Vec<Numbered>,
    sources: BTreeMap<String, String>,
    base: Option<String>,
}

fn choose(
    cfg: &MutantsConfig,
    ws: &Workspace,
    default_base: Option<&str>,
) -> Result<Chosen, String> {
    let members = select::members(ws);
    let (files, touched, base): (Vec<String>, Option<select::Touched>, Option<String>) =
        if cfg.mutate.is_empty() {
            let (touched, base) =
                select::touched_lines(&ws.root, cfg.base.as_deref().or(default_base))
                    .map_err(|e| format!("cannot tell what the change touches: {e}"))?;
            (touched.keys().cloned().collect(), Some(touched), Some(base))
        } else {
            (select::target_files(&cfg.mutate), None, None)
        };
    let mut chosen = Vec::new();
    let mut sources = BTreeMap::new();
    for file in files {
        let Some(member) = select::owner(&members, &file) else {
            continue;
        };
        if cfg
            .exclude
            .iter()
            .any(|g| crate::util::glob::matches(g, &file))
        {
            continue;
        }
        let path = ws.root.join(&file);
        let source = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let found = generate::mutants(&file, &source)?;
        let kept = match &touched {
            Some(t) => select::in_change(found, &source, &t[&file]),
            None => select::in_targets(found, &file, &cfg.mutate),
        };
        for mutant in kept {
            let id = u32::try_from(chosen.len() + 1).unwrap_or(u32::MAX);
            chosen.push(Numbered {
                id,
                package: member.name.clone(),
                mutant,
                alone: member.proc_macro,
            });
        }
        sources.insert(file, source);
    }
    Ok(Chosen {
        mutants: chosen,
        sources,
        base,
    })
}

/// Everything one run shares once the schema is built.
struct Bench<'a> {
    cfg: &'a MutantsConfig,
    /// `target/gate/mutants`: the copy, its build output, the doctest runner's files.
    dir: std::path::PathBuf,
    /// The copy's root.
    root: std::path::PathBuf,
    members: Vec<select::Member>,
    /// Each member's package ID spec in the copy, by name.
    specs: BTreeMap<String, String>,
    manifest: std::path::PathBuf,
    env: Vec<(String, OsString)>,
    timeouts: BTreeMap<String, Duration>,
    times: BTreeMap<String, runner::Times>,
    /// What each binary's unmutated run reached (with coverage on), by id.
    reach: BTreeMap<String, schema::Reach>,
    threads: usize,
    events: Sink<'a>,
}

impl Bench<'_> {
    fn doctests<'b>(&'b self, package: &'b str) -> runner::Doctests<'b> {
        runner::Doctests {
            manifest: &self.manifest,
            package,
            spec: self.specs.get(package).map_or(package, String::as_str),
            env: &self.env,
        }
    }
}

/// What became of one mutant.
#[derive(Debug, Clone)]
pub struct Tried {
    verdict: MutantOutcome,
    by: Option<String>,
    tests_run: usize,
    seconds: f64,
    alone: bool,
}

/// Runs the suite: its report, with a `could not run` case when something stopped it.
pub fn run(
    cfg: &MutantsConfig,
    ws: &Workspace,
    default_base: Option<&str>,
    events: Sink<'_>,
) -> crate::model::Suite {
    let clock = Instant::now();
    let Chosen {
        mutants: chosen,
        sources,
        base,
    } = match choose(cfg, ws, default_base) {
        Ok(c) => c,
        Err(e) => return report::could_not(e, clock.elapsed().as_secs_f64()),
    };
    let mut summary = crate::model::MutantsSummary {
        base,
        trend: noted_scores(ws, cfg.base.as_deref().or(default_base)),
        ..Default::default()
    };
    if chosen.is_empty() {
        return report::assemble(summary, &chosen, &sources, &BTreeMap::new(), None, clock);
    }
    // What was tried before something stopped the run is kept and reported.
    let mut tried = BTreeMap::new();
    let inputs = Inputs {
        cfg,
        ws,
        chosen: &chosen,
        sources: &sources,
        events,
    };
    let problem = in_copy(&inputs, &mut summary, &mut tried).err();
    report::assemble(summary, &chosen, &sources, &tried, problem, clock)
}

/// The scores noted on the base's first-parent history, oldest first.
fn noted_scores(ws: &Workspace, rev: Option<&str>) -> Vec<(String, f64)> {
    let Ok(store) = crate::baseline::notes::Store::open(&ws.root) else {
        return Vec::new();
    };
    let Ok((commit, _)) = crate::baseline::change_base(&store, rev) else {
        return Vec::new();
    };
    store.noted(commit, 100, |note| {
        let (samples, _, _) = note.metric("mutants.score")?;
        let v = crate::baseline::stats::median(&samples);
        v.is_finite().then_some(v)
    })
}

/// What a run of the mutants starts from.
struct Inputs<'a> {
    cfg: &'a MutantsConfig,
    ws: &'a Workspace,
    chosen: &'a [Numbered],
    sources: &'a BTreeMap<String, String>,
    events: Sink<'a>,
}

/// Copies the workspace, tries the mutants in the copy (into `tried`, as they end), removes
/// the copy, and checks the user's files unchanged — whatever happened in between.
fn in_copy(
    inputs: &Inputs<'_>,
    summary: &mut crate::model::MutantsSummary,
    tried: &mut BTreeMap<u32, Tried>,
) -> Result<(), String> {
    let ws = inputs.ws;
    let files = scratch::files(&ws.root, &ws.target_dir)?;
    let before = scratch::fingerprint(&ws.root, &files);
    let dir = ws.target_dir.join("gate").join("mutants");
    let lock = scratch::lock(&dir)?;
    let copy = scratch::Scratch::create(&ws.root, &files, &dir.join("tree"))?;
    let result = try_all(inputs, &copy, summary, tried);
    drop(copy);
    drop(lock);
    if scratch::fingerprint(&ws.root, &files) != before {
        return Err(
            "the workspace's files changed while the mutants ran (cargo-gate writes only to its \
             scratch copy: another process edited them); run again on a quiet tree"
                .to_string(),
        );
    }
    result
}

/// Builds and runs in `copy`: what became of each mutant, into `tried`.
fn try_all(
    inputs: &Inputs<'_>,
    copy: &scratch::Scratch,
    summary: &mut crate::model::MutantsSummary,
    tried: &mut BTreeMap<u32, Tried>,
) -> Result<(), String> {
    let Inputs {
        cfg,
        ws,
        chosen,
        sources,
        events,
    } = *inputs;
    let say = |line: &str| {
        events(&Event::Output {
            suite: SuiteKind::Mutants,
            line,
        })
    };
    // The copy's own directory holds its build output and the doctest runner's files.
    let dir = copy.root.parent().unwrap_or(&copy.root).to_path_buf();
    let target = dir.join("target");
    let relative = ws
        .manifest_path
        .strip_prefix(&ws.root)
        .unwrap_or(std::path::Path::new("Cargo.toml"));
    let manifest = copy.root.join(relative);
    let mut sws = Workspace::load(Some(&manifest)).map_err(|e| e.to_string())?;
    sws.target_dir = target.clone();
    let seeded = seed::seed(
        &ws.target_dir.join("debug"),
        &target.join("debug"),
        &seed::member_units(&ws.members),
        &ws.root,
    );
    if seeded > 0 {
        say(&format!(
            "{seeded} dependency build outputs taken from {}",
            ws.target_dir.join("debug").display()
        ));
    }
    let env = vec![("CARGO_TARGET_DIR".to_string(), target.into_os_string())];
    let built = Instant::now();
    let rounds = rounds::run(copy, &sws, &env, sources, chosen, cfg.build_rounds, &say)?;
    summary.schema_builds = rounds.builds;
    summary.build_seconds = built.elapsed().as_secs_f64();
    if let Some(why) = &rounds.broken {
        return Err(format!("the workspace does not build unmutated:\n{why}"));
    }
    let binaries = rounds.binaries.clone().unwrap_or_default();
    let mut bench = Bench {
        cfg,
        dir,
        root: copy.root.clone(),
        members: select::members(ws),
        specs: sws
            .members
            .iter()
            .map(|p| (p.name.to_string(), p.id.repr.clone()))
            .collect(),
        manifest,
        env,
        timeouts: BTreeMap::new(),
        times: BTreeMap::new(),
        reach: BTreeMap::new(),
        threads: 1,
        events,
    };
    let packages: BTreeSet<&str> = chosen.iter().map(|m| m.package.as_str()).collect();
    unmutated(&mut bench, &binaries, &packages)?;
    for id in &rounds.unviable {
        tried.insert(*id, unviable(0.0, false));
    }
    let schema: Vec<&Numbered> = chosen
        .iter()
        .filter(|m| rounds.in_schema.contains(&m.id))
        .collect();
    say(&format!(
        "{} mutants built in {} schema build(s), {} unviable, {} to build alone",
        schema.len(),
        rounds.builds,
        rounds.unviable.len(),
        rounds.alone.len()
    ));
    tried.extend(run_schema(&bench, &binaries, &schema));
    if cfg.doctests {
        doctests::with_doctests(&bench, chosen, tried)?;
    }
    let alone: Vec<&Numbered> = chosen
        .iter()
        .filter(|m| rounds.alone.contains(&m.id))
        .collect();
    run_alone(&bench, copy, &sws, sources, &alone, summary, tried)
}

fn unviable(seconds: f64, alone: bool) -> Tried {
    Tried {
        verdict: MutantOutcome::Unviable,
        by: None,
        tests_run: 0,
        seconds,
        alone,
    }
}

/// The binaries whose package can reach `package`'s code, its own first.
fn reaching<'b>(
    bench: &Bench<'_>,
    binaries: &'b [TestBinary],
    package: &str,
) -> Vec<&'b TestBinary> {
    let reach = select::reaching(&bench.members, package);
    let mut out: Vec<&TestBinary> = binaries
        .iter()
        .filter(|b| reach.contains(&b.package))
        .collect();
    out.sort_by_key(|b| b.package != package);
    out
}

/// Runs the tests that can reach the mutated packages with every mutant off: they must pass,
/// and their times set the timeouts.
fn unmutated(
    bench: &mut Bench<'_>,
    binaries: &[TestBinary],
    packages: &BTreeSet<&str>,
) -> Result<(), String> {
    // Every binary gets all the cores even with several mutants at once: a slow test then
    // holds back less of the others, and the first failure comes sooner.
    bench.threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut seen = BTreeSet::new();
    let mut todo: Vec<&TestBinary> = Vec::new();
    for package in packages {
        for bin in reaching(bench, binaries, package) {
            if seen.insert(bin.id.clone()) {
                todo.push(bin);
            }
        }
    }
    // Binaries side by side, each on every core (see `time_binary` for what the times mean).
    let threads = bench.threads;
    let (dir, coverage) = (&bench.dir, bench.cfg.coverage);
    let mut timed = over_jobs(bench.cfg.jobs, &todo, |i, bin| {
        let trace = dir.join(format!("trace-{i}"));
        let _ = std::fs::remove_file(&trace);
        let started = Instant::now();
        let run = runner::time_binary(bin, threads, None, coverage.then_some(&*trace));
        Some((*bin, run, started.elapsed().as_secs_f64()))
    });
    timed.sort_by(|a, b| a.0.id.cmp(&b.0.id));
    for (bin, run, secs) in timed {
        let runner::Timed { ran, times, reach } = run;
        match ran {
            Ran::Passed(_) => {}
            Ran::Failed(test) => {
                return Err(format!(
                    "the tests fail without any mutant ({}{}): fix them first, mutants are \
                     judged against passing tests",
                    bin.id,
                    test.map(|t| format!(", test {t}")).unwrap_or_default()
                ));
            }
            Ran::TimedOut | Ran::Broken(_) => {
                return Err(format!("cannot run {} without mutants", bin.id));
            }
        }
        let timeout = bench.cfg.timeout_after(secs);
        bench.timeouts.insert(bin.id.clone(), timeout);
        bench.times.insert(bin.id.clone(), times);
        if let Some(reach) = reach {
            bench.reach.insert(bin.id.clone(), reach);
        }
    }
    Ok(())
}

/// Tries one mutant against `binaries`.
fn try_one(
    bench: &Bench<'_>,
    binaries: &[TestBinary],
    m: &Numbered,
    id: u32,
    caught_before: Vec<(String, String)>,
) -> (Verdict, usize) {
    let mut binaries = reaching(bench, binaries, &m.package);
    let mut related = runner::related_names(m.mutant.function.as_deref(), &m.mutant.file);
    // With coverage, only the binaries whose unmutated run reached the mutant's switch (a
    // mutant built alone has none: every binary), and the first test that reached it among the
    // related ones: they run together on every thread, so one of them that hangs does not hold
    // back another that fails.
    if id != 0 && bench.cfg.coverage {
        binaries.retain(|b| bench.reach.get(&b.id).is_none_or(|r| r.contains_key(&id)));
        for b in &binaries {
            let test = bench.reach.get(&b.id).and_then(|r| r.get(&id));
            let known = |t: &String| {
                bench
                    .times
                    .get(&b.id)
                    .is_some_and(|times| times.iter().any(|(n, _)| n == t))
            };
            if let Some(t) = test.filter(|t| known(t))
                && !related.contains(t)
            {
                related.push(t.clone());
            }
        }
    }
    let plan = Plan {
        binaries,
        timeouts: &bench.timeouts,
        times: &bench.times,
        threads: bench.threads,
        caught_before,
        related,
    };
    runner::try_mutant(&plan, id)
}

fn outcome_of(verdict: Verdict, ran: usize, seconds: f64, alone: bool) -> Result<Tried, String> {
    let (verdict, by) = match verdict {
        Verdict::Caught { binary, test } => (
            MutantOutcome::Caught,
            Some(test.map_or(binary.clone(), |t| format!("{binary} {t}"))),
        ),
        Verdict::Missed => (MutantOutcome::Missed, None),
        Verdict::Timeout(bin) => (MutantOutcome::Timeout, Some(bin)),
        Verdict::Broken(why) => return Err(why),
    };
    Ok(Tried {
        verdict,
        by,
        tests_run: ran,
        seconds,
        alone,
    })
}

/// Runs `work` on every item, `jobs` items at a time, each item once; what it returned, in the
/// items' order (`None`s left out).
fn over_jobs<T: Sync, R: Send>(
    jobs: usize,
    items: &[T],
    work: impl Fn(usize, &T) -> Option<R> + Sync,
) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let done: Mutex<Vec<(usize, R)>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..jobs.clamp(1, items.len().max(1)) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(item) = items.get(i) else { break };
                    if let Some(r) = work(i, item) {
                        done.lock().unwrap_or_else(|p| p.into_inner()).push((i, r));
                    }
                }
            });
        }
    });
    let mut done = done.into_inner().unwrap_or_else(|p| p.into_inner());
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

/// Runs the schema's mutants, `jobs` at a time.
fn run_schema(
    bench: &Bench<'_>,
    binaries: &[TestBinary],
    mutants: &[&Numbered],
) -> BTreeMap<u32, Tried> {
    let done = AtomicUsize::new(0);
    // Tests that caught a function's mutants, tried first on its next ones.
    let caught: Mutex<BTreeMap<String, Vec<(String, String)>>> = Mutex::new(BTreeMap::new());
    let tried = over_jobs(bench.cfg.jobs, mutants, |_, m| {
        if crate::exec::process::is_cancelled() {
            return None;
        }
        let function = m.mutant.function.clone().unwrap_or_default();
        let before = caught
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&function)
            .cloned()
            .unwrap_or_default();
        let started = Instant::now();
        let (verdict, ran) = try_one(bench, binaries, m, m.id, before);
        if let Verdict::Caught {
            binary,
            test: Some(t),
        } = &verdict
        {
            caught
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .entry(function)
                .or_default()
                .push((binary.clone(), t.clone()));
        }
        let t = outcome_of(verdict, ran, started.elapsed().as_secs_f64(), false).ok()?;
        let n = done.fetch_add(1, Ordering::SeqCst) + 1;
        let line = format!(
            "{n}/{} {} {}",
            mutants.len(),
            t.verdict.label(),
            m.mutant.name()
        );
        (bench.events)(&Event::Output {
            suite: SuiteKind::Mutants,
            line: &line,
        });
        Some((m.id, t))
    });
    tried.into_iter().collect()
}

/// Builds and runs each mutant the schema could not hold on its own, one at a time, written
/// straight into the copy (the rest of the copy unmutated).
fn run_alone(
    bench: &Bench<'_>,
    copy: &scratch::Scratch,
    sws: &Workspace,
    sources: &BTreeMap<String, String>,
    mutants: &[&Numbered],
    summary: &mut crate::model::MutantsSummary,
    out: &mut BTreeMap<u32, Tried>,
) -> Result<(), String> {
    if mutants.is_empty() {
        return Ok(());
    }
    for (file, source) in sources {
        copy.write(file, source)?;
    }
    let quiet = |_: &Event<'_>| {};
    // Each package's doctests run once unmutated (they must pass) before a mutant's.
    let mut doc_timeouts: BTreeMap<String, Duration> = BTreeMap::new();
    if bench.cfg.doctests {
        let packages: BTreeSet<&str> = mutants.iter().map(|m| m.package.as_str()).collect();
        for package in packages {
            doc_timeouts.insert(
                package.to_string(),
                doctests::doctest_baseline(bench, package)?,
            );
        }
    }
    for m in mutants {
        if crate::exec::process::is_cancelled() {
            break;
        }
        let Some(source) = sources.get(&m.mutant.file) else {
            continue;
        };
        let started = Instant::now();
        copy.write(&m.mutant.file, &schema::direct(source, &m.mutant))?;
        let stop_at = BTreeSet::from([m.package.clone()]);
        let (result, _) =
            crate::suites::testrun::build::build_with(sws, &[], &[], &bench.env, &stop_at, &quiet)
                .map_err(|e| e.to_string())?;
        summary.build_seconds += started.elapsed().as_secs_f64();
        let tried = match result {
            BuildResult::Failed(_) => unviable(started.elapsed().as_secs_f64(), true),
            BuildResult::Built { binaries } => {
                let (mut verdict, ran) = try_one(bench, &binaries, m, 0, Vec::new());
                if verdict == Verdict::Missed && bench.cfg.doctests {
                    verdict = doctests::alone_doctests(bench, m, &doc_timeouts)?;
                }
                outcome_of(verdict, ran, started.elapsed().as_secs_f64(), true)?
            }
        };
        copy.write(&m.mutant.file, source)?;
        out.insert(m.id, tried);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn over_jobs_does_every_item_once_and_keeps_their_order() {
        let items: Vec<u32> = (0..50).collect();
        let calls = AtomicUsize::new(0);
        let out = over_jobs(3, &items, |i, n| {
            calls.fetch_add(1, Ordering::SeqCst);
            assert_eq!(i as u32, *n);
            // Later items finish first: the order must come from the items, not the ends.
            std::thread::sleep(Duration::from_micros(u64::from(50 - n) * 20));
            (n % 7 != 0).then_some(n * 2)
        });
        assert_eq!(calls.load(Ordering::SeqCst), 50);
        let want: Vec<u32> = items
            .iter()
            .filter(|n| *n % 7 != 0)
            .map(|n| n * 2)
            .collect();
        assert_eq!(out, want);
        assert!(over_jobs(4, &Vec::<u32>::new(), |_, n| Some(*n)).is_empty());
    }
}
