//! `[[load]]` in gate.toml: the scenarios' raw TOML shapes and their validation, with
//! `file:line:col` errors.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::error::{Error, Location, Result};

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStage {
    duration: Spanned<String>,
    rate: f64,
}

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
    rate: Option<f64>,
    #[serde(default)]
    stages: Option<Vec<RawStage>>,
    #[serde(default)]
    users: Option<usize>,
    #[serde(default)]
    think: Option<Spanned<String>>,
    #[serde(default)]
    duration: Option<Spanned<String>>,
    #[serde(default)]
    warmup: Option<Spanned<String>>,
    #[serde(default)]
    connections: Option<usize>,
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
    at: &dyn Fn(usize) -> Location,
) -> Result<Vec<LoadScenario>> {
    use crate::suites::load::engine::Mode;
    let cfg_err = |offset: usize, message: String, hint: &str| Error::Config {
        location: at(offset),
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
                l.name.span().start + 1,
                format!("load name `{name}` must be letters, digits, `_` or `-`"),
                "it becomes part of metric names such as load.NAME.p(95)",
            ));
        }
        if out.iter().any(|o| o.name == name) {
            return Err(cfg_err(
                l.name.span().start + 1,
                format!("two [[load]] scenarios are called `{name}`"),
                "give each scenario its own name",
            ));
        }
        let url = crate::suites::load::http::parse_url(l.url.get_ref()).map_err(|m| {
            cfg_err(
                l.url.span().start + 1,
                m,
                "write e.g. \"http://127.0.0.1:8080/health\"",
            )
        })?;
        let at_item = item.span().start;
        let timeout = dur(&l.timeout)?.unwrap_or(Duration::from_secs(10));
        let mode = match (l.rate, &l.stages, l.users) {
            (Some(_), _, Some(_)) | (_, Some(_), Some(_)) => {
                return Err(cfg_err(
                    at_item,
                    format!("load `{name}` sets both a rate and users"),
                    "use `rate` (open loop) or `users` (closed loop), not both",
                ));
            }
            (None, None, Some(users)) => {
                let duration = dur(&l.duration)?.ok_or_else(|| {
                    cfg_err(
                        at_item,
                        format!("load `{name}` has no `duration`"),
                        "add e.g. duration = \"30s\"",
                    )
                })?;
                if users == 0 {
                    return Err(cfg_err(
                        at_item,
                        "`users` must be at least 1".into(),
                        "set users = 1 or more",
                    ));
                }
                Mode::Closed {
                    users,
                    think: dur(&l.think)?.unwrap_or(Duration::ZERO),
                    duration,
                }
            }
            (rate, stages, None) => {
                let mut list = Vec::new();
                if let Some(stages) = stages {
                    for s in stages {
                        let d = crate::util::spans::duration(at, &s.duration)?;
                        list.push((d, s.rate));
                    }
                }
                let start = match (rate, list.is_empty()) {
                    (Some(r), true) => {
                        let d = dur(&l.duration)?.ok_or_else(|| {
                            cfg_err(
                                at_item,
                                format!("load `{name}` has no `duration`"),
                                "add e.g. duration = \"30s\"",
                            )
                        })?;
                        list.push((d, r));
                        r
                    }
                    (Some(r), false) => r,
                    (None, false) => 0.0,
                    (None, true) => {
                        return Err(cfg_err(
                            at_item,
                            format!("load `{name}` has no `rate`, `stages` or `users`"),
                            "add rate = 100 (requests per second) or users = 10",
                        ));
                    }
                };
                if list.iter().any(|(_, r)| !r.is_finite() || *r < 0.0)
                    || !start.is_finite()
                    || start < 0.0
                {
                    return Err(cfg_err(
                        at_item,
                        format!("load `{name}` has a negative rate"),
                        "rates are requests per second, 0 or more",
                    ));
                }
                if list.iter().all(|(_, r)| *r == 0.0) && start == 0.0 {
                    return Err(cfg_err(
                        at_item,
                        format!("load `{name}` never sends a request"),
                        "set a rate above 0",
                    ));
                }
                Mode::Open {
                    stages: list,
                    start_rate: start,
                    connections: l.connections.unwrap_or(64).max(1),
                }
            }
        };
        let mut thresholds = Vec::new();
        for t in &l.thresholds {
            thresholds.push(crate::gate::threshold::parse(t.get_ref()).map_err(|e| {
                Error::Config {
                    location: at(t.span().start + 1 + e.offset),
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
