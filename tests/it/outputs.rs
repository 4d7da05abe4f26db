//! Saved reports: re-rendering, merging shards, partitions, and snapshots of our own output.

use crate::common::*;
use serde_json::Value;

fn ids(report: &Value) -> Vec<String> {
    statuses(report).into_iter().map(|(id, _)| id).collect()
}

#[test]
fn shards_cover_every_test_once_and_merge_back() {
    let full_dir = tempfile::tempdir().unwrap();
    assert_eq!(code(&run("demo", full_dir.path(), &[])), 0);
    let full = ids(&json(&full_dir.path().join("report.json")));

    for strategy in ["hash", "count"] {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        assert_eq!(
            code(&run(
                "demo",
                a.path(),
                &["--partition", &format!("{strategy}:1/2")]
            )),
            0
        );
        assert_eq!(
            code(&run(
                "demo",
                b.path(),
                &["--partition", &format!("{strategy}:2/2")]
            )),
            0
        );
        let ra = json(&a.path().join("report.json"));
        assert_eq!(ra["run"]["partition"], format!("{strategy}:1/2"));
        let (ia, ib) = (ids(&ra), ids(&json(&b.path().join("report.json"))));
        assert!(
            !ia.is_empty() && !ib.is_empty(),
            "{strategy}: both shards have work"
        );
        let mut union: Vec<String> = ia.iter().chain(ib.iter()).cloned().collect();
        union.sort();
        assert_eq!(union, full, "{strategy}: every test in exactly one shard");

        let merged = a.path().join("merged.json");
        let mut cmd = gate("demo");
        cmd.arg("merge")
            .arg(a.path().join("report.json"))
            .arg(b.path().join("report.json"))
            .arg("-o")
            .arg(&merged)
            .arg("--manifest-path")
            .arg(manifest("demo"));
        let out = output(&mut cmd);
        assert_eq!(code(&out), 0);
        let m = json(&merged);
        assert_eq!(ids(&m), full);
        assert_eq!(m["run"]["merged_from"].as_array().unwrap().len(), 2);
        // One tests.duration: the slower shard's, the run's wall time.
        let duration = |r: &Value| -> Vec<f64> {
            r["suites"][0]["metrics"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|x| x["name"] == "tests.duration")
                .flat_map(|x| {
                    x["samples"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v.as_f64().unwrap())
                })
                .collect()
        };
        let shard_a = duration(&ra)[0];
        let shard_b = duration(&json(&b.path().join("report.json")))[0];
        assert_eq!(duration(&m), [shard_a.max(shard_b)]);
        assert!(m["run"].get("partition").is_none());
        assert_eq!(
            m["gates"].as_array().unwrap().len(),
            5,
            "the demo's gate.toml applies to the merge"
        );
        assert_eq!(m["verdict"]["status"], "passed");

        // Shard 2 missing: a merge of shard 1 alone is refused, not judged on half the tests.
        let out = output(
            gate("demo")
                .arg("merge")
                .arg(a.path().join("report.json"))
                .arg("-o")
                .arg(a.path().join("half.json"))
                .arg("--manifest-path")
                .arg(manifest("demo")),
        );
        assert_eq!(code(&out), 2, "{}", stderr(&out));
        assert!(
            stderr(&out).contains(&format!("shard(s) {strategy}:2/2 missing")),
            "{}",
            stderr(&out)
        );
        assert!(!a.path().join("half.json").exists());
    }
}

#[test]
fn merging_the_same_shard_twice_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        code(&run(
            "demo",
            dir.path(),
            &["-p", "demo-core", "--no-doctests"]
        )),
        0
    );
    let r = dir.path().join("report.json");
    let out = output(
        gate("demo")
            .arg("merge")
            .arg(&r)
            .arg(&r)
            .arg("-o")
            .arg(dir.path().join("m.json")),
    );
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(err.contains("is in both"), "{err}");
    assert!(err.contains("--partition hash:K/N"), "{err}");
    assert!(
        !dir.path().join("m.json").exists(),
        "nothing written on error"
    );
}

#[test]
fn merge_applies_the_gate_to_the_whole() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    assert_eq!(
        code(&run(
            "mixed",
            &a,
            &["--no-doctests", "--retries", "0", "tests::passes"]
        )),
        0
    );
    assert_eq!(
        code(&run(
            "mixed",
            &b,
            &["--no-doctests", "--retries", "0", "tests::panics"]
        )),
        1
    );
    let merged = dir.path().join("m.json");
    let out = output(
        gate("mixed")
            .arg("merge")
            .arg(a.join("report.json"))
            .arg(b.join("report.json"))
            .arg("-o")
            .arg(&merged)
            .arg("--manifest-path")
            .arg(manifest("mixed")),
    );
    assert_eq!(code(&out), 1, "one failing shard fails the merged gate");
    let m = json(&merged);
    assert_eq!(m["suites"][0]["status"], "failed");
    assert_eq!(m["gates"][0]["observed"], "1");
}

#[test]
fn report_re_renders_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(code(&run("demo", dir.path(), &["-p", "demo-core"])), 0);
    let report = dir.path().join("report.json");
    let original = json(&report);
    let render = |format: &str| {
        let out = output(
            gate("demo")
                .args(["report", "--format", format])
                .arg(&report),
        );
        assert_eq!(code(&out), 0, "{format}");
        stdout(&out)
    };
    let again: Value = serde_json::from_str(&render("json")).unwrap();
    assert_eq!(again, original, "json round-trips");
    let junit = quick_junit::Report::deserialize_from_str(&render("junit")).unwrap();
    assert_eq!(junit.tests, 6);
    assert!(render("html").starts_with("<!doctype html>"));
    assert!(render("markdown").contains("| ✅ **tests** | 6 | 6 | 0 |"));
    assert!(render("terminal").contains("tests: 6 passed"));

    let file = dir.path().join("out.md");
    let out = output(
        gate("demo")
            .args(["report", "--format", "markdown", "-o"])
            .arg(&file)
            .arg(&report),
    );
    assert_eq!(code(&out), 0);
    assert!(std::fs::read_to_string(file).unwrap().starts_with("## ✅"));

    // On a terminal, HTML is written beside the report instead of dumped on the screen.
    std::fs::remove_file(dir.path().join("report.html")).unwrap();
    let (mut master, mut slave) = (0, 0);
    let opened = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(opened, 0, "openpty");
    use std::os::fd::FromRawFd;
    let (master, slave) = unsafe {
        (
            std::fs::File::from_raw_fd(master),
            std::process::Stdio::from_raw_fd(slave),
        )
    };
    let status = gate("demo")
        .args(["report", "--format", "html"])
        .arg(&report)
        .stdout(slave)
        .status()
        .unwrap();
    assert!(status.success());
    // Once the child is gone the terminal reports an error instead of an end: keep what came.
    let mut bytes = Vec::new();
    let mut buf = [0u8; 4096];
    let mut master = master;
    while let Ok(n) = std::io::Read::read(&mut master, &mut buf) {
        if n == 0 || bytes.len() > 65_536 {
            break;
        }
        bytes.extend_from_slice(&buf[..n]);
    }
    let shown = String::from_utf8_lossy(&bytes);
    let html = dir.path().join("report.html");
    assert!(
        shown.contains(&format!("wrote {}", html.display())),
        "{shown:?}"
    );
    assert!(
        std::fs::read_to_string(html)
            .unwrap()
            .starts_with("<!doctype html>")
    );
}

#[test]
fn templates_can_be_overridden_one_by_one() {
    let dir = tempfile::tempdir().unwrap();
    let templates = dir.path().join("templates");
    std::fs::create_dir(&templates).unwrap();
    std::fs::write(
        templates.join("summary.md.j2"),
        "custom: {{ report.verdict.status }} with {{ view.counts.total }} cases\n",
    )
    .unwrap();
    let out = run(
        "demo",
        &dir.path().join("out"),
        &[
            "-p",
            "demo-core",
            "--no-doctests",
            "--template",
            templates.to_str().unwrap(),
        ],
    );
    assert_eq!(code(&out), 0);
    let md = std::fs::read_to_string(dir.path().join("out/summary.md")).unwrap();
    assert_eq!(md, "custom: passed with 4 cases\n");
    let html = std::fs::read_to_string(dir.path().join("out/report.html")).unwrap();
    assert!(
        html.starts_with("<!doctype html>"),
        "the other templates stay built-in"
    );
}

#[test]
fn list_shows_what_would_run() {
    let out = output(
        gate("mixed")
            .args(["list", "--format", "json", "--manifest-path"])
            .arg(manifest("mixed")),
    );
    assert_eq!(code(&out), 0);
    let list: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let entries = list.as_array().unwrap();
    let ids: Vec<&str> = entries.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&"mixed tests::hangs"));
    // Each doctest by the id the run gives it.
    assert!(
        ids.contains(&"mixed::doc src/lib.rs - double (line 5)"),
        "{ids:?}"
    );
    let ignored = entries
        .iter()
        .find(|e| e["id"] == "mixed tests::ignored")
        .unwrap();
    assert_eq!(ignored["runs"], false);
    let out = output(
        gate("mixed")
            .args(["list", "--manifest-path"])
            .arg(manifest("mixed"))
            .arg("panics"),
    );
    // Filters apply to doctests too: none is named like this.
    assert_eq!(
        stdout(&out),
        "mixed tests::panics\n1 test would run, 0 skipped\n"
    );
}

/// `list` counts what `run` reports: the same number of cases, the same ids, doctests
/// included, skipped tests counted as skipped.
#[test]
fn list_totals_match_what_run_reports() {
    let out = output(
        gate("mixed")
            .args(["list", "--format", "json", "--manifest-path"])
            .arg(manifest("mixed"))
            .args(["--skip", "hangs"]),
    );
    assert_eq!(code(&out), 0);
    let list: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let mut listed: Vec<(String, bool)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["id"].as_str().unwrap().to_string(),
                e["runs"].as_bool().unwrap(),
            )
        })
        .collect();
    listed.sort();
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(code(&run_mixed(dir.path(), &[])), 1);
    let report = json(&dir.path().join("report.json"));
    let mut ran: Vec<(String, bool)> = report["suites"][0]["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_string(),
                c["status"] != "skipped",
            )
        })
        .collect();
    ran.sort();
    assert_eq!(listed, ran);
}

/// `cargo gate run` on fixtures/mixed without its hanging test, writing to `out_dir`, with
/// `extra` arguments (its flaky test gets a fresh state directory each time).
fn run_mixed(out_dir: &std::path::Path, extra: &[&str]) -> std::process::Output {
    let flaky = tempfile::tempdir().unwrap();
    output(
        gate("mixed")
            .args(["run", "--skip", "hangs"])
            .args(extra)
            .arg("--manifest-path")
            .arg(manifest("mixed"))
            .arg("--out-dir")
            .arg(out_dir)
            .env("MIXED_FLAKY_DIR", flaky.path()),
    )
}

#[test]
fn markdown_and_terminal_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(code(&run_mixed(dir.path(), &["--progress", "lines"])), 1);
    let mixed = normalize(&dir.path().join("report.json"));

    let pass_dir = tempfile::tempdir().unwrap();
    assert_eq!(code(&run("demo", pass_dir.path(), &[])), 0);
    let demo = normalize(&pass_dir.path().join("report.json"));

    snapshot_settings().bind(|| {
        insta::assert_snapshot!("mixed_summary_md", rendered(&mixed, "markdown"));
        insta::assert_snapshot!("mixed_terminal", rendered(&mixed, "terminal"));
        insta::assert_snapshot!("demo_summary_md", rendered(&demo, "markdown"));
        // The same scorecard in colour, escapes shown as ␛: each word its role's style.
        let coloured = terminal_with(&mixed, &["--color", "always"], &[]).replace('\x1b', "␛");
        insta::assert_snapshot!("mixed_terminal_color", coloured);
        insta::assert_snapshot!(
            "mixed_html_outline",
            html_outline(&rendered(&mixed, "html"))
        );
    });
    // CARGO_TERM_COLOR decides when --color is not given, as in cargo; the flag wins over it,
    // and NO_COLOR turns off `auto` but not `always`.
    let plain = rendered(&mixed, "terminal");
    assert_eq!(
        terminal_with(
            &mixed,
            &["--color", "never"],
            &[("CARGO_TERM_COLOR", "always")]
        ),
        plain
    );
    let env_on = terminal_with(&mixed, &[], &[("CARGO_TERM_COLOR", "always")]);
    assert!(env_on.contains("\x1b["), "{env_on}");
    assert_eq!(
        terminal_with(&mixed, &["--color", "auto"], &[("NO_COLOR", "1")]),
        plain
    );
    assert!(terminal_with(&mixed, &["--color", "always"], &[("NO_COLOR", "1")]).contains("\x1b["));
    let bad = output(
        gate("demo")
            .args(["report", "--format", "terminal"])
            .arg(&mixed)
            .env("CARGO_TERM_COLOR", "sometimes"),
    );
    assert_eq!(code(&bad), 2);
    assert!(
        stderr(&bad).contains("CARGO_TERM_COLOR is `sometimes`"),
        "{}",
        stderr(&bad)
    );
}

/// The terminal scorecard of `report` with extra arguments and environment.
fn terminal_with(report: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let mut cmd = gate("demo");
    cmd.args(["report", "--format", "terminal"])
        .arg(report)
        .args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = output(&mut cmd);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    stdout(&out)
}

#[test]
fn only_the_first_shard_runs_the_suites_that_are_not_split() {
    let dir = temp_workspace(
        "[[check]]\nname = \"manifest\"\nfile = { path = \"Cargo.toml\", contains = [\"scratch\"] }\n",
    );
    // A test to merge: a merge in which no test ran fails.
    write_file(dir.path(), "src/lib.rs", "#[test]\nfn t() {}\n");
    let shard = |k: u32| {
        let out = output(
            gate("none")
                .current_dir(dir.path())
                .args(["run", "--no-doctests", "--partition"])
                .arg(format!("hash:{k}/2"))
                .args(["--out-dir", &format!("out{k}")]),
        );
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        (out, json(&dir.path().join(format!("out{k}/report.json"))))
    };
    let kinds = |r: &Value| -> Vec<String> {
        r["suites"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["kind"].as_str().unwrap().to_string())
            .collect()
    };
    let (_, first) = shard(1);
    let (out, second) = shard(2);
    assert_eq!(kinds(&first), ["tests", "infra"]);
    assert_eq!(kinds(&second), ["tests"]);
    assert!(stderr(&out).contains("shard 1 runs the other configured suites"));
    // So the shards merge: the check is in the whole run once.
    let out = output(gate("none").current_dir(dir.path()).args([
        "merge",
        "out1/report.json",
        "out2/report.json",
        "-o",
        "merged.json",
    ]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let merged = json(&dir.path().join("merged.json"));
    assert_eq!(kinds(&merged), ["tests", "infra"]);
}

/// `--color always` colours the progress lines too (CI logs render ANSI): each status by its
/// role, an attempt that will be retried and SLOW as notices, with no empty time brackets.
#[test]
fn progress_lines_are_coloured_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_mixed(dir.path(), &["--progress", "lines", "--color", "always"]);
    assert_eq!(code(&out), 1);
    let err = stderr(&out);
    let retry = err
        .lines()
        .find(|l| l.contains("TRY 1 FAIL"))
        .unwrap_or_else(|| panic!("no line for a first attempt:\n{err}"));
    assert!(
        retry.starts_with("\x1b[33m   TRY 1 FAIL\x1b[0m ["),
        "{retry:?}"
    );
    assert!(!retry.contains("[        ]"), "{retry:?}");
    assert!(
        err.contains("\x1b[1m\x1b[31m   TRY 2 FAIL\x1b[0m ["),
        "{err}"
    );
    assert!(err.contains("\x1b[32m         PASS\x1b[0m ["), "{err}");
    // And the scorecard on stdout.
    assert!(
        stdout(&out).contains("\x1b[1m\x1b[31mFAILED\x1b[0m"),
        "{}",
        stdout(&out)
    );
}

/// Lines mode counts tests, not units: a header with what will run, `(n/N)` on every finished
/// test up to the total the report holds, each attempt of a retried test on its own line with
/// its own time, a flaky test's first failure shown, a doctest's share of its batch marked.
#[test]
fn lines_mode_counts_tests_and_shows_each_attempt() {
    let dir = tempfile::tempdir().unwrap();
    let flaky = tempfile::tempdir().unwrap();
    // The hung test too (3 s timeout, one retry): its attempts must not be summed.
    let out = output(
        gate("mixed")
            .args(["run", "--progress", "lines", "--manifest-path"])
            .arg(manifest("mixed"))
            .arg("--out-dir")
            .arg(dir.path())
            .env("MIXED_FLAKY_DIR", flaky.path()),
    );
    assert_eq!(code(&out), 1);
    let err = stderr(&out);
    assert!(
        err.contains(
            "Starting 7 tests across 2 binaries and the doctests of 1 package (1 skipped)"
        ),
        "{err}"
    );
    assert!(
        err.contains("         SLOW [  >1.00s] mixed tests::hangs"),
        "{err}"
    );
    let report = json(&dir.path().join("report.json"));
    let ran = report["suites"][0]["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] != "skipped")
        .count();
    for n in 1..=ran {
        assert!(
            err.contains(&format!("({n}/{ran}) ")),
            "no ({n}/{ran}) in:\n{err}"
        );
    }
    assert!(!err.contains(&format!("({}/", ran + 1)), "{err}");
    // The hung test: one line per attempt, each with its own time (about the 3 s timeout, not
    // both attempts summed).
    let tries: Vec<(&str, f64)> = err
        .lines()
        .filter(|l| l.contains("TIMEOUT [") && l.ends_with("mixed tests::hangs"))
        .map(|l| {
            let label = l.split(" [").next().unwrap().trim();
            let secs = l.split('[').nth(1).unwrap().split(']').next().unwrap();
            (
                label,
                secs.trim().trim_end_matches('s').parse::<f64>().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        tries.iter().map(|t| t.0).collect::<Vec<_>>(),
        ["TRY 1 TIMEOUT", "TRY 2 TIMEOUT"],
        "{err}"
    );
    assert!(tries.iter().all(|t| (2.9..5.0).contains(&t.1)), "{tries:?}");
    assert!(
        err.lines().any(|l| l.starts_with("TRY 2 TIMEOUT [")
            && l.contains("] (")
            && l.ends_with("mixed tests::hangs")),
        "the last attempt counts: {err}"
    );
    // The flaky test fails on its first attempt (a marker file remembers it): its line says
    // which attempt passed, and the first attempt's panic is shown under it.
    let flaky = err
        .lines()
        .position(|l| l.contains("TRY 2 PASS") && l.ends_with("mixed tests::flaky"))
        .unwrap_or_else(|| panic!("no TRY 2 PASS line for the flaky test:\n{err}"));
    let below: Vec<&str> = err.lines().skip(flaky + 1).take(3).collect();
    assert!(
        below
            .iter()
            .any(|l| l.contains("│") && l.contains("panicked")),
        "{below:?}"
    );
    let doc = err
        .lines()
        .find(|l| l.ends_with("src/lib.rs - double (line 5)"))
        .unwrap_or_else(|| panic!("no doctest line:\n{err}"));
    assert!(doc.contains("[  ~") || doc.contains("[ ~"), "{doc}");
    assert!(!doc.contains("[      0s]"), "{doc}");
}

/// A package with three doctests and two tests: the total is fixed by the first line (a
/// doctest batch is one unit, its doctests share its `n`), `n` never goes back, and the run
/// ends at `(N/N)`.
#[test]
fn the_progress_total_never_changes_with_a_doctest_batch() {
    let ws = temp_workspace("");
    let doc = |name: &str| {
        format!(
            "/// ```\n/// assert_eq!(docs::{name}(), 1);\n/// ```\npub fn {name}() -> u32 {{ 1 }}\n"
        )
    };
    std::fs::write(
        ws.path().join("Cargo.toml"),
        "[package]\nname = \"docs\"\nversion = \"0.1.0\"\nedition = \"2021\"\n[workspace]\n",
    )
    .unwrap();
    std::fs::write(
        ws.path().join("src/lib.rs"),
        format!(
            "{}{}{}#[test]\nfn one() {{}}\n#[test]\nfn two() {{}}\n",
            doc("a"),
            doc("b"),
            doc("c")
        ),
    )
    .unwrap();
    let out = output(gate("docs").current_dir(ws.path()).args([
        "run",
        "--progress",
        "lines",
        "--no-baseline",
        "--out-dir",
        "target/gate",
    ]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let err = stderr(&out);
    let counters: Vec<(usize, usize)> = err
        .lines()
        .filter_map(|l| {
            let inside = l.split(") ").next()?.rsplit_once('(')?.1;
            let (n, total) = inside.split_once('/')?;
            Some((n.parse().ok()?, total.parse().ok()?))
        })
        .collect();
    assert_eq!(counters.len(), 5, "two tests and three doctests:\n{err}");
    assert!(
        counters.iter().all(|&(_, t)| t == 3),
        "N is fixed at 3 units: {counters:?}"
    );
    assert!(
        counters.windows(2).all(|w| w[0].0 <= w[1].0),
        "n never goes back: {counters:?}"
    );
    assert_eq!(counters.last(), Some(&(3, 3)), "{counters:?}");
    let doctest_lines = err
        .lines()
        .filter(|l| l.contains("docs::doc src/lib.rs"))
        .count();
    assert_eq!(doctest_lines, 3, "{err}");
}

/// `--progress bar` into a file (no terminal) falls back to lines and says so, instead of
/// printing nothing: the failure blocks are in the log.
#[test]
fn a_bar_without_a_terminal_falls_back_to_lines() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_mixed(dir.path(), &["--progress", "bar"]);
    assert_eq!(code(&out), 1);
    let err = stderr(&out);
    assert!(
        err.contains("standard error is not a terminal, showing lines instead"),
        "{err}"
    );
    assert!(err.contains("   TRY 2 FAIL ["), "{err}");
    assert!(
        err.contains("double(2) should be five"),
        "the failure's output: {err}"
    );
}

/// A CI log is never silent while a test runs: with `CARGO_GATE_STATUS_INTERVAL` short, a
/// status line names the running test with its time. The test only ends when this test has
/// seen that line (it waits for a file), so no timing window decides the outcome.
#[test]
fn a_status_line_names_the_running_test_while_it_runs() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let release = dir.path().join("release");
    let mut child = gate("waiting")
        .args(["run", "--progress", "lines", "--manifest-path"])
        .arg(manifest("waiting"))
        .arg("--out-dir")
        .arg(dir.path())
        .env("CARGO_GATE_STATUS_INTERVAL", "100ms")
        .env("WAITING_RELEASE", &release)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let status = loop {
        match rx.recv_timeout(std::time::Duration::from_secs(300)) {
            Ok(line) if line.contains("RUNNING") => break line,
            Ok(line) => seen.push(line),
            Err(e) => {
                let _ = child.kill();
                panic!("no status line ({e}); saw:\n{}", seen.join("\n"));
            }
        }
    };
    std::fs::write(&release, b"go").unwrap();
    assert!(
        status.contains("0/1 done · 1 running: waiting tests::until_released "),
        "{status}"
    );
    let code = child.wait().unwrap().code();
    assert_eq!(code, Some(0), "{}", seen.join("\n"));
}

/// Lines-mode progress as a CI log shows it, one job at a time so the order is the plan's:
/// the header, `(n/N)`, a `TRY` line per attempt, each failure's output once, the flaky test's
/// first failure under its passing line. Times, thread ids and cargo's own lines redacted.
#[test]
fn progress_lines_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_mixed(dir.path(), &["--progress", "lines", "-j", "1"]);
    assert_eq!(code(&out), 1);
    let mut settings = snapshot_settings();
    settings.add_filter(r"\[ *~?[0-9.]+(ns|µs|ms|s)\]", "[    TIME]");
    settings.add_filter(
        r"(?m)^ *(Compiling|Finished|Blocking|Running|Fresh|Locking|Downloaded?) .*\n",
        "",
    );
    settings.add_filter(r"reports written to .*", "reports written to DIR");
    settings.bind(|| insta::assert_snapshot!("mixed_progress_lines", stderr(&out)));
}
