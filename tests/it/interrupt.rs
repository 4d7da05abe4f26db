//! Ctrl-C kills every child process and still writes the partial report.

use std::time::{Duration, Instant};

use crate::common::*;

/// Pids of processes whose command line contains all of `needles`.
fn pids_with(needles: &[&str]) -> Vec<i32> {
    processes(|cmdline| needles.iter().all(|n| cmdline.contains(n)))
        .into_iter()
        .map(|(pid, _)| pid)
        .collect()
}

/// [`pids_with`] among the children of `parent` (other tests run the same fixture's tests).
fn children_with(parent: u32, needles: &[&str]) -> Vec<i32> {
    pids_with(needles)
        .into_iter()
        .filter(|pid| parent_and_group(*pid).is_some_and(|(ppid, _)| ppid == parent as i32))
        .collect()
}

#[test]
fn sigint_kills_running_tests_and_writes_a_partial_report() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("gate.toml");
    // No timeout: only the interruption can end the hanging test.
    std::fs::write(&config, "[tests]\nretries = 0\n").unwrap();
    let out_dir = dir.path().join("out");
    let mut cmd = gate("mixed");
    cmd.args([
        "run",
        "--progress",
        "lines",
        "--no-doctests",
        "-j",
        "2",
        "--manifest-path",
    ])
    .arg(manifest("mixed"))
    .arg("--config")
    .arg(&config)
    .arg("--out-dir")
    .arg(&out_dir)
    .args(["hangs", "passes"])
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();

    // Wait (bounded) until the hanging test's own process is running.
    let needle = ["--exact", "tests::hangs"];
    let deadline = Instant::now() + Duration::from_secs(120);
    let test_pids = loop {
        let pids = children_with(child.id(), &needle);
        if !pids.is_empty() {
            break pids;
        }
        assert!(Instant::now() < deadline, "the hanging test never started");
        assert!(
            child.try_wait().unwrap().is_none(),
            "cargo-gate ended before the test started"
        );
        std::thread::sleep(Duration::from_millis(50));
    };

    let status = interrupt(&mut child);
    let out = child.wait_with_output().unwrap();
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(status.code(), Some(1), "an interrupted run fails the gate");

    for &pid in &test_pids {
        let alive = std::path::Path::new(&format!("/proc/{pid}")).exists()
            && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .unwrap_or_default()
                .contains(") Z ");
        assert!(!alive, "test process {pid} survived the interruption");
    }
    // Nothing is left in the test's process group either (its own children).
    let left: Vec<i32> = pids_with(&needle)
        .into_iter()
        .filter(|pid| parent_and_group(*pid).is_some_and(|(_, pgrp)| test_pids.contains(&pgrp)))
        .collect();
    assert!(left.is_empty(), "no test process is left: {left:?}");

    let report = json(&out_dir.join("report.json"));
    assert_eq!(report["run"]["interrupted"], true);
    assert_eq!(report["verdict"]["status"], "failed");
    let hang = case(&report, "mixed tests::hangs");
    assert_eq!(hang["status"], "skipped");
    assert!(hang["message"].as_str().unwrap().contains("interrupted"));
    assert!(
        report["verdict"]["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r.as_str().unwrap().contains("interrupted")),
        "the verdict says why"
    );
}

/// A `[[check]]` command that hangs, in a workspace with no tests; the sleeping grandchild
/// writes its pid to `pidfile` so the test can wait for it and check it is gone.
fn hanging_check(pidfile: &std::path::Path, timeout: Option<&str>) -> tempfile::TempDir {
    let timeout = timeout.map_or(String::new(), |t| format!(", timeout = \"{t}\""));
    temp_workspace(&format!(
        "[[check]]\nname = \"hangs\"\ncommand = {{ cmd = [\"sh\", \"-c\", \"sleep 300 & echo $! > {}; wait\"]{timeout} }}\n",
        pidfile.display()
    ))
}

/// True once `pid` is gone or a zombie, waiting (bounded) for the kernel to finish a SIGKILL.
fn gone(pid: i32) -> bool {
    let dead = || {
        !std::path::Path::new(&format!("/proc/{pid}")).exists()
            || std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .unwrap_or_default()
                .contains(") Z ")
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while !dead() {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

fn wait_for_pid(pidfile: &std::path::Path, child: &mut std::process::Child) -> i32 {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(pid) = std::fs::read_to_string(pidfile)
            .ok()
            .and_then(|s| s.trim().parse().ok())
        {
            return pid;
        }
        assert!(Instant::now() < deadline, "the check never started");
        assert!(
            child.try_wait().unwrap().is_none(),
            "cargo-gate ended before the check started"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn gate_in(dir: &std::path::Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_cargo-gate"));
    cmd.current_dir(dir)
        .args(["gate", "run", "--suite", "infra", "--progress", "lines"])
        // Where the test reads the report, whatever CARGO_TARGET_DIR says.
        .args(["--out-dir", "target/gate"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    cmd
}

#[test]
fn a_hanging_command_check_is_killed_at_its_timeout() {
    let pids = tempfile::tempdir().unwrap();
    let pidfile = pids.path().join("pid");
    let dir = hanging_check(&pidfile, Some("500ms"));
    let mut child = gate_in(dir.path()).spawn().unwrap();
    let pid = wait_for_pid(&pidfile, &mut child);
    let out = child.wait_with_output().unwrap();
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        out.status.code(),
        Some(1),
        "a timed-out check fails the gate"
    );
    let report = json(&dir.path().join("target/gate/report.json"));
    let check = case(&report, "check hangs");
    assert_eq!(check["status"], "failed");
    assert!(
        check["message"]
            .as_str()
            .unwrap()
            .contains("did not finish within 500ms"),
        "{check}"
    );
    assert!(
        gone(pid),
        "the check's grandchild {pid} survived its timeout"
    );
}

#[test]
fn sigint_kills_a_hanging_command_check() {
    let pids = tempfile::tempdir().unwrap();
    let pidfile = pids.path().join("pid");
    // The default timeout (60 s) is far away: only the interruption can end it.
    let dir = hanging_check(&pidfile, None);
    let mut child = gate_in(dir.path()).spawn().unwrap();
    let pid = wait_for_pid(&pidfile, &mut child);
    let status = interrupt(&mut child);
    assert_eq!(status.code(), Some(1), "an interrupted run fails the gate");
    assert!(gone(pid), "the check's grandchild {pid} survived Ctrl-C");
    let report = json(&dir.path().join("target/gate/report.json"));
    assert_eq!(report["run"]["interrupted"], true);
}

/// Ctrl-C while cargo builds the tests: the run is interrupted (exit 1, a partial report that
/// says so), not "build failed … signal: 9".
#[test]
fn sigint_during_the_build_is_an_interruption_not_a_build_failure() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("build.pid");
    std::fs::write(
        dir.path().join("Cargo.toml"),
        "[package]\nname = \"slow_build\"\nversion = \"0.1.0\"\nedition = \"2021\"\n[workspace]\n",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("src/lib.rs"), "#[test]\nfn t() {}\n").unwrap();
    // The build script says it started (the event the test waits on), then takes its time.
    std::fs::write(
        dir.path().join("build.rs"),
        format!(
            "fn main() {{ std::fs::write({:?}, std::process::id().to_string()).unwrap(); std::thread::sleep(std::time::Duration::from_secs(120)); }}\n",
            pidfile
        ),
    )
    .unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_cargo-gate"))
        .current_dir(dir.path())
        .args(["gate", "run", "--suite", "tests", "--progress", "lines"])
        .args(["--out-dir", "target/gate"])
        .env("CARGO_TARGET_DIR", dir.path().join("target"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let build_script = wait_for_pid(&pidfile, &mut child);
    let status = interrupt(&mut child);
    assert_eq!(status.code(), Some(1), "an interrupted run fails the gate");
    let report = json(&dir.path().join("target/gate/report.json"));
    assert_eq!(report["run"]["interrupted"], true, "{report}");
    let error = report["suites"][0]["error"].as_str().unwrap_or_default();
    eprintln!("suite error: {error}");
    assert!(error.contains("interrupted"), "{error}");
    assert!(
        !error.contains("build failed") && !error.contains("signal"),
        "{error}"
    );
    assert!(
        gone(build_script),
        "the build script {build_script} survived Ctrl-C"
    );
}
