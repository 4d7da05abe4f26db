//! `--partition time:K/N` on a real git repository: durations recorded by `baseline save` after
//! a full run balance the shards of a later commit.

use std::path::Path;

use crate::common::*;

/// One test that sleeps 800 ms and six that return at once.
fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_file(
        d,
        "Cargo.toml",
        "[package]\nname = \"timed\"\nversion = \"0.1.0\"\nedition = \"2021\"\n[workspace]\n",
    );
    let mut lib = String::from(
        "#[test]\nfn slow() { std::thread::sleep(std::time::Duration::from_millis(800)); }\n",
    );
    for i in 1..=6 {
        lib.push_str(&format!("#[test]\nfn fast_{i}() {{}}\n"));
    }
    write_file(d, "src/lib.rs", &lib);
    write_file(d, ".gitignore", "target/\nout/\nreports/\nCargo.lock\n");
    git_init_commit(d);
    dir
}

fn gate_run(d: &Path, extra: &[&str]) -> (std::process::Output, Vec<String>) {
    let out = output(
        gate("timed")
            .current_dir(d)
            .args([
                "run",
                "--progress",
                "lines",
                "--no-doctests",
                "--no-baseline",
            ])
            .args(["--out-dir", "out"])
            .args(extra),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let ids = statuses(&json(&d.join("out/report.json")))
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    (out, ids)
}

/// Runs both shards; their reports are kept as `reports/{tag}-{k}.json`.
fn shards(d: &Path, strategy: &str, tag: &str) -> (Vec<Vec<String>>, String) {
    let mut all = Vec::new();
    let mut err = String::new();
    std::fs::create_dir_all(d.join("reports")).unwrap();
    for k in 1..=2 {
        let (out, ids) = gate_run(d, &["--partition", &format!("{strategy}:{k}/2")]);
        err.push_str(&stderr(&out));
        all.push(ids);
        std::fs::copy(
            d.join("out/report.json"),
            d.join(format!("reports/{tag}-{k}.json")),
        )
        .unwrap();
    }
    (all, err)
}

fn merge(d: &Path, reports: &[&str]) -> std::process::Output {
    output(
        gate("timed")
            .current_dir(d)
            .args(["merge", "-o", "out/merged.json"])
            .args(reports.iter().map(|r| format!("reports/{r}.json"))),
    )
}

#[test]
fn time_shards_use_the_durations_noted_on_the_base() {
    let dir = repo();
    let d = dir.path();

    // No note yet: time splits like count, and says so.
    let (by_count, err) = shards(d, "time", "before");
    assert!(err.contains("splitting by count"), "{err}");
    let expected: Vec<Vec<String>> = [
        &["fast_1", "fast_3", "fast_5", "slow"][..],
        &["fast_2", "fast_4", "fast_6"][..],
    ]
    .iter()
    .map(|shard| shard.iter().map(|t| format!("timed {t}")).collect())
    .collect();
    assert_eq!(by_count, expected);

    // A full run on the base commit, saved as its note (what the action does on main).
    gate_run(d, &[]);
    let save = gate("timed")
        .current_dir(d)
        .args(["baseline", "save", "--report", "out/report.json"])
        .output()
        .unwrap();
    let saved = String::from_utf8_lossy(&save.stdout);
    assert!(save.status.success(), "{saved} {save:?}");
    assert!(
        saved.contains("with the times of 1 slow test(s)"),
        "{saved}"
    );

    // The next commit balances by time: the slow test alone, the six fast ones together.
    write_file(d, "NOTES.txt", "next\n");
    git(d, &["add", "-A"]);
    git(d, &["commit", "-q", "-m", "next"]);
    let (by_time, err) = shards(d, "time", "after");
    assert!(
        err.contains("durations of 1 slow test(s) from the note on"),
        "{err}"
    );
    assert_eq!(by_time[0], ["timed slow"]);
    assert_eq!(by_time[1].len(), 6, "{by_time:?}");

    // Shards that split from the same durations merge into the whole run...
    let out = merge(d, &["after-1", "after-2"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(statuses(&json(&d.join("out/merged.json"))).len(), 7);
    // ...shards that split from different ones are refused (these two both ran fast_1, fast_3
    // and fast_5).
    let out = merge(d, &["before-1", "after-2"]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("split by time from different recorded durations"),
        "{}",
        stderr(&out)
    );
}

/// The action's `mode: merge` the way the sharded workflow drives it: three shard reports in
/// artifact folders (one test failing in one of them) → scripts/merge-shards.sh → one report of
/// every case whose verdict is the failing shard's, and the step outputs the publishing steps
/// read. No shard reports at all is an error, not an empty pass.
#[test]
fn the_merge_mode_script_merges_shard_artifacts_into_the_worst_verdict() {
    let dir = repo();
    let d = dir.path();
    let lib = std::fs::read_to_string(d.join("src/lib.rs")).unwrap();
    write_file(
        d,
        "src/lib.rs",
        &format!("{lib}#[test]\nfn broken() {{ panic!(\"no\") }}\n"),
    );
    let mut codes = Vec::new();
    for k in 1..=3 {
        // Its own target directory: another test builds a different `timed` at the same time.
        let out = output(gate("timed-merge").current_dir(d).args([
            "run",
            "--progress",
            "lines",
            "--no-doctests",
            "--no-baseline",
            "--partition",
            &format!("count:{k}/3"),
            "--out-dir",
            &format!("shards/cargo-gate-report-{k}"),
        ]));
        codes.push(code(&out));
    }
    assert_eq!(
        codes.iter().filter(|c| **c == 1).count(),
        1,
        "one shard holds the failing test: {codes:?}"
    );
    let merge = |shards: &str| {
        let outputs = d.join(format!("{shards}.out"));
        let run = std::process::Command::new("bash")
            .arg(root().join("scripts/merge-shards.sh"))
            .current_dir(d)
            .env("SHARDS", d.join(shards))
            .env("OUT", d.join("merged"))
            .env("CARGO_GATE", env!("CARGO_BIN_EXE_cargo-gate"))
            .env("GITHUB_OUTPUT", &outputs)
            .output()
            .unwrap();
        (run, std::fs::read_to_string(outputs).unwrap_or_default())
    };
    let (run, outputs) = merge("shards");
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(
        outputs.contains("verdict=failed\n") && outputs.contains("exit-code=1\n"),
        "{outputs}"
    );
    let merged = json(&d.join("merged/report.json"));
    assert_eq!(statuses(&merged).len(), 8, "every shard's cases: {merged}");
    assert_eq!(merged["verdict"]["status"], "failed");

    std::fs::create_dir_all(d.join("none")).unwrap();
    let (run, outputs) = merge("none");
    assert!(run.status.success());
    assert!(
        stdout(&run).contains("::error::no shard reports"),
        "{}",
        stdout(&run)
    );
    assert!(
        outputs.contains("verdict=error\n") && outputs.contains("exit-code=2\n"),
        "{outputs}"
    );
}

/// A merged report is compared with the baselines from its own, merged metrics: shards that saw
/// different `tests.duration` (the slow test on one of them) merge into one comparison whose
/// current value is the merged one, whichever shard comes first.
#[test]
fn merged_shards_are_compared_from_the_merged_metrics() {
    let dir = repo();
    let d = dir.path();
    gate_run(d, &[]);
    let save = output(gate("timed").current_dir(d).args([
        "baseline",
        "save",
        "--report",
        "out/report.json",
    ]));
    assert_eq!(code(&save), 0);
    write_file(d, "NOTES.txt", "next\n");
    git(d, &["add", "-A"]);
    git(d, &["commit", "-q", "-m", "next"]);
    std::fs::create_dir_all(d.join("reports")).unwrap();
    let mut shard_durations = Vec::new();
    for k in 1..=2 {
        let out = output(
            gate("timed")
                .current_dir(d)
                .args(["run", "--progress", "lines", "--no-doctests"])
                .args(["--partition", &format!("time:{k}/2"), "--out-dir", "out"]),
        );
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        let report = json(&d.join("out/report.json"));
        let comparison = report["comparisons"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["metric"] == "tests.duration")
            .cloned()
            .unwrap_or_else(|| panic!("shard {k} compares tests.duration: {report}"));
        shard_durations.push(comparison["current"].as_f64().unwrap());
        std::fs::copy(
            d.join("out/report.json"),
            d.join(format!("reports/shard-{k}.json")),
        )
        .unwrap();
    }
    // Shard 1 ran the slow test alone, shard 2 the six fast ones.
    assert!(
        shard_durations[0] > 0.7 && shard_durations[1] < 0.5,
        "{shard_durations:?}"
    );
    // The fast shard first: its comparison must not become the merged one.
    let out = merge(d, &["shard-2", "shard-1"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let merged = json(&d.join("out/merged.json"));
    let metric = merged["suites"][0]["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "tests.duration")
        .unwrap()["samples"][0]
        .as_f64()
        .unwrap();
    assert_eq!(
        metric, shard_durations[0],
        "a merged wall time is the slowest shard's"
    );
    let comparison = merged["comparisons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["metric"] == "tests.duration")
        .unwrap_or_else(|| panic!("a comparison: {merged}"));
    assert_eq!(comparison["current"].as_f64(), Some(metric), "{comparison}");
    assert!(comparison["baseline_rev"].is_string(), "{comparison}");
}
