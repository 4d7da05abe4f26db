//! `--affected-since`: a real git repository holding a three-package workspace, where `b`
//! depends on `a` and `c` stands alone.

use std::path::Path;
use std::process::Command;

use crate::common::*;

fn package(dir: &Path, name: &str, deps: &str) {
    write_file(
        dir,
        &format!("crates/{name}/Cargo.toml"),
        &format!(
            "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n[dependencies]\n{deps}"
        ),
    );
    write_file(
        dir,
        &format!("crates/{name}/src/lib.rs"),
        &format!("#[test]\nfn {name}_works() {{}}\n"),
    );
}

/// The committed workspace (Cargo.lock included: an untracked lock file would count as a
/// workspace-wide change).
fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_file(
        d,
        "Cargo.toml",
        "[workspace]\nmembers = [\"crates/*\"]\nresolver = \"2\"\n",
    );
    write_file(d, ".gitignore", "target/\nout/\n");
    write_file(d, "README.md", "# demo\n");
    package(d, "a", "");
    package(d, "b", "a = { path = \"../a\" }\n");
    package(d, "c", "");
    let lock = Command::new(env!("CARGO"))
        .args(["generate-lockfile", "--offline"])
        .current_dir(d)
        .output()
        .unwrap();
    assert!(lock.status.success(), "{lock:?}");
    git_init_commit(d);
    dir
}

fn run_affected(dir: &Path, extra: &[&str]) -> (std::process::Output, serde_json::Value) {
    let out = output(
        gate("affected")
            .current_dir(dir)
            .args(["run", "--progress", "lines", "--no-doctests"])
            .args(["--out-dir", "out"])
            .args(extra),
    );
    let report = json(&dir.join("out/report.json"));
    (out, report)
}

fn ids(report: &serde_json::Value) -> Vec<String> {
    statuses(report).into_iter().map(|(id, _)| id).collect()
}

#[test]
fn a_change_runs_its_package_and_its_dependents_only() {
    let dir = repo();
    let d = dir.path();
    write_file(
        d,
        "crates/a/src/lib.rs",
        "#[test]\nfn a_works() {}\n#[test]\nfn a_new() {}\n",
    );
    let (out, report) = run_affected(d, &["--affected-since", "HEAD"]);
    assert_eq!(code(&out), 0);
    assert_eq!(ids(&report), ["a a_new", "a a_works", "b b_works"]);
    let err = stderr(&out);
    assert!(err.contains("2 of 3 package(s)"), "{err}");
    assert!(err.contains("a: crates/a/src/lib.rs changed"), "{err}");
    assert!(err.contains("b: depends on a"), "{err}");
    assert_eq!(report["run"]["affected"]["since"], "HEAD");
    assert_eq!(
        report["run"]["affected"]["packages"],
        serde_json::json!(["a", "b"])
    );

    // `--package` narrows the affected set and never adds to it.
    let (_, report) = run_affected(d, &["--affected-since", "HEAD", "-p", "b", "-p", "c"]);
    assert_eq!(ids(&report), ["b b_works"]);
}

#[test]
fn committed_changes_count_from_the_merge_base() {
    let dir = repo();
    let d = dir.path();
    git(d, &["checkout", "-q", "-b", "topic"]);
    write_file(
        d,
        "crates/c/src/lib.rs",
        "#[test]\nfn c_works() {}\n// edited\n",
    );
    git(d, &["commit", "-q", "-am", "edit c"]);
    // The base branch moves on meanwhile: its change to `a` is not the topic's.
    git(d, &["checkout", "-q", "main"]);
    write_file(
        d,
        "crates/a/src/lib.rs",
        "#[test]\nfn a_works() {}\n// main\n",
    );
    git(d, &["commit", "-q", "-am", "edit a on main"]);
    git(d, &["checkout", "-q", "topic"]);
    let (out, report) = run_affected(d, &["--affected-since", "main"]);
    assert_eq!(code(&out), 0);
    assert_eq!(ids(&report), ["c c_works"]);
}

#[test]
fn docs_only_changes_run_no_tests_and_lock_file_changes_run_all() {
    let dir = repo();
    let d = dir.path();
    write_file(d, "README.md", "# demo\n\nmore words\n");
    write_file(d, ".github/workflows/ci.yml", "on: push\n");
    let (out, report) = run_affected(d, &["--affected-since", "HEAD"]);
    assert_eq!(code(&out), 0, "nothing to test is a pass");
    assert!(ids(&report).is_empty(), "{report}");
    assert!(stderr(&out).contains("0 of 3 package(s)"));
    assert_eq!(report["run"]["affected"]["packages"], serde_json::json!([]));

    // A list of its own replaces the default: README.md is no longer ignored.
    write_file(
        d,
        "gate.toml",
        "[tests]\naffected_ignore = [\".github/*\", \"gate.toml\"]\n",
    );
    let (_, report) = run_affected(d, &["--affected-since", "HEAD"]);
    assert_eq!(ids(&report).len(), 3, "{report}");

    std::fs::remove_file(d.join("gate.toml")).unwrap();
    let lock = std::fs::read_to_string(d.join("Cargo.lock")).unwrap();
    write_file(d, "Cargo.lock", &format!("{lock}\n"));
    let (out, report) = run_affected(d, &["--affected-since", "HEAD"]);
    assert_eq!(ids(&report).len(), 3);
    assert!(
        stderr(&out).contains("Cargo.lock changed (affects every package)"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn an_unknown_revision_is_a_usage_error() {
    let dir = repo();
    let out = output(gate("affected").current_dir(dir.path()).args([
        "run",
        "--affected-since",
        "no-such-branch",
    ]));
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(err.contains("--affected-since no-such-branch"), "{err}");
    assert!(err.contains("fetch-depth: 0"), "{err}");

    let plain = tempfile::tempdir().unwrap();
    write_file(
        plain.path(),
        "Cargo.toml",
        "[package]\nname = \"p\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    );
    write_file(plain.path(), "src/lib.rs", "");
    let out = output(gate("affected").current_dir(plain.path()).args([
        "run",
        "--affected-since",
        "main",
    ]));
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("needs a git repository"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_workspace_reached_through_a_symlink_is_still_matched() {
    let dir = repo();
    let d = dir.path();
    write_file(
        d,
        "crates/c/src/lib.rs",
        "#[test]\nfn c_works() {}\n// edited\n",
    );
    let links = tempfile::tempdir().unwrap();
    let link = links.path().join("ws");
    std::os::unix::fs::symlink(d, &link).unwrap();
    // cargo keeps the symlinked path of --manifest-path; git reports the real one.
    let out = output(
        gate("affected")
            .current_dir(links.path())
            .args([
                "run",
                "--progress",
                "lines",
                "--no-doctests",
                "--out-dir",
                "out",
            ])
            .arg("--manifest-path")
            .arg(link.join("Cargo.toml"))
            .args(["--affected-since", "HEAD"]),
    );
    assert_eq!(code(&out), 0);
    let report = json(&links.path().join("out/report.json"));
    assert_eq!(ids(&report), ["c c_works"], "{}", stderr(&out));
}
