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

fn duration(at: At<'_>, v: &Spanned<String>) -> Result<Duration> {
    crate::util::spans::duration(at, v)
}

fn opt_duration(at: At<'_>, v: &Option<Spanned<String>>, default: Duration) -> Result<Duration> {
    Ok(crate::util::spans::opt_duration(at, v)?.unwrap_or(default))
}

fn pattern_list(at: At<'_>, list: &[Spanned<String>]) -> Result<Vec<Pattern>> {
    list.iter()
        .map(|p| {
            patterns::parse(p.get_ref()).map_err(|m| {
                config_error(
                    at,
                    p.span().start + 1,
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

pub(crate) fn services(at: At<'_>, raw: &[RawService]) -> Result<Vec<ServiceSpec>> {
    let mut out: Vec<ServiceSpec> = Vec::new();
    for s in raw {
        let name = s.name.get_ref().clone();
        if out.iter().any(|o| o.name == name) {
            return Err(config_error(
                at,
                s.name.span().start,
                format!("two services are called `{name}`"),
                "give each [[service]] its own name",
            ));
        }
        if s.cmd.get_ref().is_empty() {
            return Err(config_error(
                at,
                s.cmd.span().start,
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
                            r.span().start,
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
                    span.span().start + 1,
                    format!("service `{}` starts after unknown service `{a}`", s.name),
                    "name a [[service]] defined in this file",
                ));
            }
        }
    }
    if let Err(cycle) = start_order(&out) {
        return Err(config_error(
            at,
            raw.first().map_or(0, |r| r.name.span().start),
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
                c.name.span().start,
                format!("two checks are called `{name}`"),
                "give each [[check]] its own name",
            ));
        }
        let kinds = usize::from(c.http.is_some())
            + usize::from(c.tcp.is_some())
            + usize::from(c.command.is_some())
            + usize::from(c.file.is_some());
        if kinds != 1 {
            return Err(config_error(
                at,
                c.name.span().start,
                format!("check `{name}` needs exactly one of http, tcp, command or file"),
                "e.g. http = { url = \"http://127.0.0.1:8080/health\", status = 200 }",
            ));
        }
        let kind = if let Some(h) = &c.http {
            if let Err(m) = crate::suites::load::http::parse_url(&h.url) {
                return Err(config_error(
                    at,
                    c.name.span().start,
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
        } else if let Some(t) = &c.tcp {
            CheckKind::Tcp {
                address: t.address.clone(),
                send: t.send.clone(),
                expect: pattern_list(at, &t.expect)?,
            }
        } else if let Some(cmd) = &c.command {
            if cmd.cmd.is_empty() {
                return Err(config_error(
                    at,
                    c.name.span().start,
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
        } else if let Some(f) = &c.file {
            let mode = match &f.mode {
                None => None,
                Some(m) => Some(
                    u32::from_str_radix(m.get_ref().trim_start_matches("0o"), 8).map_err(|_| {
                        config_error(
                            at,
                            m.span().start + 1,
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
        } else {
            unreachable!("exactly one kind was checked above")
        };
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

// ---- proxies and chaos ----

/// A TCP fault proxy between clients and a service.
#[derive(Debug, Clone, PartialEq)]
pub struct ProxySpec {
    /// Name faults refer to.
    pub name: String,
    /// Address to listen on.
    pub listen: String,
    /// Address to forward to.
    pub upstream: String,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawProxy {
    name: String,
    listen: String,
    upstream: String,
}

/// A network fault applied by a proxy.
#[derive(Debug, Clone, PartialEq)]
pub enum Toxic {
    /// Delay every chunk of data by `latency` ± `jitter`.
    Latency {
        /// Added delay.
        latency: Duration,
        /// Uniform spread around it.
        jitter: Duration,
    },
    /// At most this many bytes per second, each way.
    Bandwidth {
        /// Bytes per second.
        rate: u64,
    },
    /// Close connections with a TCP reset.
    ResetPeer,
    /// Forward nothing, close after this long.
    Timeout {
        /// How long to hold.
        after: Duration,
    },
    /// Split data into small writes.
    Slice {
        /// Bytes per write.
        size: usize,
        /// Pause between writes.
        delay: Duration,
    },
    /// Close a connection after this many bytes.
    LimitData {
        /// Bytes.
        bytes: u64,
    },
    /// Refuse service: close every connection at once.
    Down,
    /// Answer HTTP requests with an error status instead of forwarding them.
    HttpError {
        /// Status code.
        status: u16,
        /// Fraction of connections failed (0..=1).
        fraction: Option<f64>,
        /// Fail the first N connections.
        first: Option<u64>,
    },
}

impl std::fmt::Display for Toxic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::util::units::{format_bytes, format_seconds};
        let secs = |d: &Duration| format_seconds(d.as_secs_f64());
        match self {
            Toxic::Latency { latency, jitter } if jitter.is_zero() => {
                write!(f, "latency {}", secs(latency))
            }
            Toxic::Latency { latency, jitter } => {
                write!(f, "latency {} ± {}", secs(latency), secs(jitter))
            }
            Toxic::Bandwidth { rate } => write!(f, "bandwidth {}/s", format_bytes(*rate as f64)),
            Toxic::ResetPeer => write!(f, "reset_peer"),
            Toxic::Timeout { after } => write!(f, "timeout after {}", secs(after)),
            Toxic::Slice { size, delay } => {
                write!(f, "slice into {size}-byte writes {} apart", secs(delay))
            }
            Toxic::LimitData { bytes } => {
                write!(f, "limit_data {}", format_bytes(*bytes as f64))
            }
            Toxic::Down => write!(f, "down"),
            Toxic::HttpError {
                status,
                fraction,
                first,
            } => match (first, fraction) {
                (Some(n), _) => write!(f, "http_error {status} for the first {n} connections"),
                (None, Some(fr)) => write!(
                    f,
                    "http_error {status} for {:.0} % of connections",
                    fr * 100.0
                ),
                (None, None) => write!(f, "http_error {status} for every connection"),
            },
        }
    }
}

impl std::fmt::Display for Rlimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Rlimit::Cpu => "RLIMIT_CPU",
            Rlimit::Memory => "RLIMIT_AS",
            Rlimit::FileSize => "RLIMIT_FSIZE",
        })
    }
}

/// Which way data flows through a proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Client → service: requests.
    Upstream,
    /// Service → client: responses.
    Downstream,
}

/// A toxic and where it applies.
#[derive(Debug, Clone, PartialEq)]
pub struct ToxicSpec {
    /// The fault.
    pub toxic: Toxic,
    /// Only data flowing this way is affected (`None`: both ways). Data toxics only.
    pub stream: Option<Stream>,
    /// Share of connections affected, spread evenly over consecutive connections (1: all).
    pub toxicity: f64,
}

impl ToxicSpec {
    /// The toxic on every connection, both ways.
    pub fn everywhere(toxic: Toxic) -> ToxicSpec {
        ToxicSpec {
            toxic,
            stream: None,
            toxicity: 1.0,
        }
    }
}

impl std::fmt::Display for ToxicSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.toxic)?;
        match self.stream {
            Some(Stream::Upstream) => write!(f, " on requests only")?,
            Some(Stream::Downstream) => write!(f, " on responses only")?,
            None => {}
        }
        if self.toxicity < 1.0 {
            write!(f, " on {:.0} % of connections", self.toxicity * 100.0)?;
        }
        Ok(())
    }
}

/// A fault injected by an experiment.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// SIGKILL the service (rollback: start it again).
    Kill(String),
    /// SIGSTOP the service (rollback: SIGCONT).
    Stop(String),
    /// Restart the service.
    Restart(String),
    /// A proxy toxic.
    Proxy(String, ToxicSpec),
    /// Restart the service with a changed environment (failpoints, disk-full paths, libfaketime)
    /// and resource limits; rollback restarts it as configured.
    Restarted {
        /// The service.
        service: String,
        /// Extra environment.
        env: BTreeMap<String, String>,
        /// `(resource, limit)` pairs for setrlimit.
        rlimits: Vec<(Rlimit, u64)>,
    },
}

/// Limits a fault can set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rlimit {
    /// CPU seconds.
    Cpu,
    /// Address space bytes.
    Memory,
    /// Largest file the process may write, in bytes (writes beyond fail with EFBIG).
    FileSize,
}

/// A chaos experiment: one case of the `chaos` suite.
#[derive(Debug, Clone, PartialEq)]
pub struct ChaosSpec {
    /// Name.
    pub name: String,
    /// Checks that must hold before and after.
    pub steady_state: Vec<String>,
    /// The fault.
    pub fault: Fault,
    /// How long the fault stays.
    pub duration: Duration,
    /// Probes during the fault: every, and the largest failure ratio allowed.
    pub during: Option<(Duration, f64)>,
    /// After the fault is removed, the steady state must hold again within this.
    pub recover_within: Duration,
    /// Commands that always run at the end.
    pub rollback: Vec<Vec<String>>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFault {
    kind: Spanned<String>,
    target: Option<Spanned<String>>,
    latency: Option<Spanned<String>>,
    jitter: Option<Spanned<String>>,
    rate: Option<Spanned<String>>,
    after: Option<Spanned<String>>,
    size: Option<usize>,
    delay: Option<Spanned<String>>,
    bytes: Option<Spanned<String>>,
    status: Option<u16>,
    fraction: Option<f64>,
    first: Option<u64>,
    env: Option<BTreeMap<String, String>>,
    path_env: Option<String>,
    offset: Option<String>,
    seconds: Option<u64>,
    stream: Option<Spanned<String>>,
    toxicity: Option<Spanned<f64>>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDuring {
    every: Option<Spanned<String>>,
    max_failure_ratio: f64,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawChaos {
    name: String,
    #[serde(default)]
    steady_state: Vec<Spanned<String>>,
    fault: Spanned<RawFault>,
    duration: Option<Spanned<String>>,
    during: Option<RawDuring>,
    recover_within: Option<Spanned<String>>,
    #[serde(default)]
    rollback: Vec<Vec<String>>,
}

/// Where libfaketime is looked for (Debian's `faketime` package, then other common places).
pub const LIBFAKETIME: &[&str] = &[
    "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
    "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
    "/usr/lib/faketime/libfaketime.so.1",
    "/usr/local/lib/faketime/libfaketime.so.1",
];

pub(crate) fn proxies(raw: &[RawProxy]) -> Vec<ProxySpec> {
    raw.iter()
        .map(|p| ProxySpec {
            name: p.name.clone(),
            listen: p.listen.clone(),
            upstream: p.upstream.clone(),
        })
        .collect()
}

const FAULT_KINDS: &str = "kill, stop, restart, latency, bandwidth, reset_peer, timeout, slice, limit_data, down, http_error, env, disk_full, clock_skew, cpu, memory";

pub(crate) fn chaos(
    at: At<'_>,
    raw: &[RawChaos],
    services: &[ServiceSpec],
    checks: &[CheckSpec],
    proxies: &[ProxySpec],
) -> Result<Vec<ChaosSpec>> {
    let mut out = Vec::new();
    for c in raw {
        for s in &c.steady_state {
            if !checks.iter().any(|k| k.name == *s.get_ref()) {
                return Err(config_error(
                    at,
                    s.span().start + 1,
                    format!(
                        "experiment `{}`: no [[check]] called `{}`",
                        c.name,
                        s.get_ref()
                    ),
                    "steady_state lists names of checks",
                ));
            }
        }
        let f = c.fault.get_ref();
        let kind = f.kind.get_ref().as_str();
        let target = |what: &str| -> Result<String> {
            let t = f.target.as_ref().ok_or_else(|| {
                config_error(
                    at,
                    c.fault.span().start,
                    format!("fault `{kind}` needs a `target` {what}"),
                    "e.g. target = \"api\"",
                )
            })?;
            let name = t.get_ref().clone();
            let known = if what == "proxy" {
                proxies.iter().any(|p| p.name == name)
            } else {
                services.iter().any(|s| s.name == name)
            };
            if !known {
                return Err(config_error(
                    at,
                    t.span().start + 1,
                    format!("fault `{kind}` targets unknown {what} `{name}`"),
                    &format!("define a [[{what}]] called `{name}`"),
                ));
            }
            Ok(name)
        };
        let d = |v: &Option<Spanned<String>>, default: Duration| opt_duration(at, v, default);
        let size = |v: &Option<Spanned<String>>, what: &str| -> Result<u64> {
            let s = v.as_ref().ok_or_else(|| {
                config_error(
                    at,
                    c.fault.span().start,
                    format!("fault `{kind}` needs `{what}`"),
                    "e.g. \"64KB\"",
                )
            })?;
            crate::util::spans::size(at, s)
        };
        let restarted = |service: String,
                         env: BTreeMap<String, String>,
                         rlimits: Vec<(Rlimit, u64)>| Fault::Restarted {
            service,
            env,
            rlimits,
        };
        // Proxy faults: where the toxic applies (`stream`) and on how many connections
        // (`toxicity`); data toxics take both, connection-level ones only `toxicity`.
        let proxy_fault = |toxic: Toxic| -> Result<Fault> {
            let whole_connection = matches!(
                toxic,
                Toxic::ResetPeer | Toxic::Down | Toxic::HttpError { .. }
            );
            let stream = match &f.stream {
                None => None,
                Some(s) if whole_connection => {
                    return Err(config_error(
                        at,
                        s.span().start + 1,
                        format!("fault `{kind}` acts on the whole connection, not on one stream"),
                        "remove `stream`",
                    ));
                }
                Some(s) => match s.get_ref().as_str() {
                    "upstream" => Some(Stream::Upstream),
                    "downstream" => Some(Stream::Downstream),
                    "both" => None,
                    other => {
                        return Err(config_error(
                            at,
                            s.span().start + 1,
                            format!("unknown stream `{other}`"),
                            "use \"upstream\" (requests), \"downstream\" (responses) or \"both\"",
                        ));
                    }
                },
            };
            let toxicity = match &f.toxicity {
                None => 1.0,
                Some(t) if matches!(toxic, Toxic::HttpError { .. }) => {
                    return Err(config_error(
                        at,
                        t.span().start,
                        "fault `http_error` chooses its connections with `fraction` or `first`"
                            .into(),
                        "replace `toxicity` with `fraction`",
                    ));
                }
                Some(t) if !(0.0..=1.0).contains(t.get_ref()) => {
                    return Err(config_error(
                        at,
                        // A number's span starts at its first digit; a string's at its quote.
                        t.span().start,
                        format!("toxicity {} is not between 0 and 1", t.get_ref()),
                        "e.g. toxicity = 0.5 (half of the connections)",
                    ));
                }
                Some(t) => *t.get_ref(),
            };
            Ok(Fault::Proxy(
                target("proxy")?,
                ToxicSpec {
                    toxic,
                    stream,
                    toxicity,
                },
            ))
        };
        let fault = match kind {
            "kill" => Fault::Kill(target("service")?),
            "stop" => Fault::Stop(target("service")?),
            "restart" => Fault::Restart(target("service")?),
            "latency" => proxy_fault(Toxic::Latency {
                latency: d(&f.latency, Duration::from_millis(100))?,
                jitter: d(&f.jitter, Duration::ZERO)?,
            })?,
            "bandwidth" => proxy_fault(Toxic::Bandwidth {
                rate: size(&f.rate, "rate")?.max(1),
            })?,
            "reset_peer" => proxy_fault(Toxic::ResetPeer)?,
            "timeout" => proxy_fault(Toxic::Timeout {
                after: d(&f.after, Duration::from_secs(5))?,
            })?,
            "slice" => proxy_fault(Toxic::Slice {
                size: f.size.unwrap_or(16).max(1),
                delay: d(&f.delay, Duration::ZERO)?,
            })?,
            "limit_data" => proxy_fault(Toxic::LimitData {
                bytes: size(&f.bytes, "bytes")?,
            })?,
            "down" => proxy_fault(Toxic::Down)?,
            "http_error" => {
                if let Some(fr) = f.fraction
                    && !(0.0..=1.0).contains(&fr)
                {
                    return Err(config_error(
                        at,
                        c.fault.span().start,
                        format!("fraction {fr} is not between 0 and 1"),
                        "e.g. fraction = 0.5",
                    ));
                }
                proxy_fault(Toxic::HttpError {
                    status: f.status.unwrap_or(503),
                    fraction: f.fraction,
                    first: f.first,
                })?
            }
            "env" => {
                let env = f.env.clone().ok_or_else(|| {
                    config_error(
                        at,
                        c.fault.span().start,
                        "fault `env` needs `env = { NAME = \"value\" }`".into(),
                        "e.g. env = { FAILPOINTS = \"db_write=return\" }",
                    )
                })?;
                restarted(target("service")?, env, Vec::new())
            }
            "disk_full" => {
                let svc = target("service")?;
                match (&f.path_env, &f.bytes) {
                    (Some(var), None) => restarted(svc, BTreeMap::from([(var.clone(), "/dev/full".to_string())]), Vec::new()),
                    (None, Some(_)) => restarted(svc, BTreeMap::new(), vec![(Rlimit::FileSize, size(&f.bytes, "bytes")?)]),
                    _ => return Err(config_error(at, c.fault.span().start, "fault `disk_full` needs `path_env` (a variable the service reads a file path from; it is pointed at /dev/full) or `bytes` (a file-size limit)".into(), "e.g. path_env = \"DATA_FILE\"")),
                }
            }
            "clock_skew" => {
                let offset = f.offset.clone().ok_or_else(|| {
                    config_error(
                        at,
                        c.fault.span().start,
                        "fault `clock_skew` needs `offset`".into(),
                        "e.g. offset = \"+1d\" (libfaketime syntax)",
                    )
                })?;
                let svc = target("service")?;
                let lib = LIBFAKETIME
                    .iter()
                    .find(|p| std::path::Path::new(p).exists())
                    .map(|p| p.to_string())
                    .unwrap_or_else(|| LIBFAKETIME[0].to_string());
                restarted(
                    svc,
                    BTreeMap::from([
                        ("LD_PRELOAD".to_string(), lib),
                        ("FAKETIME".to_string(), offset),
                        ("FAKETIME_DONT_FAKE_MONOTONIC".to_string(), "1".to_string()),
                    ]),
                    Vec::new(),
                )
            }
            "cpu" => restarted(
                target("service")?,
                BTreeMap::new(),
                vec![(Rlimit::Cpu, f.seconds.unwrap_or(1))],
            ),
            "memory" => restarted(
                target("service")?,
                BTreeMap::new(),
                vec![(Rlimit::Memory, size(&f.bytes, "bytes")?)],
            ),
            other => {
                return Err(config_error(
                    at,
                    f.kind.span().start + 1,
                    format!("unknown fault kind `{other}`"),
                    &format!("use one of {FAULT_KINDS}"),
                ));
            }
        };
        if !matches!(fault, Fault::Proxy(..)) {
            let stray = f
                .stream
                .as_ref()
                .map(|s| ("stream", s.span().start + 1))
                .or_else(|| f.toxicity.as_ref().map(|t| ("toxicity", t.span().start)));
            if let Some((key, offset)) = stray {
                return Err(config_error(
                    at,
                    offset,
                    format!("`{key}` only applies to proxy faults, not to `{kind}`"),
                    &format!("remove `{key}`"),
                ));
            }
        }
        let during = match &c.during {
            None => None,
            Some(r) => {
                if !(0.0..=1.0).contains(&r.max_failure_ratio) {
                    return Err(config_error(
                        at,
                        c.fault.span().start,
                        format!(
                            "max_failure_ratio {} is not between 0 and 1",
                            r.max_failure_ratio
                        ),
                        "e.g. 0.2 allows one probe in five to fail",
                    ));
                }
                Some((
                    d(&r.every, Duration::from_millis(500))?,
                    r.max_failure_ratio,
                ))
            }
        };
        out.push(ChaosSpec {
            name: c.name.clone(),
            steady_state: c.steady_state.iter().map(|s| s.get_ref().clone()).collect(),
            fault,
            duration: d(&c.duration, Duration::from_secs(5))?,
            during,
            recover_within: d(&c.recover_within, Duration::from_secs(30))?,
            rollback: c.rollback.clone(),
        });
    }
    Ok(out)
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
