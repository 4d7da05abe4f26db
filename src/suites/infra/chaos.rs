//! Chaos experiments: the steady state must hold, a fault is injected, probes keep running and
//! may fail only up to a ratio, the fault is removed (always), and the steady state must come
//! back within a time limit.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use super::check;
use super::proxy::Proxy;
use super::service::Services;
use super::spec::{ChaosSpec, CheckSpec, Fault, Rlimit};
use crate::util::units::format_seconds;

/// What an experiment found.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// True when the hypothesis held.
    pub held: bool,
    /// One line for people.
    pub message: String,
    /// What happened, step by step.
    pub log: Vec<String>,
    /// Probes that failed during the fault, over probes run.
    pub failure_ratio: Option<f64>,
    /// Seconds from removing the fault to the steady state holding again.
    pub recovery: Option<f64>,
}

fn probe_all(names: &[String], checks: &[CheckSpec], root: &Path) -> Result<(), String> {
    for n in names {
        if let Some(c) = checks.iter().find(|c| &c.name == n) {
            check::attempt(&c.kind, root).map_err(|e| format!("{n}: {e}"))?;
        }
    }
    Ok(())
}

fn inject(
    fault: &Fault,
    services: &mut Services,
    proxies: &BTreeMap<String, Proxy>,
) -> Result<String, String> {
    match fault {
        Fault::Kill(s) => services
            .kill(s)
            .map(|()| format!("killed `{s}` (SIGKILL to its process group)")),
        Fault::Stop(s) => services
            .signal(s, libc::SIGSTOP)
            .map(|()| format!("stopped `{s}` (SIGSTOP)")),
        Fault::Restart(s) => {
            services.stop(s);
            services
                .start(s, &BTreeMap::new(), &[])
                .map(|d| {
                    format!(
                        "restarted `{s}`, ready in {}",
                        format_seconds(d.as_secs_f64())
                    )
                })
                .map_err(|e| e.to_string())
        }
        Fault::Proxy(p, toxic) => {
            let proxy = proxies
                .get(p)
                .ok_or_else(|| format!("proxy `{p}` is not running"))?;
            proxy.apply(Some(toxic.clone()));
            Ok(format!("proxy `{p}`: {toxic}"))
        }
        Fault::Restarted {
            service,
            env,
            rlimits,
        } => {
            services.stop(service);
            services
                .start_with(service, env, rlimits, true)
                .map(|_| {
                    format!(
                        "restarted `{service}` with {}",
                        describe_restart(env, rlimits)
                    )
                })
                .map_err(|e| e.to_string())
        }
    }
}

/// `FAILPOINTS=health=error, RLIMIT_CPU=1`: what a restart fault changed, for the log.
fn describe_restart(env: &BTreeMap<String, String>, rlimits: &[(Rlimit, u64)]) -> String {
    let parts: Vec<String> = env
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .chain(rlimits.iter().map(|(r, n)| format!("{r}={n}")))
        .collect();
    if parts.is_empty() {
        "no change".to_string()
    } else {
        parts.join(", ")
    }
}

fn remove(
    fault: &Fault,
    services: &mut Services,
    proxies: &BTreeMap<String, Proxy>,
) -> Result<String, String> {
    match fault {
        Fault::Kill(s) => services
            .start(s, &BTreeMap::new(), &[])
            .map(|_| format!("started `{s}` again"))
            .map_err(|e| e.to_string()),
        Fault::Stop(s) => services
            .signal(s, libc::SIGCONT)
            .map(|()| format!("continued `{s}` (SIGCONT)")),
        Fault::Restart(_) => Ok("nothing to undo".to_string()),
        Fault::Proxy(p, _) => {
            if let Some(proxy) = proxies.get(p) {
                proxy.set(None);
            }
            Ok(format!("proxy `{p}` back to normal"))
        }
        Fault::Restarted { service, .. } => {
            services.stop(service);
            services
                .start(service, &BTreeMap::new(), &[])
                .map(|_| format!("restarted `{service}` as configured"))
                .map_err(|e| e.to_string())
        }
    }
}

/// Runs one experiment. The fault is always removed and the rollback commands always run.
pub fn run(
    spec: &ChaosSpec,
    services: &mut Services,
    proxies: &BTreeMap<String, Proxy>,
    checks: &[CheckSpec],
    root: &Path,
) -> Finding {
    let mut log = Vec::new();
    let mut finding = Finding {
        held: false,
        message: String::new(),
        log: Vec::new(),
        failure_ratio: None,
        recovery: None,
    };
    // 1. The steady state holds before anything is done (with each check's own retry).
    for name in &spec.steady_state {
        if let Some(c) = checks.iter().find(|c| &c.name == name)
            && let (Err(e), _) = check::run(c, root)
        {
            finding.message =
                format!("the steady state does not hold before the fault: {name}: {e}");
            log.push(finding.message.clone());
            run_rollbacks(spec, root, &mut log);
            finding.log = log;
            return finding;
        }
    }
    log.push("steady state holds".to_string());
    // 2. Inject.
    let mut failure: Option<String> = None;
    match inject(&spec.fault, services, proxies) {
        Ok(what) => log.push(format!("fault: {what}")),
        Err(e) => failure = Some(format!("the fault could not be injected: {e}")),
    }
    // 3. Probe during the fault.
    if failure.is_none() {
        let until = Instant::now() + spec.duration;
        let (mut runs, mut failed) = (0u32, 0u32);
        while Instant::now() < until && !crate::exec::process::is_cancelled() {
            if let Some((every, _)) = spec.during {
                runs += 1;
                if let Err(e) = probe_all(&spec.steady_state, checks, root) {
                    failed += 1;
                    if failed == 1 {
                        log.push(format!("first failed probe: {e}"));
                    }
                }
                std::thread::sleep(every.min(until.saturating_duration_since(Instant::now())));
            } else {
                std::thread::sleep(
                    until
                        .saturating_duration_since(Instant::now())
                        .min(Duration::from_millis(100)),
                );
            }
        }
        if let Some((_, max)) = spec.during
            && runs > 0
        {
            let ratio = f64::from(failed) / f64::from(runs);
            finding.failure_ratio = Some(ratio);
            log.push(format!(
                "during the fault: {failed} of {runs} probes failed"
            ));
            if ratio > max {
                failure = Some(format!(
                    "{failed} of {runs} probes failed during the fault ({:.0} %, at most {:.0} % allowed)",
                    ratio * 100.0,
                    max * 100.0
                ));
            }
        }
    }
    // 4. Remove the fault, always; 5. the steady state must come back in time.
    let removed_at = Instant::now();
    match remove(&spec.fault, services, proxies) {
        Ok(what) => log.push(format!("rollback: {what}")),
        Err(e) => log.push(format!("rollback: {e}")),
    }
    let mut last = String::new();
    let recovered = loop {
        let probe = probe_all(&spec.steady_state, checks, root);
        // Late is not recovered, even if the steady state is back now.
        if removed_at.elapsed() > spec.recover_within || crate::exec::process::is_cancelled() {
            if let Err(e) = probe {
                last = e;
            } else {
                last = format!(
                    "it came back only after {}",
                    format_seconds(removed_at.elapsed().as_secs_f64())
                );
            }
            break false;
        }
        match probe {
            Ok(()) => break true,
            Err(e) => last = e,
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    if recovered {
        let secs = removed_at.elapsed().as_secs_f64();
        finding.recovery = Some(secs);
        log.push(format!("steady state back after {}", format_seconds(secs)));
    } else if failure.is_none() {
        failure = Some(format!(
            "the steady state did not come back within {}: {last}",
            format_seconds(spec.recover_within.as_secs_f64())
        ));
    }
    run_rollbacks(spec, root, &mut log);
    finding.held = failure.is_none();
    finding.message = failure.unwrap_or_else(|| {
        let ratio = finding.failure_ratio.map_or(String::new(), |r| {
            format!("{:.0} % of probes failed during the fault, ", r * 100.0)
        });
        format!(
            "held: {ratio}recovered in {}",
            format_seconds(finding.recovery.unwrap_or(0.0))
        )
    });
    finding.log = log;
    finding
}

fn run_rollbacks(spec: &ChaosSpec, root: &Path, log: &mut Vec<String>) {
    for cmd in &spec.rollback {
        match check::run_command(cmd, root, Duration::from_secs(60)) {
            Ok(()) => log.push(format!("rollback command `{}` ran", cmd.join(" "))),
            Err(e) => log.push(format!("rollback command failed: {e}")),
        }
    }
}
