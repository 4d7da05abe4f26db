//! Test history in the notes: twenty default-branch runs of fixtures/history in a real git
//! repository (a test that always passes, one broken from a commit on, one flaky on every
//! fourth run), then `cargo gate history`, automatic quarantine and its release, a pull
//! request's new and already-failing failures, and shards merged against one whole run.

use std::path::Path;

use crate::common::*;
use serde_json::Value;

const FILES: &[&str] = &["Cargo.toml", "Cargo.lock", "gate.toml", "src/lib.rs"];

/// cargo-gate in `dir`, building into a target directory of the repository's own: the tests
/// here build the fixture in different directories at once.
fn gate_in(dir: &Path) -> std::process::Command {
    let mut cmd = gate("history");
    cmd.current_dir(dir)
        .env("CARGO_TARGET_DIR", dir.join("target"));
    cmd
}

/// `cargo gate run` in `dir` as run number `n` (the flaky test's seed), with `extra` arguments.
fn run_in(dir: &Path, n: u32, extra: &[&str], env: &[(&str, &str)]) -> (i32, Value) {
    let mut cmd = gate_in(dir);
    cmd.current_dir(dir)
        .args(["run", "--progress", "lines", "--out-dir", "out"])
        .args(extra)
        .env("HISTORY_RUN", n.to_string());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = output(&mut cmd);
    let report = json(&dir.join("out/report.json"));
    (code(&out), report)
}

fn save(dir: &Path) {
    let out = output(gate_in(dir).args(["baseline", "save", "--report", "out/report.json"]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

fn history(dir: &Path, args: &[&str]) -> Vec<Value> {
    let out = output(
        gate_in(dir)
            .args(["history", "--format", "json"])
            .args(args),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    serde_json::from_str(&stdout(&out)).unwrap()
}

fn row<'a>(rows: &'a [Value], test: &str) -> &'a Value {
    rows.iter()
        .find(|r| r["test"] == test)
        .unwrap_or_else(|| panic!("no {test} in {rows:?}"))
}

/// A repository with the fixture and twenty runs saved on `main`, one commit each; `broken`
/// is added before run 12. Returns the commits, oldest first.
fn twenty_runs(dir: &Path) -> Vec<String> {
    copy_fixture("history", FILES, dir);
    std::fs::write(dir.join(".gitignore"), "target/\nout/\n").unwrap();
    git(dir, &["init", "-q"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "project"]);
    let mut commits = Vec::new();
    for n in 0..20 {
        if n == 12 {
            std::fs::write(dir.join("broken"), "").unwrap();
            git(dir, &["add", "broken"]);
            git(dir, &["commit", "-q", "-m", "break broken_later"]);
        } else if n > 0 {
            git(
                dir,
                &["commit", "-q", "--allow-empty", "-m", &format!("run {n}")],
            );
        }
        let (_, report) = run_in(dir, n, &["--no-baseline"], &[]);
        assert_eq!(report["suites"][0]["cases"].as_array().unwrap().len(), 3);
        save(dir);
        commits.push(
            git(dir, &["rev-parse", "--short=12", "HEAD"])
                .trim()
                .to_string(),
        );
    }
    commits
}

#[test]
fn history_quarantine_and_changes_over_twenty_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let commits = twenty_runs(dir);

    // `history`: the right counts and rates, the flakiest first.
    let rows = history(dir, &["-n", "20"]);
    assert_eq!(
        rows[0]["test"], "history tests::flaky_sometimes",
        "{rows:?}"
    );
    let flaky = row(&rows, "history tests::flaky_sometimes");
    // Runs 0, 4, 8, 12 and 16 failed once and passed on the retry.
    assert_eq!(
        (
            &flaky["runs"],
            &flaky["flaky"],
            &flaky["failed"],
            &flaky["passed"]
        ),
        (&20.into(), &5.into(), &0.into(), &15.into())
    );
    assert_eq!(flaky["flake_rate"], 0.25);
    assert_eq!(flaky["last_failure"], commits[16]);
    let broken = row(&rows, "history tests::broken_later");
    assert_eq!(
        (&broken["failed"], &broken["passed"]),
        (&8.into(), &12.into())
    );
    assert_eq!(broken["last_failure"], commits[19]);
    assert_eq!(broken["longest_pass_streak"], 12);
    let stable = row(&rows, "history tests::stable");
    assert_eq!(
        (&stable["passed"], &stable["longest_pass_streak"]),
        (&20.into(), &20.into())
    );
    assert!(stable["last_failure"].is_null());
    // A window and a filter.
    let last4 = history(dir, &["-n", "4", "--test", "flaky"]);
    assert_eq!(last4.len(), 1);
    assert_eq!(
        (&last4[0]["runs"], &last4[0]["flaky"]),
        (&4.into(), &1.into())
    );
    assert_eq!(history(dir, &["--flaky"]).len(), 1);
    let human = stdout(&output(gate_in(dir).arg("history")));
    assert!(human.contains("history tests::flaky_sometimes"), "{human}");
    assert!(
        human.contains("3 test(s) over the last 20 run(s)"),
        "{human}"
    );

    // Automatic quarantine: with no retry the flaky test fails on run 20 and is quarantined,
    // with its evidence; the broken test fails and is not.
    git(dir, &["commit", "-q", "--allow-empty", "-m", "run 20"]);
    let (code20, report) = run_in(dir, 20, &["--retries", "0"], &[]);
    assert_eq!(code20, 1, "the broken test still fails the gate");
    let f = case(&report, "history tests::flaky_sometimes");
    assert_eq!(f["status"], "quarantined", "{f}");
    let why = f["history"]["quarantined"].as_str().unwrap();
    assert!(why.starts_with("flaky in 5 of the last 20 runs: "), "{why}");
    assert!(why.contains(&commits[16]), "{why}");
    let b = case(&report, "history tests::broken_later");
    assert_eq!(b["status"], "failed");
    assert!(b["history"]["quarantined"].is_null());
    assert_eq!(b["history"]["change"], "still_failing");
    assert_eq!(b["history"]["recent"].as_str().unwrap().len(), 20);
    save(dir);

    // Quarantine hides flakiness, never breakage: the same quarantined test failing both of
    // its attempts is a failure, marked so (this run is not saved).
    let (code_broken, report) =
        run_in(dir, 21, &["--retries", "1"], &[("HISTORY_BROKEN_NOW", "1")]);
    assert_eq!(code_broken, 1);
    let f = case(&report, "history tests::flaky_sometimes");
    assert_eq!(f["status"], "failed", "{f}");
    assert_eq!(f["attempts"].as_array().unwrap().len(), 2);
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .starts_with("quarantined as flaky by its history, but failed every attempt: "),
        "{f}"
    );

    // Released after `release_after = 5` clean runs.
    for n in 21..26 {
        git(
            dir,
            &["commit", "-q", "--allow-empty", "-m", &format!("run {n}")],
        );
        let (_, report) = run_in(dir, n, &[], &[("HISTORY_CALM", "1")]);
        save(dir);
        let f = case(&report, "history tests::flaky_sometimes");
        assert_eq!(f["status"], "passed");
    }
    git(dir, &["commit", "-q", "--allow-empty", "-m", "run 28"]);
    let (_, report) = run_in(dir, 28, &["--retries", "0"], &[]);
    let f = case(&report, "history tests::flaky_sometimes");
    assert_eq!(f["status"], "failed", "released after five clean runs: {f}");

    // A pull request: `stable` breaks (new failure), `broken_later` was failing already.
    git(dir, &["checkout", "-q", "-b", "pr"]);
    std::fs::write(dir.join("stable-broken"), "").unwrap();
    git(dir, &["add", "stable-broken"]);
    git(dir, &["commit", "-q", "-m", "break stable"]);
    let (code_pr, report) = run_in(dir, 29, &[], &[("HISTORY_CALM", "1")]);
    assert_eq!(code_pr, 1);
    assert_eq!(
        case(&report, "history tests::stable")["history"]["change"],
        "new_failure"
    );
    assert_eq!(
        case(&report, "history tests::broken_later")["history"]["change"],
        "still_failing"
    );
    let gate = report["gates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["rule"] == "tests.new_failures == 0")
        .unwrap();
    assert_eq!(
        (&gate["status"], &gate["observed"]),
        (&"failed".into(), &"1".into())
    );

    assert_eq!(report["suites"][0]["details"]["tests"]["base"]["tests"], 3);
}

#[test]
fn shards_merged_record_the_same_history_as_one_run() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    copy_fixture("history", FILES, dir);
    std::fs::write(dir.join(".gitignore"), "target/\nout/\n").unwrap();
    git(dir, &["init", "-q"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "project"]);
    // One whole run on this commit.
    run_in(dir, 0, &["--no-baseline"], &[]);
    save(dir);
    let whole = history(dir, &["-n", "1"]);
    // Two shards of the same run, merged, on the next commit.
    git(dir, &["commit", "-q", "--allow-empty", "-m", "sharded"]);
    for k in 1..=2 {
        let mut cmd = gate_in(dir);
        cmd.args(["run", "--no-baseline", "--progress", "lines"])
            .args(["--partition", &format!("count:{k}/2"), "--out-dir"])
            .arg(format!("shard{k}"))
            .env("HISTORY_RUN", "0");
        output(&mut cmd);
    }
    let out = output(gate_in(dir).args([
        "merge",
        "shard1/report.json",
        "shard2/report.json",
        "-o",
        "out/report.json",
    ]));
    assert!(matches!(code(&out), 0 | 1), "{}", stderr(&out));
    // The merged build time is the longest shard's, not lost with the second shard.
    let shard_build = |k: u32| {
        json(&dir.join(format!("shard{k}/report.json")))["suites"][0]["details"]["tests"]["build_duration"]
            .as_f64()
            .unwrap()
    };
    let merged_build =
        json(&dir.join("out/report.json"))["suites"][0]["details"]["tests"]["build_duration"]
            .as_f64()
            .unwrap();
    assert_eq!(merged_build, shard_build(1).max(shard_build(2)));
    save(dir);
    let merged = history(dir, &["-n", "1"]);
    let strip = |rows: &[Value]| -> Vec<(String, Value, Value, Value)> {
        let mut v: Vec<_> = rows
            .iter()
            .map(|r| {
                (
                    r["test"].as_str().unwrap().to_string(),
                    r["passed"].clone(),
                    r["failed"].clone(),
                    r["flaky"].clone(),
                )
            })
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    };
    assert_eq!(strip(&merged), strip(&whole));
    assert_eq!(merged.len(), 3);
}
