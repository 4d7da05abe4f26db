//! `--message-format json`: one JSON object per event, one per line, on standard output, so an
//! IDE or another tool can follow a run live. The shape is versioned ([`SCHEMA_VERSION`], in
//! the first object) and described by `docs/events.schema.json`; a test validates a real run's
//! stream against that file. Fields are added without a version change; a field removed or
//! changed in meaning raises the version.

use std::io::Write;
use std::sync::Mutex;

use serde_json::{Value, json};

use crate::event::Event;
use crate::model::{Attempt, Case, Counts};

/// The version of the stream's shape.
pub const SCHEMA_VERSION: u32 = 1;

/// Writes each event as one line of JSON to a writer (standard output in a run).
pub struct Json<W: Write + Send> {
    state: Mutex<State<W>>,
    pretty: bool,
}

struct State<W> {
    out: W,
    /// What came before `run-started` (notices about the selection, warnings): written right
    /// after it, so the stream's first object always names its schema.
    early: Option<Vec<serde_json::Value>>,
}

impl<W: Write + Send> Json<W> {
    /// A stream to `out`; `pretty` spreads each object over lines (for reading, not parsing
    /// line by line).
    pub fn new(out: W, pretty: bool) -> Json<W> {
        Json {
            state: Mutex::new(State {
                out,
                early: Some(Vec::new()),
            }),
            pretty,
        }
    }

    /// Writes one event. A closed pipe is not the run's problem: the event is dropped.
    pub fn event(&self, event: &Event<'_>) {
        let value = to_json(event);
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        match (&mut state.early, event) {
            (Some(_), Event::RunStarted { .. }) => {
                let early = state.early.take().unwrap_or_default();
                self.write(&mut state.out, &value);
                for v in &early {
                    self.write(&mut state.out, v);
                }
            }
            (Some(early), _) => early.push(value),
            (None, _) => self.write(&mut state.out, &value),
        }
    }

    fn write(&self, out: &mut W, value: &serde_json::Value) {
        let text = if self.pretty {
            serde_json::to_string_pretty(value)
        } else {
            serde_json::to_string(value)
        };
        if let Ok(text) = text {
            let _ = writeln!(out, "{text}");
            let _ = out.flush();
        }
    }
}

impl<W: Write + Send> Drop for Json<W> {
    /// A run that stopped before it started (a bad option) still writes what it said.
    fn drop(&mut self) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let early = state.early.take().unwrap_or_default();
        for v in &early {
            self.write(&mut state.out, v);
        }
    }
}

fn attempt(a: &Attempt) -> Value {
    json!({ "status": a.status, "duration": a.duration, "shared": a.shared })
}

fn case(c: &Case) -> Value {
    let last = c.attempts.last();
    json!({
        "id": c.id,
        "name": c.name,
        "package": c.package,
        "binary": c.binary,
        "status": c.status,
        "duration": c.attempts.iter().map(|a| a.duration).sum::<f64>(),
        "attempts": c.attempts.iter().map(attempt).collect::<Vec<_>>(),
        "message": c.message,
        // A failure's output, so a consumer can show it without reading report.json.
        "output": last.filter(|_| c.status.is_failure()).map(|a| a.output_tail.as_str()),
    })
}

fn counts(c: &Counts) -> Value {
    json!({
        "total": c.total, "passed": c.passed, "failed": c.failed, "flaky": c.flaky,
        "skipped": c.skipped, "timed_out": c.timed_out, "quarantined": c.quarantined,
    })
}

/// The event as the stream writes it: always an object with `type`.
pub fn to_json(event: &Event<'_>) -> Value {
    let body = match event {
        Event::RunStarted {
            suites,
            profile,
            partition,
        } => json!({
            "schema": SCHEMA_VERSION,
            "version": env!("CARGO_PKG_VERSION"),
            "suites": suites.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            "profile": profile,
            "partition": partition,
        }),
        Event::SuiteStarted(kind) => json!({ "suite": kind.as_str() }),
        Event::CompilerMessage { rendered } => json!({ "rendered": rendered }),
        Event::TestsPlanned(p) => json!({
            "tests": p.tests, "binaries": p.binaries, "doc_packages": p.doc_packages,
            "skipped": p.skipped, "expected_seconds": p.expected_seconds, "jobs": p.jobs,
        }),
        Event::TestStarted {
            unit,
            tests,
            weight,
        } => json!({ "unit": unit, "tests": tests, "expected_seconds": weight }),
        Event::TestSlow { id, elapsed } => {
            json!({ "id": id, "elapsed": elapsed.as_secs_f64() })
        }
        Event::TestRetry {
            id,
            attempt: n,
            previous,
        } => json!({ "id": id, "attempt": n, "previous": attempt(previous) }),
        Event::TestFinished { unit, cases } => json!({
            "unit": unit,
            "cases": cases.iter().map(case).collect::<Vec<_>>(),
        }),
        Event::Output { suite, line } => json!({ "suite": suite.as_str(), "line": line }),
        Event::Benchmark { suite, name } => json!({ "suite": suite.as_str(), "name": name }),
        Event::LoadTick(t) => json!({
            "scenario": t.scenario, "elapsed": t.elapsed, "total": t.total,
            "requests": t.requests, "rps": t.rps, "p95_ms": t.p95_ms, "errors": t.errors,
        }),
        Event::ChaosPhase { experiment, phase } => {
            json!({ "experiment": experiment, "phase": phase })
        }
        Event::Warning { suite, message } => {
            json!({ "suite": suite.map(|s| s.as_str()), "message": message })
        }
        Event::Notice(message) => json!({ "message": message }),
        Event::SuiteFinished(s) => json!({
            "suite": s.kind.as_str(),
            "name": s.name,
            "status": s.status,
            "duration": s.duration,
            "build_duration": s.build_duration(),
            "error": s.error,
            "counts": counts(&Counts::of(&s.cases)),
        }),
        Event::RunFinished(r) => json!({
            "verdict": r.verdict.status,
            "reasons": r.verdict.reasons,
            "duration": r.run.duration,
            "interrupted": r.run.interrupted,
        }),
    };
    let mut object = serde_json::Map::new();
    object.insert("type".to_string(), Value::from(event.name()));
    if let Value::Object(fields) = body {
        object.extend(fields);
    }
    Value::Object(object)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer whose bytes the test reads after the reporter is gone.
    #[derive(Clone, Default)]
    struct Shared(std::sync::Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn types(buf: &Shared) -> Vec<String> {
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        text.lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap()["type"].to_string())
            .collect()
    }

    #[test]
    fn run_started_is_always_the_first_object() {
        let buf = Shared::default();
        let json = Json::new(buf.clone(), false);
        json.event(&Event::Notice("affected since main: 1 of 2 package(s)"));
        assert!(types(&buf).is_empty(), "held until run-started");
        json.event(&Event::RunStarted {
            suites: &[crate::model::SuiteKind::Tests],
            profile: "default",
            partition: None,
        });
        json.event(&Event::Notice("later"));
        drop(json);
        assert_eq!(types(&buf), ["\"run-started\"", "\"notice\"", "\"notice\""]);
        // A run that stops before it starts still writes what it said.
        let buf = Shared::default();
        let json = Json::new(buf.clone(), false);
        json.event(&Event::Warning {
            suite: None,
            message: "w",
        });
        drop(json);
        assert_eq!(types(&buf), ["\"warning\""]);
    }
}
