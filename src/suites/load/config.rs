//! `[[load]]` in gate.toml: the scenarios' raw TOML shapes and their validation, with
//! `file:line:col` errors.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::error::{Error, Result};

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStage {
    duration: Spanned<String>,
    rate: Spanned<f64>,
}

/// Requests per second one scenario may ask for: far above what one machine's generator
/// sends, far below what would exhaust memory or time computing a schedule.
const MAX_RATE: f64 = 1_000_000.0;
/// Connections or virtual users at most (each is a socket).
const MAX_CONNECTIONS: u64 = 10_000;
/// Longest scenario: a day.
const MAX_LENGTH: Duration = Duration::from_secs(24 * 3600);

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLoad {
    name: Spanned<String>,
    url: Spanned<String>,
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    rate: Option<Spanned<f64>>,
    #[serde(default)]
    stages: Option<Vec<RawStage>>,
    #[serde(default)]
    users: Option<Spanned<u64>>,
    #[serde(default)]
    think: Option<Spanned<String>>,
    #[serde(default)]
    duration: Option<Spanned<String>>,
    #[serde(default)]
    warmup: Option<Spanned<String>>,
    #[serde(default)]
    connections: Option<Spanned<u64>>,
    #[serde(default)]
    timeout: Option<Spanned<String>>,
    #[serde(default)]
    thresholds: Vec<Spanned<String>>,
    #[serde(default)]
    abort_on_fail: bool,
    #[serde(default)]
    ca: Option<PathBuf>,
}

/// A load scenario from `[[load]]`.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadScenario {
    /// Name, used in metric names (`load.<name>.p(95)`).
    pub name: String,
    /// The target URL.
    pub url: crate::suites::load::http::Url,
    /// HTTP method.
    pub method: String,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// Request body.
    pub body: Option<String>,
    /// Open or closed loop.
    pub mode: crate::suites::load::engine::Mode,
    /// Unmeasured warm-up.
    pub warmup: Duration,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Thresholds (also gate rules).
    pub thresholds: Vec<crate::gate::threshold::Threshold>,
    /// Stop early once a threshold is certainly lost.
    pub abort_on_fail: bool,
    /// Extra CA certificates (PEM) trusted for https, relative to the workspace root.
    pub ca: Option<PathBuf>,
}

pub(crate) fn resolve(
    raw: &[Spanned<RawLoad>],
    at: crate::util::spans::At<'_>,
) -> Result<Vec<LoadScenario>> {
    use crate::suites::load::engine::Mode;
    let cfg_err = |span: std::ops::Range<usize>, message: String, hint: &str| Error::Config {
        location: at(span),
        message,
        hint: Some(hint.to_string()),
    };
    let dur = |v: &Option<Spanned<String>>| crate::util::spans::opt_duration(at, v);
    let mut out: Vec<LoadScenario> = Vec::new();
    for item in raw {
        let l = item.get_ref();
        let name = l.name.get_ref().clone();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(cfg_err(
                crate::util::spans::inside(l.name.span()),
                format!("load name `{name}` must be letters, digits, `_` or `-`"),
                "it becomes part of metric names such as load.NAME.p(95)",
            ));
        }
        if out.iter().any(|o| o.name == name) {
            return Err(cfg_err(
                crate::util::spans::inside(l.name.span()),
                format!("two [[load]] scenarios are called `{name}`"),
                "give each scenario its own name",
            ));
        }
        let url = crate::suites::load::http::parse_url(l.url.get_ref()).map_err(|m| {
            cfg_err(
                crate::util::spans::inside(l.url.span()),
                m,
                "write e.g. \"http://127.0.0.1:8080/health\"",
            )
        })?;
        // Errors about the scenario as a whole point at its name (a `[[load]]` table itself
        // has no useful position).
        let at_item = crate::util::spans::inside(l.name.span());
        let timeout = match &l.timeout {
            Some(t) => crate::util::spans::nonzero_duration(at, t, "timeout")?,
            None => Duration::from_secs(10),
        };
        let no_duration = || {
            cfg_err(
                at_item.clone(),
                format!("load `{name}` has no `duration`"),
                "add e.g. duration = \"30s\"",
            )
        };
        let length = |d: &Spanned<String>, what: &str| -> Result<Duration> {
            let v = crate::util::spans::nonzero_duration(at, d, what)?;
            if v > MAX_LENGTH {
                return Err(cfg_err(
                    crate::util::spans::inside(d.span()),
                    format!("`{what}` is longer than a day"),
                    "split a soak test into several scenarios or runs",
                ));
            }
            Ok(v)
        };
        let rate_of = |r: &Spanned<f64>, what: &str| {
            crate::util::spans::number_in(
                at,
                r,
                what,
                (0.0, MAX_RATE),
                "a rate is requests per second, from 0 to 1000000",
            )
        };
        let mode = match (&l.rate, &l.stages, &l.users) {
            (Some(_), _, Some(u)) | (_, Some(_), Some(u)) => {
                return Err(cfg_err(
                    u.span(),
                    format!("load `{name}` sets both a rate and users"),
                    "use `rate` (open loop) or `users` (closed loop), not both",
                ));
            }
            (None, None, Some(users)) => {
                let duration = length(l.duration.as_ref().ok_or_else(no_duration)?, "duration")?;
                let users = crate::util::spans::count_in(
                    at,
                    users,
                    "users",
                    (1, MAX_CONNECTIONS),
                    "set users from 1 to 10000",
                )?;
                Mode::Closed {
                    users: users as usize,
                    think: dur(&l.think)?.unwrap_or(Duration::ZERO),
                    duration,
                }
            }
            (rate, stages, None) => {
                let mut list = Vec::new();
                if let Some(stages) = stages {
                    for s in stages {
                        let d = length(&s.duration, "stages.duration")?;
                        list.push((d, rate_of(&s.rate, "stages.rate")?));
                    }
                }
                let rate = rate.as_ref().map(|r| rate_of(r, "rate")).transpose()?;
                let start = match (rate, list.is_empty()) {
                    (Some(r), true) => {
                        let d = length(l.duration.as_ref().ok_or_else(no_duration)?, "duration")?;
                        list.push((d, r));
                        r
                    }
                    (Some(r), false) => r,
                    (None, false) => 0.0,
                    (None, true) => {
                        return Err(cfg_err(
                            at_item.clone(),
                            format!("load `{name}` has no `rate`, `stages` or `users`"),
                            "add rate = 100 (requests per second) or users = 10",
                        ));
                    }
                };
                let total: Duration = list.iter().map(|(d, _)| *d).sum();
                if total > MAX_LENGTH {
                    return Err(cfg_err(
                        at_item.clone(),
                        format!("the stages of load `{name}` last longer than a day"),
                        "split a soak test into several scenarios or runs",
                    ));
                }
                if crate::suites::load::engine::planned(start, &list) == 0 {
                    return Err(cfg_err(
                        at_item,
                        format!("load `{name}` never sends a request"),
                        "set a rate above 0 (and long enough for one request)",
                    ));
                }
                let connections = match &l.connections {
                    Some(c) => crate::util::spans::count_in(
                        at,
                        c,
                        "connections",
                        (1, MAX_CONNECTIONS),
                        "set connections from 1 to 10000",
                    )? as usize,
                    None => 64,
                };
                Mode::Open {
                    stages: list,
                    start_rate: start,
                    connections,
                }
            }
        };
        let mut thresholds = Vec::new();
        for t in &l.thresholds {
            thresholds.push(crate::gate::threshold::parse(t.get_ref()).map_err(|e| {
                Error::Config {
                    location: at(crate::util::spans::rule_point(t.span(), e.offset)),
                    message: e.message,
                    hint: Some(e.hint),
                }
            })?);
        }
        out.push(LoadScenario {
            name,
            url,
            method: l.method.clone().unwrap_or_else(|| "GET".to_string()),
            headers: l
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            body: l.body.clone(),
            mode,
            warmup: dur(&l.warmup)?.unwrap_or(Duration::ZERO),
            timeout,
            thresholds,
            abort_on_fail: l.abort_on_fail,
            ca: l.ca.clone(),
        });
    }
    Ok(out)
}
