//! The coverage suite on a real git repository: an LCOV file (as `cargo llvm-cov --lcov`
//! writes it) for a change, totals, patch coverage, the command option and its failures.

mod common;

use std::path::Path;

use common::*;

const BASE_LIB: &str = "pub fn a() -> u32 {\n    1\n}\n";

/// `b` is new: lines 5-10, of which 5, 6, 7 and 9 are instrumented; 7 never ran.
const CHANGED_LIB: &str = "pub fn a() -> u32 {\n    1\n}\n\npub fn b(x: u32) -> u32 {\n    if x > 2 {\n        return 3;\n    }\n    x\n}\n";

fn lcov(root: &Path) -> String {
    format!(
        "TN:\nSF:{}/src/lib.rs\nFN:1,a\nFN:5,b\nFNDA:2,a\nFNDA:1,b\nDA:1,2\nDA:2,2\nDA:5,1\nDA:6,1\nDA:7,0\nDA:9,1\nLF:6\nLH:5\nend_of_record\n",
        root.display()
    )
}

fn repo(gate_toml: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_file(
        d,
        "Cargo.toml",
        "[package]\nname = \"cov\"\nversion = \"0.1.0\"\nedition = \"2021\"\n[workspace]\n",
    );
    write_file(d, "src/lib.rs", BASE_LIB);
    write_file(d, ".gitignore", "target/\nout/\nCargo.lock\nlcov.info\n");
    write_file(d, "gate.toml", gate_toml);
    git_init_commit(d);
    dir
}

fn run_coverage(d: &Path) -> (std::process::Output, serde_json::Value) {
    let out = output(gate("coverage").current_dir(d).args([
        "run",
        "--suite",
        "coverage",
        "--out-dir",
        "out",
    ]));
    let report = json(&d.join("out/report.json"));
    (out, report)
}

fn metric(report: &serde_json::Value, name: &str) -> Option<f64> {
    report["suites"][0]["metrics"]
        .as_array()?
        .iter()
        .find(|m| m["name"] == name)?["samples"][0]
        .as_f64()
}

#[test]
fn patch_coverage_counts_the_changed_lines_the_tests_ran() {
    let dir = repo(
        "[coverage]\nlcov = \"lcov.info\"\nbase = \"HEAD\"\n[gate]\nfail = [\"coverage.patch >= 80%\", \"coverage.lines >= 50%\"]\n",
    );
    let d = dir.path();
    write_file(d, "src/lib.rs", CHANGED_LIB);
    write_file(d, "lcov.info", &lcov(d));
    let (out, report) = run_coverage(d);
    assert_eq!(code(&out), 1, "75 % of the patch is below 80 %");
    assert_eq!(report["suites"][0]["kind"], "coverage");
    assert!((metric(&report, "coverage.lines").unwrap() - 500.0 / 6.0).abs() < 1e-9);
    assert_eq!(metric(&report, "coverage.functions"), Some(100.0));
    assert_eq!(metric(&report, "coverage.patch"), Some(75.0));
    assert_eq!(metric(&report, "coverage.patch_missed"), Some(1.0));
    let case = &report["suites"][0]["cases"][0];
    assert_eq!(case["status"], "passed");
    assert!(
        case["detail"].as_str().unwrap().contains("src/lib.rs: 7"),
        "{case}"
    );
    let shown = stdout(&out);
    assert!(
        shown.contains("Coverage: lines 83.3 % (5 of 6)")
            && shown.contains("patch 75.0 % (3 of 4)"),
        "{shown}"
    );
    assert!(
        shown.contains("FAIL  coverage.patch >= 80%   (observed 75%)"),
        "{shown}"
    );
}

#[test]
fn without_changed_code_the_patch_is_fully_covered() {
    let dir = repo(
        "[coverage]\nlcov = \"lcov.info\"\nbase = \"HEAD\"\n[gate]\nfail = [\"coverage.patch >= 80%\"]\n",
    );
    let d = dir.path();
    write_file(d, "lcov.info", &lcov(d));
    write_file(d, "README.md", "docs only\n");
    let (out, report) = run_coverage(d);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    assert_eq!(metric(&report, "coverage.patch"), Some(100.0));
    assert_eq!(metric(&report, "coverage.patch_missed"), Some(0.0));
}

#[test]
fn the_command_writes_the_report_and_its_failure_fails_the_gate() {
    // `command` runs first, in the workspace root.
    let dir = repo(
        "[coverage]\nlcov = \"lcov.info\"\ncommand = [\"sh\", \"-c\", \"cp saved.lcov lcov.info\"]\nbase = \"HEAD\"\n",
    );
    let d = dir.path();
    write_file(d, "src/lib.rs", CHANGED_LIB);
    write_file(d, "saved.lcov", &lcov(d));
    let (out, report) = run_coverage(d);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    assert_eq!(metric(&report, "coverage.patch"), Some(75.0));

    // A failing command: the default rule `coverage.failed == 0` fails, with its output.
    std::fs::remove_file(d.join("saved.lcov")).unwrap();
    std::fs::remove_file(d.join("lcov.info")).unwrap();
    let (out, report) = run_coverage(d);
    assert_eq!(code(&out), 1);
    let case = &report["suites"][0]["cases"][0];
    assert_eq!(case["status"], "failed");
    assert!(
        case["message"]
            .as_str()
            .unwrap()
            .starts_with("`sh -c cp saved.lcov lcov.info` failed (exit code 1)"),
        "{case}"
    );
    assert!(
        case["detail"].as_str().unwrap().contains("saved.lcov"),
        "{case}"
    );
    assert!(
        stdout(&out).contains("FAIL  coverage.failed == 0"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_missing_or_foreign_report_is_a_failed_case_saying_what_to_do() {
    let dir = repo("[coverage]\nlcov = \"lcov.info\"\n");
    let d = dir.path();
    let (out, report) = run_coverage(d);
    assert_eq!(code(&out), 1);
    let case = &report["suites"][0]["cases"][0];
    assert!(
        case["message"]
            .as_str()
            .unwrap()
            .starts_with("cannot read lcov.info"),
        "{case}"
    );
    assert!(
        case["detail"]
            .as_str()
            .unwrap()
            .contains("cargo llvm-cov --lcov")
    );

    write_file(
        d,
        "lcov.info",
        "<?xml version=\"1.0\"?>\n<coverage line-rate=\"0.8\"/>\n",
    );
    let (out, report) = run_coverage(d);
    assert_eq!(code(&out), 1);
    let message = report["suites"][0]["cases"][0]["message"].as_str().unwrap();
    assert!(message.contains("is not usable LCOV"), "{message}");
}

#[test]
fn coverage_config_errors_are_located() {
    let dir = repo("[coverage]\nlcov = \"\"\n");
    let out = output(gate("coverage").current_dir(dir.path()).arg("check"));
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("gate.toml:2:8: `lcov` is empty"),
        "{}",
        stderr(&out)
    );

    let dir = repo("[coverage]\nlcov = \"lcov.info\"\nthreshold = 80\n");
    let out = output(gate("coverage").current_dir(dir.path()).arg("check"));
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("gate.toml:3:1: unknown field `threshold`"),
        "{}",
        stderr(&out)
    );

    let dir = repo("");
    let out = output(
        gate("coverage")
            .current_dir(dir.path())
            .args(["run", "--suite", "coverage"]),
    );
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("needs a [coverage] table"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn saved_coverage_on_the_base_gives_the_change_in_points() {
    let dir = repo(
        "[coverage]\nlcov = \"lcov.info\"\n[gate]\nfail = [\"coverage.lines_delta >= -1%\"]\n",
    );
    let d = dir.path();
    // The base commit is fully covered, and its coverage is saved in the notes.
    write_file(
        d,
        "lcov.info",
        &format!(
            "SF:{}/src/lib.rs\nDA:1,2\nDA:2,2\nend_of_record\n",
            d.display()
        ),
    );
    git(d, &["commit", "-q", "--allow-empty", "-m", "second"]);
    let (out, _) = run_coverage(d);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    let save = output(gate("coverage").current_dir(d).args([
        "baseline",
        "save",
        "--report",
        "out/report.json",
    ]));
    assert_eq!(code(&save), 0, "{}", stderr(&save));
    let note = output(gate("coverage").current_dir(d).args(["baseline", "show"]));
    assert!(
        stdout(&note).contains("coverage.lines"),
        "{}",
        stdout(&note)
    );

    // The next commit adds code the tests only partly run: 83.3 %, down 16.7 points.
    write_file(d, "src/lib.rs", CHANGED_LIB);
    git(d, &["commit", "-q", "-am", "add b"]);
    write_file(d, "lcov.info", &lcov(d));
    let (out, report) = run_coverage(d);
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    let delta = metric(&report, "coverage.lines_delta").unwrap();
    assert!((delta - (500.0 / 6.0 - 100.0)).abs() < 1e-9, "{delta}");
    let message = report["suites"][0]["cases"][0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("lines 83.3 % (5 of 6) (-16.7 points vs 100.0 % on "),
        "{message}"
    );
    // Patch coverage counts the committed change since HEAD^ (the default base).
    assert_eq!(metric(&report, "coverage.patch"), Some(75.0));
}

/// The README's own rule list, without `coverage.failed`: a coverage file that is missing, empty
/// or not LCOV still fails the gate (the suite measured nothing), unless the list decides about
/// `coverage.failed` itself.
#[test]
fn a_broken_coverage_run_fails_a_custom_rule_list() {
    let rules = "fail = [\"coverage.patch >= 80%\", \"coverage.lines >= 70%\"]";
    for (file, text) in [
        ("missing.info", None),
        ("empty.info", Some("")),
        (
            "cobertura.xml",
            Some("<?xml version=\"1.0\"?>\n<coverage line-rate=\"1\"/>\n"),
        ),
    ] {
        let dir = repo(&format!("[coverage]\nlcov = \"{file}\"\n[gate]\n{rules}\n"));
        if let Some(t) = text {
            write_file(dir.path(), file, t);
        }
        let (out, report) = run_coverage(dir.path());
        assert_eq!(code(&out), 1, "{file}: {report}");
        let gates = report["gates"].as_array().unwrap();
        assert!(
            gates
                .iter()
                .any(|g| g["rule"] == "coverage.failed == 0" && g["status"] == "failed"),
            "{file}: {gates:?}"
        );
    }
    // Deciding about it in the list: a warning, and the gate passes.
    let dir = repo(&format!(
        "[coverage]\nlcov = \"missing.info\"\n[gate]\n{rules}\nwarn = [\"coverage.failed == 0\"]\n"
    ));
    let (out, report) = run_coverage(dir.path());
    assert_eq!(code(&out), 0, "{report}");
    assert!(
        report["gates"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["rule"] == "coverage.failed == 0" && g["status"] == "warned"),
        "{}",
        report["gates"]
    );
}
