//! Bad input: each gets a clear message and the right exit code, never a panic.

use crate::common::*;

fn assert_no_panic(out: &std::process::Output) {
    let err = stderr(out);
    assert!(!err.contains("panicked"), "cargo-gate panicked: {err}");
}

#[test]
fn no_cargo_toml_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = gate("none");
    cmd.current_dir(dir.path()).args(["gate", "run"]);
    let out = output(&mut cmd);
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(err.contains("error: could not find Cargo.toml in"), "{err}");
    assert!(
        err.contains("help: run cargo gate inside a Cargo workspace, or pass --manifest-path"),
        "{err}"
    );
    assert_no_panic(&out);
}

#[test]
fn missing_manifest_path_is_a_usage_error() {
    let out = output(gate("none").args(["run", "--manifest-path", "/nonexistent/Cargo.toml"]));
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("manifest /nonexistent/Cargo.toml does not exist"));
}

fn check_with(config: &str) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gate.toml");
    std::fs::write(&path, config).unwrap();
    let mut cmd = gate("demo");
    cmd.current_dir(dir.path())
        .arg("check")
        .arg("--config")
        .arg("gate.toml");
    output(&mut cmd)
}

#[test]
fn unknown_key_names_file_line_column_and_a_fix() {
    let out = check_with("[tests]\nretries = 1\nretires = 2\n");
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(
        err.starts_with("error: gate.toml:3:1: unknown field `retires`, expected one of"),
        "{err}"
    );
    assert!(err.contains("help: did you mean `retries`?"), "{err}");
    // The line itself, with a caret under the key.
    assert!(
        err.contains(" --> gate.toml:3:1\n  |\n3 | retires = 2\n  | ^^^^^^^"),
        "{err}"
    );
    // A key nothing is close to keeps the general advice.
    let far = stderr(&check_with("[tests]\nzzzzzzzzzz = 2\n"));
    assert!(
        far.contains("help: remove the key or fix its spelling"),
        "{far}"
    );
    assert_no_panic(&out);
}

#[test]
fn malformed_toml_is_located() {
    let out = check_with("[tests\nretries = 1\n");
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).starts_with("error: gate.toml:1:"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn unknown_rule_metric_is_a_config_error_at_the_metric() {
    let out = check_with("[gate]\nfail = [\"tests.failed == 0\", \"tests.flakey <= 2\"]\n");
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(
        err.contains("gate.toml:2:31: unknown metric `tests.flakey`"),
        "{err}"
    );
    assert!(err.contains("did you mean `tests.flaky`?"), "{err}");
}

#[test]
fn every_profile_is_checked() {
    let out = check_with("[profile.ci]\ngate = { warn = [\"tests.flaky <= two\"] }\n");
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("gate.toml:2:"), "{}", stderr(&out));
    let out = check_with("[profile.ci]\ntests = { retries = 2 }\n");
    assert_eq!(code(&out), 0);
    let text = stdout(&out);
    assert!(
        text.contains("profile `default` ok") && text.contains("profile `ci` ok"),
        "{text}"
    );
}

#[test]
fn unknown_profile_lists_the_defined_ones() {
    let out = output(
        gate("demo")
            .args(["run", "--profile", "nightly", "--manifest-path"])
            .arg(manifest("demo")),
    );
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(err.contains("error: unknown profile `nightly`"), "{err}");
    assert!(err.contains("defines: ci"), "{err}");
}

#[test]
fn impossible_partition_is_a_usage_error() {
    let out = output(
        gate("demo")
            .args(["run", "--partition", "3/2", "--manifest-path"])
            .arg(manifest("demo")),
    );
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("invalid --partition `3/2`: shard 3 does not exist in 2 shards"),
        "{}",
        stderr(&out)
    );
    let out = output(
        gate("demo")
            .args(["run", "--partition", "hash:x/2", "--manifest-path"])
            .arg(manifest("demo")),
    );
    assert_eq!(code(&out), 2);
}

#[test]
fn unknown_package_and_suite_and_flags_are_usage_errors() {
    let out = output(
        gate("demo")
            .args(["run", "-p", "demo-cor", "--manifest-path"])
            .arg(manifest("demo")),
    );
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("did you mean `demo-core`?"),
        "{}",
        stderr(&out)
    );
    let out = output(
        gate("demo")
            .args(["run", "--suite", "fuzz", "--manifest-path"])
            .arg(manifest("demo")),
    );
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("unknown suite `fuzz`"));
    let out = output(gate("demo").args(["run", "--no-such-flag"]));
    assert_eq!(code(&out), 2);
}

#[test]
fn reports_from_a_newer_schema_or_truncated_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let newer = dir.path().join("newer.json");
    std::fs::write(&newer, r#"{"schema": 7, "whatever": true}"#).unwrap();
    let out = output(gate("demo").arg("report").arg(&newer));
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(err.contains("the report uses schema 7"), "{err}");
    assert!(err.contains("upgrade cargo-gate"), "{err}");

    let truncated = dir.path().join("truncated.json");
    std::fs::write(
        &truncated,
        r#"{"schema": 1, "tool_version": "0.1.0", "run": {"id": "#,
    )
    .unwrap();
    let out = output(gate("demo").arg("report").arg(&truncated));
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("probably truncated"),
        "{}",
        stderr(&out)
    );

    let missing = output(gate("demo").arg("report").arg(dir.path().join("nope.json")));
    assert_eq!(code(&missing), 2);
    assert!(stderr(&missing).contains("cannot read the report"));

    let wrong = dir.path().join("wrong.json");
    std::fs::write(&wrong, r#"{"schema": 1, "suites": 3}"#).unwrap();
    let out = output(gate("demo").arg("report").arg(&wrong));
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("does not match schema 1"));
    assert_no_panic(&out);
}

#[test]
fn init_writes_a_valid_starter_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Cargo.toml"),
        "[package]\nname = \"t\"\nversion = \"0.1.0\"\nedition = \"2021\"\n[workspace]\n",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("src/lib.rs"), "").unwrap();
    let mut init = gate("init");
    init.current_dir(dir.path()).args(["gate", "init"]);
    let out = output(&mut init);
    assert_eq!(code(&out), 0);
    let written = std::fs::read_to_string(dir.path().join("gate.toml")).unwrap();
    assert!(written.contains("[profile.ci]"));
    let workflow = std::fs::read_to_string(dir.path().join(".github/workflows/gate.yml")).unwrap();
    assert!(workflow.contains("uses: cargo-gate/cargo-gate@v0"));
    let mut check = gate("init");
    check.current_dir(dir.path()).arg("check");
    assert_eq!(code(&output(&mut check)), 0);

    std::fs::write(dir.path().join("gate.toml"), "# mine\n").unwrap();
    let out = output(&mut init);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("gate.toml already exists"));
    assert!(stderr(&out).contains("--force"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("gate.toml")).unwrap(),
        "# mine\n"
    );
    let mut force = gate("init");
    force.current_dir(dir.path()).args(["init", "--force"]);
    assert_eq!(code(&output(&mut force)), 0);
    assert!(
        std::fs::read_to_string(dir.path().join("gate.toml"))
            .unwrap()
            .contains("[gate]")
    );
}

#[test]
fn a_broken_template_is_named_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("summary.md.j2"), "ok\n{% if %}\n").unwrap();
    let report = dir.path().join("r.json");
    std::fs::write(&report, minimal_report()).unwrap();
    let out = output(
        gate("demo")
            .args(["report", "--format", "markdown", "--template"])
            .arg(dir.path())
            .arg(&report),
    );
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(err.contains("summary.md.j2:2: template error"), "{err}");
    let out = output(
        gate("demo")
            .args(["report", "--template", "/no/such/dir"])
            .arg(&report),
    );
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("template directory /no/such/dir does not exist"));
}

/// The smallest valid report.
pub fn minimal_report() -> &'static str {
    r#"{"schema":1,"tool_version":"0.1.0","run":{"id":"x","started":"2026-01-01T00:00:00Z","duration":1.0,"profile":"default"},"suites":[],"verdict":{"status":"passed","reasons":[]}}"#
}

/// The diagnostics as a person sees them: message, help, and the line with a caret under the
/// offending part — for keys, tables, values and each part of a rule.
#[test]
fn diagnostics_snapshot() {
    let cases = [
        "[tests]\nretires = 2\n",
        "[testz]\nretries = 1\n",
        "[tests]\nisolation = \"threads\"\n",
        "[tests]\ntimeout = 5\n",
        "[gate]\nfail = [\"tests.duration < 5\"]\n",
        "[gate]\nfail = [\"tests.failed == 0\", \"tests.flakey <= 2\"]\n",
        "[gate]\nfail = [\"tests.failed = 0\"]\n",
    ];
    let mut all = String::new();
    for config in cases {
        let out = check_with(config);
        assert_eq!(code(&out), 2, "{config}");
        all.push_str(&format!(
            "$ cat gate.toml\n{config}$ cargo gate check\n{}\n",
            stderr(&out)
        ));
    }
    insta::assert_snapshot!("diagnostics", all);
}
