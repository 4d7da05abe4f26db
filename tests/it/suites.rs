//! The snapshot (insta) and property (proptest) suites on real fixture workspaces.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::common::*;
use serde_json::Value;

/// Tests that run a fixture in place and compare its tree hold this lock, so one test's
/// temporary files are never seen by another's before/after comparison. It is a file lock, not
/// a mutex, because process-per-test runners (cargo-gate itself, nextest) run each test in its
/// own process.
fn in_place_lock() -> std::fs::File {
    let dir = root().join("target").join("fixture-builds");
    std::fs::create_dir_all(&dir).unwrap();
    let file = std::fs::File::create(dir.join("in-place.lock")).unwrap();
    file.lock().unwrap();
    file
}

/// Every file of a fixture with its content, except build output and the lock file cargo writes.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                if p.file_name().unwrap() != "target" {
                    stack.push(p);
                }
            } else if p.file_name().unwrap() != "Cargo.lock" {
                out.insert(
                    p.strip_prefix(dir).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    out
}

fn fixture_dir(name: &str) -> PathBuf {
    root().join("fixtures").join(name)
}

fn suite<'a>(report: &'a Value, kind: &str) -> &'a Value {
    report["suites"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} suite"))
}

fn metric(suite: &Value, name: &str) -> f64 {
    suite["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == name)
        .unwrap_or_else(|| panic!("no metric {name}"))["samples"][0]
        .as_f64()
        .unwrap()
}

fn run_with_config(
    fixture: &str,
    out: &Path,
    config: Option<&str>,
    extra: &[&str],
    env: &[(&str, &str)],
) -> std::process::Output {
    let mut cmd = gate(fixture);
    cmd.args(["run", "--progress", "lines", "--manifest-path"])
        .arg(manifest(fixture))
        .arg("--out-dir")
        .arg(out)
        .args(extra);
    if let Some(text) = config {
        let path = out.with_extension("toml");
        std::fs::write(&path, text).unwrap();
        cmd.arg("--config").arg(path);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    output(&mut cmd)
}

#[test]
fn pending_snapshots_become_cases_with_diffs_and_leave_the_tree_as_it_was() {
    let _lock = in_place_lock();
    let before = tree(&fixture_dir("snapshots"));
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let out = run_with_config("snapshots", &out_dir, None, &[], &[]);
    assert_eq!(code(&out), 1);
    assert_eq!(
        tree(&fixture_dir("snapshots")),
        before,
        "the fixture tree is unchanged"
    );

    let report = json(&out_dir.join("report.json"));
    let snaps = suite(&report, "snapshots");
    let cases: Vec<(&str, &str)> = snaps["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["id"].as_str().unwrap(), c["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        cases,
        vec![
            ("snapshot tests/snap.rs:20", "failed"),
            ("snapshot tests/snapshots/snap__brand_new.snap", "failed"),
            ("snapshot tests/snapshots/snap__changed.snap", "failed"),
            (
                "snapshot tests/snapshots/snap__nested__name__with__parts.snap",
                "failed"
            ),
        ]
    );
    assert_eq!(metric(snaps, "snapshots.pending"), 4.0);
    let by_id = |id: &str| {
        snaps["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap()
            .clone()
    };
    let changed = by_id("snapshot tests/snapshots/snap__changed.snap");
    assert_eq!(changed["name"], "changed");
    // The name insta gave it, not a guess from the file name (`parts`, `nested__name__...`).
    assert_eq!(
        by_id("snapshot tests/snapshots/snap__nested__name__with__parts.snap")["name"],
        "name__with__parts"
    );
    assert_eq!(changed["location"]["file"], "tests/snap.rs");
    assert_eq!(changed["location"]["line"], 10);
    // The diff is typed line by line: kinds come from the diff, not from the text.
    let kinds: Vec<&str> = changed["diff"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["old", "new", "hunk", "context", "removed", "added"],
        "{changed}"
    );
    assert_eq!(changed["diff"][4]["text"], "Welcome to the team.");
    let diff = changed["detail"].as_str().unwrap();
    assert!(
        diff.contains("\n Hello, Grace!\n-Welcome to the team.\n+Welcome aboard.\n"),
        "{diff}"
    );
    let new = by_id("snapshot tests/snapshots/snap__brand_new.snap");
    assert!(
        new["message"]
            .as_str()
            .unwrap()
            .starts_with("new snapshot `brand_new`")
    );
    assert!(
        new["detail"]
            .as_str()
            .unwrap()
            .contains("@@ -0,0 +1,2 @@\n+Hello, Linus!\n+Welcome aboard.\n")
    );
    let inline = by_id("snapshot tests/snap.rs:20");
    assert!(
        inline["detail"]
            .as_str()
            .unwrap()
            .contains("-Hello, Dennis!\n+Hello, Ken!\n")
    );
    // The matching snapshot is not a case; its test passed.
    assert_eq!(
        case(&report, "snapshots::snap matching")["status"],
        "passed"
    );

    // The pending files were moved, not lost.
    let moved = out_dir.join("snapshots/tests/snapshots/snap__changed.snap.new");
    assert!(
        std::fs::read_to_string(moved)
            .unwrap()
            .contains("Welcome aboard.")
    );
    assert!(
        out_dir
            .join("snapshots/tests/.snap.rs.pending-snap")
            .is_file()
    );

    let md = std::fs::read_to_string(out_dir.join("summary.md")).unwrap();
    assert!(
        md.contains("```diff\n--- tests/snapshots/snap__changed.snap (accepted)"),
        "{md}"
    );
    assert!(md.contains("cargo insta test --review"));

    let normalized = normalize(&out_dir.join("report.json"));
    snapshot_settings().bind(|| {
        insta::assert_snapshot!("snapshots_summary_md", rendered(&normalized, "markdown"));
    });
}

#[test]
fn unreferenced_snapshots_are_counted_and_gated_and_delete_mode_keeps_nothing() {
    let _lock = in_place_lock();
    let before = tree(&fixture_dir("snapshots"));
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let config = "[snapshots]\nunreferenced = \"report\"\npending = \"delete\"\n[gate]\nfail = [\"snapshots.unreferenced == 0\"]\n";
    let out = run_with_config("snapshots", &out_dir, Some(config), &[], &[]);
    assert_eq!(code(&out), 1);
    assert_eq!(tree(&fixture_dir("snapshots")), before);
    assert!(
        !out_dir
            .join("snapshots/tests/snapshots/snap__changed.snap.new")
            .exists()
    );

    let report = json(&out_dir.join("report.json"));
    let snaps = suite(&report, "snapshots");
    assert_eq!(metric(snaps, "snapshots.unreferenced"), 1.0);
    let orphan = snaps["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "unreferenced tests/snapshots/snap__orphan.snap")
        .expect("the orphan snapshot is reported");
    assert!(
        orphan["message"]
            .as_str()
            .unwrap()
            .contains("no test asserted it")
    );
    assert_eq!(report["gates"][0]["status"], "failed");
    assert_eq!(report["gates"][0]["observed"], "1");

    // With a filter not every test runs, so unreferenced detection is off (no false positives).
    let out = run_with_config("snapshots", &out_dir, Some(config), &["matching"], &[]);
    assert_eq!(code(&out), 0, "the rule is skipped, not failed");
    let report = json(&out_dir.join("report.json"));
    assert_eq!(report["gates"][0]["status"], "skipped");
}

#[test]
fn property_failures_report_the_minimal_input_and_the_regression_line() {
    let _lock = in_place_lock();
    let before = tree(&fixture_dir("property"));
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let out = run_with_config(
        "property",
        &out_dir,
        Some("[gate]\nfail = [\"property.failed == 0\"]\n"),
        &[],
        &[],
    );
    assert_eq!(code(&out), 1);
    assert_eq!(
        tree(&fixture_dir("property")),
        before,
        "proptest-regressions/ was moved out of the tree"
    );

    let report = json(&out_dir.join("report.json"));
    let prop = suite(&report, "property");
    assert_eq!(metric(prop, "property.failed"), 3.0);
    let cases = prop["cases"].as_array().unwrap();
    let ids: Vec<&str> = cases.iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "property property nested::deep::tests::clamp_stays_at_most_100",
            "property property tests::double_doubles",
            "property property::props double_is_even",
        ],
        "only the failing properties are cases"
    );
    // Wherever proptest wrote, the hint names the file from the workspace root and the exact
    // line, and the file is copied out and removed from the tree.
    for (c, file, shrunk) in [
        (&cases[0], "proptest-regressions/nested/deep.txt", "x = 101"),
        (&cases[2], "tests/props.proptest-regressions", "x = "),
    ] {
        let detail = c["detail"].as_str().unwrap();
        assert!(
            detail.contains(&format!("commit this line to {file}:\ncc ")),
            "{detail}"
        );
        let line = detail
            .lines()
            .find(|l| l.starts_with("cc ") && l.contains(&format!("# shrinks to {shrunk}")))
            .unwrap_or_else(|| panic!("no regression line in {detail}"));
        let saved = std::fs::read_to_string(out_dir.join("property").join(file)).unwrap();
        assert!(saved.contains(line), "the copy of {file} keeps the line");
    }
    let c = &cases[1];
    assert_eq!(c["id"], "property property tests::double_doubles");
    assert_eq!(c["message"], "minimal failing input: x = 1001");
    let detail = c["detail"].as_str().unwrap();
    assert!(
        detail.contains("minimal failing input: x = 1001"),
        "{detail}"
    );
    let line = detail
        .lines()
        .find(|l| l.starts_with("cc ") && l.ends_with("# shrinks to x = 1001"))
        .unwrap_or_else(|| panic!("no regression line in {detail}"));
    assert!(detail.contains("commit this line to proptest-regressions/lib.txt:"));
    let saved =
        std::fs::read_to_string(out_dir.join("property/proptest-regressions/lib.txt")).unwrap();
    assert!(saved.contains(line), "the copy keeps the line");
    assert_eq!(report["gates"][0]["rule"], "property.failed == 0");
    assert_eq!(report["gates"][0]["status"], "failed");
    assert_eq!(
        case(&report, "property tests::reverse_twice_is_identity")["status"],
        "passed"
    );
}

#[test]
fn profiles_set_proptest_cases_and_existing_regressions_files_are_left_alone() {
    let _lock = in_place_lock();
    let regressions = fixture_dir("property").join("proptest-regressions");
    std::fs::create_dir_all(&regressions).unwrap();
    let file = regressions.join("lib.txt");
    let original = "# Seeds for failure cases proptest has generated in the past.\n";
    std::fs::write(&file, original).unwrap();
    struct Cleanup(PathBuf);
    impl Drop for Cleanup {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    let _cleanup = Cleanup(regressions.clone());

    let dir = tempfile::tempdir().unwrap();
    let config = "[profile.nightly]\nproperty = { cases = 4321 }\n";
    let out = run_with_config(
        "property",
        &dir.path().join("a"),
        Some(config),
        &["--profile", "nightly"],
        &[("EXPECT_PROPTEST_CASES", "4321")],
    );
    assert_eq!(code(&out), 1, "double_doubles still fails");
    let report = json(&dir.path().join("a/report.json"));
    assert_eq!(
        case(&report, "property env_tests::cases_come_from_the_profile")["status"],
        "passed"
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        original,
        "proptest's append was undone"
    );

    // Without the profile the variable is not set, and the same check fails: the test can fail.
    let out = run_with_config(
        "property",
        &dir.path().join("b"),
        Some(config),
        &["cases_come_from"],
        &[("EXPECT_PROPTEST_CASES", "4321")],
    );
    assert_eq!(code(&out), 1);
    let report = json(&dir.path().join("b/report.json"));
    assert_eq!(
        case(&report, "property env_tests::cases_come_from_the_profile")["status"],
        "failed"
    );
}

/// A bench input that cannot be read is a failed bench case, and with the default rules it
/// fails the gate (it used to pass: there was no `bench.failed`).
#[test]
fn unreadable_bench_results_fail_the_gate_by_default() {
    let dir = temp_workspace(
        "[tests]\nenabled = false\n[bench]\ncustom = [\"bench.json\"]\nhyperfine = [\"missing.json\"]\n",
    );
    std::fs::write(dir.path().join("bench.json"), "{\"metrics\": 3}").unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_cargo-gate"));
    cmd.current_dir(dir.path()).args([
        "gate",
        "run",
        "--suite",
        "bench",
        "--no-baseline",
        "--progress",
        "lines",
        // Where the test reads the report, whatever CARGO_TARGET_DIR says.
        "--out-dir",
        "target/gate",
    ]);
    let out = output(&mut cmd);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let report = json(&dir.path().join("target/gate/report.json"));
    let gate = report["gates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["rule"] == "bench.failed == 0")
        .expect("the default bench rule");
    assert_eq!(gate["status"], "failed");
    assert_eq!(gate["observed"], "2", "both inputs are failed cases");
}
