//! The security suite on real git repositories: a base on `main`, a change in the working tree,
//! the advisories of `fixtures/advisory-db` (RustSec's format, made-up crates), licenses of
//! path dependencies, sources and secrets. What the change introduces fails; what the base
//! already had is reported and passes.

use std::path::{Path, PathBuf};

use crate::common::*;

const CRATES_IO: &str = "registry+https://github.com/rust-lang/crates.io-index";

fn advisory_db() -> PathBuf {
    root().join("fixtures/advisory-db")
}

/// A lock file for the member `app` depending on `deps` (`(name, version, source)`).
fn lock(deps: &[(&str, &str, &str)]) -> String {
    let mut names: Vec<&str> = deps.iter().map(|d| d.0).collect();
    names.sort_unstable();
    let mut text =
        String::from("version = 4\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\n");
    if !names.is_empty() {
        text.push_str("dependencies = [\n");
        for n in &names {
            text.push_str(&format!(" \"{n}\",\n"));
        }
        text.push_str("]\n");
    }
    let mut sorted = deps.to_vec();
    sorted.sort_unstable();
    for (name, version, source) in sorted {
        text.push_str(&format!(
            "\n[[package]]\nname = \"{name}\"\nversion = \"{version}\"\nsource = \"{source}\"\n"
        ));
    }
    text
}

/// A repository whose `main` holds the workspace with `base_lock`, and `gate.toml` with
/// `security` (the advisory database and base filled in).
fn repo(base_lock: &str, security: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_file(
        d,
        "Cargo.toml",
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\nlicense = \"MIT\"\n[workspace]\n",
    );
    write_file(d, "src/lib.rs", "pub fn f() {}\n");
    write_file(d, "Cargo.lock", base_lock);
    write_file(d, ".gitignore", "target/\nout/\n");
    write_file(
        d,
        "gate.toml",
        &format!(
            "[security]\nadvisory_db = \"{}\"\nbase = \"main\"\n{security}",
            advisory_db().display()
        ),
    );
    git_init_commit(d);
    dir
}

fn run_security(d: &Path) -> (std::process::Output, serde_json::Value) {
    let out = output(gate("security").current_dir(d).args([
        "run",
        "--suite",
        "security",
        "--out-dir",
        "out",
    ]));
    let report = json(&d.join("out/report.json"));
    (out, report)
}

fn metric(report: &serde_json::Value, name: &str) -> f64 {
    report["suites"][0]["metrics"]
        .as_array()
        .and_then(|ms| ms.iter().find(|m| m["name"] == name))
        .and_then(|m| m["samples"][0].as_f64())
        .unwrap_or_else(|| panic!("no metric {name}"))
}

fn findings(report: &serde_json::Value) -> Vec<serde_json::Value> {
    report["suites"][0]["details"]["security"]["findings"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn an_advisory_the_change_adds_fails_and_what_the_base_had_only_warns() {
    let base = lock(&[
        ("gate-fixture-vuln", "0.9.0", CRATES_IO),
        ("gate-fixture-old", "1.0.0", CRATES_IO),
        ("gate-fixture-gone", "1.0.0", CRATES_IO),
    ]);
    let dir = repo(&base, "");
    let d = dir.path();
    // The change bumps into the vulnerable range (>= 1.0.0, < 1.4.2).
    let changed = lock(&[
        ("gate-fixture-vuln", "1.3.0", CRATES_IO),
        ("gate-fixture-old", "1.0.0", CRATES_IO),
        ("gate-fixture-gone", "1.0.0", CRATES_IO),
    ]);
    write_file(d, "Cargo.lock", &changed);
    let (out, report) = run_security(d);
    assert_eq!(code(&out), 1, "{}{}", stdout(&out), stderr(&out));
    assert_eq!(metric(&report, "security.new_advisories"), 1.0);
    assert_eq!(metric(&report, "security.advisories"), 1.0);
    assert_eq!(metric(&report, "security.unmaintained"), 1.0);
    assert_eq!(metric(&report, "security.new_unmaintained"), 0.0);
    let all = findings(&report);
    assert!(
        all.iter().all(|f| f["id"] != "RUSTSEC-2026-9004"),
        "a withdrawn advisory is never reported: {all:#?}"
    );
    let vuln = all.iter().find(|f| f["id"] == "RUSTSEC-2026-9001").unwrap();
    assert_eq!(vuln["new"], true);
    assert_eq!(vuln["package"], "gate-fixture-vuln 1.3.0");
    assert_eq!(vuln["severity"], "critical");
    assert_eq!(
        vuln["path"],
        serde_json::json!(["app", "gate-fixture-vuln"])
    );
    assert_eq!(
        vuln["patched"],
        serde_json::json!([">=1.4.2, <2.0.0", ">=2.0.3"])
    );
    assert_eq!(vuln["file"], "Cargo.lock");
    let old = all.iter().find(|f| f["id"] == "RUSTSEC-2026-9002").unwrap();
    assert_eq!(old["new"], false);
    let case = case(
        &report,
        "vulnerability RUSTSEC-2026-9001 gate-fixture-vuln 1.3.0",
    );
    assert_eq!(case["status"], "failed");
    let text = stdout(&out);
    assert!(text.contains("already on main"), "{text}");
    // SARIF for code scanning: an error for what the change adds, a warning for the rest.
    let sarif = json(&d.join("out/security.sarif"));
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let level = |id: &str| {
        results
            .iter()
            .find(|r| r["ruleId"] == id)
            .map(|r| r["level"].as_str().unwrap_or("").to_string())
    };
    assert_eq!(level("RUSTSEC-2026-9001").as_deref(), Some("error"));
    assert_eq!(level("RUSTSEC-2026-9002").as_deref(), Some("warning"));
    assert_eq!(
        results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "Cargo.lock"
    );
}

#[test]
fn an_advisory_already_on_the_base_is_reported_and_passes() {
    let vulnerable = lock(&[("gate-fixture-vuln", "2.0.1", CRATES_IO)]);
    let dir = repo(&vulnerable, "");
    let d = dir.path();
    // The change touches code only: the advisory (published "today" for the base) is not its.
    write_file(d, "src/lib.rs", "pub fn f() -> u8 {\n    1\n}\n");
    let (out, report) = run_security(d);
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    assert_eq!(metric(&report, "security.advisories"), 1.0);
    assert_eq!(metric(&report, "security.new_advisories"), 0.0);
    let text = stdout(&out);
    assert!(text.contains("1 finding already on main"), "{text}");
    // The default warning on existing advisories shows, without failing.
    assert!(text.contains("security.advisories == 0"), "{text}");
}

#[test]
fn patched_and_unaffected_versions_pass() {
    let dir = repo(&lock(&[]), "");
    let d = dir.path();
    for version in ["1.4.2", "2.0.3", "0.9.9"] {
        write_file(
            d,
            "Cargo.lock",
            &lock(&[("gate-fixture-vuln", version, CRATES_IO)]),
        );
        let (out, report) = run_security(d);
        assert_eq!(code(&out), 0, "{version}: {}", stdout(&out));
        assert_eq!(metric(&report, "security.advisories"), 0.0, "{version}");
    }
}

#[test]
fn an_ignore_holds_until_its_day_and_then_fails_again() {
    let vulnerable = lock(&[("gate-fixture-vuln", "1.0.0", CRATES_IO)]);
    let ignore = |until: &str| {
        format!(
            "ignore = [{{ id = \"RUSTSEC-2026-9001\", reason = \"not reachable from our code\", until = \"{until}\" }}]\n"
        )
    };
    let dir = repo(&lock(&[]), &ignore("2999-12-31"));
    let d = dir.path();
    write_file(d, "Cargo.lock", &vulnerable);
    let (out, report) = run_security(d);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    assert_eq!(metric(&report, "security.ignored"), 1.0);
    assert_eq!(metric(&report, "security.new_advisories"), 0.0);
    assert_eq!(
        findings(&report)[0]["ignored"],
        "not reachable from our code"
    );

    let config = std::fs::read_to_string(d.join("gate.toml")).unwrap();
    write_file(d, "gate.toml", &config.replace("2999-12-31", "2020-01-31"));
    let (out, report) = run_security(d);
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    assert_eq!(findings(&report)[0]["expired"], "2020-01-31");
    assert!(
        stdout(&out).contains("expired on 2020-01-31"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_secret_added_fails_without_being_printed_and_removing_it_passes() {
    let dir = repo(&lock(&[]), "");
    let d = dir.path();
    // Built from pieces so that this file holds no token itself.
    let token = format!("ghp_{}{}", "Zq8Lm2Xw4Rt6Yp0Vb3Nc5", "Kd7Hf9Js1Ga4QeW");
    write_file(
        d,
        "src/config.rs",
        &format!(
            "pub const PASSWORD: &str = \"changeme\";\npub const TOKEN: &str = \"{token}\";\n"
        ),
    );
    let (out, report) = run_security(d);
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    assert_eq!(
        metric(&report, "security.secrets"),
        1.0,
        "the placeholder is no secret"
    );
    let f = &findings(&report)[0];
    assert_eq!(f["id"], "github-token");
    assert_eq!(f["file"], "src/config.rs");
    assert_eq!(f["line"], 2);
    assert_eq!(f["title"], "GitHub token: ghp_…4QeW");
    // The value is in no output: not on the terminal, not in any file the run wrote.
    assert!(!stdout(&out).contains(&token) && !stderr(&out).contains(&token));
    for entry in std::fs::read_dir(d.join("out")).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
            assert!(!text.contains(&token), "the token is in {}", path.display());
            assert!(
                !text.contains(&token[4..20]),
                "part of the token is in {}",
                path.display()
            );
        }
    }
    for format in ["comment", "markdown", "html", "terminal"] {
        let text = rendered(&d.join("out/report.json"), format);
        assert!(!text.contains(&token), "{format}");
    }
    // Committed to main by mistake, then removed by the next change: nothing is added.
    git(d, &["add", "-A"]);
    git(d, &["commit", "-q", "-m", "oops"]);
    write_file(
        d,
        "src/config.rs",
        "pub const PASSWORD: &str = \"changeme\";\n",
    );
    let (out, report) = run_security(d);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    assert_eq!(metric(&report, "security.secrets"), 0.0);
}

#[test]
fn a_source_outside_the_allowed_ones_fails_only_when_the_change_adds_it() {
    let git_source = "git+https://github.com/someone/forked-thing?branch=main#0123456789abcdef0123456789abcdef01234567";
    let dir = repo(&lock(&[]), "");
    let d = dir.path();
    write_file(
        d,
        "Cargo.lock",
        &lock(&[("forked-thing", "0.2.0", git_source)]),
    );
    let (out, report) = run_security(d);
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    assert_eq!(metric(&report, "security.new_sources"), 1.0);
    let f = &findings(&report)[0];
    assert_eq!(f["kind"], "source");
    assert_eq!(f["line"], 11, "the line of the package in Cargo.lock");

    let config = std::fs::read_to_string(d.join("gate.toml")).unwrap();
    write_file(
        d,
        "gate.toml",
        &format!("{config}[security.sources]\ngit = [\"https://github.com/someone/\"]\n"),
    );
    let (out, report) = run_security(d);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    assert_eq!(metric(&report, "security.sources"), 0.0);
}

#[test]
fn a_dependency_with_a_license_the_policy_refuses_fails_when_added() {
    let policy = "[security.licenses]\nallow = [\"MIT\", \"Apache-2.0\"]\n";
    let dir = repo(&lock(&[]), policy);
    let d = dir.path();
    // A generated lock file: `cargo metadata --locked` reads the dependencies' licenses.
    let out = output(
        std::process::Command::new(env!("CARGO"))
            .args(["generate-lockfile", "--offline"])
            .current_dir(d),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    git(d, &["add", "-A"]);
    git(d, &["commit", "-q", "-m", "lock"]);
    write_file(
        d,
        "vendor/copyleft/Cargo.toml",
        "[package]\nname = \"copyleft\"\nversion = \"0.1.0\"\nedition = \"2021\"\nlicense = \"GPL-3.0-only\"\n",
    );
    write_file(d, "vendor/copyleft/src/lib.rs", "");
    let manifest = std::fs::read_to_string(d.join("Cargo.toml")).unwrap();
    write_file(
        d,
        "Cargo.toml",
        &manifest.replace(
            "[workspace]",
            "[dependencies]\ncopyleft = { path = \"vendor/copyleft\" }\n[workspace]",
        ),
    );
    let out = output(
        std::process::Command::new(env!("CARGO"))
            .args(["generate-lockfile", "--offline"])
            .current_dir(d),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let (out, report) = run_security(d);
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    assert_eq!(metric(&report, "security.new_licenses"), 1.0);
    let f = &findings(&report)[0];
    assert_eq!(f["package"], "copyleft 0.1.0");
    assert!(
        f["title"]
            .as_str()
            .unwrap()
            .contains("offers no license the policy allows"),
        "{f}"
    );
}

#[test]
fn a_bad_ignore_date_is_a_config_error_at_its_place() {
    let dir = repo(
        &lock(&[]),
        "ignore = [{ id = \"RUSTSEC-2026-9001\", until = \"soon\" }]\n",
    );
    let (out, _) = (
        output(gate("security").current_dir(dir.path()).args([
            "run",
            "--suite",
            "security",
            "--out-dir",
            "out",
        ])),
        (),
    );
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("gate.toml:4:"), "{err}");
    assert!(err.contains("`until = \"soon\"` is not a date"), "{err}");
    assert!(err.contains("YYYY-MM-DD"), "{err}");
}

#[test]
fn a_remote_database_is_cloned_into_the_cache_updated_and_read_offline() {
    // The "remote": a git repository of the fixture database, reached by a file:// URL through
    // the same git process layer a https:// URL goes through.
    let remote = tempfile::tempdir().unwrap();
    let db = remote.path().join("advisory-db");
    copy_fixture(
        "advisory-db",
        &["crates/gate-fixture-vuln/RUSTSEC-2026-9001.md"],
        &db,
    );
    git_init_commit(&db);
    let url = format!("file://{}", db.display());
    let cache = tempfile::tempdir().unwrap();
    let dir = repo(&lock(&[]), "");
    let d = dir.path();
    let config = std::fs::read_to_string(d.join("gate.toml")).unwrap();
    let local = format!("advisory_db = \"{}\"", advisory_db().display());
    write_file(
        d,
        "gate.toml",
        &config.replace(&local, &format!("advisory_db = \"{url}\"")),
    );
    write_file(
        d,
        "Cargo.lock",
        &lock(&[("gate-fixture-vuln", "1.0.0", CRATES_IO)]),
    );
    let run = |extra: &[&str]| {
        let out = output(
            gate("security")
                .current_dir(d)
                .env("XDG_CACHE_HOME", cache.path())
                .args(["run", "--suite", "security", "--out-dir", "out"])
                .args(extra),
        );
        (out, json(&d.join("out/report.json")))
    };

    // Offline with nothing cached: the suite could not check, and says how to get a copy.
    let (out, report) = run(&["--offline"]);
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    assert_eq!(metric(&report, "security.failed"), 1.0);
    let message = report["suites"][0]["cases"][0]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(message.contains("run once online"), "{message}");

    // Online: cloned into the cache, under a directory named after the URL.
    let (out, report) = run(&[]);
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    assert_eq!(metric(&report, "security.new_advisories"), 1.0);
    let cached: Vec<_> = std::fs::read_dir(cache.path().join("cargo-gate"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(cached.len(), 1, "{cached:?}");
    assert!(cached[0].starts_with("advisory-db-file"), "{cached:?}");
    let database = report["suites"][0]["details"]["security"]["database"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(database.contains("fetched now"), "{database}");

    // A new advisory upstream: the next run fetches it.
    copy_fixture(
        "advisory-db",
        &["crates/gate-fixture-old/RUSTSEC-2026-9002.md"],
        &db,
    );
    git(&db, &["add", "-A"]);
    git(&db, &["commit", "-q", "-m", "new advisory"]);
    write_file(
        d,
        "Cargo.lock",
        &lock(&[
            ("gate-fixture-vuln", "1.0.0", CRATES_IO),
            ("gate-fixture-old", "1.0.0", CRATES_IO),
        ]),
    );
    let (_, report) = run(&[]);
    assert_eq!(metric(&report, "security.unmaintained"), 1.0);

    // Offline: the cached copy as it is, and how old it is.
    let (_, report) = run(&["--offline"]);
    assert_eq!(metric(&report, "security.unmaintained"), 1.0);
    let database = report["suites"][0]["details"]["security"]["database"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(database.contains("offline: fetched"), "{database}");
}

#[test]
fn a_yanked_version_the_local_index_knows_warns() {
    // A CARGO_HOME whose crates.io index cache says 0.9.0 of the crate is yanked, in cargo's
    // own cache format: a header, then `version NUL json NUL` pairs.
    let home = tempfile::tempdir().unwrap();
    let mut entry = vec![3u8, 2, 0, 0, 0];
    entry.extend_from_slice(b"Unknown\0");
    for (v, yanked) in [("0.9.0", true), ("0.9.1", false)] {
        entry.extend_from_slice(v.as_bytes());
        entry.push(0);
        entry.extend_from_slice(
            format!("{{\"name\":\"gate-fixture-vuln\",\"vers\":\"{v}\",\"deps\":[],\"yanked\":{yanked}}}").as_bytes(),
        );
        entry.push(0);
    }
    let cache = home
        .path()
        .join("registry/index/index.crates.io-1949cf8c6b5b557f/.cache/ga/te");
    std::fs::create_dir_all(&cache).unwrap();
    std::fs::write(cache.join("gate-fixture-vuln"), entry).unwrap();
    let dir = repo(&lock(&[]), "");
    let d = dir.path();
    let run = |version: &str| {
        write_file(
            d,
            "Cargo.lock",
            &lock(&[("gate-fixture-vuln", version, CRATES_IO)]),
        );
        let out = output(
            gate("security")
                .current_dir(d)
                .env("CARGO_HOME", home.path())
                .args(["run", "--suite", "security", "--out-dir", "out"]),
        );
        (out, json(&d.join("out/report.json")))
    };
    let (out, report) = run("0.9.0");
    assert_eq!(code(&out), 0, "a warning by default: {}", stdout(&out));
    assert_eq!(metric(&report, "security.new_yanked"), 1.0);
    assert!(
        stdout(&out).contains("security.new_yanked == 0"),
        "{}",
        stdout(&out)
    );
    let (_, report) = run("0.9.1");
    assert_eq!(metric(&report, "security.yanked"), 0.0);
}

#[test]
fn the_counts_noted_on_the_branch_make_a_trend_in_the_html_report() {
    let vulnerable = lock(&[("gate-fixture-vuln", "2.0.1", CRATES_IO)]);
    let dir = repo(&vulnerable, "");
    let d = dir.path();
    // The default branch's run, saved in the notes as `baseline save` does after it.
    let (_, _) = run_security(d);
    let out = output(gate("security").current_dir(d).args([
        "baseline",
        "save",
        "--report",
        "out/report.json",
    ]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    write_file(d, "src/lib.rs", "pub fn f() -> u8 {\n    2\n}\n");
    let (_, report) = run_security(d);
    let trend = report["suites"][0]["details"]["security"]["trend"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(trend.len(), 2, "{trend:?}");
    assert_eq!(trend[0]["advisories"], 1.0);
    assert_eq!(trend[1]["rev"], "this run");
    let html = rendered(&d.join("out/report.json"), "html");
    assert!(
        html.contains("<figure class=\"trend\"><svg"),
        "no trend chart"
    );
}
