//! The tests suite: build, list, partition, schedule and run each test in its own process,
//! with retries, timeouts, fail-fast and Ctrl-C handling.

pub mod affected;
mod batch;
pub mod build;
mod builtin;
pub mod doctest;
pub mod libtest;
pub mod nextest;
pub mod partition;
mod schedule;
mod single;

use std::collections::BTreeSet;
use std::process::Command;
use std::sync::Mutex;
use std::thread;
use std::time::Duration;

use crate::exec::process::{self, Exit, Limits};
use build::{BuildResult, TestBinary};
use partition::Partition;

use crate::config::{RunIgnored, TestsConfig};
use crate::error::{Error, Result};
use crate::model::{Case, CaseStatus, Suite, SuiteKind};
use crate::suites::{Listed as ListEntry, RunContext};
use crate::workspace::Workspace;

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
    /// Recorded test durations for `--partition time:K/N` (none: split by count).
    pub test_times: Option<crate::baseline::note::TestTimes>,
    /// Where `test_times` came from, recorded in the report so `merge` can check the shards
    /// agree.
    pub partition_basis: Option<String>,
    /// Set by `--affected-since`: `packages` holds the affected packages, and when it is empty
    /// nothing is built or run.
    pub affected: Option<Affected>,
}

impl RunOptions {
    /// `--affected-since` found no affected package: nothing is built or run, and that passes.
    pub fn nothing_affected(&self) -> bool {
        self.affected.is_some() && self.packages.is_empty()
    }

    /// No filter, package, shard or `--affected-since` narrows the tests.
    pub fn selects_every_test(&self) -> bool {
        self.filters.is_empty()
            && self.skip.is_empty()
            && self.packages.is_empty()
            && self.partition.is_none()
            && self.affected.is_none()
    }
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
        /// The whole binary, run without arguments: a `harness = false` target that does not
        /// speak libtest's protocol. Its exit status is the one outcome.
        whole: bool,
    },
    /// The doctests of every selected package, run by one `cargo test --doc`.
    Doc {
        /// The packages, in the workspace's order.
        packages: Vec<doctest::DocPackage>,
        /// [`DOCTESTS_ID`].
        id: String,
    },
}

/// The id of the doctests' unit of work (its cases keep their packages' ids).
pub const DOCTESTS_ID: &str = "doctests";

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
/// The case name of a `harness = false` target run as a whole.
pub const WHOLE_BINARY: &str = "(harness = false)";

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

/// The selected members with a library whose doctests run, in the workspace's order.
pub(crate) fn plan_doc_packages(ws: &Workspace, opts: &RunOptions) -> Vec<doctest::DocPackage> {
    ws.members
        .iter()
        .filter(|pkg| {
            opts.packages.is_empty()
                || opts
                    .packages
                    .iter()
                    .any(|p| ws.member(p).is_some_and(|m| m.id == pkg.id))
        })
        .filter_map(|pkg| {
            let lib = pkg.targets.iter().find(|t| {
                t.doctest
                    && t.kind.iter().any(|k| {
                        matches!(
                            k,
                            cargo_metadata::TargetKind::Lib
                                | cargo_metadata::TargetKind::RLib
                                | cargo_metadata::TargetKind::ProcMacro
                        )
                    })
            })?;
            Some(doctest::DocPackage {
                name: pkg.name.to_string(),
                crate_name: lib.name.replace('-', "_"),
            })
        })
        .collect()
}

/// Builds and lists; `Ok(Err(failure))` when the build failed.
pub fn plan(
    ws: &Workspace,
    cfg: &TestsConfig,
    opts: &RunOptions,
    events: crate::event::Sink<'_>,
) -> Result<std::result::Result<Plan, build::BuildFailure>> {
    // Unknown names are refused before anything is built.
    build::package_specs(ws, &opts.packages)?;
    if opts.nothing_affected() {
        return Ok(Ok(Plan {
            binaries: Vec::new(),
            units: Vec::new(),
            skipped: Vec::new(),
            list_failures: Vec::new(),
        }));
    }
    let mut binaries = match build::build(ws, &opts.packages, &cfg.cargo_args, events)? {
        BuildResult::Built { binaries } => binaries,
        BuildResult::Failed(failure) => return Ok(Err(failure)),
    };
    let listed = list_all(&binaries, cfg);
    let mut units = Vec::new();
    let mut skipped = Vec::new();
    let mut list_failures = Vec::new();
    for (index, result) in listed.into_iter().enumerate() {
        let Listing {
            tests,
            ignored,
            dialect,
        } = match result {
            Ok(listing) => listing,
            Err(case) => {
                list_failures.push(*case);
                continue;
            }
        };
        binaries[index].dialect = dialect;
        let bin = &binaries[index];
        let (planned, not_run) = plan_binary(index, bin, tests, &ignored, cfg, opts);
        units.extend(planned);
        skipped.extend(not_run);
    }
    if cfg.doctests {
        let packages = plan_doc_packages(ws, opts);
        if !packages.is_empty() {
            units.push(Unit::Doc {
                packages,
                id: DOCTESTS_ID.to_string(),
            });
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

/// The units of one test binary, and the cases it lists that do not run here.
fn plan_binary(
    index: usize,
    bin: &TestBinary,
    tests: Vec<String>,
    ignored: &BTreeSet<String>,
    cfg: &TestsConfig,
    opts: &RunOptions,
) -> (Vec<Unit>, Vec<Case>) {
    let mut units = Vec::new();
    let mut skipped = Vec::new();
    if bin.custom_harness && tests.is_empty() {
        // Not libtest's protocol: the target is one case, decided by its exit status.
        // A filter cannot reach inside it, so it runs only when nothing is filtered.
        if opts.filters.is_empty() {
            units.push(Unit::Test {
                binary: index,
                name: WHOLE_BINARY.to_string(),
                ignored: false,
                id: format!("{} {WHOLE_BINARY}", bin.id),
                whole: true,
            });
        }
        return (units, Vec::new());
    }
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
                whole: false,
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
    (units, skipped)
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

/// Why a test failed (or failed before it passed): the reason and where, when known.
pub(crate) type Failure = (String, Option<crate::model::SourceLocation>);

/// A test's final status, message and location from how its attempts ended, whichever runner
/// ran it: a failure may be quarantined (the config's note then leads the message), and a
/// flaky test says what its failing attempt died of.
pub(crate) fn settle(
    cfg: &TestsConfig,
    id: &str,
    name: &str,
    status: CaseStatus,
    attempts: usize,
    failure: Option<Failure>,
) -> (
    CaseStatus,
    Option<String>,
    Option<crate::model::SourceLocation>,
) {
    let mut status = status;
    let mut note = None;
    if status.is_failure() {
        (status, note) = cfg.quarantine_failure(id, name, attempts).apply(status);
    }
    let (reason, location) = failure.map_or((None, None), |(m, loc)| (Some(m), loc));
    let message = match status {
        CaseStatus::Passed => return (status, None, None),
        CaseStatus::Flaky => Some(format!(
            "passed on attempt {attempts} after: {}",
            reason.unwrap_or_else(|| "a failure".to_string())
        )),
        _ => reason,
    };
    let message = match note {
        Some(note) => Some(message.map_or(note.to_string(), |m| format!("{note}: {m}"))),
        None => message,
    };
    (status, message, location)
}

pub(crate) fn not_run(bin: &TestBinary, name: &str, id: String, message: &str) -> Case {
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
        diff: Vec::new(),
        history: None,
    }
}

/// What listing a binary found: its tests, the ignored ones among them, and how its harness
/// takes arguments.
struct Listing {
    tests: Vec<String>,
    ignored: BTreeSet<String>,
    dialect: libtest::Dialect,
}

type Listed = std::result::Result<Listing, Box<Case>>;

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
    let run_list = |args: &[&str]| -> std::result::Result<String, Box<Case>> {
        let mut cmd = test_command(bin, cfg);
        cmd.args(args);
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
    let listing = |out: &str, ignored: &str, dialect| Listing {
        tests: libtest::parse_list(out),
        ignored: libtest::parse_list(ignored).into_iter().collect(),
        dialect,
    };
    const TERSE: [&str; 3] = ["--list", "--format", "terse"];
    if !bin.custom_harness {
        let all = run_list(&TERSE)?;
        let ignored = run_list(&[&TERSE[..], &["--ignored"]].concat())?;
        return Ok(listing(&all, &ignored, libtest::Dialect::default()));
    }
    // A custom harness may speak libtest's protocol (libtest-mimic does), part of it (libtest2-
    // mimic refuses `--format` but lists with a plain `--list`), or not at all: only a clean
    // listing counts, anything else makes it one whole case.
    let is_list = |out: &String| libtest::is_list_output(out);
    if let Some(all) = run_list(&TERSE).ok().filter(is_list) {
        let ignored = run_list(&[&TERSE[..], &["--ignored"]].concat()).unwrap_or_default();
        return Ok(listing(&all, &ignored, libtest::Dialect::default()));
    }
    let Some(all) = run_list(&["--list"]).ok().filter(is_list) else {
        return Ok(listing("", "", libtest::Dialect::default()));
    };
    let ignored = run_list(&["--list", "--ignored"]).unwrap_or_default();
    let mut found = listing(
        &all,
        &ignored,
        libtest::Dialect {
            no_capture: no_capture_flag(bin, cfg),
            lists_ignored: true,
        },
    );
    // A harness whose tests decide at run time whether they are ignored lists every test as
    // ignored: then nothing is known to be ignored until it runs.
    if found.ignored.len() == found.tests.len() {
        found.ignored.clear();
        found.dialect.lists_ignored = false;
    }
    Ok(found)
}

/// The flag this harness takes to let output through, tried on a name no test has: a harness
/// that refuses it exits non-zero before it runs anything.
fn no_capture_flag(bin: &TestBinary, cfg: &TestsConfig) -> Option<&'static str> {
    ["--nocapture", "--no-capture"].into_iter().find(|flag| {
        let mut cmd = test_command(bin, cfg);
        cmd.args(["--exact", "cargo-gate: no test has this name", flag]);
        process::output(cmd, Some(Duration::from_secs(30))).is_ok_and(|o| o.success())
    })
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

/// libtest's argument for the configured `run_ignored`, if any.
pub(crate) fn ignored_arg(run_ignored: RunIgnored) -> Option<&'static str> {
    match run_ignored {
        RunIgnored::Default => None,
        RunIgnored::Only => Some("--ignored"),
        RunIgnored::All => Some("--include-ignored"),
    }
}

/// The command that runs a test binary with the environment `cargo test` would give it (the
/// user's `[tests.env]` last, so it wins).
pub(crate) fn test_command(bin: &TestBinary, cfg: &TestsConfig) -> Command {
    let mut cmd = Command::new(&bin.path);
    cmd.current_dir(&bin.package_dir);
    cmd.envs(bin.env.iter().map(|(k, v)| (k, v)));
    cmd.env("CARGO_GATE", "1");
    cmd.envs(&cfg.env);
    cmd
}

/// The tests suite behind the common interface; the backend (built-in or nextest) is chosen
/// per run from the config.
struct TestsSuite {
    select: RunOptions,
}

/// Makes the tests suite.
pub fn build(
    _config: &crate::config::Config,
    options: &crate::suites::SuiteOptions,
) -> Result<Box<dyn crate::suites::Suite>> {
    Ok(Box::new(TestsSuite {
        select: options.tests.clone(),
    }))
}

impl crate::suites::Suite for TestsSuite {
    fn kind(&self) -> SuiteKind {
        SuiteKind::Tests
    }

    fn list(&self, cx: &RunContext<'_>) -> Result<Vec<ListEntry>> {
        let plan = match plan(cx.ws, &cx.config.tests, &self.select, cx.events)? {
            Ok(p) => p,
            Err(failure) => {
                return Err(Error::usage(
                    format!("the tests do not compile:\n{}", failure.lines().join("\n")),
                    Some("fix the build errors shown above".to_string()),
                ));
            }
        };
        let cfg = &cx.config.tests;
        let mut listed: Vec<ListEntry> = Vec::new();
        for u in &plan.units {
            match u {
                Unit::Test { ignored, id, .. } => listed.push(ListEntry {
                    id: id.clone(),
                    kind: "test",
                    ignored: *ignored,
                    runs: true,
                }),
                // Each doctest by the id the run gives it, so `list` counts what `run` reports;
                // when they cannot be listed, each package stays one entry.
                Unit::Doc { packages, .. } => {
                    match doctest::list(cx.ws, packages, cfg, &self.select) {
                        Ok(names) => {
                            listed.extend(names.into_iter().map(|(package, name, ignored)| {
                                ListEntry {
                                    id: format!("{package}::doc {name}"),
                                    kind: "doctest",
                                    ignored,
                                    runs: match cfg.run_ignored {
                                        RunIgnored::Default => !ignored,
                                        RunIgnored::Only => ignored,
                                        RunIgnored::All => true,
                                    },
                                }
                            }))
                        }
                        Err(why) => listed.extend(packages.iter().map(|p| ListEntry {
                            id: format!("{} (doctests: {why})", p.binary()),
                            kind: "doctests",
                            ignored: false,
                            runs: true,
                        })),
                    }
                }
            }
        }
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
        let mut suite = backend(&cfg, &self.select).run(cx.ws, &cfg, &self.select, cx.events)?;
        if suite.error.is_none()
            && !cfg.allow_empty
            && let Some(why) = nothing_ran(&suite, &self.select)
        {
            suite.error = Some(why);
            suite.status = crate::model::SuiteStatus::Error;
        }
        Ok(suite)
    }
}

/// Why a run in which no test ran fails, as nextest's `no tests to run` does: a filter that
/// matches nothing (a typo in the action's `args`) must not give a green gate. `None` when a
/// test ran, or when nothing was meant to run (`--affected-since` found no affected package).
fn nothing_ran(suite: &Suite, opts: &RunOptions) -> Option<String> {
    if suite.cases.iter().any(|c| c.status != CaseStatus::Skipped) {
        return None;
    }
    if opts.nothing_affected() {
        return None;
    }
    // A shard may hold nothing (fewer tests than shards, or a hash that dealt none to it):
    // `merge` judges the whole, and fails a merge in which no test ran.
    if opts.partition.is_some() {
        return None;
    }
    let quoted = |v: &[String]| {
        v.iter()
            .map(|f| format!("`{f}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut why = vec![];
    if !opts.filters.is_empty() {
        why.push(format!(
            "no test matched the filter{} {}{}",
            if opts.filters.len() == 1 { "" } else { "s" },
            quoted(&opts.filters),
            if opts.exact { " (--exact)" } else { "" }
        ));
    }
    if !opts.skip.is_empty() {
        why.push(format!("--skip {}", quoted(&opts.skip)));
    }
    if !opts.packages.is_empty() {
        why.push(format!("in the package(s) {}", quoted(&opts.packages)));
    }
    let skipped = suite.cases.len();
    let reason = if why.is_empty() {
        "the workspace has no test to run".to_string()
    } else {
        why.join("; ")
    };
    Some(format!(
        "no test ran: {reason}{}. Check the spelling (`cargo gate list` shows every test), or set `[tests] allow_empty = true` (or pass --allow-empty) when a run without tests is expected",
        if skipped > 0 {
            format!(" ({skipped} skipped)")
        } else {
            String::new()
        }
    ))
}

#[cfg(test)]
mod empty_tests {
    use super::*;

    fn suite_of(statuses: &[CaseStatus]) -> Suite {
        let cases = statuses
            .iter()
            .map(|s| Case::single("b t", "t", *s, 0.0, String::new(), String::new()))
            .collect();
        crate::suites::suite(SuiteKind::Tests, 0.0, cases)
    }

    #[test]
    fn a_run_in_which_no_test_ran_says_why() {
        let opts = RunOptions {
            filters: vec!["typo".to_string()],
            ..RunOptions::default()
        };
        let why = nothing_ran(&suite_of(&[]), &opts).unwrap_or_default();
        assert!(
            why.starts_with("no test ran: no test matched the filter `typo`"),
            "{why}"
        );
        assert!(why.contains("allow_empty"), "{why}");
        let why = nothing_ran(&suite_of(&[CaseStatus::Skipped]), &RunOptions::default());
        assert!(why.is_some_and(|w| w.contains("the workspace has no test to run (1 skipped)")));
        assert_eq!(nothing_ran(&suite_of(&[CaseStatus::Failed]), &opts), None);
        let nothing_affected = RunOptions {
            affected: Some(Affected {
                since: "main".into(),
                base: "abc".into(),
                packages: Default::default(),
            }),
            ..RunOptions::default()
        };
        assert_eq!(nothing_ran(&suite_of(&[]), &nothing_affected), None);
    }
}

/// A way of running the tests: the built-in runner or cargo-nextest. Doctests, which nextest
/// does not run, go through [`doctest`] with either.
pub trait Backend {
    /// Builds, lists and runs the selected tests; a failed build is a suite with status `error`.
    fn run(
        &self,
        ws: &Workspace,
        cfg: &TestsConfig,
        opts: &RunOptions,
        events: crate::event::Sink<'_>,
    ) -> Result<Suite>;
}

/// The backend a run uses. `--affected-since` with nothing affected builds nothing, which only
/// the built-in runner knows how to report.
pub fn backend(cfg: &TestsConfig, opts: &RunOptions) -> &'static dyn Backend {
    if cfg.runner == crate::config::TestRunner::Nextest && !opts.nothing_affected() {
        &nextest::Nextest
    } else {
        &builtin::Builtin
    }
}

/// Panic locations are what rustc was given: cargo compiles workspace members from the
/// workspace root, so a member under `crates/x` panics at `crates/x/src/lib.rs`, while a package
/// built on its own (a root package, a nested workspace) panics at `src/lib.rs`. Reports name
/// files relative to the workspace root, like compiler messages and insta do.
fn relative_to_workspace(
    mut loc: crate::model::SourceLocation,
    package_dir: &std::path::Path,
    ws_root: &std::path::Path,
) -> crate::model::SourceLocation {
    let path = std::path::Path::new(&loc.file);
    if path.is_relative() && ws_root.join(path).is_file() {
        return loc;
    }
    let full = package_dir.join(path);
    if let Ok(rel) = full.strip_prefix(ws_root) {
        loc.file = rel.display().to_string();
    }
    loc
}

/// Where a panic happened, as the report can name it: a file of the workspace (relative to its
/// root) becomes the case's location; a file of a crate from the registry is named in the
/// message as `crate@version/path:line` (it is not a file of the repository, so it never
/// becomes an annotation); the standard library's own files are left out.
pub(crate) fn place_panic(
    message: String,
    loc: Option<crate::model::SourceLocation>,
    package_dir: &std::path::Path,
    ws_root: &std::path::Path,
) -> (String, Option<crate::model::SourceLocation>) {
    match loc {
        Some(l) if is_user_code(&l.file, package_dir) => (
            message,
            Some(relative_to_workspace(l, package_dir, ws_root)),
        ),
        Some(l) => match registry_path(&l.file) {
            Some(dep) => (format!("{message} (panicked in {dep}:{})", l.line), None),
            None => (message, None),
        },
        None => (message, None),
    }
}

/// `crate@version/src/x.rs` for a path into cargo's registry sources
/// (`…/registry/src/<index>/<crate>-<version>/src/x.rs`).
fn registry_path(file: &str) -> Option<String> {
    let (_, after) = file.split_once("/registry/src/")?;
    let mut parts = after.splitn(3, '/');
    let _index = parts.next()?;
    let crate_dir = parts.next()?;
    let rest = parts.next()?;
    // The version starts after the last `-` followed by a digit (names may hold `-`).
    let at = crate_dir
        .rmatch_indices('-')
        .map(|(i, _)| i)
        .find(|i| crate_dir[i + 1..].starts_with(|c: char| c.is_ascii_digit()))?;
    Some(format!(
        "{}@{}/{rest}",
        &crate_dir[..at],
        &crate_dir[at + 1..]
    ))
}

/// Panic locations are relative to the package for the user's code; an absolute path outside
/// it (a dependency in ~/.cargo/registry, the standard library) is not where the user looks.
fn is_user_code(file: &str, package_dir: &std::path::Path) -> bool {
    let path = std::path::Path::new(file);
    path.is_relative() || path.starts_with(package_dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_panics_are_named_by_crate_and_version() {
        assert_eq!(
            registry_path(
                "/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/insta-1.49.0/src/runtime.rs"
            )
            .as_deref(),
            Some("insta@1.49.0/src/runtime.rs")
        );
        assert_eq!(
            registry_path("/h/.cargo/registry/src/idx/wasm-bindgen-0.2.100/src/lib.rs").as_deref(),
            Some("wasm-bindgen@0.2.100/src/lib.rs")
        );
        assert_eq!(
            registry_path("/rustc/abc/library/core/src/panicking.rs"),
            None
        );
        let loc = |file: &str| crate::model::SourceLocation {
            file: file.to_string(),
            line: 734,
            col: None,
        };
        let dir = std::path::Path::new("/w/crates/a");
        let (m, l) = place_panic(
            "boom".to_string(),
            Some(loc(
                "/root/.cargo/registry/src/i/insta-1.49.0/src/runtime.rs",
            )),
            dir,
            std::path::Path::new("/w"),
        );
        assert_eq!(
            (m.as_str(), l),
            ("boom (panicked in insta@1.49.0/src/runtime.rs:734)", None)
        );
        let (_, l) = place_panic(
            "boom".into(),
            Some(loc("src/lib.rs")),
            dir,
            std::path::Path::new("/w"),
        );
        assert_eq!(l.map(|l| l.file), Some("crates/a/src/lib.rs".to_string()));
    }
}
