//! Helpers for running the real `cargo-gate` binary on the fixture workspaces.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// The project root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fixture's manifest.
pub fn manifest(fixture: &str) -> PathBuf {
    root().join("fixtures").join(fixture).join("Cargo.toml")
}

/// `cargo-gate` with a per-fixture target dir under our own target/, so fixtures stay clean and
/// builds are shared between tests.
pub fn gate(fixture: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cargo-gate"));
    cmd.env(
        "CARGO_TARGET_DIR",
        root().join("target").join("fixture-builds").join(fixture),
    );
    // Deterministic output: no backtraces, no colours, no GitHub context from the outer CI.
    cmd.env("RUST_BACKTRACE", "0")
        .env("CARGO_TERM_COLOR", "never")
        .env_remove("GITHUB_SHA")
        .env_remove("GITHUB_HEAD_REF")
        .env_remove("GITHUB_BASE_REF");
    cmd
}

/// Runs and returns output, printing it on failure of the caller's assertions.
pub fn output(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("cargo-gate runs");
    eprintln!("--- stdout\n{}", String::from_utf8_lossy(&out.stdout));
    eprintln!("--- stderr\n{}", String::from_utf8_lossy(&out.stderr));
    out
}

/// `cargo gate run` on a fixture, writing to `out`.
pub fn run(fixture: &str, out: &Path, extra: &[&str]) -> Output {
    let mut cmd = gate(fixture);
    cmd.args(["gate", "run", "--progress", "lines", "--manifest-path"])
        .arg(manifest(fixture))
        .arg("--out-dir")
        .arg(out)
        .args(extra);
    output(&mut cmd)
}

/// Reads a JSON file.
pub fn json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// Status of every case in the tests suite, by id.
pub fn statuses(report: &Value) -> Vec<(String, String)> {
    report["suites"][0]["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_string(),
                c["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The case with this id.
pub fn case<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["suites"][0]["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no case {id}"))
}

/// The exit code.
pub fn code(out: &Output) -> i32 {
    out.status.code().expect("exited normally")
}

/// Stderr as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Stdout as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}
