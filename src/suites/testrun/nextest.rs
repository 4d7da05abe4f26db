//! The nextest backend (`[tests] runner = "nextest"`): cargo-nextest runs the tests with the
//! project's own `.config/nextest.toml` (test groups, setup scripts, per-test overrides), and its
//! JUnit report — flaky and rerun elements included — becomes the tests suite. Everything after
//! that (rules, baselines, scorecards, publishing) is the same as with the built-in runner.

use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use quick_junit::{NonSuccessKind, TestCaseStatus, TestRerun};

use super::doctest::tail;
use super::partition::Strategy;
use super::{RunOptions, libtest, place_panic};
use crate::config::{RunIgnored, TestsConfig};
use crate::error::{Error, Result};
use crate::exec::process;
use crate::model::{Attempt, Case, CaseStatus, Suite, SuiteKind, SuiteStatus};
use crate::workspace::{Workspace, cargo_bin};

/// nextest's exit code when the build failed (nextest-metadata's `BUILD_FAILED`).
const BUILD_FAILED: i32 = 101;
/// nextest's exit code when tests failed (`TEST_RUN_FAILED`).
const TEST_RUN_FAILED: i32 = 100;

/// The tool config layered under the project's nextest config: it only adds what the project
/// leaves unset, so a project's own `junit.path` or timeouts win.
fn tool_config(profile: &str, junit: &Path, cfg: &TestsConfig) -> String {
    // Quoted keys and strings: a profile name or a path may hold dots, quotes or backslashes.
    let quote = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
    let profile = quote(profile);
    let mut text = format!(
        "[profile.{profile}.junit]\npath = {}\nstore-success-output = false\nstore-failure-output = true\n",
        quote(&junit.display().to_string())
    );
    if let Some(t) = cfg.timeout {
        text.push_str(&format!(
            "[profile.{profile}]\nslow-timeout = {{ period = \"{}ms\", terminate-after = 1 }}\n",
            t.as_millis().max(1)
        ));
    }
    text
}

/// What a nextest command is for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Verb {
    /// `cargo nextest run`.
    Run,
    /// `cargo nextest list --message-format json`, to learn which tests were ignored.
    List,
}

/// `cargo nextest run` (or `list`) with cargo-gate's selection.
fn command(
    ws: &Workspace,
    cfg: &TestsConfig,
    opts: &RunOptions,
    tool_config: &Path,
    verb: Verb,
) -> Result<Command> {
    let mut cmd = Command::new(cargo_bin());
    cmd.current_dir(&ws.root)
        .arg("nextest")
        .arg(match verb {
            Verb::Run => "run",
            Verb::List => "list",
        })
        .arg("--manifest-path")
        .arg(&ws.manifest_path)
        .args(["--profile", &cfg.nextest_profile])
        .arg("--tool-config-file")
        .arg(format!("cargo-gate:{}", tool_config.display()));
    match verb {
        Verb::Run => {
            cmd.args(["--no-tests", "pass"]).arg(if cfg.fail_fast {
                "--fail-fast"
            } else {
                "--no-fail-fast"
            });
            if cfg.retries > 0 {
                cmd.args(["--retries", &cfg.retries.to_string()]);
            }
            if let Some(j) = cfg.jobs {
                cmd.args(["--test-threads", &j.to_string()]);
            }
        }
        Verb::List => {
            cmd.args(["--message-format", "json"]);
        }
    }
    if opts.packages.is_empty() {
        cmd.arg("--workspace");
    }
    for p in super::build::package_specs(ws, &opts.packages)? {
        cmd.args(["--package", &p]);
    }
    match cfg.run_ignored {
        RunIgnored::Default => {}
        RunIgnored::Only => {
            cmd.args(["--run-ignored", "only"]);
        }
        RunIgnored::All => {
            cmd.args(["--run-ignored", "all"]);
        }
    }
    if let Some(p) = opts.partition {
        if p.strategy == Strategy::Time {
            return Err(Error::usage(
                "--partition time:K/N needs the built-in runner",
                Some(
                    "use hash:K/N or count:K/N with runner = \"nextest\", or remove `runner`"
                        .to_string(),
                ),
            ));
        }
        cmd.args(["--partition", &p.to_string()]);
    }
    cmd.args(&cfg.cargo_args)
        .envs(&cfg.env)
        .env("CARGO_GATE", "1");
    // Name filters and libtest-style options, which nextest emulates.
    if !opts.filters.is_empty() || !opts.skip.is_empty() || opts.exact {
        cmd.arg("--").args(&opts.filters);
        for s in &opts.skip {
            cmd.args(["--skip", s]);
        }
        if opts.exact {
            cmd.arg("--exact");
        }
    }
    Ok(cmd)
}

/// The cargo-nextest backend: nextest runs the tests with the project's nextest profile and its
/// JUnit report is read back; doctests (which nextest does not run) run as with the built-in
/// runner.
pub struct Nextest;

impl super::Backend for Nextest {
    fn run(
        &self,
        ws: &Workspace,
        cfg: &TestsConfig,
        opts: &RunOptions,
        _events: crate::event::Sink<'_>,
    ) -> Result<Suite> {
        // nextest draws its own progress on standard error.
        run(ws, cfg, opts)
    }
}

fn run(ws: &Workspace, cfg: &TestsConfig, opts: &RunOptions) -> Result<Suite> {
    let start = Instant::now();
    ensure_installed()?;
    let dir = ws.target_dir.join("gate").join("nextest");
    std::fs::create_dir_all(&dir)
        .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
    let junit = dir.join(format!("junit-{}.xml", std::process::id()));
    let config = dir.join(format!("tool-config-{}.toml", std::process::id()));
    let _ = std::fs::remove_file(&junit);
    // Selection errors first, so nothing is left behind when there is one.
    let mut cmd = command(ws, cfg, opts, &config, Verb::Run)?;
    std::fs::write(&config, tool_config(&cfg.nextest_profile, &junit, cfg))
        .map_err(|e| Error::io(format!("cannot write {}", config.display()), e))?;
    // nextest's own progress goes to our stderr; our stdout stays for the summary.
    let to_stderr = std::io::stderr()
        .as_fd()
        .try_clone_to_owned()
        .map_or_else(|_| Stdio::inherit(), Stdio::from);
    cmd.stdout(to_stderr);
    let status = process::run_passthrough(cmd).map_err(|e| {
        let _ = std::fs::remove_file(&config);
        Error::io("cannot run cargo nextest", e)
    })?;
    let code = status.code();
    let mut suite = Suite {
        duration: start.elapsed().as_secs_f64(),
        ..Suite::new(SuiteKind::Tests)
    };
    let xml = find_junit(&junit, ws, &cfg.nextest_profile, start)
        .and_then(|p| std::fs::read_to_string(p).ok());
    // The report carries what matters; the XML (which can be large) is not kept.
    let _ = std::fs::remove_file(&junit);
    let run_time = read_outcome(&mut suite, xml.as_deref(), code, ws, cfg, opts, &config);
    let _ = std::fs::remove_file(&config);
    // nextest builds before it runs and its report's root time is the run alone: the rest is
    // the build, which is kept out of `tests.duration` as the built-in runner keeps it out.
    let build_secs = run_time.map(|run| (start.elapsed().as_secs_f64() - run).max(0.0));
    suite.tests_mut().build_duration = build_secs;
    if cfg.doctests && suite.error.is_none() && !process::is_cancelled() {
        // nextest does not run doctests: one `cargo test --doc` for the selected packages.
        let packages: Vec<super::doctest::DocPackage> = super::plan_doc_packages(ws, opts);
        if !packages.is_empty() {
            suite
                .cases
                .extend(super::doctest::run(ws, &packages, cfg, opts));
        }
    }
    suite.cases.sort_by(|a, b| a.id.cmp(&b.id));
    if suite.error.is_some() {
        suite.status = SuiteStatus::Error;
    }
    suite.duration = start.elapsed().as_secs_f64();
    let exec_secs = suite.duration - build_secs.unwrap_or(0.0);
    suite
        .metrics
        .push(crate::model::Metric::wall_time("tests.duration", exec_secs));
    if suite.error.is_none() {
        suite.refresh_status();
    }
    Ok(suite)
}

/// `cargo nextest` itself, or a usage error saying how to get it.
fn ensure_installed() -> Result<()> {
    let mut probe = Command::new(cargo_bin());
    probe.args(["nextest", "--version"]);
    let installed =
        process::output(probe, Some(std::time::Duration::from_secs(60))).is_ok_and(|o| o.success());
    if installed {
        return Ok(());
    }
    Err(Error::usage(
        "gate.toml sets `runner = \"nextest\"` but cargo-nextest is not installed",
        Some("install it (`cargo install cargo-nextest --locked`) or remove `runner`".to_string()),
    ))
}

/// What nextest's exit code and JUnit report say: the cases, or why the suite could not run.
/// Returns the run's own time, from the root of the report.
fn read_outcome(
    suite: &mut Suite,
    xml: Option<&str>,
    code: Option<i32>,
    ws: &Workspace,
    cfg: &TestsConfig,
    opts: &RunOptions,
    config: &Path,
) -> Option<f64> {
    let mut run_time = None;
    match (xml, code) {
        (_, Some(BUILD_FAILED)) => {
            suite.error = Some("build failed: see cargo's errors above".to_string());
        }
        (None, _) if process::is_cancelled() => {
            suite.error = Some("interrupted before cargo nextest wrote its report".to_string());
        }
        (None, _) => {
            suite.error = Some(format!(
                "cargo nextest exited with {} and wrote no JUnit report (profile `{}`); if .config/nextest.toml sets `junit.path` for it, cargo-gate looks in target/nextest/{}/",
                code.map_or("a signal".to_string(), |c| format!("code {c}")),
                cfg.nextest_profile,
                cfg.nextest_profile
            ));
        }
        (Some(text), _) => {
            let dirs = ws.member_dirs();
            match quick_junit::Report::deserialize_from_str(text) {
                Ok(junit) => {
                    suite.cases = cases_from_junit(&junit, cfg, &ws.root, &dirs);
                    run_time = junit.time.map(|t| t.as_secs_f64());
                }
                Err(e) => suite.error = Some(format!("cannot read nextest's JUnit report: {e}")),
            }
            if cfg.run_ignored == RunIgnored::Default && !process::is_cancelled() {
                suite.cases.extend(ignored_cases(ws, cfg, opts, config));
            }
            if !matches!(code, Some(0 | TEST_RUN_FAILED)) && !process::is_cancelled() {
                suite.error = Some(format!(
                    "cargo nextest exited with {}",
                    code.map_or("a signal".to_string(), |c| format!("code {c}"))
                ));
            }
        }
    }
    run_time
}

/// How long listing the ignored tests may take (the build is done by then).
const LIST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

/// The ignored tests of the selection, as skipped cases like the built-in runner reports them
/// (nextest's JUnit report leaves them out). Listing reuses the build, so it is quick; if it
/// fails the report just lacks them.
fn ignored_cases(
    ws: &Workspace,
    cfg: &TestsConfig,
    opts: &RunOptions,
    tool_config: &Path,
) -> Vec<Case> {
    let Ok(cmd) = command(ws, cfg, opts, tool_config, Verb::List) else {
        return Vec::new();
    };
    let Ok(out) = process::output(cmd, Some(LIST_TIMEOUT)) else {
        return Vec::new();
    };
    ignored_in_list(&String::from_utf8_lossy(&out.stdout))
        .into_iter()
        .map(|(binary, name)| {
            let mut case = Case::single(
                format!("{binary} {name}"),
                name,
                CaseStatus::Skipped,
                0.0,
                "ignored",
                String::new(),
            );
            case.attempts.clear();
            case.package = Some(binary.split("::").next().unwrap_or(&binary).to_string());
            case.binary = Some(binary);
            case
        })
        .collect()
}

/// `(binary id, test name)` of the tests `cargo nextest list --message-format json` says were
/// left out for being ignored.
fn ignored_in_list(json: &str) -> Vec<(String, String)> {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(json) else {
        return Vec::new();
    };
    let Some(suites) = value["rust-suites"].as_object() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (binary, suite) in suites {
        let Some(cases) = suite["testcases"].as_object() else {
            continue;
        };
        for (name, case) in cases {
            if case["filter-match"]["status"] == "mismatch"
                && case["filter-match"]["reason"] == "ignored"
            {
                out.push((binary.clone(), name.clone()));
            }
        }
    }
    out
}

/// Our JUnit path, or — when the project's nextest config sets its own `junit.path`, which
/// wins over ours — the newest XML nextest wrote in its profile's store during this run.
fn find_junit(ours: &Path, ws: &Workspace, profile: &str, since: Instant) -> Option<PathBuf> {
    if ours.exists() {
        return Some(ours.to_path_buf());
    }
    let age = since.elapsed();
    let store = ws.target_dir.join("nextest").join(profile);
    std::fs::read_dir(store)
        .ok()?
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "xml"))
        .filter_map(|e| {
            let modified = e.metadata().ok()?.modified().ok()?;
            let ago = modified.elapsed().ok()?;
            (ago <= age).then_some((ago, e.path()))
        })
        .min_by_key(|(ago, _)| *ago)
        .map(|(_, p)| p)
}

/// The output a JUnit element kept for a run: its stdout, stderr and failure text.
fn output_of(parts: &[Option<&str>]) -> String {
    parts
        .iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join("\n")
}

fn rerun_attempt(r: &TestRerun, limit: usize) -> Attempt {
    let output = output_of(&[
        r.system_out.as_deref(),
        r.system_err.as_deref(),
        r.stack_trace.as_deref(),
    ]);
    Attempt {
        shared: false,
        status: failed_status(r.ty.as_deref()),
        duration: r.time.map_or(0.0, |t| t.as_secs_f64()),
        output_tail: tail(&output, limit),
    }
}

/// What a failed run's JUnit `type` says: nextest writes `"{kind} timeout"` (kind `test` or
/// `benchmark`) for a run it killed at its timeout, and other types (`test failure`, `test
/// abort`, `execution failure`, …) for the rest.
fn failed_status(ty: Option<&str>) -> CaseStatus {
    match ty.and_then(|t| t.rsplit_once(' ')) {
        Some((_, "timeout")) => CaseStatus::TimedOut,
        _ => CaseStatus::Failed,
    }
}

/// The cases of nextest's JUnit report. Ids are `<binary-id> <test name>`, as nextest names
/// binaries — the same ids the built-in runner gives, so baselines and quarantines carry over.
pub fn cases_from_junit(
    report: &quick_junit::Report,
    cfg: &TestsConfig,
    ws_root: &Path,
    package_dirs: &[(String, PathBuf)],
) -> Vec<Case> {
    let mut cases = Vec::new();
    for suite in &report.test_suites {
        let binary = suite.name.as_str();
        let package = binary.split("::").next().unwrap_or(binary).to_string();
        let package_dir = package_dirs
            .iter()
            .find(|(name, _)| *name == package)
            .map(|(_, dir)| dir.clone());
        for tc in &suite.test_cases {
            let name = tc.name.as_str().to_string();
            let id = format!("{binary} {name}");
            let (status, attempts, failure_output, note) = attempts_of(tc, cfg);
            let panic = failure_output.as_deref().and_then(libtest::parse_panic);
            let failure = match (panic, package_dir.as_ref()) {
                (Some((m, loc)), Some(dir)) => Some(place_panic(m, loc, dir, ws_root)),
                (Some((m, _)), None) => Some((m, None)),
                (None, _) => note.map(|n| (n, None)),
            };
            let (status, message, location) =
                super::settle(cfg, &id, &name, status, attempts.len(), failure);
            cases.push(Case {
                id,
                name,
                package: Some(package.clone()),
                binary: Some(binary.to_string()),
                status,
                attempts,
                location,
                message,
                detail: None,
                regions: Vec::new(),
                diff: Vec::new(),
                history: None,
            });
        }
    }
    cases
}

/// A JUnit test case's attempts as nextest recorded them: its status, every attempt, the
/// output of the failure that decides its message, and nextest's own note on it.
fn attempts_of(
    tc: &quick_junit::TestCase,
    cfg: &TestsConfig,
) -> (CaseStatus, Vec<Attempt>, Option<String>, Option<String>) {
    let secs = tc.time.map_or(0.0, |t| t.as_secs_f64());
    match &tc.status {
        TestCaseStatus::Success { flaky_runs } => {
            let mut attempts: Vec<Attempt> = flaky_runs
                .iter()
                .map(|r| rerun_attempt(r, cfg.output_tail))
                .collect();
            let failed = flaky_runs
                .last()
                .map(|r| output_of(&[r.system_out.as_deref(), r.system_err.as_deref()]));
            attempts.push(Attempt {
                shared: false,
                status: CaseStatus::Passed,
                duration: secs,
                output_tail: String::new(),
            });
            let status = if flaky_runs.is_empty() {
                CaseStatus::Passed
            } else {
                CaseStatus::Flaky
            };
            (status, attempts, failed, None)
        }
        TestCaseStatus::NonSuccess {
            kind,
            message,
            ty,
            description,
            reruns,
        } => {
            let mut attempts: Vec<Attempt> = reruns
                .runs
                .iter()
                .map(|r| rerun_attempt(r, cfg.output_tail))
                .collect();
            let status = failed_status(ty.as_deref());
            let timed_out = status == CaseStatus::TimedOut;
            let output = output_of(&[
                tc.system_out.as_deref(),
                tc.system_err.as_deref(),
                description.as_deref(),
            ]);
            attempts.push(Attempt {
                shared: false,
                status,
                duration: secs,
                output_tail: tail(&output, cfg.output_tail),
            });
            // nextest's message is terse ("test failed with exit code 101"); the
            // panic in the output, when there is one, says more.
            let note = match (message.as_deref().or(ty.as_deref()), kind) {
                _ if timed_out => Some(format!(
                    "timed out after {}; nextest killed it",
                    crate::util::units::format_seconds(secs)
                )),
                (Some(m), NonSuccessKind::Error) => Some(format!("error: {m}")),
                (Some(m), NonSuccessKind::Failure) => Some(m.to_string()),
                (None, _) => None,
            };
            (status, attempts, Some(output), note)
        }
        TestCaseStatus::Skipped { message, .. } => (
            CaseStatus::Skipped,
            Vec::new(),
            None,
            Some(
                message
                    .as_deref()
                    .unwrap_or("skipped by nextest")
                    .to_string(),
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What nextest 0.9 writes for a flaky test, a test failing on every try, a timeout and a
    /// pass, across a library and an integration-test binary.
    const JUNIT: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="nextest-run" tests="5" failures="2" errors="0">
  <testsuite name="app" tests="4" skipped="0" errors="0" failures="2">
    <testcase name="tests::flaky" classname="app" time="0.020">
      <flakyFailure time="0.010" type="test failure with exit code 101">
        <system-out>
running 1 test
</system-out>
        <system-err>
thread 'tests::flaky' panicked at src/lib.rs:40:13:
first attempt fails on purpose
</system-err>
      </flakyFailure>
    </testcase>
    <testcase name="tests::broken" classname="app" time="0.030">
      <failure type="test failure with exit code 101"/>
      <rerunFailure time="0.031" type="test failure with exit code 101">
        <system-err>thread 'tests::broken' panicked at src/lib.rs:9:5:
no luck
</system-err>
      </rerunFailure>
      <system-err>thread 'tests::broken' panicked at src/lib.rs:9:5:
still no luck
</system-err>
    </testcase>
    <testcase name="tests::hangs" classname="app" time="3.007">
      <failure type="test timeout"/>
      <system-out>running 1 test
</system-out>
    </testcase>
    <testcase name="tests::passes" classname="app" time="0.002"/>
  </testsuite>
  <testsuite name="app::api" tests="1" skipped="0" errors="0" failures="0">
    <testcase name="serves" classname="app::api" time="0.004"/>
  </testsuite>
</testsuites>"#;

    fn cases(cfg: &TestsConfig) -> Vec<Case> {
        let root = Path::new("/ws");
        let dirs = vec![("app".to_string(), root.join("app"))];
        let junit = quick_junit::Report::deserialize_from_str(JUNIT).unwrap();
        cases_from_junit(&junit, cfg, root, &dirs)
    }

    fn find<'a>(cases: &'a [Case], id: &str) -> &'a Case {
        cases.iter().find(|c| c.id == id).unwrap()
    }

    #[test]
    fn a_timeout_is_the_type_nextest_writes_for_it_not_words_in_a_message() {
        assert_eq!(failed_status(Some("test timeout")), CaseStatus::TimedOut);
        assert_eq!(
            failed_status(Some("benchmark timeout")),
            CaseStatus::TimedOut
        );
        for ty in [
            Some("test failure with exit code 101"),
            Some("test abort with code 6"),
            Some("execution failure"),
            Some("timeout"),
            None,
        ] {
            assert_eq!(failed_status(ty), CaseStatus::Failed, "{ty:?}");
        }
    }

    #[test]
    fn junit_cases_keep_every_attempt_and_the_panic() {
        let cfg = TestsConfig::default();
        let cases = cases(&cfg);
        let ids: Vec<&str> = cases.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "app tests::flaky",
                "app tests::broken",
                "app tests::hangs",
                "app tests::passes",
                "app::api serves"
            ]
        );

        let flaky = find(&cases, "app tests::flaky");
        assert_eq!(flaky.status, CaseStatus::Flaky);
        let statuses: Vec<CaseStatus> = flaky.attempts.iter().map(|a| a.status).collect();
        assert_eq!(statuses, [CaseStatus::Failed, CaseStatus::Passed]);
        assert_eq!(
            flaky.message.as_deref(),
            Some("passed on attempt 2 after: first attempt fails on purpose")
        );
        assert_eq!(
            flaky.location.as_ref().map(|l| l.file.as_str()),
            Some("app/src/lib.rs")
        );

        let broken = find(&cases, "app tests::broken");
        assert_eq!(broken.status, CaseStatus::Failed);
        assert_eq!(broken.attempts.len(), 2);
        assert_eq!(broken.message.as_deref(), Some("still no luck"));
        assert_eq!(broken.location.as_ref().map(|l| l.line), Some(9));

        let hangs = find(&cases, "app tests::hangs");
        assert_eq!(hangs.status, CaseStatus::TimedOut);
        assert_eq!(
            hangs.message.as_deref(),
            Some("timed out after 3.01s; nextest killed it")
        );

        let api = find(&cases, "app::api serves");
        assert_eq!(api.status, CaseStatus::Passed);
        assert_eq!(api.package.as_deref(), Some("app"));
        assert_eq!(api.binary.as_deref(), Some("app::api"));
        assert!((api.attempts[0].duration - 0.004).abs() < 1e-9);
    }

    #[test]
    fn quarantine_and_the_output_limit_apply_as_with_the_builtin_runner() {
        let cfg = TestsConfig {
            quarantine: vec!["tests::broken".to_string()],
            output_tail: 20,
            ..TestsConfig::default()
        };
        let cases = cases(&cfg);
        let broken = find(&cases, "app tests::broken");
        assert_eq!(broken.status, CaseStatus::Quarantined);
        let out = &broken.attempts[1].output_tail;
        assert!(out.starts_with("[... "), "{out}");
        assert!(out.ends_with("still no luck"), "{out:?}");
    }

    #[test]
    fn ignored_tests_are_read_from_the_list() {
        let json = r#"{"rust-suites": {
            "app": {"testcases": {
                "tests::slow": {"ignored": true, "filter-match": {"status": "mismatch", "reason": "ignored"}},
                "tests::fast": {"ignored": false, "filter-match": {"status": "matches"}},
                "tests::other_shard": {"ignored": false, "filter-match": {"status": "mismatch", "reason": "partition"}}
            }}
        }}"#;
        assert_eq!(
            ignored_in_list(json),
            [("app".to_string(), "tests::slow".to_string())]
        );
        assert!(ignored_in_list("not json").is_empty());
    }

    #[test]
    fn the_tool_config_adds_junit_and_the_timeout_to_the_chosen_profile() {
        let cfg = TestsConfig {
            timeout: Some(std::time::Duration::from_secs(3)),
            ..TestsConfig::default()
        };
        let text = tool_config("ci.v2", Path::new("/t/j\"x.xml"), &cfg);
        let parsed: toml::Value = toml::from_str(&text).unwrap();
        assert_eq!(
            parsed["profile"]["ci.v2"]["junit"]["path"].as_str(),
            Some("/t/j\"x.xml")
        );
        assert_eq!(
            parsed["profile"]["ci.v2"]["slow-timeout"]["period"].as_str(),
            Some("3000ms")
        );
    }
}
