//! The tests suite: build, list, partition, schedule and run each test in its own process,
//! with retries, timeouts, fail-fast and Ctrl-C handling.

pub mod affected;
pub mod build;
pub mod doctest;
pub mod libtest;
pub mod nextest;
pub mod partition;
pub mod progress;

use std::collections::{BTreeSet, VecDeque};
use std::ffi::OsString;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use crate::exec::process::{self, Exit, Limits};
use build::{BuildResult, TestBinary};
use partition::Partition;
use progress::Progress;

use crate::config::{RunIgnored, TestsConfig};
use crate::error::{Error, Result};
use crate::model::{Attempt, Case, CaseStatus, Suite, SuiteKind, SuiteStatus};
use crate::suites::{Listed as ListEntry, RunContext};
use crate::util::suggest::closest;
use crate::workspace::{Workspace, cargo_bin};

/// Selection and display options from the command line.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Only these packages (`--package`); empty means the whole workspace.
    pub packages: Vec<String>,
    /// Name filters: a test runs when its name contains any of them (or equals, with `exact`).
    pub filters: Vec<String>,
    /// Tests whose name contains any of these are left out.
    pub skip: Vec<String>,
    /// Filters must match whole names.
    pub exact: bool,
    /// Only this shard.
    pub partition: Option<Partition>,
    /// Show a progress bar instead of lines.
    pub tty: bool,
    /// Recorded test durations for `--partition time:K/N` (none: split by count).
    pub test_times: Option<crate::baseline::note::TestTimes>,
    /// Where `test_times` came from, recorded in the report so `merge` can check the shards
    /// agree.
    pub partition_basis: Option<String>,
    /// Set by `--affected-since`: `packages` holds the affected packages, and when it is empty
    /// nothing is built or run.
    pub affected: Option<Affected>,
}

/// The outcome of `--affected-since`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Affected {
    /// The revision asked for.
    pub since: String,
    /// The commit compared with (merge base of `since` and HEAD), short.
    pub base: String,
    /// Affected packages (before `--package` narrows them) and why.
    pub packages: std::collections::BTreeMap<String, crate::suites::testrun::affected::Reason>,
}

/// A schedulable unit: one test, or one package's doctests.
#[derive(Debug, Clone)]
pub enum Unit {
    /// A test in a binary.
    Test {
        /// Index into the binary list.
        binary: usize,
        /// Test name.
        name: String,
        /// Marked `#[ignore]`.
        ignored: bool,
        /// `<binary-id> <name>`.
        id: String,
    },
    /// All doctests of a package.
    Doc {
        /// Package name.
        package: String,
        /// `<package>::doc`.
        id: String,
    },
}

impl Unit {
    /// The id used for sorting and partitioning.
    pub fn id(&self) -> &str {
        match self {
            Unit::Test { id, .. } | Unit::Doc { id, .. } => id,
        }
    }
}

/// The message on cases that were running when the run was interrupted: they are reported as
/// skipped with this reason, so a partial report says what it is missing.
pub const INTERRUPTED_WHILE_RUNNING: &str = "not finished: killed when the run was interrupted";

/// The plan: what would run, after build and listing.
pub struct Plan {
    /// Compiled test binaries.
    pub binaries: Vec<TestBinary>,
    /// Units to run, sorted by id, partition applied.
    pub units: Vec<Unit>,
    /// Cases that are reported but not run (ignored tests).
    pub skipped: Vec<Case>,
    /// Listing failures, reported as failed cases.
    pub list_failures: Vec<Case>,
}

/// Builds and lists; `Ok(Err(errors))` when the build failed.
pub fn plan(
    ws: &Workspace,
    cfg: &TestsConfig,
    opts: &RunOptions,
) -> Result<std::result::Result<Plan, Vec<String>>> {
    for p in &opts.packages {
        if ws.member(p).is_none() {
            let names: Vec<&str> = ws.members.iter().map(|m| m.name.as_str()).collect();
            let hint = match closest(p, &names) {
                Some(c) => format!(
                    "did you mean `{c}`? workspace members: {}",
                    names.join(", ")
                ),
                None => format!("workspace members: {}", names.join(", ")),
            };
            return Err(Error::usage(
                format!("package `{p}` is not a member of the workspace"),
                Some(hint),
            ));
        }
    }
    if opts.affected.is_some() && opts.packages.is_empty() {
        return Ok(Ok(Plan {
            binaries: Vec::new(),
            units: Vec::new(),
            skipped: Vec::new(),
            list_failures: Vec::new(),
        }));
    }
    let binaries = match build::build(ws, &opts.packages, &cfg.cargo_args)? {
        BuildResult::Built(b) => b,
        BuildResult::Failed { errors } => return Ok(Err(errors)),
    };
    let listed = list_all(&binaries, cfg);
    let mut units = Vec::new();
    let mut skipped = Vec::new();
    let mut list_failures = Vec::new();
    for (index, result) in listed.into_iter().enumerate() {
        let bin = &binaries[index];
        let (tests, ignored) = match result {
            Ok(pair) => pair,
            Err(case) => {
                list_failures.push(*case);
                continue;
            }
        };
        for name in tests {
            if !selected(&name, opts) {
                continue;
            }
            let is_ignored = ignored.contains(&name);
            let id = format!("{} {name}", bin.id);
            let runs = match cfg.run_ignored {
                RunIgnored::Default => !is_ignored,
                RunIgnored::Only => is_ignored,
                RunIgnored::All => true,
            };
            if runs {
                units.push(Unit::Test {
                    binary: index,
                    name,
                    ignored: is_ignored,
                    id,
                });
            } else {
                let message = if is_ignored {
                    "ignored"
                } else {
                    "not ignored (--run-ignored only)"
                };
                skipped.push(not_run(bin, &name, id, message));
            }
        }
    }
    if cfg.doctests {
        for pkg in &ws.members {
            if !opts.packages.is_empty() && !opts.packages.iter().any(|p| p == pkg.name.as_str()) {
                continue;
            }
            let has_doctests = pkg.targets.iter().any(|t| {
                t.doctest
                    && t.kind.iter().any(|k| {
                        matches!(
                            k,
                            cargo_metadata::TargetKind::Lib
                                | cargo_metadata::TargetKind::RLib
                                | cargo_metadata::TargetKind::ProcMacro
                        )
                    })
            });
            if has_doctests {
                units.push(Unit::Doc {
                    package: pkg.name.to_string(),
                    id: format!("{}::doc", pkg.name),
                });
            }
        }
    }
    units.sort_by(|a, b| a.id().cmp(b.id()));
    skipped.sort_by(|a, b| a.id.cmp(&b.id));
    if let Some(p) = opts.partition {
        units = p.select_weighted(
            units,
            |u| u.id(),
            |id| opts.test_times.as_ref().map_or(0.0, |t| t.weight(id)),
        );
        skipped = p.select(skipped, |c| c.id.as_str());
        list_failures = p.select(list_failures, |c| c.id.as_str());
    }
    Ok(Ok(Plan {
        binaries,
        units,
        skipped,
        list_failures,
    }))
}

fn selected(name: &str, opts: &RunOptions) -> bool {
    let matches = |f: &String| {
        if opts.exact {
            name == f
        } else {
            name.contains(f.as_str())
        }
    };
    (opts.filters.is_empty() || opts.filters.iter().any(matches))
        && !opts.skip.iter().any(|s| name.contains(s.as_str()))
}

fn not_run(bin: &TestBinary, name: &str, id: String, message: &str) -> Case {
    Case {
        id,
        name: name.to_string(),
        package: Some(bin.package.clone()),
        binary: Some(bin.id.clone()),
        status: CaseStatus::Skipped,
        attempts: Vec::new(),
        location: None,
        message: Some(message.to_string()),
        detail: None,
        regions: Vec::new(),
    }
}

type Listed = std::result::Result<(Vec<String>, BTreeSet<String>), Box<Case>>;

/// Lists every binary's tests (and which are ignored), a few binaries at a time.
fn list_all(binaries: &[TestBinary], cfg: &TestsConfig) -> Vec<Listed> {
    let jobs = cfg.jobs.unwrap_or_else(default_jobs).max(1);
    let next = Mutex::new(0usize);
    let results: Mutex<Vec<Option<Listed>>> =
        Mutex::new((0..binaries.len()).map(|_| None).collect());
    thread::scope(|s| {
        for _ in 0..jobs.min(binaries.len()) {
            s.spawn(|| {
                loop {
                    let i = {
                        let mut n = next.lock().unwrap_or_else(|p| p.into_inner());
                        let i = *n;
                        *n += 1;
                        i
                    };
                    let Some(bin) = binaries.get(i) else { break };
                    let r = list_one(bin, cfg);
                    results.lock().unwrap_or_else(|p| p.into_inner())[i] = Some(r);
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .into_iter()
        .map(|r| {
            r.unwrap_or_else(|| {
                Err(Box::new(list_failure_case(
                    None,
                    "listing did not run",
                    String::new(),
                )))
            })
        })
        .collect()
}

fn list_one(bin: &TestBinary, cfg: &TestsConfig) -> Listed {
    let run_list = |ignored: bool| -> std::result::Result<String, Box<Case>> {
        let mut cmd = test_command(bin, cfg);
        cmd.args(["--list", "--format", "terse"]);
        if ignored {
            cmd.arg("--ignored");
        }
        let limits = Limits {
            tail_bytes: 64 * 1024 * 1024,
            slow: None,
            timeout: Some(Duration::from_secs(120)),
        };
        match process::run(cmd, &limits) {
            Ok(o) if o.exit == Exit::Code(0) => Ok(String::from_utf8_lossy(&o.tail).into_owned()),
            Ok(o) => Err(Box::new(list_failure_case(
                Some(bin),
                &format!("listing the tests failed ({:?})", o.exit),
                o.output_text(),
            ))),
            Err(e) => Err(Box::new(list_failure_case(
                Some(bin),
                &format!("cannot run {}: {e}", bin.path.display()),
                String::new(),
            ))),
        }
    };
    let all = libtest::parse_list(&run_list(false)?);
    let ignored: BTreeSet<String> = libtest::parse_list(&run_list(true)?).into_iter().collect();
    Ok((all, ignored))
}

fn list_failure_case(bin: Option<&TestBinary>, message: &str, output: String) -> Case {
    let binary = bin.map(|b| b.id.clone()).unwrap_or_default();
    Case {
        package: bin.map(|b| b.package.clone()),
        binary: bin.map(|b| b.id.clone()),
        ..Case::single(
            format!("{binary} (list)"),
            "(list)",
            CaseStatus::Failed,
            0.0,
            message,
            output,
        )
    }
}

/// One job per available core.
pub fn default_jobs() -> usize {
    thread::available_parallelism().map_or(1, |n| n.get())
}

/// The command that runs a test binary with the environment `cargo test` would give it.
fn test_command(bin: &TestBinary, cfg: &TestsConfig) -> Command {
    let mut cmd = Command::new(&bin.path);
    cmd.current_dir(&bin.package_dir);
    cmd.env("CARGO", cargo_bin());
    cmd.env("CARGO_MANIFEST_DIR", &bin.package_dir);
    cmd.env("CARGO_MANIFEST_PATH", bin.package_dir.join("Cargo.toml"));
    cmd.env("CARGO_PKG_NAME", &bin.package);
    cmd.env("CARGO_CRATE_NAME", &bin.crate_name);
    cmd.env("CARGO_GATE", "1");
    // Dynamic libraries built alongside the test (dylib/proc-macro deps) live next to it.
    if let Some(deps) = bin.path.parent() {
        let mut paths: Vec<OsString> = vec![deps.as_os_str().to_os_string()];
        if let Some(existing) = std::env::var_os("LD_LIBRARY_PATH") {
            paths.push(existing);
        }
        cmd.env("LD_LIBRARY_PATH", paths.join(&OsString::from(":")));
    }
    cmd.envs(&cfg.env);
    cmd
}

enum Event {
    Started,
    Slow(String, Duration),
    Retrying(String, u32),
    Finished(Vec<Case>),
}

/// The tests suite behind the common interface; the backend (built-in or nextest) is chosen
/// per run from the config.
struct TestsSuite;

/// Makes the tests suite.
pub fn build(_config: &crate::config::Config) -> Result<Box<dyn crate::suites::Suite>> {
    Ok(Box::new(TestsSuite))
}

impl crate::suites::Suite for TestsSuite {
    fn kind(&self) -> SuiteKind {
        SuiteKind::Tests
    }

    fn list(&self, cx: &RunContext<'_>) -> Result<Vec<ListEntry>> {
        let plan = match plan(cx.ws, &cx.config.tests, cx.select)? {
            Ok(p) => p,
            Err(errors) => {
                return Err(Error::usage(
                    format!("the tests do not compile:\n{}", errors.join("\n")),
                    Some("fix the build errors shown above".to_string()),
                ));
            }
        };
        let mut listed: Vec<ListEntry> = plan
            .units
            .iter()
            .map(|u| {
                let (kind, ignored) = match u {
                    Unit::Test { ignored, .. } => ("test", *ignored),
                    Unit::Doc { .. } => ("doctests", false),
                };
                ListEntry {
                    id: u.id().to_string(),
                    kind,
                    ignored,
                    runs: true,
                }
            })
            .collect();
        listed.extend(plan.skipped.iter().map(|c| ListEntry {
            id: c.id.clone(),
            kind: "test",
            ignored: true,
            runs: false,
        }));
        Ok(listed)
    }

    fn run(&mut self, cx: &mut RunContext<'_>) -> Result<Suite> {
        let mut cfg = cx.config.tests.clone();
        for (k, v) in &cx.test_env {
            // The user's own [tests.env] wins.
            cfg.env.entry(k.clone()).or_insert_with(|| v.clone());
        }
        backend(&cfg, cx.select).run(cx.ws, &cfg, cx.select)
    }
}

/// A way of running the tests: the built-in runner or cargo-nextest. Doctests, which nextest
/// does not run, go through [`doctest`] with either.
pub trait Backend {
    /// Builds, lists and runs the selected tests; a failed build is a suite with status `error`.
    fn run(&self, ws: &Workspace, cfg: &TestsConfig, opts: &RunOptions) -> Result<Suite>;
}

/// The built-in runner: one process per test, scheduled here.
pub struct Builtin;

/// The backend a run uses. `--affected-since` with nothing affected builds nothing, which only
/// the built-in runner knows how to report.
pub fn backend(cfg: &TestsConfig, opts: &RunOptions) -> &'static dyn Backend {
    let nothing_affected = opts.affected.is_some() && opts.packages.is_empty();
    if cfg.runner == crate::config::TestRunner::Nextest && !nothing_affected {
        &nextest::Nextest
    } else {
        &Builtin
    }
}

impl Backend for Builtin {
    fn run(&self, ws: &Workspace, cfg: &TestsConfig, opts: &RunOptions) -> Result<Suite> {
        run_builtin(ws, cfg, opts)
    }
}

/// Runs the whole tests suite with the built-in runner.
fn run_builtin(ws: &Workspace, cfg: &TestsConfig, opts: &RunOptions) -> Result<Suite> {
    let start = Instant::now();
    let plan = match plan(ws, cfg, opts)? {
        Ok(p) => p,
        Err(errors) => {
            let shown: Vec<&str> = errors.iter().take(20).map(String::as_str).collect();
            return Ok(Suite {
                kind: SuiteKind::Tests,
                name: "tests".to_string(),
                status: SuiteStatus::Error,
                duration: start.elapsed().as_secs_f64(),
                error: Some(format!("build failed:\n{}", shown.join("\n"))),
                cases: Vec::new(),
                metrics: Vec::new(),
            });
        }
    };
    let exec_start = Instant::now();
    let mut cases = execute(ws, cfg, opts, &plan);
    let exec_secs = exec_start.elapsed().as_secs_f64();
    cases.extend(plan.skipped);
    cases.extend(plan.list_failures);
    cases.sort_by(|a, b| a.id.cmp(&b.id));
    let duration = start.elapsed().as_secs_f64();
    let mut suite = Suite {
        kind: SuiteKind::Tests,
        name: "tests".to_string(),
        status: SuiteStatus::Passed,
        duration,
        error: None,
        cases,
        // Running time without the build (whose time depends on caches), stored in baselines so
        // a slower test suite shows up in the trend.
        metrics: vec![crate::model::Metric::wall_time("tests.duration", exec_secs)],
    };
    suite.refresh_status();
    Ok(suite)
}

fn execute(ws: &Workspace, cfg: &TestsConfig, opts: &RunOptions, plan: &Plan) -> Vec<Case> {
    let queue: Mutex<VecDeque<Unit>> = Mutex::new(plan.units.iter().cloned().collect());
    let stop = AtomicBool::new(false);
    let jobs = cfg.jobs.unwrap_or_else(default_jobs).max(1);
    let mut progress = Progress::new(plan.units.len() as u64, opts.tty);
    let mut cases = Vec::new();
    let (tx, rx) = mpsc::channel::<Event>();
    thread::scope(|s| {
        for _ in 0..jobs.min(plan.units.len()) {
            let tx = tx.clone();
            let queue = &queue;
            let stop = &stop;
            s.spawn(move || {
                loop {
                    if stop.load(Ordering::SeqCst) || process::is_cancelled() {
                        break;
                    }
                    let unit = queue.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
                    let Some(unit) = unit else { break };
                    let _ = tx.send(Event::Started);
                    let result = match &unit {
                        Unit::Test {
                            binary,
                            name,
                            ignored,
                            id,
                        } => run_test(
                            &plan.binaries[*binary],
                            name,
                            *ignored,
                            id,
                            cfg,
                            &ws.root,
                            &tx,
                        ),
                        Unit::Doc { package, .. } => doctest::run_batch(ws, package, cfg, opts),
                    };
                    let _ = tx.send(Event::Finished(result));
                }
            });
        }
        drop(tx);
        for event in rx {
            match event {
                Event::Started => progress.started(),
                Event::Slow(id, d) => progress.slow(&id, d),
                Event::Retrying(id, n) => progress.retrying(&id, n),
                Event::Finished(done) => {
                    progress.finished(&done);
                    if cfg.fail_fast && done.iter().any(|c| c.status.is_failure()) {
                        stop.store(true, Ordering::SeqCst);
                    }
                    cases.extend(done);
                }
            }
        }
    });
    progress.finish();
    // Whatever was not run is reported, so a partial report says what it is missing.
    let reason = if process::is_cancelled() {
        "not run: the run was interrupted"
    } else {
        "not run: --fail-fast stopped the run after a failure"
    };
    let leftover: Vec<Unit> = queue.into_inner().unwrap_or_else(|p| p.into_inner()).into();
    for unit in leftover {
        match unit {
            Unit::Test {
                binary, name, id, ..
            } => {
                cases.push(not_run(&plan.binaries[binary], &name, id, reason));
            }
            Unit::Doc { package, id } => cases.push(Case {
                id: format!("{id} (doctests)"),
                name: "(doctests)".to_string(),
                package: Some(package),
                binary: Some(id),
                status: CaseStatus::Skipped,
                attempts: Vec::new(),
                location: None,
                message: Some(reason.to_string()),
                detail: None,
                regions: Vec::new(),
            }),
        }
    }
    cases
}

fn run_test(
    bin: &TestBinary,
    name: &str,
    ignored: bool,
    id: &str,
    cfg: &TestsConfig,
    ws_root: &std::path::Path,
    tx: &mpsc::Sender<Event>,
) -> Vec<Case> {
    let max_attempts = cfg.retries.saturating_add(1);
    let mut attempts: Vec<Attempt> = Vec::new();
    let mut last_failure: Option<(String, Option<crate::model::SourceLocation>)> = None;
    let slow_tx = Mutex::new(tx.clone());
    let on_slow = |elapsed: Duration| {
        let _ = slow_tx
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .send(Event::Slow(id.to_string(), elapsed));
    };
    for attempt in 1..=max_attempts {
        if attempt > 1 {
            let _ = tx.send(Event::Retrying(id.to_string(), attempt));
        }
        let mut cmd = test_command(bin, cfg);
        cmd.arg("--exact").arg(name).arg("--nocapture");
        if ignored {
            cmd.arg("--ignored");
        }
        cmd.env("CARGO_GATE_ATTEMPT", attempt.to_string());
        cmd.env("CARGO_GATE_TOTAL_ATTEMPTS", max_attempts.to_string());
        let limits = Limits {
            tail_bytes: cfg.output_tail,
            slow: cfg.slow_timeout.map(|d| (d, &on_slow as &dyn Fn(Duration))),
            timeout: cfg.timeout,
        };
        let outcome = match process::run(cmd, &limits) {
            Ok(o) => o,
            Err(e) => {
                attempts.push(Attempt {
                    status: CaseStatus::Failed,
                    duration: 0.0,
                    output_tail: String::new(),
                });
                last_failure = Some((format!("cannot start {}: {e}", bin.path.display()), None));
                continue;
            }
        };
        let output = outcome.output_text();
        let secs = outcome.duration.as_secs_f64();
        let (status, failure) = match outcome.exit {
            Exit::Interrupted => {
                let mut case = not_run(bin, name, id.to_string(), INTERRUPTED_WHILE_RUNNING);
                case.attempts = attempts;
                return vec![case];
            }
            Exit::Code(0) if output.contains("running 0 tests") => (
                CaseStatus::Failed,
                Some((
                    format!("the test binary did not run `{name}`: it was not found by --exact"),
                    None,
                )),
            ),
            Exit::Code(0) => (CaseStatus::Passed, None),
            Exit::Code(code) => (
                CaseStatus::Failed,
                Some(
                    libtest::parse_panic(&output)
                        .map(|(m, loc)| {
                            let loc = loc
                                .filter(|l| is_user_code(&l.file, &bin.package_dir))
                                .map(|l| relative_to_workspace(l, &bin.package_dir, ws_root));
                            (m, loc)
                        })
                        .unwrap_or_else(|| {
                            (format!("the test process exited with code {code}"), None)
                        }),
                ),
            ),
            Exit::Signal(sig) => (
                CaseStatus::Failed,
                Some((
                    format!(
                        "the test process was killed by signal {} ({sig})",
                        signal_name(sig)
                    ),
                    None,
                )),
            ),
            Exit::TimedOut => (
                CaseStatus::TimedOut,
                Some((
                    format!(
                        "timed out after {}; its process group was killed",
                        crate::util::units::format_seconds(secs)
                    ),
                    None,
                )),
            ),
        };
        attempts.push(Attempt {
            status,
            duration: secs,
            // Passing output is noise in a report; failures keep theirs.
            output_tail: if status == CaseStatus::Passed {
                String::new()
            } else {
                output
            },
        });
        if status == CaseStatus::Passed {
            break;
        }
        last_failure = failure;
    }
    let last = attempts.last().map_or(CaseStatus::Failed, |a| a.status);
    let mut status = match last {
        CaseStatus::Passed if attempts.len() > 1 => CaseStatus::Flaky,
        other => other,
    };
    if status.is_failure() && cfg.is_quarantined(id, name) {
        status = CaseStatus::Quarantined;
    }
    let (message, location) = match (status, last_failure) {
        (CaseStatus::Passed, _) => (None, None),
        (CaseStatus::Flaky, Some((m, loc))) => (
            Some(format!("passed on attempt {} after: {m}", attempts.len())),
            loc,
        ),
        (_, Some((m, loc))) => (Some(m), loc),
        (_, None) => (None, None),
    };
    vec![Case {
        id: id.to_string(),
        name: name.to_string(),
        package: Some(bin.package.clone()),
        binary: Some(bin.id.clone()),
        status,
        attempts,
        location,
        message,
        detail: None,
        regions: Vec::new(),
    }]
}

/// Panic locations are relative to the package directory (the test's working directory);
/// reports name files relative to the workspace root, like compiler messages and insta do.
fn relative_to_workspace(
    mut loc: crate::model::SourceLocation,
    package_dir: &std::path::Path,
    ws_root: &std::path::Path,
) -> crate::model::SourceLocation {
    let full = package_dir.join(&loc.file);
    if let Ok(rel) = full.strip_prefix(ws_root) {
        loc.file = rel.display().to_string();
    }
    loc
}

/// Panic locations are relative to the package for the user's code; an absolute path outside
/// it (a dependency in ~/.cargo/registry, the standard library) is not where the user looks.
fn is_user_code(file: &str, package_dir: &std::path::Path) -> bool {
    let path = std::path::Path::new(file);
    path.is_relative() || path.starts_with(package_dir)
}

fn signal_name(sig: i32) -> &'static str {
    match sig {
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGABRT => "SIGABRT",
        libc::SIGKILL => "SIGKILL",
        libc::SIGTERM => "SIGTERM",
        libc::SIGBUS => "SIGBUS",
        libc::SIGILL => "SIGILL",
        libc::SIGFPE => "SIGFPE",
        _ => "signal",
    }
}
