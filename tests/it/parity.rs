//! The verdict must match `cargo test --workspace` on real-world shapes (`fixtures/parity`): a
//! member named like a crates.io crate in its own dependency graph, a proc-macro crate with
//! unit tests, a doctest behind a feature another member enables, `harness = false` targets,
//! and crates under `crates/`. Both run on the same fixture; every test each finds and its
//! outcome must agree, and the tree must be left as it was.

use std::collections::BTreeMap;

use crate::common::*;

/// `(name, status)` of every libtest line `cargo test` printed, and the targets it reported
/// failed (`-p PKG --test NAME`).
fn cargo_test(fixture: &str) -> (BTreeMap<String, String>, Vec<String>) {
    let out = output(
        std::process::Command::new(env!("CARGO"))
            .args(["test", "--workspace", "--no-fail-fast", "--manifest-path"])
            .arg(manifest(fixture))
            .env(
                "CARGO_TARGET_DIR",
                root().join("target").join("fixture-builds").join(fixture),
            )
            .env("RUST_BACKTRACE", "0")
            .env("CARGO_TERM_COLOR", "never"),
    );
    let text = format!("{}{}", stdout(&out), stderr(&out));
    let mut tests = BTreeMap::new();
    let mut failed_targets = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("test ")
            && let Some((name, outcome)) = rest.rsplit_once(" ... ")
        {
            // libtest-mimic pads names to line the results up.
            let name = name.trim_end();
            let status = match outcome {
                "ok" => "passed",
                "FAILED" => "failed",
                o if o.starts_with("ignored") => "skipped",
                other => panic!("unexpected libtest outcome `{other}`"),
            };
            assert!(
                tests.insert(name.to_string(), status.to_string()).is_none(),
                "two tests called `{name}`: make the fixture's names unique"
            );
        }
        if let Some(target) = line.trim().strip_prefix("`-p ") {
            failed_targets.push(target.trim_end_matches('`').to_string());
        }
    }
    (tests, failed_targets)
}

#[test]
fn the_verdict_matches_cargo_test_on_real_world_shapes() {
    let before = git(&root(), &["status", "--porcelain", "fixtures/parity"]);
    let (expected, failed_targets) = cargo_test("parity");
    let out_dir = tempfile::tempdir().unwrap();
    // RUST_BACKTRACE=1 as in many CI setups: the failure must still be read from the panic.
    let mut cmd = gate("parity");
    cmd.env("RUST_BACKTRACE", "1")
        .args(["gate", "run", "--progress", "lines", "--manifest-path"])
        .arg(manifest("parity"))
        .arg("--out-dir")
        .arg(out_dir.path());
    let out = output(&mut cmd);
    assert_eq!(
        code(&out),
        1,
        "cargo test fails on this fixture, so must the gate"
    );
    let report = json(&out_dir.path().join("report.json"));
    let cases = report["suites"][0]["cases"].as_array().unwrap();

    let mut ours = BTreeMap::new();
    let mut whole: BTreeMap<String, String> = BTreeMap::new();
    for c in cases {
        let name = c["name"].as_str().unwrap().to_string();
        let status = c["status"].as_str().unwrap().to_string();
        if name == "(harness = false)" {
            whole.insert(c["binary"].as_str().unwrap().to_string(), status);
        } else {
            ours.insert(name, status);
        }
    }
    assert_eq!(
        ours, expected,
        "every libtest test and doctest, with its outcome"
    );
    assert!(
        expected.contains_key("crates/feat/src/lib.rs - extra (line 15)"),
        "the feature-gated doctest runs under cargo test (the fixture is what it claims)"
    );
    assert_eq!(
        failed_targets,
        ["parity-harness --test custom_fail", "parity-user --lib"],
        "cargo test's failed targets"
    );
    assert_eq!(
        whole,
        BTreeMap::from([
            (
                "parity-harness::custom_fail".to_string(),
                "failed".to_string()
            ),
            (
                "parity-harness::custom_pass".to_string(),
                "passed".to_string()
            ),
        ]),
        "each harness = false target is one case decided by its exit status"
    );
    let failing = case(&report, "parity-user tests::fails_here");
    assert_eq!(failing["location"]["file"], "crates/user/src/lib.rs");
    assert_eq!(failing["location"]["line"], 17);
    assert!(
        failing["message"]
            .as_str()
            .unwrap()
            .contains("the total is off"),
        "{failing}"
    );
    assert_eq!(
        git(&root(), &["status", "--porcelain", "fixtures/parity"]),
        before,
        "the run leaves the fixture as it was"
    );
}

#[test]
fn a_member_named_like_a_registry_crate_can_be_selected_by_name_and_version() {
    let out_dir = tempfile::tempdir().unwrap();
    for spec in ["similar", "similar@0.1.0"] {
        let out = run(
            "parity",
            out_dir.path(),
            &["--package", spec, "--no-fail-fast"],
        );
        assert_eq!(code(&out), 0, "{spec}: {}", stderr(&out));
        let report = json(&out_dir.path().join("report.json"));
        let ids: Vec<&str> = report["suites"][0]["cases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap())
            .collect();
        assert_eq!(
            ids,
            [
                "similar tests::doubles",
                "similar tests::snapshot_of_double",
                "similar::doc crates/similar/src/lib.rs - double (line 5)"
            ],
            "{spec}"
        );
    }
    let out = run("parity", out_dir.path(), &["--package", "similar@9.9.9"]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("package `similar@9.9.9` is not a member"));
}

/// Custom harnesses that speak libtest's protocol are run test by test, as `cargo test` runs
/// them: libtest-mimic (the whole protocol) and libtest2-mimic (a plain `--list`, no working
/// capture flag, tests that decide at run time whether they are ignored).
#[test]
fn libtest_mimic_harnesses_are_run_test_by_test() {
    let (expected, _) = cargo_test("harnesses");
    let out_dir = tempfile::tempdir().unwrap();
    let out = output(
        gate("harnesses")
            .args(["gate", "run", "--manifest-path"])
            .arg(manifest("harnesses"))
            .arg("--out-dir")
            .arg(out_dir.path()),
    );
    assert_eq!(
        code(&out),
        1,
        "cargo test fails on this fixture, so must the gate"
    );
    let report = json(&out_dir.path().join("report.json"));
    assert_eq!(
        by_name(&report),
        expected,
        "every test of both harnesses, with its outcome"
    );
    let failing: Vec<&str> = expected
        .iter()
        .filter(|(_, s)| *s == "failed")
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(
        (expected.len(), failing),
        (9, vec!["mimic2_fails", "mimic_fails", "mimic_panics"]),
        "the fixture is what it claims: {expected:?}"
    );
    // A harness's own failure message, not just an exit code.
    let fails = case(&report, "harnesses::mimic2 mimic2_fails");
    assert_eq!(fails["message"], "mimic2 says no", "{fails}");
    let ignored = case(&report, "harnesses::mimic2 ignored_when_run");
    assert_eq!(
        ignored["attempts"].as_array().unwrap().len(),
        1,
        "not retried: {ignored}"
    );
    // Asked for, the test its harness ignores at run time runs.
    // The same outcomes when each binary runs once with the harness's own threads.
    let out_dir = tempfile::tempdir().unwrap();
    write_file(
        out_dir.path(),
        "gate.toml",
        "[tests]\nisolation = \"binary\"\n",
    );
    let out = output(
        gate("harnesses")
            .args(["gate", "run", "--manifest-path"])
            .arg(manifest("harnesses"))
            .arg("--config")
            .arg(out_dir.path().join("gate.toml"))
            .arg("--out-dir")
            .arg(out_dir.path()),
    );
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let batched = json(&out_dir.path().join("report.json"));
    assert_eq!(by_name(&batched), expected, "in binary isolation");
    let out_dir = tempfile::tempdir().unwrap();
    let out = output(
        gate("harnesses")
            .args(["gate", "run", "--run-ignored", "only", "--manifest-path"])
            .arg(manifest("harnesses"))
            .arg("--out-dir")
            .arg(out_dir.path()),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let report = json(&out_dir.path().join("report.json"));
    assert_eq!(
        case(&report, "harnesses::mimic mimic_ignored")["status"],
        "passed"
    );
}

/// Each case's status by test name (names are unique in the harnesses fixture).
fn by_name(report: &serde_json::Value) -> BTreeMap<String, String> {
    statuses(report)
        .into_iter()
        .map(|(id, status)| {
            let name = id
                .split_once(' ')
                .map_or(id.as_str(), |(_, n)| n)
                .to_string();
            (name, status)
        })
        .collect()
}
