//! Baselines in git notes on real temporary repositories: save along history, compare on a
//! branch against the merge base, bad notes, and concurrent pushes to a shared remote.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;
use serde_json::{Value, json};

/// Deterministic samples around `center` with 1 % noise.
fn samples(center: f64, seed: u64) -> Vec<f64> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..30)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let u = (x >> 11) as f64 / (1u64 << 53) as f64;
            center * (1.0 + 0.02 * (u - 0.5))
        })
        .collect()
}

/// A tiny workspace whose benchmark results come from bench.json (cargo-gate's custom format).
fn project(dir: &Path) {
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"perf-demo\"\nversion = \"0.1.0\"\nedition = \"2021\"\n[workspace]\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(dir.join("src/lib.rs"), "").unwrap();
    std::fs::write(dir.join(".gitignore"), "target/\n").unwrap();
    std::fs::write(
        dir.join("gate.toml"),
        "[tests]\ndoctests = false\nallow_empty = true\n[bench]\ncustom = [\"bench.json\"]\n[gate]\nfail = [\"bench.*.regression < 5%\"]\n",
    )
    .unwrap();
}

fn commit_with(dir: &Path, center: f64, seed: u64, msg: &str) -> String {
    let metrics =
        json!({"metrics": [{"name": "parse", "unit": "ns", "samples": samples(center, seed)}]});
    std::fs::write(dir.join("bench.json"), metrics.to_string()).unwrap();
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", msg]);
    git(dir, &["rev-parse", "HEAD"])
}

fn gate_in(dir: &Path) -> Command {
    let mut cmd = gate("perf-demo");
    cmd.current_dir(dir).env_remove("GITHUB_BASE_REF");
    cmd
}

fn run_and_save(dir: &Path, save: bool) -> (i32, Value) {
    let out = output(gate_in(dir).args(["run", "--progress", "lines", "--out-dir", "target/gate"]));
    let code = code(&out);
    let report = json(&dir.join("target/gate/report.json"));
    if save {
        let out =
            output(gate_in(dir).args(["baseline", "save", "--report", "target/gate/report.json"]));
        assert_eq!(code_of(&out), 0, "{}", stderr(&out));
        assert!(
            stdout(&out).starts_with("saved 2 metric(s) on"),
            "{}",
            stdout(&out)
        );
    }
    (code, report)
}

fn code_of(out: &std::process::Output) -> i32 {
    out.status.code().unwrap()
}

fn comparison<'a>(report: &'a Value, metric: &str) -> &'a Value {
    report["comparisons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["metric"] == metric)
        .unwrap_or_else(|| panic!("no comparison for {metric}: {report}"))
}

#[test]
fn history_branches_and_the_merge_base_decide_the_baseline() {
    let tmp = tempfile::tempdir().unwrap();
    let remote = tmp.path().join("remote.git");
    let dir = tmp.path().join("work");
    std::fs::create_dir_all(&dir).unwrap();
    git(
        tmp.path(),
        &["init", "-q", "--bare", remote.to_str().unwrap()],
    );
    git(&dir, &["init", "-q"]);
    git(&dir, &["remote", "add", "origin", remote.to_str().unwrap()]);
    project(&dir);

    let mut main = Vec::new();
    for (i, seed) in [1u64, 2, 3].into_iter().enumerate() {
        main.push(commit_with(&dir, 100.0, seed, &format!("main {i}")));
        let (code, report) = run_and_save(&dir, true);
        assert_eq!(code, 0);
        if i == 0 {
            // The repository's first commit: said as a first run, not as git's "parent 0".
            assert!(
                report["baseline_note"]
                    .as_str()
                    .unwrap()
                    .starts_with("no baseline: first commit, nothing to compare with yet"),
                "{report}"
            );
            assert_eq!(comparison(&report, "bench.parse")["verdict"], "new");
        } else {
            assert_eq!(
                comparison(&report, "bench.parse")["verdict"],
                "unchanged",
                "{report}"
            );
        }
    }
    let branch_point = main[2].clone();
    git(&dir, &["branch", "feature"]);
    // main moves on and gets much slower after the branch point.
    commit_with(&dir, 130.0, 4, "main slows down");
    run_and_save(&dir, true);
    git(&dir, &["push", "-q", "origin", "main"]);
    git(&dir, &["push", "-q", "origin", "refs/notes/cargo-gate"]);

    // On the feature branch, 10 % slower than the merge base (but faster than main's tip).
    git(&dir, &["checkout", "-q", "feature"]);
    commit_with(&dir, 110.0, 5, "feature slower");
    let out = output(
        gate_in(&dir)
            .args(["run", "--progress", "lines", "--out-dir", "target/gate"])
            .env("GITHUB_BASE_REF", "main"),
    );
    assert_eq!(code(&out), 1, "the regression fails the gate");
    let report = json(&dir.join("target/gate/report.json"));
    let c = comparison(&report, "bench.parse");
    assert_eq!(c["verdict"], "regressed");
    assert_eq!(
        c["baseline_rev"],
        &branch_point[..12],
        "compared with the merge base, not main's tip"
    );
    assert!(c["p_value"].as_f64().unwrap() < 0.01);
    let delta = c["delta_pct"].as_f64().unwrap();
    assert!((9.0..11.0).contains(&delta), "delta {delta}");
    assert_eq!(c["history"].as_array().unwrap().len(), 3);
    assert_eq!(report["gates"][0]["status"], "failed");
    assert_eq!(
        report["gates"][0]["observed"],
        format!("{}% (bench.parse)", (delta * 100.0).round() / 100.0)
    );
    let scorecard = stdout(&out);
    assert!(scorecard.contains("regressed  bench.parse"), "{scorecard}");

    // The PR comment shows the regression first, with its history.
    let normalized = normalize_perf(&dir.join("target/gate/report.json"));
    snapshot_settings().bind(|| {
        insta::assert_snapshot!("comment_perf_regression", rendered(&normalized, "comment"));
    });

    // Back to the baseline's speed: unchanged, the gate passes.
    commit_with(&dir, 100.0, 6, "feature fixed");
    let out = output(
        gate_in(&dir)
            .args(["run", "--progress", "lines", "--out-dir", "target/gate"])
            .env("GITHUB_BASE_REF", "main"),
    );
    assert_eq!(code(&out), 0);
    assert_eq!(
        comparison(&json(&dir.join("target/gate/report.json")), "bench.parse")["verdict"],
        "unchanged"
    );

    // --no-baseline says so and skips the rule.
    let out = output(gate_in(&dir).args([
        "run",
        "--progress",
        "lines",
        "--out-dir",
        "target/gate",
        "--no-baseline",
    ]));
    assert_eq!(code(&out), 0);
    let report = json(&dir.join("target/gate/report.json"));
    assert_eq!(
        report["baseline_note"],
        "baseline comparison is off (--no-baseline)"
    );
    assert_eq!(report["gates"][0]["status"], "skipped");

    // show and log read the notes.
    git(&dir, &["checkout", "-q", "main"]);
    let out = output(gate_in(&dir).args(["baseline", "show", &main[1]]));
    assert!(stdout(&out).contains("bench.parse"), "{}", stdout(&out));
    let out = output(gate_in(&dir).args(["baseline", "log", "--metric", "bench.parse"]));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("bench.parse  ") && lines[0].ends_with("(oldest → newest)"),
        "{text}"
    );
    assert_eq!(lines.len(), 5, "a header and four noted commits: {text}");
    assert!(lines[1].contains("130ns"), "newest first: {text}");
    let out = output(gate_in(&dir).args(["baseline", "log"]));
    assert!(stdout(&out).contains("4 with notes"), "{}", stdout(&out));
    let out = output(gate_in(&dir).args([
        "baseline",
        "compare",
        &main[0],
        "--report",
        "target/gate/report.json",
    ]));
    assert_eq!(code(&out), 0);
    assert!(
        stdout(&out).contains(&format!("baseline: {} ", main[0])),
        "{}",
        stdout(&out)
    );
}

/// Makes a report's comparisons independent of commit ids and timing.
fn normalize_perf(path: &Path) -> PathBuf {
    let original = json(path);
    let normalized = normalize(path);
    let mut r = json(&normalized);
    let comps: Vec<Value> = original["comparisons"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["metric"] != "tests.duration")
        .map(|c| {
            let mut c = c.clone();
            c["baseline_rev"] = json!("0123456789ab");
            c
        })
        .collect();
    r["comparisons"] = Value::Array(comps);
    for s in r["suites"].as_array_mut().unwrap() {
        s["metrics"] = json!([]);
    }
    std::fs::write(&normalized, r.to_string()).unwrap();
    normalized
}

#[test]
fn missing_corrupt_and_newer_notes_are_reported_and_skipped() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    git(dir, &["init", "-q"]);
    project(dir);
    let c1 = commit_with(dir, 100.0, 1, "one");
    run_and_save(dir, true);
    let c2 = commit_with(dir, 100.0, 2, "two");
    git(
        dir,
        &[
            "notes",
            "--ref",
            "cargo-gate",
            "add",
            "-m",
            "{ this is not json",
            &c2,
        ],
    );
    let c3 = commit_with(dir, 100.0, 3, "three");
    git(
        dir,
        &[
            "notes",
            "--ref",
            "cargo-gate",
            "add",
            "-m",
            r#"{"schema": 99, "entries": "from the future"}"#,
            &c3,
        ],
    );
    commit_with(dir, 100.0, 4, "four, no note");
    commit_with(dir, 100.0, 5, "five");
    let out = output(gate_in(dir).args(["run", "--progress", "lines", "--out-dir", "target/gate"]));
    assert_eq!(code(&out), 0);
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "note on {} skipped: the note is not valid cargo-gate JSON",
            &c2[..12]
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "note on {} skipped: the note uses schema 99",
            &c3[..12]
        )),
        "{err}"
    );
    assert!(!err.contains("panicked"));
    let report = json(&dir.join("target/gate/report.json"));
    assert_eq!(
        comparison(&report, "bench.parse")["baseline_rev"],
        &c1[..12],
        "the nearest usable note"
    );

    let out = output(gate_in(dir).args(["baseline", "show", &c2]));
    assert_eq!(code_of(&out), 2);
    assert!(stderr(&out).contains("not valid cargo-gate JSON"));
    // Saving onto a corrupt note replaces it; onto a newer one is refused.
    let out = output(gate_in(dir).args([
        "baseline",
        "save",
        "--rev",
        &c3,
        "--report",
        "target/gate/report.json",
    ]));
    assert_eq!(code_of(&out), 2);
    assert!(
        stderr(&out).contains("newer cargo-gate"),
        "{}",
        stderr(&out)
    );
    let out = output(gate_in(dir).args([
        "baseline",
        "save",
        "--rev",
        &c2,
        "--report",
        "target/gate/report.json",
    ]));
    assert_eq!(code_of(&out), 0);
    let out = output(gate_in(dir).args(["baseline", "show", "--", "nonexistent-rev"]));
    assert_eq!(code_of(&out), 2);
}

fn report_with(run_id: &str, center: f64) -> Value {
    json!({
        "schema": 1, "tool_version": "0", "run": {"id": run_id, "started": "2026-01-01T00:00:00Z", "duration": 1.0, "profile": "default"},
        "suites": [{"kind": "bench", "name": "bench", "status": "passed", "duration": 1.0, "cases": [],
                    "metrics": [{"name": "bench.parse", "unit": "ns", "direction": "lower_is_better", "samples": [center, center + 1.0]}]}],
        "verdict": {"status": "passed", "reasons": []}
    })
}

#[test]
fn concurrent_pushes_from_several_clones_lose_no_entry() {
    concurrent_pushes(None);
}

/// A git whose messages are in German whatever LC_ALL says (as a localized git that ignores
/// the C locale would be): the push race must still be seen and resolved.
#[test]
fn a_localized_git_still_resolves_the_push_race() {
    let tmp = tempfile::tempdir().unwrap();
    let wrapper = tmp.path().join("git-de");
    std::fs::write(
        &wrapper,
        "#!/bin/sh\n\
         err=$(mktemp)\n\
         git \"$@\" 2>\"$err\"\n\
         code=$?\n\
         sed -e 's/rejected/abgewiesen/g; s/fetch first/zuerst holen/g; s/non-fast-forward/kein Vorspulen/g; s/lock/Sperre/g; s/remote ref/Remote-Referenz/g' \"$err\" >&2\n\
         rm -f \"$err\"\n\
         exit $code\n",
    )
    .unwrap();
    let mut perms = std::fs::metadata(&wrapper).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&wrapper, perms).unwrap();
    concurrent_pushes(Some(&wrapper));
}

fn concurrent_pushes(git_program: Option<&Path>) {
    let tmp = tempfile::tempdir().unwrap();
    let (remote, _seed, commits) = shared_remote(tmp.path(), 4);

    let clones: Vec<PathBuf> = (0..4)
        .map(|i| {
            let c = tmp.path().join(format!("clone{i}"));
            git(
                tmp.path(),
                &["clone", "-q", remote.to_str().unwrap(), c.to_str().unwrap()],
            );
            let report = c.join("report.json");
            std::fs::write(
                &report,
                report_with(&format!("run-{i}"), 100.0 + f64::from(i)).to_string(),
            )
            .unwrap();
            // Each clone measures its own commit, and all of them measure the first one.
            for rev in [commits[i as usize].as_str(), commits[0].as_str()] {
                let out = output(gate("none").current_dir(&c).args([
                    "baseline",
                    "save",
                    "--report",
                    "report.json",
                    "--rev",
                    rev,
                ]));
                assert_eq!(code_of(&out), 0, "{}", stderr(&out));
            }
            c
        })
        .collect();
    let handles: Vec<_> = clones
        .iter()
        .map(|c| {
            let mut cmd = gate("none");
            cmd.current_dir(c).args(["baseline", "push"]);
            if let Some(program) = git_program {
                cmd.env("CARGO_GATE_GIT", program);
            }
            std::thread::spawn(move || cmd.output().unwrap())
        })
        .collect();
    for h in handles {
        let out = h.join().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    let check = tmp.path().join("check");
    git(
        tmp.path(),
        &[
            "clone",
            "-q",
            remote.to_str().unwrap(),
            check.to_str().unwrap(),
        ],
    );
    let out = output(gate("none").current_dir(&check).args(["baseline", "fetch"]));
    assert_eq!(code_of(&out), 0, "{}", stderr(&out));
    let note = |rev: &str| git(&check, &["notes", "--ref", "cargo-gate", "show", rev]);
    let first: Value = serde_json::from_str(&note(&commits[0])).unwrap();
    let runs: Vec<&str> = first["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["run_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        runs,
        vec!["run-0", "run-1", "run-2", "run-3"],
        "every clone's entry on the shared commit"
    );
    for (i, c) in commits.iter().enumerate().skip(1) {
        let n: Value = serde_json::from_str(&note(c)).unwrap();
        let runs: Vec<&str> = n["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["run_id"].as_str().unwrap())
            .collect();
        assert_eq!(runs, vec![format!("run-{i}")]);
    }
    // The remote's history was never rewritten by force: every clone's push fast-forwarded.
    let log = git(&check, &["log", "--oneline", "refs/notes/cargo-gate"]);
    assert!(log.lines().count() >= 4, "{log}");
}

#[test]
fn criterion_results_become_metrics_with_every_sample() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("bench");
    copy_fixture(
        "bench",
        &[
            "Cargo.toml",
            "Cargo.lock",
            "gate.toml",
            "src/lib.rs",
            "benches/parse.rs",
        ],
        &dir,
    );
    git(&dir, &["init", "-q"]);
    git(&dir, &["add", "-A"]);
    git(&dir, &["commit", "-q", "-m", "bench"]);
    let mut cmd = gate("bench");
    cmd.current_dir(&dir).args([
        "run",
        "--progress",
        "lines",
        "--suite",
        "bench",
        "--out-dir",
        "target/gate",
    ]);
    let out = output(&mut cmd);
    assert_eq!(code(&out), 0);
    // cargo bench's own progress is streamed into the log while it runs, and the suite is
    // summed up in benchmarks, each first one saying why it has no verdict.
    let err = stderr(&out);
    assert!(
        err.contains("        bench │ Benchmarking parse/small"),
        "{err}"
    );
    assert!(err.contains("PASSED bench: 2 benchmarks ("), "{err}");
    let card = stdout(&out);
    assert!(card.contains(" bench: 2 benchmarks: 2 new ("), "{card}");
    assert!(!card.contains("0 passed"), "{card}");
    assert!(
        card.contains("first run: nothing to compare with yet; this run becomes the baseline after `baseline save`"),
        "{card}"
    );
    let report = json(&dir.join("target/gate/report.json"));
    let bench = report["suites"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "bench")
        .unwrap();
    let names: Vec<&str> = bench["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["bench.parse/large", "bench.parse/small"]);
    for m in bench["metrics"].as_array().unwrap() {
        assert_eq!(m["unit"], "ns");
        assert_eq!(
            m["samples"].as_array().unwrap().len(),
            10,
            "criterion's sample_size, all kept"
        );
    }
    assert_eq!(report["gates"][0]["rule"], "bench.parse/large.mean < 10ms");
    assert_eq!(report["gates"][0]["status"], "passed");
    let out = output(gate("bench").current_dir(&dir).args([
        "baseline",
        "save",
        "--report",
        "target/gate/report.json",
    ]));
    assert_eq!(code_of(&out), 0, "{}", stderr(&out));
}

#[test]
fn bisect_names_the_first_regressing_commit() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    git(dir, &["init", "-q"]);
    project(dir);
    let commits: Vec<String> = [100.0, 100.0, 101.0, 125.0, 126.0, 125.0]
        .iter()
        .enumerate()
        .map(|(i, c)| commit_with(dir, *c, i as u64 + 10, &format!("step {i}")))
        .collect();
    let measure = format!(
        "{} run --suite bench --no-baseline --progress lines --out-dir target/gate",
        env!("CARGO_BIN_EXE_cargo-gate")
    );
    let out = output(gate_in(dir).args([
        "baseline",
        "bisect",
        "bench.parse",
        &commits[0],
        &commits[5],
        "--cmd",
        &measure,
    ]));
    assert_eq!(code_of(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.starts_with(&format!("first regressing commit: {} step 3", commits[3])),
        "{text}"
    );
    assert!(
        !git(dir, &["worktree", "list"]).contains("cargo-gate-bisect"),
        "worktrees are removed"
    );
    assert_eq!(
        git(dir, &["status", "--porcelain"]),
        "",
        "the checkout is untouched"
    );

    // No regression between two equal commits: said plainly.
    let out = output(gate_in(dir).args([
        "baseline",
        "bisect",
        "bench.parse",
        &commits[0],
        &commits[2],
        "--cmd",
        &measure,
    ]));
    assert_eq!(code_of(&out), 2);
    assert!(stderr(&out).contains("did not regress"), "{}", stderr(&out));
}

/// `baseline fetch` from a diverged remote holding a note of a newer schema: the merge cannot be
/// done, so it fails and the local notes ref is exactly what it was (it used to be reset to the
/// remote's tip, losing the local notes not yet re-added). A newer note of ours that the remote
/// does not have is carried over as it is.
#[test]
fn a_failed_fetch_leaves_the_local_notes_as_they_were() {
    let tmp = tempfile::tempdir().unwrap();
    let (remote, seed, commits) = shared_remote(tmp.path(), 3);
    let note = |dir: &Path, text: &str, rev: &str| {
        git(
            dir,
            &["notes", "--ref", "cargo-gate", "add", "-f", "-m", text, rev],
        );
    };
    let current = r#"{"schema": 1, "entries": [{"metric": "bench.x", "unit": "ns", "direction": "lower_is_better", "samples": [1.0], "run_id": "LOCAL"}]}"#;
    let future = r#"{"schema": 99, "entries": "from the future"}"#;
    // The remote: a newer-schema note on c0 (pushed from the seed clone).
    note(&seed, future, &commits[0]);
    git(
        &seed,
        &[
            "push",
            "-q",
            remote.to_str().unwrap(),
            "refs/notes/cargo-gate",
        ],
    );
    // Ours, diverged: notes on c0 and c1.
    let ours = tmp.path().join("ours");
    git(
        tmp.path(),
        &[
            "clone",
            "-q",
            remote.to_str().unwrap(),
            ours.to_str().unwrap(),
        ],
    );
    note(&ours, current, &commits[0]);
    note(&ours, current, &commits[1]);
    let before = git(&ours, &["rev-parse", "refs/notes/cargo-gate"]);
    let out = output(gate("none").current_dir(&ours).args(["baseline", "fetch"]));
    assert_ne!(code(&out), 0, "the merge cannot be done");
    assert!(
        stderr(&out).contains("cannot be merged"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("unchanged"), "{}", stderr(&out));
    assert_eq!(
        git(&ours, &["rev-parse", "refs/notes/cargo-gate"]),
        before,
        "the local notes ref is exactly as before"
    );
    // A newer note of ours on a commit the remote has no note for survives a merge.
    let theirs = tmp.path().join("theirs");
    git(
        tmp.path(),
        &[
            "clone",
            "-q",
            remote.to_str().unwrap(),
            theirs.to_str().unwrap(),
        ],
    );
    git(
        &theirs,
        &[
            "fetch",
            "-q",
            "origin",
            "refs/notes/cargo-gate:refs/notes/cargo-gate",
        ],
    );
    note(&theirs, current, &commits[2]);
    git(&theirs, &["push", "-q", "origin", "refs/notes/cargo-gate"]);
    let mine = tmp.path().join("mine");
    git(
        tmp.path(),
        &[
            "clone",
            "-q",
            remote.to_str().unwrap(),
            mine.to_str().unwrap(),
        ],
    );
    note(&mine, future, &commits[1]);
    let out = output(gate("none").current_dir(&mine).args(["baseline", "fetch"]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        git(
            &mine,
            &["notes", "--ref", "cargo-gate", "show", &commits[1]]
        ),
        future,
        "our newer note is kept"
    );
    assert!(
        git(
            &mine,
            &["notes", "--ref", "cargo-gate", "show", &commits[2]]
        )
        .contains("LOCAL")
    );
}

/// A bare repository `remote.git` in `dir` holding `n` commits on `main`, pushed from a clone
/// `seed`: the shared remote several clones fetch notes from and push them to.
fn shared_remote(dir: &Path, n: usize) -> (PathBuf, PathBuf, Vec<String>) {
    let remote = dir.join("remote.git");
    git(dir, &["init", "-q", "--bare", remote.to_str().unwrap()]);
    let seed = dir.join("seed");
    std::fs::create_dir_all(&seed).unwrap();
    git(&seed, &["init", "-q"]);
    let mut commits = Vec::new();
    for i in 0..n {
        std::fs::write(seed.join("f"), i.to_string()).unwrap();
        git(&seed, &["add", "-A"]);
        git(&seed, &["commit", "-q", "-m", &format!("c{i}")]);
        commits.push(git(&seed, &["rev-parse", "HEAD"]));
    }
    git(
        &seed,
        &[
            "push",
            "-q",
            remote.to_str().unwrap(),
            "HEAD:refs/heads/main",
        ],
    );
    (remote, seed, commits)
}

/// A bench report with `bench.parse` around `value` measured on `machine`.
fn machine_report(value: f64, machine: &str) -> serde_json::Value {
    let samples: Vec<f64> = [1.0, 1.002, 0.998, 1.001, 0.999]
        .iter()
        .map(|f| f * value)
        .collect();
    serde_json::json!({
        "schema": 2, "tool_version": "0",
        "run": {"id": format!("r{value}{machine}"), "started": "2026-01-01T00:00:00Z", "duration": 1.0, "profile": "default", "git": {}, "machine": machine},
        "suites": [{"kind": "bench", "name": "bench", "status": "passed", "duration": 1.0, "cases": [],
            "metrics": [{"name": "bench.parse", "unit": "ns", "direction": "lower_is_better", "role": "compared", "samples": samples}]}],
        "gates": [], "verdict": {"status": "passed", "reasons": []}
    })
}

/// Notes from two machine classes, one a third slower: against the mixed history a 4 % slowdown
/// on the fast class hides in the spread between classes; against its own class's history (as
/// recorded with each note) it is a regression. An A/A run on the fast class is unchanged.
#[test]
fn history_is_compared_per_machine_class_when_there_is_enough_of_it() {
    let dir = git_workspace("");
    let d = dir.path();
    git_init_commit(d);
    for i in 0..16u32 {
        let (value, machine) = if i % 2 == 0 {
            (100.0 * (1.0 + 0.002 * f64::from(i % 3)), "Fast CPU ×4")
        } else {
            (130.0 * (1.0 + 0.002 * f64::from(i % 3)), "Slow CPU ×2")
        };
        write_file(d, "r.json", &machine_report(value, machine).to_string());
        let saved = output(
            gate("none")
                .current_dir(d)
                .args(["gate", "baseline", "save", "--report", "r.json"]),
        );
        assert_eq!(code(&saved), 0, "{}", stderr(&saved));
        git(
            d,
            &["commit", "-q", "--allow-empty", "-m", &format!("c{i}")],
        );
    }
    let compare = |value: f64, machine: &str| -> serde_json::Value {
        write_file(d, "now.json", &machine_report(value, machine).to_string());
        let out = output(gate("none").current_dir(d).args([
            "gate", "baseline", "compare", "--json", "--report", "now.json",
        ]));
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        let all: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        all[0].clone()
    };
    let slower = compare(104.0, "Fast CPU ×4");
    assert_eq!(slower["method"], "history", "{slower}");
    assert_eq!(slower["verdict"], "regressed", "{slower}");
    assert_eq!(
        slower["history"].as_array().unwrap().len(),
        8,
        "the fast class's 8 runs only"
    );
    assert_eq!(slower["history_machine"], "Fast CPU ×4", "{slower}");
    let same = compare(100.1, "Fast CPU ×4");
    assert_eq!(same["verdict"], "unchanged", "{same}");
    // A class with too little history of its own: every run counts, and the spread between
    // classes makes 4 % undetectable, which the comparison says.
    let other = compare(104.0, "Other CPU ×8");
    assert_eq!(other["verdict"], "unchanged", "{other}");
    assert!(other["detectable_pct"].as_f64().unwrap() > 10.0, "{other}");
    assert!(other.get("history_machine").is_none(), "{other}");

    // The log keeps one trend per machine class: they are not comparable on one line.
    let log = output(
        gate("none")
            .current_dir(d)
            .args(["gate", "baseline", "log"]),
    );
    let text = stdout(&log);
    let lines: Vec<&str> = text.lines().filter(|l| l.contains("bench.parse")).collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0].contains("bench.parse [Fast CPU ×4]") && lines[0].contains("100"),
        "{text}"
    );
    assert!(
        lines[1].contains("bench.parse [Slow CPU ×2]") && lines[1].contains("130"),
        "{text}"
    );
    let log = output(gate("none").current_dir(d).args([
        "gate",
        "baseline",
        "log",
        "--metric",
        "bench.parse",
    ]));
    let text = stdout(&log);
    let heads: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("bench.parse"))
        .collect();
    assert_eq!(
        heads
            .iter()
            .map(|h| h.split("  ").next().unwrap_or(""))
            .collect::<Vec<_>>(),
        ["bench.parse on Fast CPU ×4", "bench.parse on Slow CPU ×2"],
        "{text}"
    );
    assert_eq!(
        text.lines().filter(|l| l.contains("sample(s)")).count(),
        16,
        "{text}"
    );
}

/// `counter = "instructions"`: the command runs under callgrind and its instruction count is
/// the metric, compared with the base's by ratio alone (no statistics: the same code counts the
/// same on any machine). Without valgrind the case fails saying what to install.
#[test]
fn instruction_counts_are_compared_by_their_ratio() {
    let dir = git_workspace(
        "[bench]\ncriterion = false\nlibtest = false\n[[bench.command]]\nname = \"loop\"\ncmd = [\"sh\", \"-c\", \"i=0; n=$(cat n); while [ $i -lt $n ]; do i=$((i+1)); done\"]\ncounter = \"instructions\"\n[gate]\nfail = [\"bench.*.regression < 5%\"]\n",
    );
    let d = dir.path();
    write_file(d, "n", "20000");
    git_init_commit(d);
    let run = || {
        let out = output(gate("none").current_dir(d).args([
            "gate",
            "run",
            "--suite",
            "bench",
            "--progress",
            "lines",
            "--out-dir",
            "target/gate",
        ]));
        (code(&out), json(&d.join("target/gate/report.json")))
    };
    let (status, report) = run();
    let has_valgrind = std::process::Command::new("valgrind")
        .arg("--version")
        .output()
        .is_ok();
    if !has_valgrind {
        assert_eq!(status, 1);
        let case = &report["suites"][0]["cases"][0];
        assert!(
            case["message"]
                .as_str()
                .unwrap()
                .contains("apt-get install valgrind"),
            "{case}"
        );
        return;
    }
    assert_eq!(status, 0, "{report}");
    let metric = &report["suites"][0]["metrics"][0];
    assert_eq!(
        (metric["name"].as_str(), metric["unit"].as_str()),
        (Some("bench.loop"), Some("instructions"))
    );
    let count = metric["samples"][0].as_f64().unwrap();
    assert!(
        count > 1e6,
        "a 20000-step shell loop executes millions of instructions: {count}"
    );
    let saved = output(gate("none").current_dir(d).args([
        "gate",
        "baseline",
        "save",
        "--report",
        "target/gate/report.json",
    ]));
    assert_eq!(code(&saved), 0);
    git(d, &["commit", "-q", "--allow-empty", "-m", "same"]);
    let (status, report) = run();
    assert_eq!(
        status, 0,
        "the same code counts the same: {}",
        report["comparisons"]
    );
    let c = &report["comparisons"][0];
    assert_eq!(
        (c["method"].as_str(), c["verdict"].as_str()),
        (Some("counts"), Some("unchanged")),
        "{c}"
    );
    assert!(c["delta_pct"].as_f64().unwrap().abs() < 1.0, "{c}");
    // 30 % more loop steps: a regression, found without any statistics.
    write_file(d, "n", "26000");
    git(d, &["commit", "-q", "-am", "more work"]);
    let (status, report) = run();
    assert_eq!(status, 1, "{}", report["comparisons"]);
    let c = &report["comparisons"][0];
    assert_eq!(
        (c["method"].as_str(), c["verdict"].as_str()),
        (Some("counts"), Some("regressed")),
        "{c}"
    );
}

/// Saving the report of a run that stopped on its config says so, instead of blaming the
/// report for having no metrics.
#[test]
fn saving_a_config_error_report_names_the_config_error() {
    let ws = git_workspace("[tests]\nretries = \"two\"\n");
    git_init_commit(ws.path());
    let run = output(gate("none").current_dir(ws.path()).args([
        "gate",
        "run",
        "--out-dir",
        "target/gate",
    ]));
    assert_eq!(code(&run), 2, "{}", stderr(&run));
    // Fixed since, but the report is still the broken run's.
    write_file(ws.path(), "gate.toml", "[tests]\nretries = 2\n");
    let save = output(gate("none").current_dir(ws.path()).args([
        "gate",
        "baseline",
        "save",
        "--report",
        "target/gate/report.json",
    ]));
    assert_eq!(code(&save), 2, "{}", stderr(&save));
    let err = stderr(&save);
    assert!(
        err.contains("stopped on its config (gate.toml:2:11"),
        "{err}"
    );
    assert!(!err.contains("no performance metrics"), "{err}");
}
