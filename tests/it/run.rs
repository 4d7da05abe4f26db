//! `cargo gate run` on real fixture workspaces: exit codes, every case status, outputs.

use crate::common::*;

#[test]
fn demo_passes_and_writes_every_output() {
    let out_dir = tempfile::tempdir().unwrap();
    let out = run("demo", out_dir.path(), &[]);
    assert_eq!(code(&out), 0);
    let report = json(&out_dir.path().join("report.json"));
    assert_eq!(report["schema"], 3);
    assert_eq!(report["verdict"]["status"], "passed");
    let statuses = statuses(&report);
    let ids: Vec<&str> = statuses.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(
        ids,
        vec![
            "demo-cli::bin/demo-cli tests::binary_unit_test_runs",
            "demo-cli::cli rejects_bad_input",
            "demo-cli::cli runs_in_the_package_directory",
            "demo-cli::cli sums_its_argument",
            "demo-core tests::adds",
            "demo-core tests::adds_negative_numbers",
            "demo-core tests::parses_lists",
            "demo-core tests::rejects_garbage",
            "demo-core::doc crates/core/src/lib.rs - add (line 5)",
            "demo-core::doc crates/core/src/lib.rs - parse_list (line 14)",
        ]
    );
    assert!(statuses.iter().all(|(_, s)| s == "passed"), "{statuses:?}");
    assert_eq!(report["run"]["profile"], "default");
    let gates = report["gates"].as_array().unwrap();
    assert_eq!(gates.len(), 5);
    assert!(gates.iter().all(|g| g["status"] == "passed"));
    for f in ["junit.xml", "summary.md", "report.html"] {
        let meta = std::fs::metadata(out_dir.path().join(f)).unwrap();
        assert!(meta.len() > 100, "{f} is empty");
    }
    let summary = std::fs::read_to_string(out_dir.path().join("summary.md")).unwrap();
    assert!(summary.starts_with("## ✅ cargo-gate: passed"), "{summary}");
    let scorecard = stdout(&out);
    assert!(scorecard.contains("tests: 10 passed ("), "{scorecard}");
    assert!(scorecard.contains(" PASSED"));
    // Non-TTY progress: one line per finished test.
    assert!(stderr(&out).contains("PASS [") && stderr(&out).contains("demo-core tests::adds"));
}

#[test]
fn mixed_reports_every_kind_of_outcome() {
    let out_dir = tempfile::tempdir().unwrap();
    let flaky_dir = tempfile::tempdir().unwrap();
    let out = {
        let mut cmd = gate("mixed");
        cmd.args(["run", "--progress", "lines", "--manifest-path"])
            .arg(manifest("mixed"))
            .arg("--out-dir")
            .arg(out_dir.path())
            .env("MIXED_FLAKY_DIR", flaky_dir.path());
        output(&mut cmd)
    };
    assert_eq!(code(&out), 1, "failing tests fail the gate");
    let report = json(&out_dir.path().join("report.json"));
    let got = statuses(&report);
    let got_ref: Vec<(&str, &str)> = got.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    assert_eq!(got_ref, MIXED_OUTCOMES);

    let failing = case(&report, "mixed tests::fails_with_message");
    assert!(
        failing["message"]
            .as_str()
            .unwrap()
            .contains("double(2) should be five")
    );
    assert_eq!(failing["location"]["file"], "src/lib.rs");
    assert_eq!(failing["location"]["line"], 24);
    assert_eq!(
        failing["attempts"].as_array().unwrap().len(),
        2,
        "retries = 1 in gate.toml"
    );

    let flaky = case(&report, "mixed tests::flaky");
    let attempts = flaky["attempts"].as_array().unwrap();
    assert_eq!(attempts[0]["status"], "failed");
    assert_eq!(attempts[1]["status"], "passed");
    assert!(
        attempts[0]["output_tail"]
            .as_str()
            .unwrap()
            .contains("first attempt fails on purpose")
    );

    let hang = case(&report, "mixed tests::hangs");
    for a in hang["attempts"].as_array().unwrap() {
        assert_eq!(a["status"], "timed_out");
        let d = a["duration"].as_f64().unwrap();
        assert!(
            (3.0..30.0).contains(&d),
            "killed near the 3s timeout, took {d}"
        );
    }
    assert_eq!(case(&report, "mixed tests::ignored")["message"], "ignored");
    assert!(
        case(&report, "mixed tests::panics")["message"]
            .as_str()
            .unwrap()
            .contains("the list is empty")
    );

    let noisy = case(&report, "mixed tests::prints_a_lot_then_fails");
    let tail = noisy["attempts"][0]["output_tail"].as_str().unwrap();
    assert!(
        tail.starts_with("[... "),
        "the front of the output is cut with a note"
    );
    assert!(
        tail.len() < 16 * 1024 + 100,
        "kept output is bounded: {}",
        tail.len()
    );
    assert!(tail.contains("failed after a lot of output"));

    let gates = report["gates"].as_array().unwrap();
    let g: Vec<(&str, &str, &str)> = gates
        .iter()
        .map(|g| {
            (
                g["rule"].as_str().unwrap(),
                g["status"].as_str().unwrap(),
                g["observed"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        g,
        vec![
            ("tests.failed == 0", "failed", "3"),
            ("tests.timed_out == 0", "failed", "1"),
            ("tests.flaky == 0", "warned", "1"),
        ]
    );
    assert_eq!(report["verdict"]["reasons"].as_array().unwrap().len(), 2);

    // JUnit carries the retries: flakyFailure for the flaky test, rerunFailure for failures.
    let xml = std::fs::read_to_string(out_dir.path().join("junit.xml")).unwrap();
    let junit = quick_junit::Report::deserialize_from_str(&xml).unwrap();
    assert_eq!(junit.tests, 9);
    assert_eq!(junit.failures, 4);
    let cases: Vec<&quick_junit::TestCase> = junit
        .test_suites
        .iter()
        .flat_map(|s| s.test_cases.iter())
        .collect();
    let flaky = cases
        .iter()
        .find(|c| c.name.as_str() == "tests::flaky")
        .unwrap();
    assert!(
        matches!(&flaky.status, quick_junit::TestCaseStatus::Success { flaky_runs } if flaky_runs.len() == 1)
    );
    assert!(xml.contains("<flakyFailure"));
    assert!(xml.contains("<rerunFailure"));
    let hang = cases
        .iter()
        .find(|c| c.name.as_str() == "tests::hangs")
        .unwrap();
    assert!(
        matches!(&hang.status, quick_junit::TestCaseStatus::NonSuccess { ty: Some(t), .. } if t.as_str() == "timeout")
    );
}

/// A library that does not compile is compiled twice by `cargo test --no-run` (as the library
/// and as its unit-test binary): its error is reported once.
#[test]
fn a_library_error_is_reported_once() {
    let ws = temp_workspace("");
    write_file(
        ws.path(),
        "src/lib.rs",
        "pub fn f() -> u32 { \"no\" }\n#[test]\nfn t() { assert_eq!(f(), 1); }\n",
    );
    let out = output(gate("scratch-broken").current_dir(ws.path()).args([
        "gate",
        "run",
        "--out-dir",
        "target/gate",
    ]));
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let report = json(&ws.path().join("target/gate/report.json"));
    let error = report["suites"][0]["error"].as_str().unwrap();
    assert_eq!(error.matches("mismatched types").count(), 1, "{error}");
    assert_eq!(
        stderr(&out)
            .matches("error[E0308]: mismatched types")
            .count(),
        1,
        "the compiler's message is shown once too: {}",
        stderr(&out)
    );
    // The pull-request comment says what broke, not just "build failed:".
    let comment = output(gate("scratch-broken").current_dir(ws.path()).args([
        "gate",
        "report",
        "--format",
        "comment",
        "target/gate/report.json",
    ]));
    let comment = stdout(&comment);
    assert!(
        comment.contains("**tests could not run: 1 compiler error**"),
        "{comment}"
    );
    // The error where it is, and the source lines rustc showed, once.
    assert!(comment.contains("<code>src/lib.rs:1:"), "{comment}");
    assert_eq!(
        comment.matches("error[E0308]: mismatched types\n").count(),
        1,
        "{comment}"
    );
    assert!(comment.contains(" --> src/lib.rs:1:"), "{comment}");
    assert!(!comment.contains("removed"), "{comment}");
    // The report keeps it typed, for the check run's annotation at the line.
    let errors = report["suites"][0]["details"]["tests"]["build_errors"]
        .as_array()
        .unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["file"], "src/lib.rs");
    assert_eq!(errors[0]["line"], 1);
}

#[test]
fn a_workspace_that_does_not_compile_fails_with_a_build_verdict() {
    let out_dir = tempfile::tempdir().unwrap();
    let out = run("broken", out_dir.path(), &[]);
    assert_eq!(code(&out), 1);
    let err = stderr(&out);
    assert!(
        err.contains("mismatched types"),
        "the compiler's message is shown: {err}"
    );
    let report = json(&out_dir.path().join("report.json"));
    assert_eq!(report["suites"][0]["status"], "error");
    let error = report["suites"][0]["error"].as_str().unwrap();
    assert!(error.starts_with("build failed:"), "{error}");
    assert!(error.contains("tests/does_not_compile.rs:3"), "{error}");
    assert_eq!(report["verdict"]["status"], "failed");
    assert!(
        report["verdict"]["reasons"][0]
            .as_str()
            .unwrap()
            .contains("build failed")
    );
    assert!(
        stdout(&out).contains(" FAILED\n   tests: build failed"),
        "{}",
        stdout(&out)
    );
    // The scorecard shows the first error as rustc rendered it.
    assert!(
        stdout(&out).contains("error[E0308]: mismatched types"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn filters_packages_and_skip_select_tests() {
    let out_dir = tempfile::tempdir().unwrap();
    let out = run(
        "demo",
        out_dir.path(),
        &[
            "-p",
            "demo-core",
            "--no-doctests",
            "adds",
            "--skip",
            "negative",
        ],
    );
    assert_eq!(code(&out), 0);
    let report = json(&out_dir.path().join("report.json"));
    let ids: Vec<String> = statuses(&report).into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids, vec!["demo-core tests::adds"]);

    let out = run(
        "demo",
        out_dir.path(),
        &["--exact", "tests::parses_lists", "--no-doctests"],
    );
    assert_eq!(code(&out), 0);
    let ids: Vec<String> = statuses(&json(&out_dir.path().join("report.json")))
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(ids, vec!["demo-core tests::parses_lists"]);
}

#[test]
fn run_ignored_only_runs_the_ignored_test() {
    let out_dir = tempfile::tempdir().unwrap();
    let out = run(
        "mixed",
        out_dir.path(),
        &["--run-ignored", "only", "--no-doctests", "--retries", "0"],
    );
    assert_eq!(code(&out), 1, "the ignored test panics when run");
    let report = json(&out_dir.path().join("report.json"));
    let ignored = case(&report, "mixed tests::ignored");
    assert_eq!(ignored["status"], "failed");
    assert!(
        ignored["message"]
            .as_str()
            .unwrap()
            .contains("must not run by default")
    );
    assert_eq!(case(&report, "mixed tests::passes")["status"], "skipped");
}

#[test]
fn fail_fast_stops_scheduling_and_reports_what_did_not_run() {
    let out_dir = tempfile::tempdir().unwrap();
    let out = run(
        "mixed",
        out_dir.path(),
        &[
            "--fail-fast",
            "-j",
            "1",
            "--retries",
            "0",
            "--no-doctests",
            "--skip",
            "hangs",
        ],
    );
    assert_eq!(code(&out), 1);
    let report = json(&out_dir.path().join("report.json"));
    let st = statuses(&report);
    // Sorted order: fails_with_message runs first and fails; nothing else is started.
    assert_eq!(
        case(&report, "mixed tests::fails_with_message")["status"],
        "failed"
    );
    let not_run: Vec<&(String, String)> = st
        .iter()
        .filter(|(id, s)| s == "skipped" && id != "mixed tests::ignored")
        .collect();
    assert!(!not_run.is_empty(), "{st:?}");
    for (id, _) in not_run {
        assert!(
            case(&report, id)["message"]
                .as_str()
                .unwrap()
                .contains("--fail-fast")
        );
    }
}

#[test]
fn profile_overrides_the_defaults() {
    let (out, out_dir) = run_mixed(
        "[tests]\nretries = 0\n[gate]\nfail = [\"tests.failed == 0\"]\n[profile.ci]\ntests = { retries = 1 }\ngate = { fail = [\"tests.flaky == 0\"] }\n",
        &["--profile", "ci", "--no-doctests", "tests::flaky"],
    );
    assert_eq!(code(&out), 1, "the ci profile fails on flaky tests");
    let report = json(&out_dir.path().join("report.json"));
    assert_eq!(report["run"]["profile"], "ci");
    assert_eq!(case(&report, "mixed tests::flaky")["status"], "flaky");
    assert_eq!(report["gates"][0]["rule"], "tests.flaky == 0");
}

#[test]
fn quarantined_failures_do_not_fail_the_gate() {
    let (out, out_dir) = run_mixed(
        "[tests]\nquarantine = [\"tests::panics\"]\n",
        &["--no-doctests", "tests::pa"],
    );
    assert_eq!(code(&out), 0);
    let report = json(&out_dir.path().join("report.json"));
    assert_eq!(
        case(&report, "mixed tests::panics")["status"],
        "quarantined"
    );
    assert_eq!(case(&report, "mixed tests::passes")["status"], "passed");
}

#[test]
fn the_nextest_runner_reports_the_same_outcomes() {
    let (out, out_dir) = run_mixed_with(
        "[tests]\nrunner = \"nextest\"\nretries = 1\ntimeout = \"3s\"\n[gate]\nfail = [\"tests.failed == 0\"]\n",
        &[],
        &[("PATH", path_with_nextest())],
    );
    let config = out_dir.path().join("gate.toml");
    assert_eq!(code(&out), 1, "failing tests fail the gate");
    // nextest ran them: its own summary line is in our stderr.
    assert!(stderr(&out).contains("Summary ["), "{}", stderr(&out));
    let report = json(&out_dir.path().join("report.json"));
    let got = statuses(&report);
    let got_ref: Vec<(&str, &str)> = got.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    // As with the built-in runner (ignored tests come from `cargo nextest list`).
    assert_eq!(got_ref, MIXED_OUTCOMES);
    let failing = case(&report, "mixed tests::fails_with_message");
    assert!(
        failing["message"]
            .as_str()
            .unwrap()
            .contains("double(2) should be five"),
        "{failing}"
    );
    assert_eq!(failing["location"]["file"], "src/lib.rs");
    assert_eq!(
        case(&report, "mixed tests::flaky")["attempts"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // The output kept per attempt obeys output_tail, however much the test printed.
    let loud = case(&report, "mixed tests::prints_a_lot_then_fails");
    let kept = loud["attempts"][0]["output_tail"].as_str().unwrap();
    assert!(kept.len() < 20_000, "{} bytes kept", kept.len());
    // nextest's build is told apart from its run: the run's time is what `tests.duration`
    // measures, the suite's time holds both.
    let tests = &report["suites"][0];
    let build = tests["details"]["tests"]["build_duration"]
        .as_f64()
        .expect("a build time");
    let run_secs = tests["metrics"][0]["samples"][0].as_f64().unwrap();
    let total = tests["duration"].as_f64().unwrap();
    assert!(build > 0.0 && run_secs > 3.0, "{tests}");
    assert!(
        (build + run_secs - total).abs() < 0.01,
        "{build} + {run_secs} != {total}"
    );

    // A time partition needs the built-in runner.
    let out = output(
        gate("mixed")
            .args(["run", "--manifest-path"])
            .arg(manifest("mixed"))
            .arg("--config")
            .arg(&config)
            .arg("--out-dir")
            .arg(out_dir.path())
            .args(["--partition", "time:1/2"]),
    );
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("needs the built-in runner"),
        "{}",
        stderr(&out)
    );
}

/// `isolation = "binary"` runs each test binary once, as cargo test does, and every failure
/// again alone: the outcomes are the process-isolation ones, the report says how each binary
/// ran, and the batch's failed attempt is kept before the ones run alone.
#[test]
fn binary_isolation_reports_the_same_outcomes_as_process_isolation() {
    let binary = "[tests]\nisolation = \"binary\"\nretries = 1\ntimeout = \"3s\"\n";
    // One job: the binary's tests are one chunk, which the hanging test stalls.
    let (out, out_dir) = run_mixed(binary, &["--jobs", "1"]);
    assert_eq!(code(&out), 1);
    let report = json(&out_dir.path().join("report.json"));
    let got = statuses(&report);
    let got: Vec<(&str, &str)> = got.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    assert_eq!(got, MIXED_OUTCOMES);
    assert_eq!(
        report["suites"][0]["details"]["tests"]["isolation"]["mixed"],
        "binary"
    );
    let failing = case(&report, "mixed tests::fails_with_message");
    let attempts = failing["attempts"].as_array().unwrap();
    assert_eq!(
        attempts.len(),
        3,
        "the batch's attempt, then the first run alone and its retry"
    );
    assert_eq!(
        attempts[0]["output_tail"],
        "(the batch was stopped before libtest printed this test's output)",
        "the hanging test stopped the batch before libtest's failures section"
    );
    assert_eq!(
        failing["location"]["line"], 24,
        "located from the run alone"
    );
    let flaky = case(&report, "mixed tests::flaky");
    assert_eq!(flaky["attempts"][0]["status"], "failed");
    assert_eq!(flaky["attempts"][1]["status"], "passed");
    // The hanging test stalled the batch: it was killed once no test had finished for the
    // timeout, and the test then timed out alone, twice.
    let hang = case(&report, "mixed tests::hangs");
    let hang_attempts = hang["attempts"].as_array().unwrap();
    assert_eq!(hang_attempts.len(), 2, "{hang}");
    assert!(hang_attempts.iter().all(|a| a["status"] == "timed_out"));

    // Two jobs: the binary is dealt out in chunks, and the hang stalls only its own; the
    // failure's chunk finishes, with its output.
    let (out, out_dir) = run_mixed(binary, &["--jobs", "2"]);
    assert_eq!(code(&out), 1);
    let report = json(&out_dir.path().join("report.json"));
    let got = statuses(&report);
    let got: Vec<(&str, &str)> = got.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    assert_eq!(got, MIXED_OUTCOMES, "the same outcomes, chunked");
    let failing = case(&report, "mixed tests::fails_with_message");
    let first = failing["attempts"][0]["output_tail"].as_str().unwrap();
    assert!(first.contains("double(2) should be five"), "{first}");

    // Without the hang the batch finishes, and a failure's batch attempt has its own output.
    // `--skip` also makes the batch name its tests (`--exact`) instead of running them all.
    let (out, out_dir) = run_mixed(binary, &["--skip", "hangs"]);
    assert_eq!(code(&out), 1);
    let report = json(&out_dir.path().join("report.json"));
    let failing = case(&report, "mixed tests::fails_with_message");
    let first = failing["attempts"][0]["output_tail"].as_str().unwrap();
    assert!(first.contains("double(2) should be five"), "{first}");
    assert!(
        !first.contains("tests::passes"),
        "only this test's own section: {first}"
    );
    assert_eq!(case(&report, "mixed tests::passes")["status"], "passed");
}

/// What the mixed fixture's tests end as, whatever runs them.
const MIXED_OUTCOMES: [(&str, &str); 9] = [
    ("mixed tests::fails_with_message", "failed"),
    ("mixed tests::flaky", "flaky"),
    ("mixed tests::hangs", "timed_out"),
    ("mixed tests::ignored", "skipped"),
    ("mixed tests::panics", "failed"),
    ("mixed tests::passes", "passed"),
    ("mixed tests::prints_a_lot_then_fails", "failed"),
    ("mixed::doc src/lib.rs - double (line 5)", "passed"),
    ("mixed::integration integration_passes", "passed"),
];

/// `cargo gate run` on the mixed fixture with this gate.toml and these arguments; the output
/// directory (which holds the config) lives as long as the returned guard.
fn run_mixed(config: &str, extra: &[&str]) -> (std::process::Output, tempfile::TempDir) {
    run_mixed_with(config, extra, &[])
}

fn run_mixed_with(
    config: &str,
    extra: &[&str],
    env: &[(&str, std::ffi::OsString)],
) -> (std::process::Output, tempfile::TempDir) {
    let out_dir = tempfile::tempdir().unwrap();
    let flaky_dir = tempfile::tempdir().unwrap();
    let config_path = out_dir.path().join("gate.toml");
    std::fs::write(&config_path, config).unwrap();
    let mut cmd = gate("mixed");
    cmd.args(["run", "--progress", "lines"])
        .args(extra)
        .arg("--manifest-path")
        .arg(manifest("mixed"))
        .arg("--config")
        .arg(&config_path)
        .arg("--out-dir")
        .arg(out_dir.path())
        .env("MIXED_FLAKY_DIR", flaky_dir.path())
        .envs(env.iter().map(|(k, v)| (k, v)));
    (output(&mut cmd), out_dir)
}

/// A filter that matches nothing fails the run, as nextest's `no tests to run` does; libtest's
/// flags after `--` are honoured and an unknown one is refused, never taken as a filter.
#[test]
fn a_run_in_which_no_test_ran_fails_and_says_why() {
    let out_dir = tempfile::tempdir().unwrap();
    let out = run("demo", out_dir.path(), &["typo_in_filter_name"]);
    assert_eq!(code(&out), 1, "an empty run fails the gate");
    let report = json(&out_dir.path().join("report.json"));
    assert_eq!(report["verdict"]["status"], "failed");
    let reasons = report["verdict"]["reasons"].to_string();
    assert!(
        reasons.contains("no test matched the filter `typo_in_filter_name`"),
        "{reasons}"
    );
    assert!(stdout(&out).contains("allow_empty"), "{}", stdout(&out));

    // Expected to be empty: it passes.
    let out = run(
        "demo",
        out_dir.path(),
        &["typo_in_filter_name", "--allow-empty"],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));

    // `-- --nocapture` (a cargo test habit) runs every test instead of none.
    let out = run("demo", out_dir.path(), &["--", "--nocapture"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let report = json(&out_dir.path().join("report.json"));
    assert!(statuses(&report).len() > 3, "{report}");
    assert!(
        stderr(&out).contains("--nocapture: cargo-gate keeps"),
        "{}",
        stderr(&out)
    );

    // `-- --exact NAME` is libtest's --exact.
    let out = run(
        "demo",
        out_dir.path(),
        &["--", "--exact", "tests::binary_unit_test_runs"],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let ran: Vec<String> = statuses(&json(&out_dir.path().join("report.json")))
        .into_iter()
        .filter(|(_, s)| s != "skipped")
        .map(|(id, _)| id)
        .collect();
    assert_eq!(ran, ["demo-cli::bin/demo-cli tests::binary_unit_test_runs"]);

    // A flag libtest does not have is a usage error naming the ones it has.
    let out = run("demo", out_dir.path(), &["--", "--nocaptur"]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("`--nocaptur` is not a test filter"),
        "{}",
        stderr(&out)
    );
}

/// Doctests compile nothing `cargo test --workspace` did not: fixtures/features unifies a
/// feature of `shared` across members (a library and a binary turn it on, another library
/// does not). Doctests run per package with each package's own feature resolution built
/// `shared` again without it; one `cargo test --doc --workspace` reuses the build.
#[test]
fn doctests_compile_nothing_cargo_test_did_not() {
    let target = root().join("target/fixture-builds/features");
    let built = std::process::Command::new("cargo")
        .args(["test", "--workspace", "--no-run", "--manifest-path"])
        .arg(manifest("features"))
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .unwrap();
    assert!(built.status.success(), "{built:?}");
    let out_dir = tempfile::tempdir().unwrap();
    let out = run("features", out_dir.path(), &[]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let err = stderr(&out);
    let compiled: Vec<&str> = err
        .lines()
        .filter(|l| l.trim_start().starts_with("Compiling"))
        .collect();
    assert!(compiled.is_empty(), "compiled again: {compiled:?}");
    let report = json(&out_dir.path().join("report.json"));
    let doctests: Vec<String> = statuses(&report)
        .into_iter()
        .filter(|(id, s)| id.contains("::doc ") && s == "passed")
        .map(|(id, _)| id.split(' ').next().unwrap().to_string())
        .collect();
    // `a`'s doctest passes only with `shared`'s feature on, as the workspace build has it.
    assert_eq!(doctests, ["a::doc", "b::doc", "shared::doc"], "{report}");
}

/// A quarantine entry that names no test (a typo, a renamed test) quarantines nothing: a run of
/// every test says so.
#[test]
fn a_quarantine_entry_that_names_no_test_is_warned_about() {
    let ws = temp_workspace("[tests]\nquarantine = [\"t\", \"gone_test\", \"net::*\"]\n");
    write_file(ws.path(), "src/lib.rs", "#[test]\nfn t() {}\n");
    let out = output(gate("quarantine").current_dir(ws.path()).args([
        "run",
        "--progress",
        "lines",
        "--out-dir",
        "target/gate",
    ]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("`gone_test` names no test"), "{err}");
    assert!(err.contains("`net::*` names no test"), "{err}");
    assert!(!err.contains("`t` names no test"), "{err}");
}

/// A binary in binary isolation is dealt to the jobs in chunks that shrink as it goes, so no
/// batch is the critical path: never more chunks at once than jobs (each runs one libtest
/// thread), the last chunks single tests, every test reported once.
#[test]
fn a_batched_binary_is_dealt_to_the_jobs_in_shrinking_chunks() {
    let ws = temp_workspace("[tests]\nisolation = \"binary\"\n");
    let tests: String = (0..40)
        .map(|i| {
            format!(
                "#[test]\nfn t{i:02}() {{ std::thread::sleep(std::time::Duration::from_millis(60)); }}\n"
            )
        })
        .collect();
    write_file(
        ws.path(),
        "src/lib.rs",
        &format!("#[cfg(test)]\nmod tests {{\n{tests}}}\n"),
    );
    let out = output(gate("chunks").current_dir(ws.path()).args([
        "gate",
        "run",
        "--jobs",
        "2",
        "--no-doctests",
        "--no-baseline",
        "--message-format",
        "json",
        "--out-dir",
        "target/gate",
    ]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let events: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut running = 0usize;
    let mut most = 0usize;
    let mut chunks = Vec::new();
    let mut reported = std::collections::BTreeMap::<String, usize>::new();
    for e in &events {
        match e["type"].as_str() {
            Some("test-started") => {
                running += 1;
                most = most.max(running);
            }
            Some("test-finished") => {
                running -= 1;
                let cases = e["cases"].as_array().unwrap();
                chunks.push(cases.len());
                for c in cases {
                    assert_eq!(c["status"], "passed", "{c}");
                    *reported
                        .entry(c["name"].as_str().unwrap().to_string())
                        .or_default() += 1;
                }
            }
            _ => {}
        }
    }
    assert_eq!(reported.len(), 40, "{reported:?}");
    assert!(
        reported.values().all(|n| *n == 1),
        "each test once: {reported:?}"
    );
    assert!(most <= 2, "at most one chunk per job at a time: {most}");
    assert!(chunks.len() > 2, "dealt out in chunks: {chunks:?}");
    assert_eq!(
        chunks.iter().min(),
        Some(&1),
        "the last chunks are single tests: {chunks:?}"
    );
    let report = json(&ws.path().join("target/gate/report.json"));
    assert_eq!(
        report["suites"][0]["details"]["tests"]["isolation"]["scratch"],
        "binary"
    );
}
