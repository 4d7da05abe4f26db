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
