//! `[[service]]`, `[[check]]`, `[[proxy]]` and `[[chaos]]` in gate.toml: raw TOML shapes and
//! their validation into specs, with `file:line:col` errors.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::patterns::{self, Pattern};
use crate::error::Result;

use crate::util::spans::{At, config_error};

mod faults;

pub use faults::*;

pub(super) fn duration(at: At<'_>, v: &Spanned<String>) -> Result<Duration> {
    crate::util::spans::duration(at, v)
}

pub(super) fn opt_duration(
    at: At<'_>,
    v: &Option<Spanned<String>>,
    default: Duration,
) -> Result<Duration> {
    Ok(crate::util::spans::opt_duration(at, v)?.unwrap_or(default))
}

pub(super) fn pattern_list(at: At<'_>, list: &[Spanned<String>]) -> Result<Vec<Pattern>> {
    list.iter()
        .map(|p| {
            patterns::parse(p.get_ref()).map_err(|m| {
                config_error(
                    at,
                    crate::util::spans::inside(p.span()),
                    m,
                    "patterns are `text`, `!absent`, `/regex/` or `json:/pointer == value`",
                )
            })
        })
        .collect()
}

/// How long a command check may run when its `timeout` is not set.
pub const COMMAND_CHECK_TIMEOUT: Duration = Duration::from_secs(60);

// ---- services ----

/// How readiness is probed.
#[derive(Debug, Clone, PartialEq)]
pub enum Probe {
    /// GET answers 2xx.
    Http(String),
    /// A TCP connect succeeds.
    Tcp(String),
    /// A command exits 0.
    Command(Vec<String>),
}

impl std::fmt::Display for Probe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Probe::Http(url) => write!(f, "http {url} answering 2xx"),
            Probe::Tcp(addr) => write!(f, "tcp connect to {addr}"),
            Probe::Command(c) => write!(f, "command `{}` exiting 0", c.join(" ")),
        }
    }
}

/// A service started before checks, experiments and load, stopped after.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceSpec {
    /// Name.
    pub name: String,
    /// Program and arguments.
    pub cmd: Vec<String>,
    /// Working directory, relative to the workspace root.
    pub cwd: Option<PathBuf>,
    /// Extra environment.
    pub env: BTreeMap<String, String>,
    /// Services that must be ready first.
    pub after: Vec<String>,
    /// Readiness probe.
    pub ready: Option<Probe>,
    /// How long readiness may take.
    pub ready_within: Duration,
    /// SIGTERM, then SIGKILL after this long.
    pub stop_grace: Duration,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawReady {
    http: Option<String>,
    tcp: Option<String>,
    command: Option<Vec<String>>,
    within: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawService {
    name: Spanned<String>,
    cmd: Spanned<Vec<String>>,
    cwd: Option<PathBuf>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    #[serde(default)]
    after: Vec<Spanned<String>>,
    ready: Option<Spanned<RawReady>>,
    stop_grace: Option<Spanned<String>>,
}

/// A service, proxy or check name: it appears in case ids, `after`, fault targets and logs.
pub(crate) fn check_name(at: At<'_>, name: &Spanned<String>, what: &str) -> Result<()> {
    let n = name.get_ref();
    if n.is_empty()
        || n.len() > 100
        || !n
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return Err(config_error(
            at,
            crate::util::spans::inside(name.span()),
            format!("{what} name `{}` is not a valid name", n.escape_debug()),
            "use 1 to 100 letters, digits, `_`, `-` or `.`",
        ));
    }
    Ok(())
}

pub(crate) fn services(at: At<'_>, raw: &[RawService]) -> Result<Vec<ServiceSpec>> {
    let mut out: Vec<ServiceSpec> = Vec::new();
    for s in raw {
        let name = s.name.get_ref().clone();
        check_name(at, &s.name, "service")?;
        for (key, value) in &s.env {
            let bad_key = key.is_empty() || key.contains(['=', '\0']);
            if bad_key || value.contains('\0') {
                return Err(config_error(
                    at,
                    crate::util::spans::inside(s.name.span()),
                    format!(
                        "service `{name}`: the environment variable `{}` cannot be set",
                        key.escape_debug()
                    ),
                    "names must be non-empty without `=` or NUL, values without NUL",
                ));
            }
        }
        if out.iter().any(|o| o.name == name) {
            return Err(config_error(
                at,
                s.name.span(),
                format!("two services are called `{name}`"),
                "give each [[service]] its own name",
            ));
        }
        if s.cmd.get_ref().is_empty() {
            return Err(config_error(
                at,
                s.cmd.span(),
                format!("service `{name}` has an empty `cmd`"),
                "write cmd = [\"program\", \"arg\"]",
            ));
        }
        let (ready, within) = match &s.ready {
            None => (None, Duration::from_secs(30)),
            Some(r) => {
                let inner = r.get_ref();
                let probe = match (&inner.http, &inner.tcp, &inner.command) {
                    (Some(u), None, None) => Probe::Http(u.clone()),
                    (None, Some(a), None) => Probe::Tcp(a.clone()),
                    (None, None, Some(c)) if !c.is_empty() => Probe::Command(c.clone()),
                    _ => {
                        return Err(config_error(
                            at,
                            r.span(),
                            format!(
                                "service `{name}`: `ready` needs exactly one of http, tcp or command"
                            ),
                            "e.g. ready = { http = \"http://127.0.0.1:8080/health\", within = \"30s\" }",
                        ));
                    }
                };
                (
                    Some(probe),
                    opt_duration(at, &inner.within, Duration::from_secs(30))?,
                )
            }
        };
        out.push(ServiceSpec {
            name,
            cmd: s.cmd.get_ref().clone(),
            cwd: s.cwd.clone(),
            env: s.env.clone(),
            after: s.after.iter().map(|a| a.get_ref().clone()).collect(),
            ready,
            ready_within: within,
            stop_grace: opt_duration(at, &s.stop_grace, Duration::from_secs(5))?,
        });
    }
    // Dependencies must exist and must not loop.
    for (s, r) in out.iter().zip(raw) {
        for (a, span) in s.after.iter().zip(&r.after) {
            if !out.iter().any(|o| &o.name == a) {
                return Err(config_error(
                    at,
                    crate::util::spans::inside(span.span()),
                    format!("service `{}` starts after unknown service `{a}`", s.name),
                    "name a [[service]] defined in this file",
                ));
            }
        }
    }
    if let Err(cycle) = start_order(&out) {
        return Err(config_error(
            at,
            raw.first().map_or(0..0, |r| r.name.span()),
            format!("services depend on each other in a cycle: {cycle}"),
            "remove one `after` entry",
        ));
    }
    Ok(out)
}

/// Services in an order where every service comes after those it depends on.
pub fn start_order(services: &[ServiceSpec]) -> std::result::Result<Vec<usize>, String> {
    let mut order = Vec::new();
    let mut state = vec![0u8; services.len()]; // 0 new, 1 visiting, 2 done
    fn visit(
        i: usize,
        s: &[ServiceSpec],
        state: &mut [u8],
        order: &mut Vec<usize>,
        path: &mut Vec<String>,
    ) -> std::result::Result<(), String> {
        match state[i] {
            2 => return Ok(()),
            1 => {
                path.push(s[i].name.clone());
                return Err(path.join(" → "));
            }
            _ => {}
        }
        state[i] = 1;
        path.push(s[i].name.clone());
        for dep in &s[i].after {
            if let Some(j) = s.iter().position(|x| &x.name == dep) {
                visit(j, s, state, order, path)?;
            }
        }
        path.pop();
        state[i] = 2;
        order.push(i);
        Ok(())
    }
    for i in 0..services.len() {
        visit(i, services, &mut state, &mut order, &mut Vec::new())?;
    }
    Ok(order)
}

// ---- checks ----

/// What a check looks at.
#[derive(Debug, Clone)]
pub enum CheckKind {
    /// An HTTP request.
    Http {
        /// URL (`http://` or `https://`, IPv4, `[IPv6]` or a name).
        url: String,
        /// Method.
        method: String,
        /// Headers.
        headers: Vec<(String, String)>,
        /// Body.
        body: Option<String>,
        /// Expected status (default: any 2xx).
        status: Option<u16>,
        /// Body patterns.
        expect: Vec<Pattern>,
        /// Response time limit.
        max_time: Option<Duration>,
        /// https: extra CA certificates (PEM) to trust, relative to the workspace root.
        ca: Option<PathBuf>,
    },
    /// A TCP connection.
    Tcp {
        /// `host:port` or `[v6]:port`.
        address: String,
        /// Bytes to send.
        send: Option<String>,
        /// Patterns on what comes back.
        expect: Vec<Pattern>,
    },
    /// A command.
    Command {
        /// Program and arguments.
        cmd: Vec<String>,
        /// Expected exit code.
        exit: i32,
        /// Patterns on stdout.
        stdout: Vec<Pattern>,
        /// Patterns on stderr.
        stderr: Vec<Pattern>,
        /// Killed (with its whole process group) after this long: a check that hangs fails.
        timeout: Duration,
    },
    /// A file.
    File {
        /// Path, relative to the workspace root.
        path: PathBuf,
        /// Must exist (or must not).
        exists: bool,
        /// Permission bits, e.g. 0o644.
        mode: Option<u32>,
        /// Patterns on the content.
        contains: Vec<Pattern>,
    },
}

/// Retrying a check until it passes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Retry {
    /// Give up after this long.
    pub within: Duration,
    /// Wait between attempts.
    pub every: Duration,
}

/// A goss-like check: one case of the `infra` suite.
#[derive(Debug, Clone)]
pub struct CheckSpec {
    /// Name.
    pub name: String,
    /// What it checks.
    pub kind: CheckKind,
    /// Retry until it passes.
    pub retry: Option<Retry>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawHttp {
    url: String,
    method: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    body: Option<String>,
    status: Option<u16>,
    #[serde(default)]
    expect: Vec<Spanned<String>>,
    max_time: Option<Spanned<String>>,
    ca: Option<PathBuf>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTcp {
    address: String,
    send: Option<String>,
    #[serde(default)]
    expect: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCommand {
    cmd: Vec<String>,
    exit: Option<i32>,
    timeout: Option<Spanned<String>>,
    #[serde(default)]
    stdout: Vec<Spanned<String>>,
    #[serde(default)]
    stderr: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFile {
    path: PathBuf,
    exists: Option<bool>,
    mode: Option<Spanned<String>>,
    #[serde(default)]
    contains: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRetry {
    within: Spanned<String>,
    every: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCheck {
    name: Spanned<String>,
    http: Option<RawHttp>,
    tcp: Option<RawTcp>,
    command: Option<RawCommand>,
    file: Option<RawFile>,
    retry: Option<RawRetry>,
}

pub(crate) fn checks(at: At<'_>, raw: &[RawCheck]) -> Result<Vec<CheckSpec>> {
    let mut out: Vec<CheckSpec> = Vec::new();
    for c in raw {
        let name = c.name.get_ref().clone();
        if out.iter().any(|o| o.name == name) {
            return Err(config_error(
                at,
                c.name.span(),
                format!("two checks are called `{name}`"),
                "give each [[check]] its own name",
            ));
        }
        let kind = check_kind(at, c, &name)?;
        let retry = match &c.retry {
            None => None,
            Some(r) => Some(Retry {
                within: duration(at, &r.within)?,
                every: opt_duration(at, &r.every, Duration::from_millis(500))?,
            }),
        };
        out.push(CheckSpec { name, kind, retry });
    }
    Ok(out)
}

/// What a `[[check]]` checks: exactly one of `http`, `tcp`, `command` and `file`.
fn check_kind(at: At<'_>, c: &RawCheck, name: &str) -> Result<CheckKind> {
    let error = |message: String, hint: &str| config_error(at, c.name.span(), message, hint);
    Ok(match (&c.http, &c.tcp, &c.command, &c.file) {
        (Some(h), None, None, None) => {
            if let Err(m) = crate::suites::load::http::parse_url(&h.url) {
                return Err(error(
                    format!("check `{name}`: {m}"),
                    "write e.g. \"http://127.0.0.1:8080/health\"",
                ));
            }
            CheckKind::Http {
                url: h.url.clone(),
                method: h.method.clone().unwrap_or_else(|| "GET".into()),
                headers: h
                    .headers
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
                body: h.body.clone(),
                status: h.status,
                expect: pattern_list(at, &h.expect)?,
                max_time: h.max_time.as_ref().map(|d| duration(at, d)).transpose()?,
                ca: h.ca.clone(),
            }
        }
        (None, Some(t), None, None) => CheckKind::Tcp {
            address: t.address.clone(),
            send: t.send.clone(),
            expect: pattern_list(at, &t.expect)?,
        },
        (None, None, Some(cmd), None) => {
            if cmd.cmd.is_empty() {
                return Err(error(
                    format!("check `{name}` has an empty command"),
                    "write cmd = [\"program\", \"arg\"]",
                ));
            }
            CheckKind::Command {
                cmd: cmd.cmd.clone(),
                exit: cmd.exit.unwrap_or(0),
                stdout: pattern_list(at, &cmd.stdout)?,
                stderr: pattern_list(at, &cmd.stderr)?,
                timeout: opt_duration(at, &cmd.timeout, COMMAND_CHECK_TIMEOUT)?,
            }
        }
        (None, None, None, Some(f)) => {
            let mode = match &f.mode {
                None => None,
                Some(m) => Some(
                    u32::from_str_radix(m.get_ref().trim_start_matches("0o"), 8).map_err(|_| {
                        config_error(
                            at,
                            crate::util::spans::inside(m.span()),
                            format!("`{}` is not an octal mode", m.get_ref()),
                            "write e.g. \"0644\"",
                        )
                    })?,
                ),
            };
            CheckKind::File {
                path: f.path.clone(),
                exists: f.exists.unwrap_or(true),
                mode,
                contains: pattern_list(at, &f.contains)?,
            }
        }
        _ => {
            return Err(error(
                format!("check `{name}` needs exactly one of http, tcp, command or file"),
                "e.g. http = { url = \"http://127.0.0.1:8080/health\", status = 200 }",
            ));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svc(name: &str, after: &[&str]) -> ServiceSpec {
        ServiceSpec {
            name: name.into(),
            cmd: vec!["true".into()],
            cwd: None,
            env: BTreeMap::new(),
            after: after.iter().map(|s| s.to_string()).collect(),
            ready: None,
            ready_within: Duration::from_secs(1),
            stop_grace: Duration::from_secs(1),
        }
    }

    #[test]
    fn start_order_follows_dependencies_and_finds_cycles() {
        let s = vec![
            svc("api", &["db", "cache"]),
            svc("db", &[]),
            svc("cache", &["db"]),
        ];
        let order: Vec<&str> = start_order(&s)
            .unwrap()
            .into_iter()
            .map(|i| s[i].name.as_str())
            .collect();
        assert_eq!(order, vec!["db", "cache", "api"]);
        let cyc = vec![svc("a", &["b"]), svc("b", &["a"])];
        assert_eq!(start_order(&cyc).unwrap_err(), "a → b → a");
    }

    #[test]
    fn toxics_describe_themselves_for_the_experiment_log() {
        let latency = Toxic::Latency {
            latency: Duration::from_millis(50),
            jitter: Duration::from_millis(10),
        };
        assert_eq!(latency.to_string(), "latency 50.0ms ± 10.0ms");
        let first = Toxic::HttpError {
            status: 503,
            fraction: None,
            first: Some(3),
        };
        assert_eq!(
            first.to_string(),
            "http_error 503 for the first 3 connections"
        );
        let share = Toxic::HttpError {
            status: 500,
            fraction: Some(0.25),
            first: None,
        };
        assert_eq!(share.to_string(), "http_error 500 for 25 % of connections");
        assert_eq!(
            Toxic::Bandwidth { rate: 10_240 }.to_string(),
            "bandwidth 10.0 KiB/s"
        );
    }

    #[test]
    fn sizes() {}
}
