//! `cargo gate run --message-format json`: a real run's event stream, every line validated
//! against `docs/events.schema.json`, and what the stream must contain to follow a run.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::common::*;

/// A server on 127.0.0.1 that answers every request, on its own runtime for the test's life.
fn http_server() -> (tokio::runtime::Runtime, std::net::SocketAddr) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let addr = rt.block_on(servers::http_ok());
    (rt, addr)
}

fn validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("docs/events.schema.json")).unwrap(),
    )
    .unwrap();
    jsonschema::validator_for(&schema).expect("the schema itself is valid")
}

#[test]
fn the_event_stream_of_a_run_follows_its_schema() {
    let (_rt, addr) = http_server();
    let flaky = tempfile::tempdir().unwrap();
    let out_dir = tempfile::tempdir().unwrap();
    // fixtures/mixed's own settings, plus a timed command and a load scenario, so the stream
    // holds every kind of test outcome, a retry, a timeout, a doctest, a bench line and load
    // ticks.
    let config = out_dir.path().join("gate.toml");
    std::fs::write(
        &config,
        format!(
            "[tests]\nretries = 1\nslow_timeout = \"1s\"\ntimeout = \"3s\"\n\n\
             [[bench.command]]\nname = \"noop\"\ncmd = [\"true\"]\nruns = 2\n\n\
             [[load]]\nname = \"api\"\nurl = \"http://{addr}/\"\nrate = 50\nduration = \"3s\"\n"
        ),
    )
    .unwrap();
    let mut child = gate("mixed")
        .args(["gate", "run", "--message-format", "json", "--no-baseline"])
        .arg("--manifest-path")
        .arg(manifest("mixed"))
        .arg("--config")
        .arg(&config)
        .arg("--out-dir")
        .arg(out_dir.path())
        .env("MIXED_FLAKY_DIR", flaky.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    // Read the stream as it comes: every line is one complete object.
    let events: Vec<Value> = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map(|l| {
            let l = l.unwrap();
            serde_json::from_str(&l).unwrap_or_else(|e| panic!("not one JSON object: {e}: {l}"))
        })
        .collect();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1), "mixed fails its gate");

    let schema = validator();
    // The schema is strict: a field missing, an unknown field or an unknown type is refused.
    for bad in [
        r#"{"type":"test-slow","id":"x"}"#,
        r#"{"type":"notice","message":"m","extra":1}"#,
        r#"{"type":"no-such-event"}"#,
    ] {
        let bad: Value = serde_json::from_str(bad).unwrap();
        assert!(!schema.is_valid(&bad), "{bad} should not validate");
    }
    for e in &events {
        let errors: Vec<String> = schema.iter_errors(e).map(|x| x.to_string()).collect();
        assert!(errors.is_empty(), "{e}\n{}", errors.join("\n"));
    }
    let types: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(types.first(), Some(&"run-started"));
    assert_eq!(events[0]["schema"], 1);
    assert_eq!(types.last(), Some(&"run-finished"));
    for t in [
        "suite-started",
        "tests-planned",
        "test-started",
        "test-slow",
        "test-retry",
        "test-finished",
        "output",
        "load-tick",
        "suite-finished",
    ] {
        assert!(types.contains(&t), "no `{t}` event in {types:?}");
    }
    // Every status of a case, a doctest among them, and the timeout on both attempts.
    let cases: Vec<&Value> = events
        .iter()
        .filter(|e| e["type"] == "test-finished")
        .flat_map(|e| e["cases"].as_array().unwrap())
        .collect();
    let statuses: BTreeSet<&str> = cases.iter().filter_map(|c| c["status"].as_str()).collect();
    for s in ["passed", "failed", "flaky", "timed_out"] {
        assert!(statuses.contains(s), "no {s} case: {statuses:?}");
    }
    assert!(
        cases
            .iter()
            .any(|c| c["binary"] == "mixed::doc" && c["attempts"][0]["shared"] == true),
        "a doctest with its shared time"
    );
    let hangs = cases
        .iter()
        .find(|c| c["id"] == "mixed tests::hangs")
        .unwrap();
    assert_eq!(hangs["attempts"].as_array().unwrap().len(), 2);
    // The planned total is the number of cases reported from test-finished (the doctest
    // batch of mixed holds one doctest), and every started unit finishes.
    let planned = events
        .iter()
        .find(|e| e["type"] == "tests-planned")
        .unwrap();
    let started = events
        .iter()
        .filter(|e| e["type"] == "test-started")
        .count();
    let finished = events
        .iter()
        .filter(|e| e["type"] == "test-finished")
        .count();
    assert_eq!(started, finished);
    assert_eq!(
        planned["tests"].as_u64().unwrap() + planned["doc_packages"].as_u64().unwrap(),
        cases.len() as u64
    );
    // Suites in order, each started before it finishes; the verdict as the report says.
    let order: Vec<(&str, &str)> = events
        .iter()
        .filter(|e| matches!(e["type"].as_str(), Some("suite-started" | "suite-finished")))
        .map(|e| (e["type"].as_str().unwrap(), e["suite"].as_str().unwrap()))
        .collect();
    assert_eq!(
        order,
        [
            ("suite-started", "tests"),
            ("suite-finished", "tests"),
            ("suite-started", "bench"),
            ("suite-finished", "bench"),
            ("suite-started", "load"),
            ("suite-finished", "load"),
        ]
    );
    let report = json(&out_dir.path().join("report.json"));
    assert_eq!(
        events.last().unwrap()["verdict"],
        report["verdict"]["status"]
    );
    let ticks: Vec<&Value> = events.iter().filter(|e| e["type"] == "load-tick").collect();
    assert!(ticks.iter().all(|t| t["scenario"] == "api"));
}

#[test]
fn json_events_leave_standard_output_to_the_stream_and_errors_to_standard_error() {
    let out_dir = tempfile::tempdir().unwrap();
    // A time partition without recorded durations says so before the suites are chosen:
    // the notice still comes after run-started, the stream's first object.
    let out = output(
        gate("demo")
            .args(["gate", "run", "--message-format", "json", "--manifest-path"])
            .arg(manifest("demo"))
            .args(["--partition", "time:1/1", "--no-baseline"])
            .arg("--out-dir")
            .arg(out_dir.path()),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let types: Vec<String> = stdout(&out)
        .lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
            v["type"]
                .as_str()
                .unwrap_or_else(|| panic!("{line}"))
                .to_string()
        })
        .collect();
    assert_eq!(
        types.first().map(String::as_str),
        Some("run-started"),
        "{types:?}"
    );
    assert!(types.iter().any(|t| t == "notice"), "{types:?}");
    assert!(
        !stdout(&out).contains("Gate:"),
        "no scorecard in the stream"
    );
    let out = output(Command::new(env!("CARGO_BIN_EXE_cargo-gate")).args([
        "gate",
        "run",
        "--message-format",
        "xml",
    ]));
    assert_eq!(code(&out), 2, "an unknown format is a usage error");
}
