//! The coverage suite on a real git repository: an LCOV file (as `cargo llvm-cov --lcov`
//! writes it) for a change, totals, patch coverage, the command option and its failures.

use std::path::Path;

use crate::common::*;

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
    // The missed lines are data in the report, not text in the case's detail.
    let files = &report["suites"][0]["details"]["coverage"]["files"];
    assert_eq!(files[0]["file"], "src/lib.rs", "{files}");
    assert_eq!(files[0]["missed"], "7", "{files}");
    assert!(
        !case["detail"]
            .as_str()
            .unwrap_or("")
            .contains("src/lib.rs: 7"),
        "{case}"
    );
    let shown = stdout(&out);
    assert!(
        shown.contains("Coverage: lines 83.33 % (5 of 6)")
            && shown.contains("patch 75.00 % (3 of 4)"),
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
        message.starts_with("lines 83.33 % (5 of 6) (-16.67 points vs 100.00 % on "),
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
    for (file, text, command) in [
        ("missing.info", None, ""),
        ("empty.info", Some(""), ""),
        (
            "cobertura.xml",
            Some("<?xml version=\"1.0\"?>\n<coverage line-rate=\"1\"/>\n"),
            "",
        ),
        // A coverage command that fails, with a stale file from an earlier run still there.
        (
            "stale.info",
            Some("SF:src/lib.rs\nDA:1,1\nend_of_record\n"),
            "command = [\"false\"]\n",
        ),
    ] {
        let dir = repo(&format!(
            "[coverage]\nlcov = \"{file}\"\n{command}[gate]\n{rules}\n"
        ));
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

/// A gate result by rule.
fn gate_of<'a>(report: &'a serde_json::Value, rule: &str) -> &'a serde_json::Value {
    report["gates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["rule"] == rule)
        .unwrap_or_else(|| panic!("no gate `{rule}` in {}", report["gates"]))
}

/// A 20-line file; the LCOV instruments every line, all run except `missed`.
fn long_lib() -> String {
    (1..=20).map(|i| format!("pub fn f{i}() {{}}\n")).collect()
}

fn lcov_for(sf: &str, lines: u32, missed: &[u32]) -> String {
    let mut out = format!("TN:\nSF:{sf}\n");
    for l in 1..=lines {
        out.push_str(&format!("DA:{l},{}\n", u32::from(!missed.contains(&l))));
    }
    out.push_str("end_of_record\n");
    out
}

/// `git mv` and one changed line: only that line is the patch (git diff -M), not the whole
/// moved file.
#[test]
fn a_renamed_file_counts_only_its_changed_lines() {
    let dir = repo("[coverage]\nlcov = \"lcov.info\"\nbase = \"HEAD\"\n");
    let d = dir.path();
    write_file(d, "src/old.rs", &long_lib());
    git(d, &["add", "-A"]);
    git(d, &["commit", "-q", "-m", "old"]);
    git(d, &["mv", "src/old.rs", "src/new.rs"]);
    let changed = long_lib().replace("pub fn f7() {}", "pub fn f7() { let _ = 7; }");
    write_file(d, "src/new.rs", &changed);
    // Line 7 (the changed one) never ran, and line 3 (unchanged) neither.
    write_file(d, "lcov.info", &lcov_for("src/new.rs", 20, &[3, 7]));
    let (out, report) = run_coverage(d);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    assert_eq!(
        metric(&report, "coverage.patch"),
        Some(0.0),
        "1 changed line, not run"
    );
    assert_eq!(metric(&report, "coverage.patch_missed"), Some(1.0));
    let files = &report["suites"][0]["details"]["coverage"]["files"];
    assert_eq!(
        (&files[0]["file"], &files[0]["missed"]),
        (&serde_json::json!("src/new.rs"), &serde_json::json!("7")),
        "only the changed line: {files}"
    );
}

/// A workspace in a subdirectory of its repository, with the LCOV paths in every form tools
/// write: repository-relative (Codecov's), `./`, absolute, and records for a registry file and
/// a deleted file, which are left out of the totals and listed.
#[test]
fn paths_in_every_form_map_to_the_workspace_and_foreign_files_are_left_out() {
    let repo_dir = tempfile::tempdir().unwrap();
    let r = repo_dir.path();
    let ws = r.join("semver");
    write_file(
        &ws,
        "Cargo.toml",
        "[package]\nname = \"semver\"\nversion = \"0.1.0\"\nedition = \"2021\"\n[workspace]\n",
    );
    write_file(&ws, "src/lib.rs", "pub mod eval;\n");
    write_file(&ws, "src/eval.rs", &long_lib());
    write_file(r, ".gitignore", "target/\nout/\nCargo.lock\nlcov.info\n");
    write_file(
        &ws,
        "gate.toml",
        "[coverage]\nlcov = \"lcov.info\"\nbase = \"HEAD\"\n[gate]\nfail = [\"coverage.patch >= 50%\"]\n",
    );
    git_init_commit(r);
    let changed = long_lib().replace("pub fn f2() {}", "pub fn f2() { let _ = 2; }");
    write_file(&ws, "src/eval.rs", &changed);
    let absolute = ws.join("src/lib.rs").display().to_string();
    let lcov = [
        lcov_for("semver/src/eval.rs", 20, &[2, 5]),
        lcov_for("./src/eval.rs", 20, &[5]),
        lcov_for(&absolute, 1, &[]),
        lcov_for(
            "/root/.cargo/registry/src/index.crates.io-1/serde-1.0.0/src/de.rs",
            40,
            &[],
        ),
        lcov_for("src/gone.rs", 10, &[1, 2, 3]),
    ]
    .concat();
    write_file(&ws, "lcov.info", &lcov);
    let (out, report) = run_coverage(&ws);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    // eval.rs: both records merge (line 2 ran in the second), line 5 missed in both → 19 of
    // 20; lib.rs 1 of 1. The registry and the deleted file are not counted.
    let lines = metric(&report, "coverage.lines").unwrap();
    assert!((lines - 2000.0 / 21.0).abs() < 1e-9, "{lines}");
    assert_eq!(metric(&report, "coverage.patch"), Some(100.0), "line 2 ran");
    let detail = report["suites"][0]["cases"][0]["detail"].as_str().unwrap();
    assert!(
        detail.contains("1 file outside the workspace: /root/.cargo/registry/")
            && detail.contains("1 file no longer in the tree: src/gone.rs"),
        "{detail}"
    );
}

/// The LCOV file's paths match nothing the change touched (a build machine's paths): patch
/// coverage is unknown, and a patch rule fails saying so, instead of passing as 100 %.
#[test]
fn no_matching_paths_fail_the_patch_rule_instead_of_passing() {
    let dir = repo(
        "[coverage]\nlcov = \"lcov.info\"\nbase = \"HEAD\"\n[gate]\nfail = [\"coverage.patch >= 90%\"]\n",
    );
    let d = dir.path();
    write_file(d, "src/other.rs", "pub fn o() {}\n");
    git(d, &["add", "-A"]);
    git(d, &["commit", "-q", "-m", "other"]);
    write_file(d, "src/lib.rs", CHANGED_LIB);
    // Only a record for an unchanged file is usable; the changed file is under a foreign path.
    write_file(
        d,
        "lcov.info",
        &[
            lcov_for("src/other.rs", 1, &[]),
            lcov_for("/build/agent/src/lib.rs", 10, &[]),
        ]
        .concat(),
    );
    let (out, report) = run_coverage(d);
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    let g = gate_of(&report, "coverage.patch >= 90%");
    assert_eq!(g["status"], "failed");
    assert!(
        g["message"]
            .as_str()
            .unwrap()
            .contains("none of the changed Rust files has a coverage record (src/lib.rs)"),
        "{g}"
    );
    // The fix the message names works.
    write_file(
        d,
        "gate.toml",
        "[coverage]\nlcov = \"lcov.info\"\nbase = \"HEAD\"\nfixes = [\"/build/agent/::\"]\n[gate]\nfail = [\"coverage.patch >= 90%\"]\n",
    );
    let (out, report) = run_coverage(d);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    assert_eq!(metric(&report, "coverage.patch"), Some(100.0));
}

/// No base commit (a first commit, a shallow clone): the patch rule fails with the fix, unless
/// `patch_without_base = "skip"`.
#[test]
fn a_missing_base_fails_the_patch_rule_unless_told_to_skip() {
    let toml = |extra: &str| {
        format!(
            "[coverage]\nlcov = \"lcov.info\"\n{extra}[gate]\nfail = [\"coverage.patch >= 80%\"]\n"
        )
    };
    let dir = repo(&toml(""));
    let d = dir.path();
    write_file(d, "lcov.info", &lcov(d));
    let (out, report) = run_coverage(d);
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    let g = gate_of(&report, "coverage.patch >= 80%");
    assert_eq!(g["status"], "failed");
    let message = g["message"].as_str().unwrap();
    assert!(
        message.contains("HEAD^")
            && message.contains("fetch-depth: 0")
            && message.contains("patch_without_base"),
        "{message}"
    );
    write_file(d, "gate.toml", &toml("patch_without_base = \"skip\"\n"));
    let (out, report) = run_coverage(d);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    assert_eq!(
        gate_of(&report, "coverage.patch >= 80%")["status"],
        "skipped"
    );
}

/// A changed line that ran but has a branch never taken is partial: counted as missed by
/// default (as Codecov does), as covered with `partials = "hit"`, and shown apart.
#[test]
fn partial_lines_count_as_configured() {
    let toml =
        |partials: &str| format!("[coverage]\nlcov = \"lcov.info\"\nbase = \"HEAD\"\n{partials}");
    let dir = repo(&toml(""));
    let d = dir.path();
    write_file(d, "src/lib.rs", CHANGED_LIB);
    // Lines 5, 6, 9 run; 6 (`if x > 2`) took only one of its two branches; 7 never ran.
    let root = d.display();
    write_file(
        d,
        "lcov.info",
        &format!(
            "SF:{root}/src/lib.rs\nDA:1,2\nDA:2,2\nDA:5,1\nDA:6,1\nBRDA:6,0,0,1\nBRDA:6,0,1,0\nDA:7,0\nDA:9,1\nend_of_record\n"
        ),
    );
    let (_, report) = run_coverage(d);
    // Patch: 5 and 9 hit, 6 partial, 7 missed.
    assert_eq!(metric(&report, "coverage.patch"), Some(50.0));
    let files = report["suites"][0]["details"]["coverage"]["files"]
        .as_array()
        .unwrap();
    assert_eq!(files[0]["file"], "src/lib.rs");
    assert_eq!(
        (
            files[0]["hits"].as_u64(),
            files[0]["partials"].as_u64(),
            files[0]["total"].as_u64()
        ),
        (Some(2), Some(1), Some(4))
    );
    assert_eq!(files[0]["partial_lines"], "6");
    assert_eq!(files[0]["missed"], "7");
    let message = report["suites"][0]["cases"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("patch 50.00 % (2 of 4, 1 partial)"),
        "{message}"
    );
    write_file(d, "gate.toml", &toml("partials = \"hit\"\n"));
    let (_, report) = run_coverage(d);
    assert_eq!(metric(&report, "coverage.patch"), Some(75.0));
}

/// The comment's and the summary's coverage section, Codecov-style: project coverage on the
/// base and now with the counts behind it, the patch, and the changed files with their missed
/// and partial lines, linked to the file at the head commit.
#[test]
fn the_comment_shows_base_to_head_the_patch_and_the_changed_files() {
    let dir = repo("[coverage]\nlcov = \"lcov.info\"\n");
    let d = dir.path();
    let root = d.display().to_string();
    write_file(
        d,
        "lcov.info",
        &format!("SF:{root}/src/lib.rs\nDA:1,2\nDA:2,2\nend_of_record\n"),
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
    write_file(d, "src/lib.rs", CHANGED_LIB);
    git(d, &["commit", "-q", "-am", "add b"]);
    write_file(
        d,
        "lcov.info",
        &format!(
            "SF:{root}/src/lib.rs\nDA:1,2\nDA:2,2\nDA:5,1\nDA:6,1\nBRDA:6,0,0,1\nBRDA:6,0,1,0\nDA:7,0\nDA:9,1\nend_of_record\n"
        ),
    );
    let (out, report) = run_coverage(d);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    // As the report of a run on GitHub Actions, so the files link to the head commit.
    let mut report = report;
    report["run"]["github"] = serde_json::json!({
        "repository": "acme/app", "event": "pull_request", "pull_request": 7,
        "head_sha": "0123456789abcdef0123456789abcdef01234567",
        "run_url": "https://github.com/acme/app/actions/runs/99"
    });
    let path = d.join("out/github.json");
    std::fs::write(&path, report.to_string()).unwrap();
    let section = |md: &str, start: &str| -> String {
        let from = md
            .find(start)
            .unwrap_or_else(|| panic!("no {start:?} in:\n{md}"));
        let rest = &md[from..];
        let end = rest
            .find("\n<sub>")
            .or_else(|| rest.find("\n### "))
            .unwrap_or(rest.len());
        // Commit ids differ from run to run.
        regex_lite_replace(&rest[..end])
    };
    let comment = rendered(&path, "comment");
    let summary = rendered(&path, "markdown");
    // Base 100 % of 2 lines; head: lines 1, 2, 5, 9 hit, 6 partial, 7 missed: 4 of 6.
    assert!(
        comment.contains("📐 Coverage 66.67 % (-33.33) · patch 50.00 %"),
        "{comment}"
    );
    assert!(comment.contains("[<code>src/lib.rs</code>](https://github.com/acme/app/blob/0123456789abcdef0123456789abcdef01234567/src/lib.rs) | 50.00 % | 7 | 6 |"), "{comment}");
    assert!(
        comment.contains("\n0 passed"),
        "the coverage case is not a passed test: {comment}"
    );
    // Badges for the README of a default branch.
    let badge = std::fs::read_to_string(d.join("out/coverage.svg")).unwrap();
    assert!(
        badge.starts_with("<svg") && badge.contains(">66.67%</text>") && badge.contains("#dfb317"),
        "{badge}"
    );
    let verdict = std::fs::read_to_string(d.join("out/gate.svg")).unwrap();
    assert!(verdict.contains(">passed</text>"), "{verdict}");
    let settings = snapshot_settings();
    settings.bind(|| {
        insta::assert_snapshot!(
            "coverage_comment",
            section(&comment, "<details open><summary>📐")
        );
        insta::assert_snapshot!("coverage_summary", section(&summary, "### Coverage"));
    });
}

/// Short commit ids (12 hex digits) replaced, so the snapshot holds across runs.
fn regex_lite_replace(s: &str) -> String {
    let mut out = String::new();
    let mut run = String::new();
    for c in s.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_hexdigit() {
            run.push(c);
            continue;
        }
        if run.len() == 12 && run.chars().any(|c| c.is_ascii_digit()) {
            out.push_str("[COMMIT]");
        } else {
            out.push_str(&run);
        }
        run.clear();
        out.push(c);
    }
    out.pop();
    out
}

/// An LCOV file that measured no line is no evidence: its case fails (a rule on the lines
/// would otherwise be skipped and pass), and the badge of an earlier run does not stay behind
/// saying 100 %.
#[test]
fn coverage_of_nothing_fails_and_leaves_no_badge() {
    let dir =
        repo("[coverage]\nlcov = \"lcov.info\"\n[gate]\nfail = [\"coverage.lines >= 80%\"]\n");
    let d = dir.path();
    write_file(d, "lcov.info", &lcov(d));
    let (out, _) = run_coverage(d);
    assert_eq!(code(&out), 0, "a real report passes: {}", stderr(&out));
    assert!(d.join("out/coverage.svg").is_file());

    write_file(d, "lcov.info", "SF:src/lib.rs\nend_of_record\n");
    let (out, report) = run_coverage(d);
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    let case = &report["suites"][0]["cases"][0];
    assert_eq!(case["status"], "failed", "{case}");
    assert!(
        case["message"]
            .as_str()
            .unwrap()
            .contains("measured no line"),
        "{case}"
    );
    assert!(
        !d.join("out/coverage.svg").exists(),
        "the earlier run's badge was left behind"
    );
}
