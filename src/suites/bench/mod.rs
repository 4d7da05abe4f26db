//! The bench suite: measurements from criterion, libtest `#[bench]`, hyperfine, a custom JSON
//! format and timed commands, all turned into Report metrics with every sample kept.

pub mod config;
pub mod paired;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Instant, SystemTime};

use serde_json::Value;

use crate::exec::process::{self, Exit, Limits};
use crate::model::{Case, CaseStatus, Direction, Metric, Role, Suite, SuiteKind};
use crate::suites::suite;
use config::{BenchCommand, BenchConfig};

/// A metric name from a benchmark id: `bench.` + the id with dots and spaces replaced, so the
/// last `.` of a rule always separates the aggregate.
pub fn metric_name(id: &str) -> String {
    let clean: String = id
        .trim()
        .chars()
        .map(|c| {
            if c == '.' || c.is_whitespace() {
                '_'
            } else {
                c
            }
        })
        .collect();
    format!("bench.{clean}")
}

fn metric(id: &str, unit: &str, samples: Vec<f64>) -> Metric {
    Metric::new(
        metric_name(id),
        unit,
        Direction::LowerIsBetter,
        Role::Compared,
        samples,
    )
}

use crate::model::INSTRUCTIONS;

/// Parses libtest's `test name ... bench:   1,234.50 ns/iter (+/- 56)` lines.
pub fn parse_libtest(output: &str) -> Vec<Metric> {
    output
        .lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("test ")?;
            let (name, tail) = rest.split_once(" ... bench:")?;
            let tail = tail.trim();
            let (number, after) = tail.split_once(char::is_whitespace)?;
            let unit = after.trim().split('/').next()?.trim();
            let value: f64 = number.replace(',', "").parse().ok()?;
            Some(metric(name.trim(), unit, vec![value]))
        })
        .collect()
}

/// Reads `<dir>/**/new/{benchmark,sample}.json` written by criterion; with `since`, only
/// results written after it (so a run never reports stale numbers as current).
pub fn read_criterion(dir: &Path, since: Option<SystemTime>) -> (Vec<Metric>, Vec<String>) {
    let mut metrics = Vec::new();
    let mut errors = Vec::new();
    // Criterion's own comparisons and plots are not results of this run.
    for d in directories(dir, &["report", "base", "change"]) {
        if d == dir || d.file_name().is_none_or(|n| n != "new") {
            continue;
        }
        let sample_path = d.join("sample.json");
        if !sample_path.is_file() || stale(&sample_path, since) {
            continue;
        }
        match criterion_metric(&d) {
            Ok(m) => metrics.push(m),
            Err(e) => errors.push(format!("{}: {e}", d.display())),
        }
    }
    metrics.sort_by(|a, b| a.name.cmp(&b.name));
    (metrics, errors)
}

/// Every directory under `dir`, `dir` itself included, without going into those named in
/// `skip`.
fn directories(dir: &Path, skip: &[&str]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        if let Ok(entries) = std::fs::read_dir(&d) {
            stack.extend(entries.flatten().map(|e| e.path()).filter(|p| {
                p.is_dir()
                    && p.file_name()
                        .and_then(|n| n.to_str())
                        .is_none_or(|n| !skip.contains(&n))
            }));
        }
        out.push(d);
    }
    out
}

/// Whether `path` is known to have been written before `since` (never, without a `since`).
fn stale(path: &Path, since: Option<SystemTime>) -> bool {
    since.is_some_and(|since| {
        std::fs::metadata(path)
            .and_then(|m| m.modified())
            .is_ok_and(|t| t < since)
    })
}

fn read_json(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
    serde_json::from_str(&text).map_err(|e| format!("invalid JSON: {e}"))
}

fn criterion_metric(new_dir: &Path) -> Result<Metric, String> {
    let bench = read_json(&new_dir.join("benchmark.json"))?;
    let sample = read_json(&new_dir.join("sample.json"))?;
    let id = bench["full_id"]
        .as_str()
        .or_else(|| bench["title"].as_str())
        .ok_or("benchmark.json has no full_id")?;
    let iters = sample["iters"]
        .as_array()
        .ok_or("sample.json has no iters")?;
    let times = sample["times"]
        .as_array()
        .ok_or("sample.json has no times")?;
    if iters.len() != times.len() {
        return Err(format!(
            "sample.json: `iters` has {} entries and `times` {}: each sample needs both",
            iters.len(),
            times.len()
        ));
    }
    // Each sample is the total time of `iters` iterations: time per iteration, in ns.
    let mut samples = Vec::with_capacity(iters.len());
    for (i, t) in iters.iter().zip(times) {
        let (Some(i), Some(t)) = (i.as_f64(), t.as_f64()) else {
            return Err("sample.json: `iters` and `times` must hold numbers".to_string());
        };
        if !(i.is_finite() && i > 0.0) {
            return Err(format!(
                "sample.json: `iters` holds {i}, not a positive count"
            ));
        }
        samples.push(t / i);
    }
    let samples = durations("sample.json `times`", samples)?;
    if samples.is_empty() {
        return Err("sample.json has no samples".to_string());
    }
    Ok(metric(id, "ns", samples))
}

/// Reads `hyperfine --export-json`: one metric per command, times in seconds.
pub fn read_hyperfine(path: &Path) -> Result<Vec<Metric>, String> {
    let v = read_json(path)?;
    let results = v["results"]
        .as_array()
        .ok_or("no `results` array (is this hyperfine --export-json output?)")?;
    results
        .iter()
        .map(|r| {
            let name = r["command"].as_str().ok_or("a result has no `command`")?;
            if name.trim().is_empty() {
                return Err("a result has an empty `command`".to_string());
            }
            let times: Vec<f64> = match r["times"].as_array() {
                Some(t) => t
                    .iter()
                    .map(|v| {
                        v.as_f64()
                            .ok_or(format!("`{name}`: `times` holds {v}, not a number"))
                    })
                    .collect::<Result<_, _>>()?,
                None => r["mean"].as_f64().into_iter().collect(),
            };
            let times = durations(&format!("`{name}`: `times`"), times)?;
            if times.is_empty() {
                return Err(format!("`{name}` has no times"));
            }
            Ok(metric(name, "s", times))
        })
        .collect()
}

/// Reads the custom format: `{"metrics": [{"name", "unit", "direction", "samples"}]}`.
pub fn read_custom(path: &Path) -> Result<Vec<Metric>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
    parse_custom(&text)
}

/// Parses the custom format from text (a file's, or what a `json = true` command printed).
pub fn parse_custom(text: &str) -> Result<Vec<Metric>, String> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Custom {
        metrics: Vec<CustomMetric>,
    }
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct CustomMetric {
        name: String,
        unit: String,
        #[serde(default = "lower")]
        direction: Direction,
        samples: Vec<f64>,
    }
    fn lower() -> Direction {
        Direction::LowerIsBetter
    }
    let c: Custom =
        serde_json::from_str(text).map_err(|e| format!("not the custom bench format: {e}"))?;
    c.metrics
        .into_iter()
        .enumerate()
        .map(|(i, m)| {
            let name = m.name.strip_prefix("bench.").unwrap_or(&m.name).trim();
            if name.is_empty() {
                return Err(format!(
                    "metrics[{i}]: `name` is empty: give every metric a name"
                ));
            }
            if let Some(bad) = m.samples.iter().find(|v| !v.is_finite()) {
                return Err(format!("metrics[{i}] `{name}`: `samples` holds {bad}"));
            }
            Ok(Metric {
                direction: m.direction,
                ..metric(name, &m.unit, m.samples)
            })
        })
        .collect()
}

/// Times as a harness wrote them: each finite and not negative, or an error naming `what`.
fn durations(what: &str, times: Vec<f64>) -> Result<Vec<f64>, String> {
    match times.iter().find(|t| !t.is_finite() || **t < 0.0) {
        Some(bad) => Err(format!(
            "{what} holds {bad}: a time is a finite number, not negative"
        )),
        None => Ok(times),
    }
}

/// Instructions `c` executes, counted by callgrind (`valgrind` must be installed).
fn count_instructions(c: &BenchCommand, dir: &Path) -> Result<f64, String> {
    let out_file = std::env::temp_dir().join(format!(
        "cargo-gate-callgrind-{}-{}.out",
        std::process::id(),
        c.name.replace('/', "_")
    ));
    let mut cmd = Command::new("valgrind");
    cmd.arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out_file.display()))
        .arg("--trace-children=yes")
        .arg("--")
        .args(&c.cmd)
        .current_dir(dir);
    let outcome = process::run(
        cmd,
        &Limits {
            tail_bytes: 8192,
            slow: None,
            timeout: Some(std::time::Duration::from_secs(3600)),
        },
    )
    .map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            "counter = \"instructions\" needs valgrind, which is not installed (Debian: apt-get install valgrind)".to_string()
        } else {
            format!("cannot run valgrind: {e}")
        }
    })?;
    let text = std::fs::read_to_string(&out_file);
    let _ = std::fs::remove_file(&out_file);
    if outcome.exit != Exit::Code(0) {
        return Err(format!(
            "`{}` under valgrind ended with {}:\n{}",
            c.cmd.join(" "),
            outcome.exit,
            outcome.output_text()
        ));
    }
    let text = text.map_err(|e| format!("callgrind wrote no output file: {e}"))?;
    callgrind_instructions(&text)
        .ok_or_else(|| "callgrind's output has no `summary:` (or `totals:`) line".to_string())
}

/// Reads the callgrind outputs iai-callgrind and gungraun leave under `dir`
/// (`<package>/<bench file>/<group>/<function>.<id>/callgrind.<function>.<id>.out`): one
/// instruction count per benchmark, named `<group>/<function>.<id>`. A benchmark whose
/// process or threads were written separately (`callgrind.<function>.<id>.<pid>.t<tid>.out`)
/// is their sum. `.old` files and other baselines are the tools' own history and are skipped;
/// with `since`, so are outputs written before it.
pub fn read_iai(dir: &Path, since: Option<SystemTime>) -> (Vec<Metric>, Vec<String>) {
    let mut metrics = Vec::new();
    let mut errors = Vec::new();
    for d in directories(dir, &[]) {
        let Some(bench) = d.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let prefix = format!("callgrind.{bench}.");
        let outputs: Vec<PathBuf> = std::fs::read_dir(&d)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.is_file()
                    && p.file_name()
                        .and_then(|n| n.to_str())
                        .and_then(|n| n.strip_prefix(&prefix))
                        .is_some_and(|rest| {
                            rest == "out" || (rest.ends_with(".out") && !rest.contains('@'))
                        })
            })
            .collect();
        let fresh: Vec<&PathBuf> = outputs.iter().filter(|p| !stale(p, since)).collect();
        if fresh.is_empty() {
            continue;
        }
        let group = d
            .parent()
            .and_then(|g| g.file_name())
            .and_then(|n| n.to_str())
            .unwrap_or("");
        let id = if group.is_empty() {
            bench.to_string()
        } else {
            format!("{group}/{bench}")
        };
        let mut total = 0.0;
        for o in fresh {
            match std::fs::read_to_string(o)
                .map_err(|e| e.to_string())
                .and_then(|t| {
                    callgrind_instructions(&t).ok_or_else(|| {
                        "no `summary:` or `totals:` line with an Ir count".to_string()
                    })
                }) {
                Ok(n) => total += n,
                Err(e) => errors.push(format!("{}: {e}", o.display())),
            }
        }
        metrics.push(metric(&id, INSTRUCTIONS, vec![total]));
    }
    metrics.sort_by(|a, b| a.name.cmp(&b.name));
    (metrics, errors)
}

/// The instruction count (`Ir`, the first event) of a callgrind output file.
pub fn callgrind_instructions(text: &str) -> Option<f64> {
    let events = text.lines().find_map(|l| l.strip_prefix("events:"))?;
    let ir = events.split_whitespace().position(|e| e == "Ir")?;
    text.lines()
        .find_map(|l| {
            l.strip_prefix("summary:")
                .or_else(|| l.strip_prefix("totals:"))
        })
        .and_then(|v| v.split_whitespace().nth(ir))
        .and_then(|n| n.parse::<u64>().ok())
        .map(|n| n as f64)
}

/// What a `[[bench.command]]` measures, unpaired: its wall time over `runs` runs, its
/// instruction count, or (`json = true`) the metrics it prints, samples of every run together.
fn measure_command(c: &BenchCommand, dir: &Path) -> Result<Vec<Metric>, String> {
    if c.counter == config::Counter::Instructions {
        return count_instructions(c, dir).map(|n| vec![metric(&c.name, INSTRUCTIONS, vec![n])]);
    }
    let mut samples = Vec::new();
    let mut printed: Vec<Metric> = Vec::new();
    for i in 0..c.warmup + c.runs {
        if c.json {
            let found = paired::json_metrics(c, dir, &[])?;
            if i < c.warmup {
                continue;
            }
            for m in found {
                match printed.iter_mut().find(|p| p.name == m.name) {
                    Some(p) => p.samples.extend(m.samples),
                    None => printed.push(m),
                }
            }
        } else {
            let elapsed = paired::time_once(c, dir, &[])?;
            if i >= c.warmup {
                samples.push(elapsed);
            }
        }
    }
    if c.json {
        if printed.is_empty() {
            return Err(format!("`{}` printed no metrics", c.name));
        }
        return Ok(printed);
    }
    Ok(vec![metric(&c.name, "s", samples)])
}

/// Whether a paired run has anything to measure: timed commands, or `[bench] run` with
/// criterion or libtest results to read.
fn pairable(config: &BenchConfig) -> bool {
    config
        .commands
        .iter()
        .any(|c| c.counter == config::Counter::Time)
        || harness_pairable(config)
}

fn harness_pairable(config: &BenchConfig) -> bool {
    !config.run.is_empty() && (config.criterion || config.libtest)
}

fn expand(root: &Path, pattern: &str) -> Vec<PathBuf> {
    let full = root.join(pattern);
    let Some(name) = full.file_name().and_then(|n| n.to_str()) else {
        return vec![full];
    };
    if !name.contains('*') {
        return vec![full];
    }
    let dir = full.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| crate::util::glob::matches(name, n))
        })
        .collect();
    out.sort();
    out
}

fn error_case(id: &str, message: String, output: String) -> Case {
    Case::single(id, id, CaseStatus::Failed, 0.0, message, output)
}

/// What the suite measured so far: metrics, and a failed case for each thing it could not
/// measure.
#[derive(Default)]
struct Gathered {
    metrics: Vec<Metric>,
    cases: Vec<Case>,
    pairs: Vec<crate::model::PairedSamples>,
}

impl Gathered {
    fn error(&mut self, id: &str, message: String, output: String) {
        self.cases.push(error_case(id, message, output));
    }
}

/// Runs the bench suite in the workspace root; with `paired`, the timed commands are measured
/// A/B against that revision (see [`paired`]).
/// What the suite is doing goes to `say`, a line at a time (the harness's own output streamed).
pub fn run(
    config: &BenchConfig,
    root: &Path,
    target_dir: &Path,
    paired: Option<&str>,
    say: &mut dyn FnMut(&str),
) -> Suite {
    let started = SystemTime::now();
    let clock = Instant::now();
    let mut g = Gathered::default();
    let paired_done = match paired {
        Some(rev) => measure_paired(config, root, target_dir, rev, say, &mut g),
        None => false,
    };
    // A paired run measured the harness's benchmarks on both sides already.
    let harness_done = paired_done && harness_pairable(config);
    if !harness_done {
        run_harness(config, root, say, &mut g);
    }
    // Results since this run started, when this run ran the benchmarks.
    let since = (!config.run.is_empty()).then_some(started);
    if config.criterion && !harness_done {
        let (found, errors) = read_criterion(&target_dir.join("criterion"), since);
        g.metrics.extend(found);
        for e in errors {
            g.error("criterion", e, String::new());
        }
    }
    if config.iai {
        for tool in ["iai", "gungraun"] {
            let (found, errors) = read_iai(&target_dir.join(tool), since);
            g.metrics.extend(found);
            for e in errors {
                g.error(tool, e, String::new());
            }
        }
    }
    read_result_files(config, root, &mut g);
    // Every command a paired run did not measure (all of them without one; instruction counts
    // always, as they need no pairing).
    for c in config
        .commands
        .iter()
        .filter(|c| !(paired_done && c.counter == config::Counter::Time))
    {
        say(&format!("measuring `{}` ({})", c.name, c.cmd.join(" ")));
        match measure_command(c, root) {
            Ok(found) => g.metrics.extend(found),
            Err(e) => g.error(&metric_name(&c.name), e, String::new()),
        }
    }
    let Gathered {
        mut metrics,
        mut cases,
        pairs,
    } = g;
    metrics.sort_by(|a, b| a.name.cmp(&b.name));
    if metrics.is_empty() && pairs.is_empty() && cases.is_empty() {
        // A suite that measured nothing is no evidence that nothing got slower.
        cases.push(error_case(
            "bench",
            "the bench suite measured nothing: no benchmark results were found and no command is configured".to_string(),
            "run the benchmarks first (`cargo bench`, or set `[bench] run`), point `custom`/`hyperfine` at their JSON, or add a `[[bench.command]]`".to_string(),
        ));
    }
    // Measurements are metrics, shown in the performance table; cases are only the errors.
    let mut s = suite(SuiteKind::Bench, clock.elapsed().as_secs_f64(), cases);
    s.metrics = metrics;
    s.details = crate::model::Details::Bench(crate::model::BenchDetails { paired: pairs });
    s
}

/// The A/B measurement against `rev`; whether it was made (if not, everything is measured
/// unpaired, so the run still has its numbers).
fn measure_paired(
    config: &BenchConfig,
    root: &Path,
    target_dir: &Path,
    rev: &str,
    say: &mut dyn FnMut(&str),
    g: &mut Gathered,
) -> bool {
    if !pairable(config) {
        g.error(
            "paired",
            "a paired run measures [[bench.command]] timed commands and the criterion or libtest results of `[bench] run`, and none is configured".to_string(),
            "add a [[bench.command]] or `[bench] run = [\"cargo\", \"bench\"]`".to_string(),
        );
        return false;
    }
    match paired_run(config, root, target_dir, rev, say) {
        Ok(m) => {
            for p in &m.pairs {
                g.metrics.push(Metric::new(
                    p.metric.clone(),
                    &p.unit,
                    p.direction,
                    Role::Compared,
                    p.current.clone(),
                ));
            }
            g.metrics.extend(m.unpaired);
            g.pairs = m.pairs;
            true
        }
        Err(e) => {
            g.error(
                "paired",
                format!("paired run against `{rev}` failed: {e}"),
                String::new(),
            );
            false
        }
    }
}

/// `[bench] run` (e.g. `cargo bench`), its output streamed; libtest's bench lines are read from
/// it.
fn run_harness(config: &BenchConfig, root: &Path, say: &mut dyn FnMut(&str), g: &mut Gathered) {
    let Some((program, args)) = config.run.split_first() else {
        return;
    };
    let mut cmd = Command::new(program);
    cmd.args(args).current_dir(root);
    say(&format!("running `{}`", config.run.join(" ")));
    match process::run_lines(cmd, 16 * 1024 * 1024, None, say) {
        Ok(o) if o.exit == Exit::Code(0) => {
            if config.libtest {
                g.metrics.extend(parse_libtest(&o.output_text()));
            }
        }
        Ok(o) => g.error(
            "bench run",
            format!("`{}` failed ({:?})", config.run.join(" "), o.exit),
            o.output_text(),
        ),
        Err(e) => g.error(
            "bench run",
            format!("cannot run `{program}`: {e}"),
            String::new(),
        ),
    }
}

/// The hyperfine and custom JSON files the config points at.
fn read_result_files(config: &BenchConfig, root: &Path, g: &mut Gathered) {
    type Reader = fn(&Path) -> Result<Vec<Metric>, String>;
    let sources = config
        .hyperfine
        .iter()
        .map(|p| (p, read_hyperfine as Reader, "hyperfine"))
        .chain(
            config
                .custom
                .iter()
                .map(|p| (p, read_custom as Reader, "custom")),
        );
    for (pattern, reader, kind) in sources {
        let files = expand(root, pattern);
        if files.is_empty() {
            g.error(kind, format!("no file matches `{pattern}`"), String::new());
        }
        for f in files {
            match reader(&f) {
                Ok(ms) => g.metrics.extend(ms),
                Err(e) => g.error(kind, format!("{}: {e}", f.display()), String::new()),
            }
        }
    }
}

fn paired_run(
    config: &BenchConfig,
    root: &Path,
    target_dir: &Path,
    rev: &str,
    say: &mut dyn FnMut(&str),
) -> Result<paired::Measured, String> {
    let base = paired::resolve(root, rev)?;
    let in_repo = crate::exec::git::facts(root).prefix.unwrap_or_default();
    say(&format!(
        "paired against {} ({}), {} rounds",
        base.name,
        &base.commit[..12.min(base.commit.len())],
        config.rounds
    ));
    paired::measure(config, root, Path::new(&in_repo), target_dir, &base, say)
}

/// The benchmark a line of a harness's output is about: criterion's `Benchmarking NAME: …`,
/// libtest's `test NAME ... bench: …`, iai-callgrind/gungraun's `crate::group::name …` header.
/// For the event that names the current benchmark.
pub fn benchmark_named(line: &str) -> Option<&str> {
    let line = line.trim();
    if let Some(rest) = line.strip_prefix("Benchmarking ") {
        let name = rest.split(": ").next().unwrap_or(rest).trim();
        return (!name.is_empty()).then_some(name);
    }
    if let Some(rest) = line.strip_prefix("test ")
        && let Some((name, tail)) = rest.split_once(" ... ")
        && tail.starts_with("bench:")
    {
        return Some(name.trim());
    }
    None
}

/// The bench suite behind the common interface.
struct BenchSuite;

/// Makes the bench suite.
pub fn build(
    _config: &crate::config::Config,
    _options: &crate::suites::SuiteOptions,
) -> crate::error::Result<Box<dyn crate::suites::Suite>> {
    Ok(Box::new(BenchSuite))
}

impl crate::suites::Suite for BenchSuite {
    fn kind(&self) -> SuiteKind {
        SuiteKind::Bench
    }

    fn run(&mut self, cx: &mut crate::suites::RunContext<'_>) -> crate::error::Result<Suite> {
        let paired = cx.config.bench.paired.as_deref();
        let events = cx.events;
        let suite = SuiteKind::Bench;
        let mut say = |line: &str| {
            if let Some(name) = benchmark_named(line) {
                events(&crate::event::Event::Benchmark { suite, name });
            }
            events(&crate::event::Event::Output { suite, line });
        };
        Ok(run(
            &cx.config.bench,
            &cx.ws.root,
            &cx.ws.target_dir,
            paired,
            &mut say,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_bench_inputs_are_errors_naming_the_field() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| {
            let p = dir.path().join(name);
            std::fs::write(&p, text).unwrap();
            p
        };
        let hyperfine = write(
            "h.json",
            r#"{"results":[{"command":"sleep","mean":0.1,"times":[0.1,-0.2]}]}"#,
        );
        let e = read_hyperfine(&hyperfine).err().unwrap_or_default();
        assert!(e.contains("`sleep`: `times` holds -0.2"), "{e}");
        let e = parse_custom(r#"{"metrics":[{"name":"","unit":"ns","samples":[1.0]}]}"#)
            .err()
            .unwrap_or_default();
        assert!(e.contains("metrics[0]: `name` is empty"), "{e}");
        let new = dir.path().join("c/new");
        std::fs::create_dir_all(&new).unwrap();
        std::fs::write(new.join("benchmark.json"), r#"{"full_id":"x"}"#).unwrap();
        std::fs::write(
            new.join("sample.json"),
            r#"{"iters":[1.0,2.0],"times":[10.0]}"#,
        )
        .unwrap();
        let e = criterion_metric(&new).err().unwrap_or_default();
        assert!(e.contains("`iters` has 2 entries and `times` 1"), "{e}");
        std::fs::write(new.join("sample.json"), r#"{"iters":[1.0],"times":[-5.0]}"#).unwrap();
        assert!(criterion_metric(&new).is_err());
    }

    #[test]
    fn the_current_benchmark_is_named_from_the_harness_output() {
        assert_eq!(
            benchmark_named("Benchmarking parse/small: Warming up for 3.0000 s"),
            Some("parse/small")
        );
        assert_eq!(benchmark_named("Benchmarking fib 20"), Some("fib 20"));
        assert_eq!(
            benchmark_named("test tests::bench_add ... bench:          12.50 ns/iter (+/- 0.30)"),
            Some("tests::bench_add")
        );
        assert_eq!(benchmark_named("test tests::add ... ok"), None);
        assert_eq!(benchmark_named("   Compiling foo v0.1.0"), None);
        assert_eq!(benchmark_named("Benchmarking "), None);
    }

    #[test]
    fn callgrind_summaries_give_the_instruction_count() {
        let out =
            "# callgrind format\nversion: 1\nevents: Ir Dr Dw\nsummary: 123456 789 10\nfl=(1) x\n";
        assert_eq!(callgrind_instructions(out), Some(123456.0));
        let reordered = "events: Dr Ir\ntotals: 5 42\n";
        assert_eq!(callgrind_instructions(reordered), Some(42.0));
        assert_eq!(callgrind_instructions("events: Ir\n"), None);
    }

    #[test]
    fn names_keep_the_aggregate_separator_free() {
        assert_eq!(metric_name("parse/large 1.5"), "bench.parse/large_1_5");
    }

    #[test]
    fn parses_libtest_bench_lines() {
        let out = "running 2 tests\ntest parse_big   ... bench:       1,234.50 ns/iter (+/- 56)\ntest tiny ... bench:          12 ns/iter (+/- 1)\ntest other ... ok\n";
        let m = parse_libtest(out);
        assert_eq!(m.len(), 2);
        assert_eq!(
            (m[0].name.as_str(), m[0].unit.as_str(), m[0].samples[0]),
            ("bench.parse_big", "ns", 1234.5)
        );
        assert_eq!(m[1].samples, vec![12.0]);
    }

    #[test]
    fn reads_hyperfine_and_custom_files_and_reports_bad_ones() {
        let dir = tempfile::tempdir().unwrap();
        let h = dir.path().join("h.json");
        std::fs::write(
            &h,
            r#"{"results":[{"command":"sleep 0.1","mean":0.1,"times":[0.1,0.11]}]}"#,
        )
        .unwrap();
        let m = read_hyperfine(&h).unwrap();
        assert_eq!(
            (m[0].name.as_str(), m[0].samples.len()),
            ("bench.sleep_0_1", 2)
        );
        let c = dir.path().join("c.json");
        std::fs::write(&c, r#"{"metrics":[{"name":"bench.rps","unit":"rps","direction":"higher_is_better","samples":[100,110]}]}"#).unwrap();
        let m = read_custom(&c).unwrap();
        assert_eq!(
            (m[0].name.as_str(), m[0].direction),
            ("bench.rps", Direction::HigherIsBetter)
        );
        std::fs::write(&c, r#"{"metrics":[{"name":"x","unit":"s","sample":[1]}]}"#).unwrap();
        assert!(
            read_custom(&c)
                .unwrap_err()
                .contains("not the custom bench format")
        );
        std::fs::write(&h, "{}").unwrap();
        assert!(read_hyperfine(&h).unwrap_err().contains("results"));
    }

    #[test]
    fn reads_criterion_samples_per_iteration() {
        let dir = tempfile::tempdir().unwrap();
        let new = dir.path().join("parse/large/new");
        std::fs::create_dir_all(&new).unwrap();
        std::fs::write(
            new.join("benchmark.json"),
            r#"{"full_id":"parse/large","title":"parse/large"}"#,
        )
        .unwrap();
        std::fs::write(
            new.join("sample.json"),
            r#"{"sampling_mode":"Linear","iters":[10.0,20.0],"times":[1000.0,2200.0]}"#,
        )
        .unwrap();
        let broken = dir.path().join("broken/new");
        std::fs::create_dir_all(&broken).unwrap();
        std::fs::write(broken.join("sample.json"), "{").unwrap();
        let (m, errors) = read_criterion(dir.path(), None);
        assert_eq!(m.len(), 1);
        assert_eq!(
            (m[0].name.as_str(), m[0].samples.clone()),
            ("bench.parse/large", vec![100.0, 110.0])
        );
        assert_eq!(errors.len(), 1);
        let future = SystemTime::now() + std::time::Duration::from_secs(3600);
        assert!(
            read_criterion(dir.path(), Some(future)).0.is_empty(),
            "stale results are skipped"
        );
    }

    #[test]
    fn json_commands_give_the_metrics_they_print_over_every_run() {
        let dir = tempfile::tempdir().unwrap();
        let c = BenchCommand {
            name: "harness".into(),
            cmd: vec![
                "sh".into(),
                "-c".into(),
                r#"echo '{"metrics":[{"name":"bench.rps","unit":"rps","direction":"higher_is_better","samples":[100,110]}]}'"#.into(),
            ],
            runs: 2,
            warmup: 1,
            counter: config::Counter::Time,
            json: true,
        };
        let m = measure_command(&c, dir.path()).unwrap();
        assert_eq!(m.len(), 1);
        assert_eq!(
            (m[0].name.as_str(), m[0].direction, m[0].samples.clone()),
            (
                "bench.rps",
                Direction::HigherIsBetter,
                vec![100.0, 110.0, 100.0, 110.0]
            )
        );
        let silent = BenchCommand {
            cmd: vec!["true".into()],
            ..c.clone()
        };
        assert!(
            measure_command(&silent, dir.path())
                .unwrap_err()
                .contains("not the custom bench format")
        );
    }

    #[test]
    fn reads_iai_callgrind_and_gungraun_outputs_as_instruction_counts() {
        let dir = tempfile::tempdir().unwrap();
        let out = |rel: &str, ir: u64| {
            let p = dir.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, format!("# callgrind format\nversion: 1\nevents: Ir\nfl=(1) x\nfn=(1) main\n1 {ir}\ntotals: {ir}\n")).unwrap();
        };
        let b = "pkg/my_bench/fib_group/bench_fib.short";
        out(&format!("{b}/callgrind.bench_fib.short.out"), 1734);
        // The tool's own previous run and a named baseline: not this run's numbers.
        out(&format!("{b}/callgrind.bench_fib.short.out.old"), 9);
        out(&format!("{b}/callgrind.bench_fib.short.base@main.out"), 9);
        // A benchmark run as two processes: their sum.
        let t = "pkg/my_bench/g/spawn.two";
        out(&format!("{t}/callgrind.spawn.two.101.out"), 100);
        out(&format!("{t}/callgrind.spawn.two.102.out"), 23);
        let broken = dir.path().join("pkg/my_bench/g/bad.x/callgrind.bad.x.out");
        std::fs::create_dir_all(broken.parent().unwrap()).unwrap();
        std::fs::write(&broken, "events: Ir\n").unwrap();
        let (m, errors) = read_iai(dir.path(), None);
        let got: Vec<(&str, &str, f64)> = m
            .iter()
            .map(|m| (m.name.as_str(), m.unit.as_str(), m.samples[0]))
            .collect();
        assert_eq!(
            got,
            vec![
                ("bench.fib_group/bench_fib_short", INSTRUCTIONS, 1734.0),
                ("bench.g/bad_x", INSTRUCTIONS, 0.0),
                ("bench.g/spawn_two", INSTRUCTIONS, 123.0),
            ]
        );
        assert_eq!(errors.len(), 1, "{errors:?}");
        let future = SystemTime::now() + std::time::Duration::from_secs(3600);
        assert!(
            read_iai(dir.path(), Some(future)).0.is_empty(),
            "stale outputs are skipped"
        );
    }

    #[test]
    fn timed_commands_measure_each_run() {
        let dir = tempfile::tempdir().unwrap();
        let c = BenchCommand {
            name: "sleep".into(),
            cmd: vec!["sleep".into(), "0.05".into()],
            runs: 3,
            warmup: 1,
            counter: config::Counter::Time,
            json: false,
        };
        let m = measure_command(&c, dir.path()).unwrap();
        let s = &m[0].samples;
        assert_eq!(s.len(), 3);
        assert!(s.iter().all(|t| *t >= 0.05), "{s:?}");
        let bad = BenchCommand {
            cmd: vec!["false".into()],
            ..c
        };
        assert!(measure_command(&bad, dir.path()).is_err());
    }
}
