//! `[[proxy]]` and `[[chaos]]` in gate.toml: fault proxies, faults (toxics, signals, restarts
//! with limits) and experiments, validated against the services and checks they name.

use std::collections::BTreeMap;
use std::ops::Range;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::{CheckSpec, ServiceSpec, opt_duration};
use crate::error::Result;
use crate::util::spans::{At, config_error, inside};

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
    name: Spanned<String>,
    listen: Spanned<String>,
    upstream: Spanned<String>,
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
    /// Restart the service with a changed environment (failpoints, disk-full paths, the clock-skew shim)
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

/// Probing the steady state while the fault is in.
#[derive(Debug, Clone, PartialEq)]
pub struct During {
    /// A probe starts every `every`, on a fixed schedule from the injection.
    pub every: Duration,
    /// The largest share of probes that may fail (0..=1).
    pub max_failure_ratio: f64,
    /// A probe still running after this (or when the fault's time is up) counts as failed.
    pub timeout: Duration,
}

/// How long a probe may take when `during.timeout` is not set.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

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
    /// Probes during the fault.
    pub during: Option<During>,
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
    timeout: Option<Spanned<String>>,
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

pub(crate) fn proxies(at: At<'_>, raw: &[RawProxy]) -> Result<Vec<ProxySpec>> {
    let mut out: Vec<ProxySpec> = Vec::new();
    for p in raw {
        let name = p.name.get_ref().clone();
        super::check_name(at, &p.name, "proxy")?;
        if out.iter().any(|o| o.name == name) {
            return Err(config_error(
                at,
                inside(p.name.span()),
                format!("two proxies are called `{name}`"),
                "give each [[proxy]] its own name",
            ));
        }
        for (field, value) in [("listen", &p.listen), ("upstream", &p.upstream)] {
            if let Err(why) = host_port(value.get_ref()) {
                return Err(config_error(
                    at,
                    inside(value.span()),
                    format!("proxy `{name}`: `{field}` {why}"),
                    "write host:port, e.g. \"127.0.0.1:15432\"",
                ));
            }
        }
        out.push(ProxySpec {
            name,
            listen: p.listen.get_ref().clone(),
            upstream: p.upstream.get_ref().clone(),
        });
    }
    Ok(out)
}

/// Whether `s` is `host:port` (an IPv6 host in brackets), as a proxy binds or connects to.
fn host_port(s: &str) -> std::result::Result<(), String> {
    let Some((host, port)) = s.rsplit_once(':') else {
        return Err(format!("`{s}` has no port"));
    };
    if port.parse::<u16>().is_err() {
        return Err(format!("`{s}` has no valid port (0 to 65535)"));
    }
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let valid = !host.is_empty()
        && (host.parse::<std::net::IpAddr>().is_ok()
            || host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.'));
    if valid {
        Ok(())
    } else {
        Err(format!("`{s}` has no valid host"))
    }
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
                    inside(s.span()),
                    format!(
                        "experiment `{}`: no [[check]] called `{}`",
                        c.name,
                        s.get_ref()
                    ),
                    "steady_state lists names of checks",
                ));
            }
        }
        let reader = FaultReader {
            at,
            f: c.fault.get_ref(),
            span: c.fault.span(),
            kind: c.fault.get_ref().kind.get_ref().as_str(),
            services,
            proxies,
        };
        let fault = reader.fault()?;
        if !matches!(fault, Fault::Proxy(..)) {
            reader.no_proxy_keys()?;
        }
        out.push(ChaosSpec {
            name: c.name.clone(),
            steady_state: c.steady_state.iter().map(|s| s.get_ref().clone()).collect(),
            fault,
            duration: opt_duration(at, &c.duration, Duration::from_secs(5))?,
            during: c
                .during
                .as_ref()
                .map(|r| during(at, r, c.fault.span()))
                .transpose()?,
            recover_within: opt_duration(at, &c.recover_within, Duration::from_secs(30))?,
            rollback: c.rollback.clone(),
        });
    }
    Ok(out)
}

fn during(at: At<'_>, r: &RawDuring, fault: Range<usize>) -> Result<During> {
    if !(0.0..=1.0).contains(&r.max_failure_ratio) {
        return Err(config_error(
            at,
            fault,
            format!(
                "max_failure_ratio {} is not between 0 and 1",
                r.max_failure_ratio
            ),
            "e.g. 0.2 allows one probe in five to fail",
        ));
    }
    let positive = |v: &Option<Spanned<String>>, name: &str, default: Duration| {
        v.as_ref().map_or(Ok(default), |s| {
            crate::util::spans::nonzero_duration(at, s, name)
        })
    };
    Ok(During {
        every: positive(&r.every, "every", Duration::from_millis(500))?,
        max_failure_ratio: r.max_failure_ratio,
        timeout: positive(&r.timeout, "timeout", PROBE_TIMEOUT)?,
    })
}

/// One `[chaos.fault]` table being read: its kind decides which keys it needs.
struct FaultReader<'a> {
    at: At<'a>,
    f: &'a RawFault,
    /// The whole table, for errors about a key it lacks.
    span: Range<usize>,
    kind: &'a str,
    services: &'a [ServiceSpec],
    proxies: &'a [ProxySpec],
}

impl FaultReader<'_> {
    fn error(&self, span: Range<usize>, message: String, hint: &str) -> crate::error::Error {
        config_error(self.at, span, message, hint)
    }

    /// A key the kind needs but the table lacks.
    fn missing(&self, message: String, hint: &str) -> crate::error::Error {
        self.error(self.span.clone(), message, hint)
    }

    /// The `target`, which must name a `[[service]]` or a `[[proxy]]` (`what`).
    fn target(&self, what: &str) -> Result<String> {
        let kind = self.kind;
        let t = self.f.target.as_ref().ok_or_else(|| {
            self.missing(
                format!("fault `{kind}` needs a `target` {what}"),
                "e.g. target = \"api\"",
            )
        })?;
        let name = t.get_ref().clone();
        let known = if what == "proxy" {
            self.proxies.iter().any(|p| p.name == name)
        } else {
            self.services.iter().any(|s| s.name == name)
        };
        if !known {
            return Err(self.error(
                inside(t.span()),
                format!("fault `{kind}` targets unknown {what} `{name}`"),
                &format!("define a [[{what}]] called `{name}`"),
            ));
        }
        Ok(name)
    }

    fn duration(&self, v: &Option<Spanned<String>>, default: Duration) -> Result<Duration> {
        opt_duration(self.at, v, default)
    }

    /// A size key (`"64KB"`) the kind needs.
    fn size(&self, v: &Option<Spanned<String>>, what: &str) -> Result<u64> {
        let s = v.as_ref().ok_or_else(|| {
            self.missing(
                format!("fault `{}` needs `{what}`", self.kind),
                "e.g. \"64KB\"",
            )
        })?;
        crate::util::spans::size(self.at, s)
    }

    /// The service restarted with extra environment and limits.
    fn restarted(
        &self,
        env: BTreeMap<String, String>,
        rlimits: Vec<(Rlimit, u64)>,
    ) -> Result<Fault> {
        Ok(Fault::Restarted {
            service: self.target("service")?,
            env,
            rlimits,
        })
    }

    fn fault(&self) -> Result<Fault> {
        let (f, d) = (self.f, |v, default| self.duration(v, default));
        Ok(match self.kind {
            "kill" => Fault::Kill(self.target("service")?),
            "stop" => Fault::Stop(self.target("service")?),
            "restart" => Fault::Restart(self.target("service")?),
            "latency" => self.proxy_fault(Toxic::Latency {
                latency: d(&f.latency, Duration::from_millis(100))?,
                jitter: d(&f.jitter, Duration::ZERO)?,
            })?,
            "bandwidth" => self.proxy_fault(Toxic::Bandwidth {
                rate: self.size(&f.rate, "rate")?.max(1),
            })?,
            "reset_peer" => self.proxy_fault(Toxic::ResetPeer)?,
            "timeout" => self.proxy_fault(Toxic::Timeout {
                after: d(&f.after, Duration::from_secs(5))?,
            })?,
            "slice" => self.proxy_fault(Toxic::Slice {
                size: f.size.unwrap_or(16).max(1),
                delay: d(&f.delay, Duration::ZERO)?,
            })?,
            "limit_data" => self.proxy_fault(Toxic::LimitData {
                bytes: self.size(&f.bytes, "bytes")?,
            })?,
            "down" => self.proxy_fault(Toxic::Down)?,
            "http_error" => {
                if let Some(fr) = f.fraction
                    && !(0.0..=1.0).contains(&fr)
                {
                    return Err(self.missing(
                        format!("fraction {fr} is not between 0 and 1"),
                        "e.g. fraction = 0.5",
                    ));
                }
                self.proxy_fault(Toxic::HttpError {
                    status: f.status.unwrap_or(503),
                    fraction: f.fraction,
                    first: f.first,
                })?
            }
            "env" => {
                let env = f.env.clone().ok_or_else(|| {
                    self.missing(
                        "fault `env` needs `env = { NAME = \"value\" }`".into(),
                        "e.g. env = { FAILPOINTS = \"db_write=return\" }",
                    )
                })?;
                self.restarted(env, Vec::new())?
            }
            "disk_full" => match (&f.path_env, &f.bytes) {
                (Some(var), None) => self.restarted(
                    BTreeMap::from([(var.clone(), "/dev/full".to_string())]),
                    Vec::new(),
                )?,
                (None, Some(_)) => self.restarted(
                    BTreeMap::new(),
                    vec![(Rlimit::FileSize, self.size(&f.bytes, "bytes")?)],
                )?,
                _ => {
                    return Err(self.missing(
                        "fault `disk_full` needs `path_env` (a variable the service reads a file path from; it is pointed at /dev/full) or `bytes` (a file-size limit)".into(),
                        "e.g. path_env = \"DATA_FILE\"",
                    ));
                }
            },
            "clock_skew" => self.clock_skew()?,
            "cpu" => {
                self.restarted(BTreeMap::new(), vec![(Rlimit::Cpu, f.seconds.unwrap_or(1))])?
            }
            "memory" => self.restarted(
                BTreeMap::new(),
                vec![(Rlimit::Memory, self.size(&f.bytes, "bytes")?)],
            )?,
            other => {
                return Err(self.error(
                    inside(f.kind.span()),
                    format!("unknown fault kind `{other}`"),
                    &format!("use one of {FAULT_KINDS}"),
                ));
            }
        })
    }

    fn clock_skew(&self) -> Result<Fault> {
        let hint = "write a signed duration, e.g. offset = \"+1d\" or \"-90s\"";
        let offset = self
            .f
            .offset
            .as_ref()
            .ok_or_else(|| self.missing("fault `clock_skew` needs `offset`".into(), hint))?;
        let ns = crate::suites::infra::clock::parse_offset(offset)
            .map_err(|m| self.missing(format!("fault `clock_skew`: {m}"), hint))?;
        self.restarted(
            BTreeMap::from([(
                crate::suites::infra::clock::OFFSET_VAR.to_string(),
                ns.to_string(),
            )]),
            Vec::new(),
        )
    }

    /// A proxy fault: where the toxic applies (`stream`) and on how many connections
    /// (`toxicity`); data toxics take both, connection-level ones only `toxicity`.
    fn proxy_fault(&self, toxic: Toxic) -> Result<Fault> {
        let kind = self.kind;
        let whole_connection = matches!(
            toxic,
            Toxic::ResetPeer | Toxic::Down | Toxic::HttpError { .. }
        );
        let stream = match &self.f.stream {
            None => None,
            Some(s) if whole_connection => {
                return Err(self.error(
                    inside(s.span()),
                    format!("fault `{kind}` acts on the whole connection, not on one stream"),
                    "remove `stream`",
                ));
            }
            Some(s) => match s.get_ref().as_str() {
                "upstream" => Some(Stream::Upstream),
                "downstream" => Some(Stream::Downstream),
                "both" => None,
                other => {
                    return Err(self.error(
                        inside(s.span()),
                        format!("unknown stream `{other}`"),
                        "use \"upstream\" (requests), \"downstream\" (responses) or \"both\"",
                    ));
                }
            },
        };
        let toxicity = match &self.f.toxicity {
            None => 1.0,
            Some(t) if matches!(toxic, Toxic::HttpError { .. }) => {
                return Err(self.error(
                    t.span(),
                    "fault `http_error` chooses its connections with `fraction` or `first`".into(),
                    "replace `toxicity` with `fraction`",
                ));
            }
            Some(t) if matches!(toxic, Toxic::Down) => {
                return Err(self.error(
                    t.span(),
                    "fault `down` closes the proxy's listener, so it acts on every connection"
                        .into(),
                    "remove `toxicity`, or use `reset_peer` with a toxicity for a share of connections",
                ));
            }
            Some(t) if !(0.0..=1.0).contains(t.get_ref()) => {
                return Err(self.error(
                    t.span(),
                    format!("toxicity {} is not between 0 and 1", t.get_ref()),
                    "e.g. toxicity = 0.5 (half of the connections)",
                ));
            }
            Some(t) => *t.get_ref(),
        };
        Ok(Fault::Proxy(
            self.target("proxy")?,
            ToxicSpec {
                toxic,
                stream,
                toxicity,
            },
        ))
    }

    /// `stream` and `toxicity` on a fault that is not a proxy's: an error, not ignored.
    fn no_proxy_keys(&self) -> Result<()> {
        let stray = self
            .f
            .stream
            .as_ref()
            .map(|s| ("stream", inside(s.span())))
            .or_else(|| self.f.toxicity.as_ref().map(|t| ("toxicity", t.span())));
        match stray {
            Some((key, span)) => Err(self.error(
                span,
                format!(
                    "`{key}` only applies to proxy faults, not to `{}`",
                    self.kind
                ),
                &format!("remove `{key}`"),
            )),
            None => Ok(()),
        }
    }
}
