//! The load suite: runs each `[[load]]` scenario and turns what it measured into metrics
//! (`load.<name>.p(95)`, `.rps`, `.error_rate`, ...) that thresholds, gate rules and baselines use.

mod clock;
pub mod config;
pub mod engine;
pub mod http;
mod schedule;
mod timeline;

use crate::gate::threshold::Stat;
use crate::gate::{Rule, Target, load_metric};
use crate::model::{Case, CaseStatus, Direction, Metric, Role, Suite, SuiteKind};
use crate::suites::load::engine::{Mode, Outcome, Spec};
use crate::suites::load::http::target;
use crate::util::units::format_seconds;
use config::LoadScenario;

/// Statistics every scenario reports.
const STANDARD: &[Stat] = &[
    Stat::Min,
    Stat::Avg,
    Stat::Med,
    Stat::Percentile(90.0),
    Stat::Percentile(95.0),
    Stat::Percentile(99.0),
    Stat::Percentile(99.9),
    Stat::Max,
    Stat::Rps,
    Stat::ErrorRate,
    Stat::Requests,
];

fn stat_metric(scenario: &str, stat: Stat, outcome: &Outcome) -> Metric {
    let value = outcome.stat(stat);
    let (unit, direction, v) = match stat {
        s if s.is_latency() => ("ms", Direction::LowerIsBetter, value * 1e3),
        Stat::Rps => ("rps", Direction::HigherIsBetter, value),
        Stat::ErrorRate => ("%", Direction::LowerIsBetter, value),
        _ => ("count", Direction::HigherIsBetter, value),
    };
    // Extremes and counts depend on how long the scenario ran and on single outliers: gated,
    // but no basis for a comparison with another run.
    let role = match stat {
        Stat::Min | Stat::Max | Stat::Requests => Role::Gated,
        _ => Role::Compared,
    };
    let samples = if v.is_finite() { vec![v] } else { Vec::new() };
    Metric::new(load_metric(scenario, stat), unit, direction, role, samples)
}

fn series(name: String, unit: &str, values: Vec<f64>) -> Metric {
    Metric::new(name, unit, Direction::LowerIsBetter, Role::Series, values)
}

/// Runs every scenario, one after the other (they would skew each other if run at once).
/// `deaths(since)` says which services died since a scenario started.
pub fn run(
    scenarios: &[LoadScenario],
    rules: &[Rule],
    root: &std::path::Path,
    events: crate::event::Sink<'_>,
    deaths: &mut dyn FnMut(std::time::Instant) -> Vec<String>,
) -> Suite {
    let clock = std::time::Instant::now();
    let mut cases = Vec::new();
    let mut metrics = Vec::new();
    for s in scenarios {
        if crate::exec::process::is_cancelled() {
            break;
        }
        let started = std::time::Instant::now();
        let mut extra: Vec<Stat> = rules
            .iter()
            .filter_map(|r| match &r.target {
                Target::Load { scenario, stat } if *scenario == s.name => Some(*stat),
                _ => None,
            })
            .collect();
        extra.retain(|st| !STANDARD.contains(st));
        let result = run_scenario(s, root, events);
        let case_of = |status: CaseStatus, message: String, detail: Option<String>| Case {
            detail,
            ..Case::single(
                format!("load {}", s.name),
                s.name.clone(),
                status,
                started.elapsed().as_secs_f64(),
                message,
                String::new(),
            )
        };
        let (status, message, detail) = match result {
            Err(e) => (CaseStatus::Failed, e, None),
            Ok(outcome) => {
                for st in STANDARD.iter().chain(extra.iter()) {
                    metrics.push(stat_metric(&s.name, *st, &outcome));
                }
                metrics.extend(timeline(&s.name, &outcome.timeline));
                let (status, message, detail) = summary(s, &outcome);
                (status, message, Some(detail))
            }
        };
        // A service that died under the load fails the scenario, with how, when and its
        // last lines, whatever the figures say.
        let shown = detail.as_deref().unwrap_or(&message);
        cases.push(
            match crate::suites::infra::died_during(&deaths(started), shown) {
                Some((message, detail)) => case_of(CaseStatus::Failed, message, Some(detail)),
                None => case_of(status, message, detail),
            },
        );
    }
    let mut suite = crate::suites::suite(SuiteKind::Load, clock.elapsed().as_secs_f64(), cases);
    suite.metrics = metrics;
    suite
}

/// One scenario against its target, on the shared runtime.
fn run_scenario(
    s: &LoadScenario,
    root: &std::path::Path,
    events: crate::event::Sink<'_>,
) -> Result<engine::Outcome, String> {
    let addr = engine::resolve(&s.url.host, s.url.port)?;
    let tls = if s.url.tls {
        Some(crate::suites::load::http::client_config(
            s.ca.as_ref().map(|p| root.join(p)).as_deref(),
        )?)
    } else {
        None
    };
    let spec = Spec {
        name: s.name.clone(),
        target: target(addr, &s.method, &s.url, &s.headers, s.body.as_deref(), tls)?,
        mode: s.mode.clone(),
        warmup: s.warmup,
        timeout: s.timeout,
        thresholds: s.thresholds.clone(),
        abort_on_fail: s.abort_on_fail,
        pacing_slack: s.pacing_slack,
    };
    engine::run(&spec, events)
}

/// The per-second series charts draw.
fn timeline(name: &str, t: &[engine::Tick]) -> [Metric; 4] {
    [
        // Answered requests per second, what `.rps` counts for the whole run.
        series(
            format!("load.{name}.timeline.rps"),
            "rps",
            t.iter().map(|x| x.completed as f64).collect(),
        ),
        // The schedule: requests due per second, sent or not.
        series(
            format!("load.{name}.timeline.scheduled"),
            "rps",
            t.iter().map(|x| x.requests as f64).collect(),
        ),
        series(
            format!("load.{name}.timeline.p95"),
            "ms",
            t.iter().map(|x| x.p95_ms).collect(),
        ),
        series(
            format!("load.{name}.timeline.errors"),
            "count",
            t.iter().map(|x| x.errors as f64).collect(),
        ),
    ]
}

/// A scenario's case: its status, one line of figures, and the detail (errors by kind, the
/// protocol, bytes). A scenario that ran is passed (its thresholds are gate rules and fail
/// there) — unless not one request succeeded: then it measured nothing of the service.
fn summary(s: &LoadScenario, outcome: &engine::Outcome) -> (CaseStatus, String, String) {
    let target = match (&s.mode, outcome.target_rps) {
        (Mode::Open { .. }, Some(r)) => format!(" (target {r:.0})"),
        _ => String::new(),
    };
    let message = format!(
        "{:.0} rps{target} · p50 {} · p95 {} · p99 {} · {} errors of {}",
        outcome.stat(Stat::Rps),
        format_seconds(outcome.stat(Stat::Med)),
        format_seconds(outcome.stat(Stat::Percentile(95.0))),
        format_seconds(outcome.stat(Stat::Percentile(99.0))),
        outcome.error_count(),
        outcome.requests
    );
    let mut detail: Vec<String> = outcome
        .errors
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect();
    if let Some(p) = outcome.protocol {
        detail.push(format!("protocol: {p}"));
    }
    detail.push(format!("bytes received: {}", outcome.bytes));
    if let Some(a) = &outcome.aborted {
        detail.insert(0, a.clone());
    }
    let (status, message) = match nothing_succeeded(outcome) {
        Some(why) => (CaseStatus::Failed, format!("{why} · {message}")),
        None => (CaseStatus::Passed, message),
    };
    (status, message, detail.join("\n"))
}

/// Why a scenario measured nothing of the service: no request was measured, or every one
/// failed (`no request succeeded: 300 of 300 failed (connection 300)`).
fn nothing_succeeded(outcome: &engine::Outcome) -> Option<String> {
    if outcome.requests == 0 {
        return Some("no request was measured".to_string());
    }
    let failed = outcome.error_count();
    if failed < outcome.requests {
        return None;
    }
    let kinds: Vec<String> = outcome
        .errors
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(k, n)| {
            let what = match k.as_str() {
                "connection" => "could not connect (refused or reset)",
                "timeout" => "timed out",
                "http_4xx" => "answered 4xx",
                "http_5xx" => "answered 5xx",
                "dropped" => "never sent (no free connection in time)",
                other => other,
            };
            format!("{n} {what}")
        })
        .collect();
    Some(format!(
        "no request succeeded: {failed} of {} failed ({})",
        outcome.requests,
        kinds.join(", ")
    ))
}

/// The load suite behind the common interface.
struct LoadSuite;

/// Makes the load suite.
pub fn build(
    _config: &crate::config::Config,
    _options: &crate::suites::SuiteOptions,
) -> crate::error::Result<Box<dyn crate::suites::Suite>> {
    Ok(Box::new(LoadSuite))
}

impl crate::suites::Suite for LoadSuite {
    fn kind(&self) -> SuiteKind {
        SuiteKind::Load
    }

    fn list(
        &self,
        cx: &crate::suites::RunContext<'_>,
    ) -> crate::error::Result<Vec<crate::suites::Listed>> {
        Ok(crate::suites::Listed::all(
            "load",
            cx.config.load.iter().map(|l| &l.name),
        ))
    }

    fn run(&mut self, cx: &mut crate::suites::RunContext<'_>) -> crate::error::Result<Suite> {
        // Scenarios aim at the services: they must be up first, and are watched.
        if !cx.config.services.is_empty() {
            cx.environment()?;
        }
        let mut env = cx.environment.take();
        let suite = run(
            &cx.config.load,
            &cx.config.rules,
            &cx.ws.root,
            cx.events,
            &mut |since| env.as_mut().map_or_else(Vec::new, |e| e.deaths(since)),
        );
        cx.environment = env;
        Ok(suite)
    }
}
