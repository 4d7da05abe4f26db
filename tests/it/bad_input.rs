//! The bad-input corpus: malformed gate.toml, report.json (also as a publish-mode artifact),
//! event files, notes, LCOV, bench JSON and command lines. Each is given to the real binary;
//! each asserts the exit code, that nothing panicked, and for config errors the
//! `file:line:col` and a hint. A corpus entry is data: adding one is adding a line.

use std::path::Path;
use std::process::Output;

use crate::common::*;

fn sane(what: &str, out: &Output, want: i32) -> String {
    let err = stderr(out);
    let all = format!("{}{err}", stdout(out));
    assert!(
        !all.contains("panicked") && !all.contains("RUST_BACKTRACE"),
        "{what}: cargo-gate panicked:\n{all}"
    );
    assert_eq!(code(out), want, "{what}: exit code; output:\n{all}");
    err
}

// ---------------------------------------------------------------------------------------------
// gate.toml

/// `(gate.toml, where the error must point)`: `"L:C"` exactly, `"L:"` any column of line L,
/// `":"` anywhere (the error is about several places at once).
const CONFIGS: &[(&str, &str)] = &[
    // TOML syntax and types
    ("[tests\n", "1:7"),
    ("[tests]\nretries = \n", "2:11"),
    ("[tests]\nretries = \"two\"\n", "2:11"),
    ("[tests]\nretries = -1\n", "2:11"),
    ("[tests]\nretries = 1000\n", "2:11"),
    ("[tests]\nretries = 1.5\n", "2:11"),
    ("[tests]\nretires = 2\n", "2:1"),
    ("[tests]\njobs = 0\n", "2:8"),
    ("[tests]\njobs = -3\n", "2:8"),
    ("[tests]\ntimeout = \"0s\"\n", "2:12"),
    ("[tests]\ntimeout = \"soon\"\n", "2:12"),
    ("[tests]\ntimeout = 5\n", "2:11"),
    ("[tests]\nslow_timeout = \"0ms\"\n", "2:17"),
    ("[tests]\nslow_timeout = \"-1s\"\n", "2:17"),
    ("[tests]\noutput_tail = 99999999999\n", "2:15"),
    ("[tests]\nenv = { \"A=B\" = \"x\" }\n", "2:7"),
    ("[tests]\nenv = { \"\" = \"x\" }\n", "2:7"),
    ("[tests]\nenv = { A = \"nul\\u0000here\" }\n", "2:7"),
    ("[tests]\nenv = { A = 1 }\n", "2:13"),
    ("[tests]\nisolation = \"threads\"\n", "2:13"),
    ("[tests]\nrunner = \"jest\"\n", "2:10"),
    ("[tests]\nrun_ignored = \"sometimes\"\n", "2:15"),
    ("[tests]\nfail_fast = \"yes\"\n", "2:13"),
    ("[tests]\ncargo_args = \"--release\"\n", "2:14"),
    ("[tests]\nquarantine = [1]\n", "2:15"),
    ("[tests]\nquarantine = [\"\"]\n", "2:15"),
    ("[tests]\nquarantine = [\"a\", \" * \"]\n", "2:20"),
    ("tests = 5\n", "1:9"),
    ("[[tests]]\nretries = 1\n", "1:1"),
    ("[tests]\nretries = 1\n[tests]\nretries = 2\n", "3:"),
    // gate rules
    ("[gate]\nfail = [\"tests.failed = 0\"]\n", "2:23"),
    ("[gate]\nfail = [\"tests.failed == \"]\n", "2:"),
    ("[gate]\nfail = [\"tests.failde == 0\"]\n", "2:10"),
    ("[gate]\nfail = [\"tests.duration < 5 lightyears\"]\n", "2:"),
    ("[gate]\nfail = [\"tests.duration < 5\"]\n", "2:27"),
    ("[gate]\nfail = [\"\"]\n", "2:"),
    ("[gate]\nfail = [\"== 0\"]\n", "2:"),
    ("[gate]\nfail = [\"tests.failed == 0 0\"]\n", "2:"),
    ("[gate]\nfail = [\"tests.failed <> 0\"]\n", "2:"),
    ("[gate]\nfail = [\"tests.failed == nan\"]\n", "2:"),
    ("[gate]\nfail = [\"bench.x.regression == \"]\n", "2:"),
    ("[gate]\nfail = \"tests.failed == 0\"\n", "2:8"),
    ("[gate]\nfail = [1, 2]\n", "2:9"),
    ("[gate]\nwarn = [\"load.api.q99 < 1s\"]\n", "2:"),
    ("[gate]\nfial = []\n", "2:1"),
    // profiles
    ("[profile.ci]\ninherits = \"nope\"\n", "2:"),
    (
        "[profile.a]\ninherits = \"b\"\n[profile.b]\ninherits = \"a\"\n",
        ":",
    ),
    ("[profile.ci]\ntests = { retries = \"x\" }\n", "2:21"),
    ("[profile.ci]\nunknown = 1\n", "2:1"),
    // baseline
    ("[baseline]\nz_threshold = nan\n", "2:15"),
    ("[baseline]\nz_threshold = 0\n", "2:15"),
    ("[baseline]\nz_threshold = inf\n", "2:15"),
    ("[baseline]\nz_threshold = -3\n", "2:15"),
    ("[baseline]\nsignificance = 2.0\n", "2:16"),
    ("[baseline]\nsignificance = 0\n", "2:16"),
    ("[baseline]\nsignificance = nan\n", "2:16"),
    ("[baseline]\nhistory = 0\n", "2:11"),
    ("[baseline]\nhistory = 100000000\n", "2:11"),
    ("[baseline]\nmin_history = 0\n", "2:15"),
    ("[baseline]\nmax_depth = 0\n", "2:13"),
    ("[baseline]\nmin_effect = \"two\"\n", "2:15"),
    ("[baseline]\nmin_effect = \"-2%\"\n", "2:15"),
    ("[baseline]\nmin_effect = \"nan%\"\n", "2:15"),
    ("[baseline.metric.\"bench.x\"]\nz_threshold = nan\n", "2:15"),
    (
        "[baseline.metric.\"bench.x\"]\nsignificance = 1.5\n",
        "2:16",
    ),
    ("[baseline]\nenabled = 1\n", "2:11"),
    // bench
    ("[[bench.command]]\nname = \"x\"\ncmd = []\n", "3:7"),
    ("[[bench.command]]\nname = \"x\"\ncmd = [\"\"]\n", "3:7"),
    ("[[bench.command]]\nname = \"\"\ncmd = [\"true\"]\n", "2:9"),
    (
        "[[bench.command]]\nname = \"a b\"\ncmd = [\"true\"]\n",
        "2:9",
    ),
    (
        "[[bench.command]]\nname = \"x\"\ncmd = [\"true\"]\nruns = 0\n",
        "4:8",
    ),
    (
        "[[bench.command]]\nname = \"x\"\ncmd = [\"true\"]\nruns = -1\n",
        "4:8",
    ),
    (
        "[[bench.command]]\nname = \"x\"\ncmd = [\"true\"]\nwarmup = 99999999\n",
        "4:10",
    ),
    (
        "[[bench.command]]\nname = \"x\"\ncmd = [\"true\"]\n[[bench.command]]\nname = \"x\"\ncmd = [\"true\"]\n",
        "5:9",
    ),
    ("[[bench.command]]\ncmd = [\"true\"]\n", "1:1"),
    ("[bench]\nrun = []\n", "2:7"),
    ("[bench]\ncustom = \"x.json\"\n", "2:10"),
    // load
    (
        "[[load]]\nname = \"a\"\nurl = \"http://127.0.0.1:1/\"\nrate = 1e300\nduration = \"1s\"\n",
        "4:8",
    ),
    (
        "[[load]]\nname = \"a\"\nurl = \"http://127.0.0.1:1/\"\nrate = 1e9\nduration = \"1s\"\n",
        "4:8",
    ),
    (
        "[[load]]\nname = \"a\"\nurl = \"http://127.0.0.1:1/\"\nrate = nan\nduration = \"1s\"\n",
        "4:8",
    ),
    (
        "[[load]]\nname = \"a\"\nurl = \"http://127.0.0.1:1/\"\nrate = -5\nduration = \"1s\"\n",
        "4:8",
    ),
    (
        "[[load]]\nname = \"a\"\nurl = \"http://127.0.0.1:1/\"\nrate = 0\nduration = \"1s\"\n",
        "2:9",
    ),
    (
        "[[load]]\nname = \"a\"\nurl = \"http://127.0.0.1:1/\"\nrate = 10\nduration = \"0s\"\n",
        "5:13",
    ),
    (
        "[[load]]\nname = \"a\"\nurl = \"http://127.0.0.1:1/\"\nrate = 10\nduration = \"2d\"\n",
        "5:13",
    ),
    (
        "[[load]]\nname = \"a\"\nurl = \"http://127.0.0.1:1/\"\nrate = 10\nduration = \"1s\"\nconnections = 0\n",
        "6:15",
    ),
    (
        "[[load]]\nname = \"a\"\nurl = \"http://127.0.0.1:1/\"\nrate = 10\nduration = \"1s\"\nconnections = 1000000\n",
        "6:15",
    ),
    (
        "[[load]]\nname = \"a\"\nurl = \"http://127.0.0.1:1/\"\nrate = 10\nduration = \"1s\"\ntimeout = \"0s\"\n",
        "6:12",
    ),
    (
        "[[load]]\nname = \"a\"\nurl = \"http://127.0.0.1:1/\"\nstages = [{ duration = \"0s\", rate = 10 }]\n",
        "4:25",
    ),
    (
        "[[load]]\nname = \"a\"\nurl = \"http://127.0.0.1:1/\"\nstages = [{ duration = \"1s\", rate = 1e12 }]\n",
        "4:37",
    ),
    (
        "[[load]]\nname = \"a\"\nurl = \"http://127.0.0.1:1/\"\nstages = [{ duration = \"1s\" }]\n",
        "4:",
    ),
    (
        "[[load]]\nname = \"a\"\nurl = \"http://127.0.0.1:1/\"\nusers = 0\nduration = \"1s\"\n",
        "4:9",
    ),
    (
        "[[load]]\nname = \"a\"\nurl = \"http://127.0.0.1:1/\"\nusers = 5\n",
        "2:9",
    ),
    (
        "[[load]]\nname = \"a\"\nurl = \"http://127.0.0.1:1/\"\nrate = 5\nusers = 5\nduration = \"1s\"\n",
        "5:9",
    ),
    (
        "[[load]]\nname = \"a\"\nurl = \"http://127.0.0.1:1/\"\n",
        "2:9",
    ),
    (
        "[[load]]\nname = \"a b\"\nurl = \"http://127.0.0.1:1/\"\nrate = 1\nduration = \"1s\"\n",
        "2:9",
    ),
    (
        "[[load]]\nname = \"a\"\nurl = \"ftp://x/\"\nrate = 1\nduration = \"1s\"\n",
        "3:8",
    ),
    (
        "[[load]]\nname = \"a\"\nurl = \"http://\"\nrate = 1\nduration = \"1s\"\n",
        "3:8",
    ),
    (
        "[[load]]\nname = \"a\"\nurl = \"http://127.0.0.1:1/\"\nrate = 1\nduration = \"1s\"\nthresholds = [\"q95 < 1s\"]\n",
        "6:16",
    ),
    (
        "[[load]]\nname = \"a\"\nurl = \"http://127.0.0.1:1/\"\nrate = 1\nduration = \"1s\"\n[[load]]\nname = \"a\"\nurl = \"http://127.0.0.1:1/\"\nrate = 1\nduration = \"1s\"\n",
        "7:9",
    ),
    // services, checks, proxies, chaos
    (
        "[[service]]\nname = \"\"\ncmd = [\"sleep\", \"9\"]\n",
        "2:9",
    ),
    (
        "[[service]]\nname = \"a b\"\ncmd = [\"sleep\", \"9\"]\n",
        "2:9",
    ),
    ("[[service]]\nname = \"db\"\ncmd = []\n", "3:7"),
    (
        "[[service]]\nname = \"db\"\ncmd = [\"x\"]\nenv = { \"K\\u0000\" = \"v\" }\n",
        "2:9",
    ),
    (
        "[[service]]\nname = \"db\"\ncmd = [\"x\"]\nenv = { K = \"v\\u0000\" }\n",
        "2:9",
    ),
    (
        "[[service]]\nname = \"db\"\ncmd = [\"x\"]\nafter = [\"nope\"]\n",
        "4:11",
    ),
    (
        "[[service]]\nname = \"db\"\ncmd = [\"x\"]\nready = { }\n",
        "4:9",
    ),
    (
        "[[service]]\nname = \"db\"\ncmd = [\"x\"]\n[[service]]\nname = \"db\"\ncmd = [\"x\"]\n",
        "5:",
    ),
    (
        "[[service]]\nname = \"db\"\ncmd = [\"x\"]\nstop_grace = \"never\"\n",
        "4:15",
    ),
    (
        "[[proxy]]\nname = \"p\"\nlisten = \"nope\"\nupstream = \"127.0.0.1:1\"\n",
        "3:11",
    ),
    (
        "[[proxy]]\nname = \"p\"\nlisten = \"127.0.0.1:99999\"\nupstream = \"127.0.0.1:1\"\n",
        "3:11",
    ),
    (
        "[[proxy]]\nname = \"p\"\nlisten = \"127.0.0.1:0\"\nupstream = \":1\"\n",
        "4:13",
    ),
    (
        "[[proxy]]\nname = \"\"\nlisten = \"127.0.0.1:0\"\nupstream = \"127.0.0.1:1\"\n",
        "2:9",
    ),
    ("[[proxy]]\nname = \"p\"\nlisten = \"127.0.0.1:0\"\n", "1:1"),
    (
        "[[proxy]]\nname = \"p\"\nlisten = \"127.0.0.1:0\"\nupstream = \"127.0.0.1:1\"\n[[chaos]]\nname = \"x\"\nfault = { kind = \"down\", target = \"p\", toxicity = 0.5 }\n",
        "7:51",
    ),
    (
        "[[proxy]]\nname = \"p\"\nlisten = \"127.0.0.1:0\"\nupstream = \"127.0.0.1:1\"\n[[chaos]]\nname = \"x\"\nfault = { kind = \"down\", target = \"p\" }\nduring = { every = \"0s\", max_failure_ratio = 0.5 }\n",
        "8:21",
    ),
    (
        "[[proxy]]\nname = \"p\"\nlisten = \"127.0.0.1:0\"\nupstream = \"127.0.0.1:1\"\n[[chaos]]\nname = \"x\"\nfault = { kind = \"down\", target = \"p\" }\nduring = { max_failure_ratio = 0.5, timeout = \"0ms\" }\n",
        "8:48",
    ),
    ("[[check]]\nname = \"c\"\n", ":"),
    ("[[chaos]]\nname = \"x\"\n", ":"),
    ("[[chaos]]\nname = \"x\"\nfault = \"meteor\"\n", ":"),
    // coverage, snapshots, property
    (
        "[[bench.command]]\nname = \"x\"\ncmd = [\"x\"]\ncounter = \"instructions\"\njson = true\n",
        "5:8",
    ),
    ("[coverage]\nlcov = 5\n", "2:8"),
    ("[coverage]\ncommand = \"cargo llvm-cov\"\n", "2:11"),
    ("[snapshots]\npending = \"maybe\"\n", "2:11"),
    ("[property]\ncases = -1\n", "2:9"),
    ("[property]\nmax_shrink_time = \"forever\"\n", "2:20"),
    // the file itself
    ("\u{feff}[tests]\nretries = \"x\"\n", "2:"),
    ("[tests]\r\nretries = \"x\"\r\n", "2:11"),
    ("a = \"\\q\"\n", "1:"),
    ("= 1\n", "1:1"),
    ("[tests]\nretries = 1 2\n", "2:"),
];

#[test]
fn config_errors_name_file_line_col_and_a_hint() {
    assert!(CONFIGS.len() >= 100, "the config corpus shrank");
    let dir = temp_workspace("");
    let mut seen = 0;
    for (i, (text, at)) in CONFIGS.iter().enumerate() {
        std::fs::write(dir.path().join("gate.toml"), text).unwrap();
        let out = gate("none")
            .current_dir(dir.path())
            .args(["gate", "check"])
            .output()
            .unwrap();
        let what = format!("config #{i} {text:?}");
        let err = sane(&what, &out, 2);
        let located = err
            .lines()
            .find(|l| l.starts_with("error: ") && l.contains("gate.toml:"))
            .unwrap_or_else(|| panic!("{what}: no `gate.toml:` location in:\n{err}"));
        let after = located.split("gate.toml:").nth(1).unwrap_or_default();
        let (line, rest) = after.split_once(':').unwrap_or(("", ""));
        let col: String = rest.chars().take_while(char::is_ascii_digit).collect();
        assert!(
            line.parse::<u32>().is_ok() && !col.is_empty(),
            "{what}: no line:col in {located}"
        );
        let got = format!("{line}:{col}");
        let matches = match *at {
            ":" => true,
            a if a.ends_with(':') => got.starts_with(a),
            a => got == a,
        };
        assert!(matches, "{what}: expected {at}, got {located}");
        assert!(err.contains("help: "), "{what}: no hint in:\n{err}");
        seen += 1;
    }
    assert_eq!(seen, CONFIGS.len());
}

// ---------------------------------------------------------------------------------------------
// report.json, rendered and published from an artifact

fn reports() -> Vec<(String, Vec<u8>)> {
    let valid = r#"{"schema": 2, "tool_version": "0", "run": {"id": "r", "started": "2026-01-01T00:00:00Z", "duration": 1.0, "profile": "default", "git": {}}, "suites": [], "gates": [], "verdict": {"status": "passed", "reasons": []}}"#;
    let mut out: Vec<(String, Vec<u8>)> = [
        ("empty", ""),
        ("whitespace", "   \n"),
        ("null", "null"),
        ("a number", "42"),
        ("a string", "\"report\""),
        ("an array", "[]"),
        ("an empty object", "{}"),
        ("truncated", &valid[..valid.len() / 2]),
        ("trailing garbage", &format!("{valid} trailing")),
        ("schema 99", &valid.replace("\"schema\": 2", "\"schema\": 99")),
        ("schema as text", &valid.replace("\"schema\": 2", "\"schema\": \"2\"")),
        ("negative schema", &valid.replace("\"schema\": 2", "\"schema\": -1")),
        ("no run", &valid.replace("\"run\": {\"id\": \"r\", \"started\": \"2026-01-01T00:00:00Z\", \"duration\": 1.0, \"profile\": \"default\", \"git\": {}}, ", "")),
        ("suites as object", &valid.replace("\"suites\": []", "\"suites\": {}")),
        ("unknown suite kind", &valid.replace("\"suites\": []", "\"suites\": [{\"kind\": \"quantum\", \"name\": \"q\", \"status\": \"passed\", \"duration\": 0, \"cases\": [], \"metrics\": []}]")),
        ("unknown case status", &valid.replace("\"suites\": []", "\"suites\": [{\"kind\": \"tests\", \"name\": \"t\", \"status\": \"passed\", \"duration\": 0, \"cases\": [{\"id\": \"a\", \"name\": \"a\", \"status\": \"exploded\", \"attempts\": []}], \"metrics\": []}]")),
        ("case without id", &valid.replace("\"suites\": []", "\"suites\": [{\"kind\": \"tests\", \"name\": \"t\", \"status\": \"passed\", \"duration\": 0, \"cases\": [{\"status\": \"passed\"}], \"metrics\": []}]")),
        ("line as text", &valid.replace("\"suites\": []", "\"suites\": [{\"kind\": \"tests\", \"name\": \"t\", \"status\": \"failed\", \"duration\": 0, \"cases\": [{\"id\": \"a\", \"name\": \"a\", \"status\": \"failed\", \"attempts\": [], \"location\": {\"file\": \"x\", \"line\": \"7\"}}], \"metrics\": []}]")),
        ("line beyond u32", &valid.replace("\"suites\": []", "\"suites\": [{\"kind\": \"tests\", \"name\": \"t\", \"status\": \"failed\", \"duration\": 0, \"cases\": [{\"id\": \"a\", \"name\": \"a\", \"status\": \"failed\", \"attempts\": [], \"location\": {\"file\": \"x\", \"line\": 99999999999}}], \"metrics\": []}]")),
        ("duration as text", &valid.replace("\"duration\": 1.0", "\"duration\": \"1s\"")),
        ("verdict unknown", &valid.replace("\"status\": \"passed\", \"reasons\"", "\"status\": \"maybe\", \"reasons\"")),
        ("metric samples as text", &valid.replace("\"suites\": []", "\"suites\": [{\"kind\": \"bench\", \"name\": \"b\", \"status\": \"passed\", \"duration\": 0, \"cases\": [], \"metrics\": [{\"name\": \"bench.x\", \"unit\": \"s\", \"samples\": \"fast\"}]}]")),
        ("direction unknown", &valid.replace("\"suites\": []", "\"suites\": [{\"kind\": \"bench\", \"name\": \"b\", \"status\": \"passed\", \"duration\": 0, \"cases\": [], \"metrics\": [{\"name\": \"bench.x\", \"unit\": \"s\", \"direction\": \"sideways\", \"samples\": [1]}]}]")),
        ("deeply nested", &format!("{}{}", "[".repeat(100_000), "]".repeat(100_000))),
    ]
    .iter()
    .map(|(n, t)| (n.to_string(), t.as_bytes().to_vec()))
    .collect();
    out.push(("binary".into(), (0u8..=255).cycle().take(4096).collect()));
    out.push((
        "invalid UTF-8".into(),
        b"{\"schema\": 2, \"tool_version\": \"\xff\xfe\"}".to_vec(),
    ));
    out.push((
        "UTF-16".into(),
        "{}".encode_utf16().flat_map(u16::to_le_bytes).collect(),
    ));
    out
}

#[test]
fn malformed_reports_are_input_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let reports = reports();
    assert!(reports.len() >= 25);
    for (name, bytes) in &reports {
        let path = dir.path().join("report.json");
        std::fs::write(&path, bytes).unwrap();
        for format in ["markdown", "junit"] {
            let out = gate("none")
                .args(["gate", "report", "--format", format])
                .arg(&path)
                .output()
                .unwrap();
            let err = sane(&format!("report {name} as {format}"), &out, 2);
            assert!(
                err.contains("report.json"),
                "report {name}: the file is not named:\n{err}"
            );
            assert!(err.contains("help: "), "report {name}: no hint:\n{err}");
        }
    }
    // A missing file and a directory.
    for path in [dir.path().join("missing.json"), dir.path().to_path_buf()] {
        let out = gate("none")
            .args(["gate", "report"])
            .arg(&path)
            .output()
            .unwrap();
        sane(&format!("report at {}", path.display()), &out, 2);
    }
}

/// The `workflow_run` publisher with a trusted event, pointing at an API nobody listens on:
/// a malformed artifact must stop before any request, publish nothing and write no file.
fn publish_artifact(dir: &Path) -> Output {
    let event = dir.join("event.json");
    std::fs::write(
        &event,
        r#"{"workflow_run": {"head_sha": "abc", "head_repository": {"full_name": "acme/app"}, "pull_requests": []}}"#,
    )
    .unwrap();
    gate("none")
        .args(["gate", "comment", "--from-artifact"])
        .arg(dir.join("artifact"))
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_REPOSITORY", "acme/app")
        .env("GITHUB_API_URL", "http://127.0.0.1:9")
        .env("GITHUB_EVENT_NAME", "workflow_run")
        .env("GITHUB_EVENT_PATH", &event)
        .env("GITHUB_STEP_SUMMARY", dir.join("summary.md"))
        .env("GITHUB_OUTPUT", dir.join("output.txt"))
        .env("GITHUB_TOKEN", "ghs_corpus")
        .output()
        .unwrap()
}

#[test]
fn malformed_artifacts_publish_nothing() {
    let reports = reports();
    for (name, bytes) in reports.iter().take(12) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("artifact")).unwrap();
        std::fs::write(dir.path().join("artifact/report.json"), bytes).unwrap();
        let out = publish_artifact(dir.path());
        let what = format!("artifact {name}");
        let err = sane(&what, &out, 2);
        assert!(err.contains("report.json"), "{what}: not named:\n{err}");
        for written in ["summary.md", "output.txt"] {
            assert!(
                !dir.path().join(written).exists(),
                "{what}: {written} was written"
            );
        }
        assert!(
            !stdout(&out).contains("::error"),
            "{what}: annotations were written"
        );
    }
    // No report at all in the artifact directory.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("artifact")).unwrap();
    sane("an empty artifact", &publish_artifact(dir.path()), 2);
}

// ---------------------------------------------------------------------------------------------
// event files

#[test]
fn malformed_event_files_are_errors_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    std::fs::write(
        &report,
        r#"{"schema": 2, "tool_version": "0", "run": {"id": "r", "started": "2026-01-01T00:00:00Z", "duration": 1.0, "profile": "default", "git": {}}, "suites": [], "gates": [], "verdict": {"status": "passed", "reasons": []}}"#,
    )
    .unwrap();
    let events: &[(&str, &str)] = &[
        ("pull_request", ""),
        ("pull_request", "not json"),
        ("pull_request", "[]"),
        ("pull_request", "null"),
        ("pull_request", "{\"pull_request\": 7}"),
        (
            "pull_request",
            "{\"pull_request\": {\"number\": \"seven\"}}",
        ),
        ("pull_request", "{\"pull_request\": {\"number\": -7}}"),
        (
            "pull_request",
            "{\"pull_request\": {\"number\": 7, \"head\": \"sha\"}}",
        ),
        (
            "pull_request",
            "{\"pull_request\": {\"number\": 7, \"head\": {\"sha\": 5}}}",
        ),
        ("pull_request", "{\"pull_request\": {\"number\": 1e99}}"),
        ("workflow_run", "{\"workflow_run\": []}"),
        ("workflow_run", "{\"workflow_run\": {\"head_sha\": 12}}"),
        ("merge_group", "{\"merge_group\": {\"head_sha\": 5}}"),
        (
            "workflow_run",
            "{\"workflow_run\": {\"pull_requests\": [{\"number\": \"1\"}]}}",
        ),
    ];
    for (i, (name, text)) in events.iter().enumerate() {
        let event = dir.path().join(format!("event-{i}.json"));
        std::fs::write(&event, text).unwrap();
        let out = gate("none")
            .args(["gate", "comment"])
            .arg(&report)
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_REPOSITORY", "acme/app")
            .env("GITHUB_API_URL", "http://127.0.0.1:9")
            .env("GITHUB_EVENT_NAME", name)
            .env("GITHUB_EVENT_PATH", &event)
            .env("GITHUB_TOKEN", "ghs_corpus")
            .env_remove("GITHUB_STEP_SUMMARY")
            .output()
            .unwrap();
        let what = format!("{name} event {text:?}");
        let err = sane(&what, &out, 2);
        assert!(
            err.contains(&format!("event-{i}.json")),
            "{what}: the file is not named:\n{err}"
        );
    }
    // A path that does not exist.
    let out = gate("none")
        .args(["gate", "comment"])
        .arg(&report)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_REPOSITORY", "acme/app")
        .env("GITHUB_EVENT_NAME", "pull_request")
        .env("GITHUB_EVENT_PATH", dir.path().join("gone.json"))
        .env("GITHUB_TOKEN", "ghs_corpus")
        .output()
        .unwrap();
    sane("a missing event file", &out, 2);
}

// ---------------------------------------------------------------------------------------------
// notes

#[test]
fn malformed_notes_are_refused_when_shown_and_skipped_in_history() {
    let dir = temp_workspace("");
    git_init_commit(dir.path());
    let notes: &[&str] = &[
        "",
        "{",
        "[]",
        "null",
        "{\"schema\": \"one\"}",
        "{\"schema\": 1, \"entries\": 5}",
        "{\"schema\": 1, \"entries\": [{\"metric\": 5}]}",
        "{\"schema\": 1, \"entries\": [{\"metric\": \"bench.x\", \"samples\": \"fast\"}]}",
        "{\"schema\": 1, \"entries\": [{\"metric\": \"bench.x\", \"unit\": \"s\", \"samples\": [1e999]}]}",
        "\u{1}\u{2}binary\u{7f}\u{fffe}",
        "{\"schema\": 1, \"entries\": [{\"metric\": \"bench.x\", \"unit\": \"s\", \"direction\": \"sideways\", \"samples\": [1]}]}",
        &"[".repeat(50_000),
    ];
    for (i, note) in notes.iter().enumerate() {
        git(
            dir.path(),
            &[
                "notes",
                "--ref=cargo-gate",
                "add",
                "-f",
                "--allow-empty",
                "-m",
                note,
            ],
        );
        let what = format!("note #{i} {:?}", note.chars().take(60).collect::<String>());
        let shown = gate("none")
            .current_dir(dir.path())
            .args(["gate", "baseline", "show"])
            .output()
            .unwrap();
        let err = sane(&format!("{what} shown"), &shown, 2);
        assert!(err.contains("note on"), "{what}: {err}");
        let log = gate("none")
            .current_dir(dir.path())
            .args(["gate", "baseline", "log"])
            .output()
            .unwrap();
        let err = sane(&format!("{what} in the log"), &log, 0);
        assert!(
            err.contains("skipped"),
            "{what}: the log does not say it skipped it:\n{err}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// LCOV and bench JSON: a file that cannot be read is a failed case, and the gate fails

fn run_suite(dir: &Path, suite: &str) -> Output {
    gate("none")
        .current_dir(dir)
        .args([
            "gate",
            "run",
            "--suite",
            suite,
            "--no-baseline",
            "--progress",
            "lines",
        ])
        .args(["--out-dir", "target/gate"])
        .output()
        .unwrap()
}

#[test]
fn unreadable_lcov_fails_the_gate() {
    let files: &[&str] = &[
        "",
        "garbage",
        "<?xml version=\"1.0\"?><coverage line-rate=\"1\"></coverage>",
        "SF:src/lib.rs\nDA:1,1\n",
        "SF:src/lib.rs\nDA:x,1\nend_of_record\n",
        "SF:src/lib.rs\nDA:1\nend_of_record\n",
        "SF:src/lib.rs\nDA:-1,1\nend_of_record\n",
        "SF:src/lib.rs\nDA:99999999999999999999,1\nend_of_record\n",
        "DA:1,1\nend_of_record\n",
        "SF:\nDA:1,1\nend_of_record\n",
        "SF:src/lib.rs\nLF:abc\nend_of_record\n",
        "\u{0}\u{1}\u{2}",
    ];
    for (i, text) in files.iter().enumerate() {
        let dir = temp_workspace("[coverage]\nlcov = \"cov.info\"\n");
        std::fs::write(dir.path().join("cov.info"), text).unwrap();
        let out = run_suite(dir.path(), "coverage");
        let what = format!("lcov #{i} {text:?}");
        sane(&what, &out, 1);
        let report = json(&dir.path().join("target/gate/report.json"));
        assert!(
            statuses(&report).iter().any(|(_, s)| s == "failed"),
            "{what}: no failed case: {report}"
        );
    }
}

#[test]
fn malformed_bench_results_fail_the_gate() {
    let custom: &[&str] = &[
        "",
        "{",
        "[]",
        "{\"benchmarks\": 5}",
        "[{\"name\": \"x\"}]",
        "[{\"name\": \"x\", \"unit\": \"s\", \"samples\": \"fast\"}]",
        "[{\"name\": \"x\", \"unit\": \"s\", \"samples\": []}]",
        "[{\"name\": 5, \"unit\": \"s\", \"samples\": [1]}]",
        "[{\"name\": \"x\", \"unit\": \"s\", \"samples\": [-1]}]",
        "\u{0}\u{1}",
    ];
    let hyperfine: &[&str] = &[
        "",
        "{\"results\": 5}",
        "{\"results\": [{\"command\": \"x\"}]}",
        "{\"results\": [{\"command\": \"x\", \"times\": \"fast\"}]}",
        "{\"results\": [{\"command\": \"x\", \"times\": []}]}",
        "[1, 2, 3]",
    ];
    for (kind, inputs) in [("custom", custom), ("hyperfine", hyperfine)] {
        for (i, text) in inputs.iter().enumerate() {
            let dir = temp_workspace(&format!(
                "[bench]\ncriterion = false\nlibtest = false\n{kind} = [\"b.json\"]\n"
            ));
            std::fs::write(dir.path().join("b.json"), text).unwrap();
            let out = run_suite(dir.path(), "bench");
            sane(&format!("{kind} #{i} {text:?}"), &out, 1);
        }
    }
    // A file that is not there.
    let dir =
        temp_workspace("[bench]\ncriterion = false\nlibtest = false\ncustom = [\"none.json\"]\n");
    sane("a missing custom file", &run_suite(dir.path(), "bench"), 1);
}

// ---------------------------------------------------------------------------------------------
// command lines

#[test]
fn bad_arguments_are_usage_errors() {
    let dir = temp_workspace("");
    let args: &[&[&str]] = &[
        &["gate", "frobnicate"],
        &["gate", "run", "--suite", "quantum"],
        &["gate", "run", "--suite", ""],
        &["gate", "run", "--partition", "hash:0/2"],
        &["gate", "run", "--partition", "hash:3/2"],
        &["gate", "run", "--partition", "count:1"],
        &["gate", "run", "--partition", "slice:a/b"],
        &["gate", "run", "--progress", "loud"],
        &["gate", "run", "--profile", "nope"],
        &["gate", "run", "--manifest-path", "/nonexistent/Cargo.toml"],
        &["gate", "run", "--config", "/nonexistent/gate.toml"],
        &["gate", "report", "--format", "pdf"],
        &["gate", "report", "--template", "/nonexistent", "x.json"],
        &["gate", "baseline", "show", "--rev", "no-such-rev"],
        &["gate", "baseline", "bisect"],
        &["gate", "merge"],
        &["gate", "comment", "--previous", "forget"],
        &["gate", "run", "--affected-since", "no-such-rev"],
        &["gate", "--no-such-flag"],
        &["gate", "list", "--suite", "nope"],
    ];
    for a in args {
        let out = gate("none")
            .current_dir(dir.path())
            .args(*a)
            .env_remove("GITHUB_ACTIONS")
            .output()
            .unwrap();
        sane(&format!("{a:?}"), &out, 2);
    }
}

/// A base that cannot be found is a usage error, not a run compared with nothing.
#[test]
fn an_unresolvable_baseline_rev_is_a_usage_error() {
    let dir = git_workspace("");
    git_init_commit(dir.path());
    let out = output(gate("none").current_dir(dir.path()).args([
        "run",
        "--baseline-rev",
        "no-such-rev",
        "--out-dir",
        "target/gate",
    ]));
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--baseline-rev `no-such-rev`: revision `no-such-rev` not found"),
        "{}",
        stderr(&out)
    );
    assert!(!dir.path().join("target/gate/report.json").exists());
}

/// Text from a report reaches a CI log as text: a case id, suite name or message holding a
/// newline and `::error::` starts no workflow command in what `merge`, `report --format
/// terminal` and an error naming a hostile profile print, and escape sequences show as text.
#[test]
fn report_text_never_starts_a_workflow_command_in_a_log() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let hostile = "t\n::error::inj\n  ::add-mask::x";
    let report = serde_json::json!({
        "schema": 2, "tool_version": "0.1.0",
        "run": {"id": "r", "started": "2026-01-01T00:00:00Z", "duration": 1.0,
                "git": {"sha": null, "branch": null, "base": null}, "host": "h", "profile": "default"},
        "suites": [{"kind": "tests", "name": hostile, "status": "failed", "duration": 1.0,
            "cases": [{"id": hostile, "name": hostile, "status": "failed",
                "message": hostile,
                "attempts": [{"status": "failed", "duration": 0.1, "output_tail": hostile}]}],
            "metrics": []}],
        "gates": [], "verdict": {"status": "failed", "reasons": [hostile]}
    });
    std::fs::write(d.join("shard.json"), report.to_string()).unwrap();
    let starts_command = |text: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with("::"))
            .map(str::to_string)
    };
    for args in [
        &["merge", "shard.json", "-o", "merged.json"][..],
        &["report", "--format", "terminal", "shard.json"],
        &["report", "--format", "markdown", "shard.json"],
        &["merge", "--profile", "\u{1b}[2J\n::error::x", "shard.json"],
    ] {
        let out = output(gate("none").current_dir(d).args(args));
        for (what, text) in [("stdout", stdout(&out)), ("stderr", stderr(&out))] {
            assert_eq!(starts_command(&text), None, "{args:?} {what}:\n{text}");
            assert!(
                !text.contains('\u{1b}'),
                "{args:?} {what}: an escape sequence"
            );
        }
    }
    let out = output(gate("none").current_dir(d).args([
        "merge",
        "--profile",
        "\u{1b}[2J\n::error::x",
        "shard.json",
    ]));
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("^[[2J"),
        "the escape shows: {}",
        stderr(&out)
    );
}
