//! `[[load]]` in gate.toml: the scenarios' raw TOML shapes and their validation, with
//! `file:line:col` errors.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::error::{Error, Result};
use crate::suites::load::engine::Mode;
use crate::util::spans::{config_error, inside};

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
    #[serde(default)]
    pacing_slack: Option<Spanned<String>>,
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
    /// Open loop: requests due within this of each other share one wake-up of the pacer.
    pub pacing_slack: Duration,
}

pub(crate) fn resolve(
    raw: &[Spanned<RawLoad>],
    at: crate::util::spans::At<'_>,
) -> Result<Vec<LoadScenario>> {
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
            return Err(config_error(
                at,
                inside(l.name.span()),
                format!("load name `{name}` must be letters, digits, `_` or `-`"),
                "it becomes part of metric names such as load.NAME.p(95)",
            ));
        }
        if out.iter().any(|o| o.name == name) {
            return Err(config_error(
                at,
                inside(l.name.span()),
                format!("two [[load]] scenarios are called `{name}`"),
                "give each scenario its own name",
            ));
        }
        let url = crate::suites::load::http::parse_url(l.url.get_ref()).map_err(|m| {
            config_error(
                at,
                inside(l.url.span()),
                m,
                "write e.g. \"http://127.0.0.1:8080/health\"",
            )
        })?;
        let timeout = match &l.timeout {
            Some(t) => crate::util::spans::nonzero_duration(at, t, "timeout")?,
            None => Duration::from_secs(10),
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
        let scenario = Scenario { at, l, name: &name };
        let (mode, pacing_slack) = (scenario.mode()?, scenario.pacing_slack()?);
        out.push(LoadScenario {
            mode,
            name,
            url,
            method: l.method.clone().unwrap_or_else(|| "GET".to_string()),
            headers: l
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            body: l.body.clone(),
            warmup: dur(&l.warmup)?.unwrap_or(Duration::ZERO),
            timeout,
            thresholds,
            abort_on_fail: l.abort_on_fail,
            ca: l.ca.clone(),
            pacing_slack,
        });
    }
    Ok(out)
}

/// One `[[load]]` table, for the keys that decide its load model.
struct Scenario<'a> {
    at: crate::util::spans::At<'a>,
    l: &'a RawLoad,
    name: &'a str,
}

impl Scenario<'_> {
    /// Errors about the scenario as a whole point at its name (a `[[load]]` table itself has no
    /// useful position).
    fn error(&self, message: String, hint: &str) -> Error {
        config_error(self.at, inside(self.l.name.span()), message, hint)
    }

    /// A stage's or the scenario's length: above zero, at most a day.
    fn length(&self, d: &Spanned<String>, what: &str) -> Result<Duration> {
        let v = crate::util::spans::nonzero_duration(self.at, d, what)?;
        if v > MAX_LENGTH {
            return Err(config_error(
                self.at,
                inside(d.span()),
                format!("`{what}` is longer than a day"),
                "split a soak test into several scenarios or runs",
            ));
        }
        Ok(v)
    }

    /// At most 100 ms, and only with a rate: a closed loop has no pacer.
    fn pacing_slack(&self) -> Result<Duration> {
        let Some(v) = &self.l.pacing_slack else {
            return Ok(Duration::ZERO);
        };
        let slack = crate::util::spans::opt_duration(self.at, &self.l.pacing_slack)?
            .unwrap_or(Duration::ZERO);
        if self.l.users.is_some() {
            return Err(config_error(
                self.at,
                inside(v.span()),
                "`pacing_slack` paces an open loop, and this scenario has `users`".to_string(),
                "remove it, or use `rate` or `stages` instead of `users`",
            ));
        }
        if slack > Duration::from_millis(100) {
            return Err(config_error(
                self.at,
                inside(v.span()),
                "`pacing_slack` is above 100ms: every latency could grow by that much".to_string(),
                "use e.g. pacing_slack = \"1ms\" (wrk2's own step)",
            ));
        }
        Ok(slack)
    }

    fn duration(&self) -> Result<Duration> {
        let d = self.l.duration.as_ref().ok_or_else(|| {
            self.error(
                format!("load `{}` has no `duration`", self.name),
                "add e.g. duration = \"30s\"",
            )
        })?;
        self.length(d, "duration")
    }

    fn rate(&self, r: &Spanned<f64>, what: &str) -> Result<f64> {
        crate::util::spans::number_in(
            self.at,
            r,
            what,
            (0.0, MAX_RATE),
            "a rate is requests per second, from 0 to 1000000",
        )
    }

    fn count(&self, v: &Spanned<u64>, what: &str) -> Result<usize> {
        crate::util::spans::count_in(
            self.at,
            v,
            what,
            (1, MAX_CONNECTIONS),
            &format!("set {what} from 1 to 10000"),
        )
        .map(|n| n as usize)
    }

    /// Open (a rate or stages) or closed (users) — never both.
    fn mode(&self) -> Result<Mode> {
        let l = self.l;
        match (&l.rate, &l.stages, &l.users) {
            (Some(_), _, Some(u)) | (_, Some(_), Some(u)) => Err(config_error(
                self.at,
                u.span(),
                format!("load `{}` sets both a rate and users", self.name),
                "use `rate` (open loop) or `users` (closed loop), not both",
            )),
            (None, None, Some(users)) => Ok(Mode::Closed {
                users: self.count(users, "users")?,
                think: crate::util::spans::opt_duration(self.at, &l.think)?
                    .unwrap_or(Duration::ZERO),
                duration: self.duration()?,
            }),
            (rate, stages, None) => self.open(rate.as_ref(), stages.as_deref()),
        }
    }

    fn open(&self, rate: Option<&Spanned<f64>>, stages: Option<&[RawStage]>) -> Result<Mode> {
        let name = self.name;
        let mut list = Vec::new();
        for s in stages.unwrap_or_default() {
            let d = self.length(&s.duration, "stages.duration")?;
            list.push((d, self.rate(&s.rate, "stages.rate")?));
        }
        let rate = rate.map(|r| self.rate(r, "rate")).transpose()?;
        let start = match (rate, list.is_empty()) {
            (Some(r), true) => {
                list.push((self.duration()?, r));
                r
            }
            (Some(r), false) => r,
            (None, false) => 0.0,
            (None, true) => {
                return Err(self.error(
                    format!("load `{name}` has no `rate`, `stages` or `users`"),
                    "add rate = 100 (requests per second) or users = 10",
                ));
            }
        };
        let total: Duration = list.iter().map(|(d, _)| *d).sum();
        if total > MAX_LENGTH {
            return Err(self.error(
                format!("the stages of load `{name}` last longer than a day"),
                "split a soak test into several scenarios or runs",
            ));
        }
        if crate::suites::load::engine::planned(start, &list) == 0 {
            return Err(self.error(
                format!("load `{name}` never sends a request"),
                "set a rate above 0 (and long enough for one request)",
            ));
        }
        let connections = match &self.l.connections {
            Some(c) => self.count(c, "connections")?,
            None => 64,
        };
        Ok(Mode::Open {
            stages: list,
            start_rate: start,
            connections,
        })
    }
}
