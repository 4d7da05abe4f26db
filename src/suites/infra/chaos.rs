//! Chaos experiments: the steady state must hold, a fault is injected, probes keep running and
//! may fail only up to a ratio, the fault is removed (always), and the steady state must come
//! back within a time limit.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use super::check;
use super::proxy::Proxy;
use super::service::Services;
use super::spec::{ChaosSpec, CheckSpec, Fault, Rlimit, Toxic};

/// How long a proxy may take to close or reopen its listener after a change.
const SETTLE: Duration = Duration::from_secs(2);
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
    /// Seconds the fault was in, measured.
    pub fault_secs: Option<f64>,
}

/// One attempt of each steady-state check, all of them done by `deadline`.
fn probe_all(
    names: &[String],
    checks: &[CheckSpec],
    root: &Path,
    deadline: Instant,
) -> Result<(), String> {
    for n in names {
        if let Some(c) = checks.iter().find(|c| &c.name == n) {
            check::attempt(&c.kind, root, Some(deadline)).map_err(|e| format!("{n}: {e}"))?;
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
            // Probes start right after this: `down` must have closed the listener by then.
            if matches!(toxic.toxic, Toxic::Down) && !proxy.settle(false, SETTLE) {
                return Err(format!("proxy `{p}` did not close its listener within 2s"));
            }
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
        Fault::Proxy(p, _) => match proxies.get(p) {
            Some(proxy) => {
                proxy.set(None);
                if proxy.settle(true, SETTLE) {
                    Ok(format!("proxy `{p}` back to normal"))
                } else {
                    Err(format!(
                        "proxy `{p}` could not listen on {} again (is something else using the port?)",
                        proxy.addr
                    ))
                }
            }
            None => Err(format!("proxy `{p}` was not running: nothing to undo")),
        },
        Fault::Restarted { service, .. } => {
            services.stop(service);
            services
                .start(service, &BTreeMap::new(), &[])
                .map(|_| format!("restarted `{service}` as configured"))
                .map_err(|e| e.to_string())
        }
    }
}

/// An experiment's log: each line is kept for the report and told as the phase it is in.
struct Log<'a> {
    lines: Vec<String>,
    experiment: &'a str,
    events: crate::event::Sink<'a>,
}

impl Log<'_> {
    fn push(&mut self, line: String) {
        (self.events)(&crate::event::Event::ChaosPhase {
            experiment: self.experiment,
            phase: &line,
        });
        self.lines.push(line);
    }
}

/// Runs one experiment. The fault is always removed and the rollback commands always run,
/// whatever happens: the steady state not holding, a fault that cannot be injected, Ctrl-C.
pub fn run(
    spec: &ChaosSpec,
    services: &mut Services,
    proxies: &BTreeMap<String, Proxy>,
    checks: &[CheckSpec],
    root: &Path,
    events: crate::event::Sink<'_>,
) -> Finding {
    let mut log = Log {
        lines: Vec::new(),
        experiment: &spec.name,
        events,
    };
    let mut finding = Finding {
        held: false,
        message: String::new(),
        log: Vec::new(),
        failure_ratio: None,
        recovery: None,
        fault_secs: None,
    };
    // 1. The steady state holds before anything is done (with each check's own retry).
    if let Err(why) = steady_state(spec, checks, root) {
        finding.message = format!("the steady state does not hold before the fault: {why}");
        log.push(finding.message.clone());
        run_rollbacks(spec, root, &mut log);
        finding.log = log.lines;
        return finding;
    }
    log.push("steady state holds".to_string());
    // 2. Inject.
    let mut failure: Option<String> = None;
    let injected_at = Instant::now();
    let injected = match inject(&spec.fault, services, proxies) {
        Ok(what) => {
            log.push(format!("fault: {what}"));
            true
        }
        Err(e) => {
            failure = Some(format!("the fault could not be injected: {e}"));
            log.push(format!("fault not injected: {e}"));
            false
        }
    };
    // 3. Keep the fault in for its duration, probing during it.
    if injected && let Some(too_many) = hold_fault(spec, checks, root, &mut log, &mut finding) {
        failure = Some(too_many);
    }
    // 4. Remove the fault, always (also after Ctrl-C: a proxy toxic is ours to lift; a
    // service that cannot be started again is reported).
    let removed_at = Instant::now();
    if injected {
        // The fault's length as it happened, from the start of its injection to the start of
        // its removal: `duration` unless Ctrl-C cut it short.
        let lasted = removed_at - injected_at;
        finding.fault_secs = Some(lasted.as_secs_f64());
        log.push(format!(
            "fault in for {} (duration {})",
            format_seconds(lasted.as_secs_f64()),
            format_seconds(spec.duration.as_secs_f64())
        ));
        match remove(&spec.fault, services, proxies) {
            Ok(what) => log.push(format!("rollback: {what}")),
            Err(e) => log.push(format!("rollback: {e}")),
        }
    }
    // 5. The steady state must come back in time (not waited for after Ctrl-C).
    if crate::exec::process::is_cancelled() {
        log.push("interrupted: recovery not awaited".to_string());
        failure.get_or_insert_with(|| "interrupted during the experiment".to_string());
    } else if injected {
        match recover(spec, checks, root, removed_at) {
            Ok(secs) => {
                finding.recovery = Some(secs);
                log.push(format!("steady state back after {}", format_seconds(secs)));
            }
            Err(why) => {
                log.push(why.clone());
                failure.get_or_insert(why);
            }
        }
    }
    run_rollbacks(spec, root, &mut log);
    finding.held = failure.is_none();
    finding.message = failure.unwrap_or_else(|| held(&finding));
    finding.log = log.lines;
    finding
}

/// The fault's duration, with its probes: records the share that failed, and says so when
/// more failed than the experiment allows.
fn hold_fault(
    spec: &ChaosSpec,
    checks: &[CheckSpec],
    root: &Path,
    log: &mut Log<'_>,
    finding: &mut Finding,
) -> Option<String> {
    let (failed, runs) = during_fault(spec, checks, root, log)?;
    let during = spec.during.as_ref().filter(|_| runs > 0)?;
    let ratio = f64::from(failed) / f64::from(runs);
    finding.failure_ratio = Some(ratio);
    log.push(format!(
        "during the fault: {failed} of {runs} probes failed"
    ));
    (ratio > during.max_failure_ratio)
        .then(|| too_many_failed(failed, runs, ratio, during.max_failure_ratio))
}

/// Every steady-state check holds (with its own retry), or the first that does not and why.
fn steady_state(spec: &ChaosSpec, checks: &[CheckSpec], root: &Path) -> Result<(), String> {
    for name in &spec.steady_state {
        if let Some(c) = checks.iter().find(|c| &c.name == name)
            && let (Err(e), _) = check::run(c, root, None)
        {
            return Err(format!("{name}: {e}"));
        }
    }
    Ok(())
}

/// What an experiment that held says: the share of probes that failed and the recovery time.
fn held(finding: &Finding) -> String {
    let ratio = finding.failure_ratio.map_or(String::new(), |r| {
        format!("{:.0} % of probes failed during the fault, ", r * 100.0)
    });
    format!(
        "held: {ratio}recovered in {}",
        format_seconds(finding.recovery.unwrap_or(0.0))
    )
}

fn too_many_failed(failed: u32, runs: u32, ratio: f64, allowed: f64) -> String {
    format!(
        "{failed} of {runs} probes failed during the fault ({:.0} %, at most {:.0} % allowed)",
        ratio * 100.0,
        allowed * 100.0
    )
}

/// Sleeps until `until` or Ctrl-C, whichever comes first.
fn sleep_until(until: Instant) {
    // Short naps so Ctrl-C is seen within 50 ms; the deadline itself is exact.
    while !crate::exec::process::is_cancelled() {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        std::thread::sleep(left.min(Duration::from_millis(50)));
    }
}

/// Keeps the fault in for `duration`, probing on a fixed schedule if asked: `(failed, runs)`.
///
/// Probe k starts at injection + k × `every`. One that overruns delays the next (which then
/// starts at once), and the schedule resumes at the next slot still ahead; slots it ran over
/// are skipped, not run in a burst. A probe runs on its own thread and is waited for until its
/// timeout or the end of the fault, whichever is first: a hung probe counts as failed and
/// cannot keep the fault in past `duration`.
fn during_fault(
    spec: &ChaosSpec,
    checks: &[CheckSpec],
    root: &Path,
    log: &mut Log<'_>,
) -> Option<(u32, u32)> {
    let start = Instant::now();
    let until = start + spec.duration;
    let Some(during) = &spec.during else {
        sleep_until(until);
        return None;
    };
    let (mut runs, mut failed) = (0u32, 0u32);
    let mut slot: u32 = 0;
    loop {
        let due = start + during.every * slot;
        if due >= until || crate::exec::process::is_cancelled() {
            break;
        }
        sleep_until(due);
        if crate::exec::process::is_cancelled() {
            break;
        }
        runs += 1;
        let began = Instant::now();
        let deadline = (began + during.timeout).min(until);
        // The probe ends by its deadline on its own (its commands are killed then); the wait
        // has a margin for that, so a result that comes at the deadline is not lost.
        let outcome = probe_in_thread(&spec.steady_state, checks, root, deadline)
            .recv_timeout(deadline.saturating_duration_since(began) + PROBE_GRACE);
        // A probe that ends at its deadline was cut there, whatever error that gave it.
        let cut = match outcome {
            Ok(Ok(())) => false,
            Ok(Err(_)) => Instant::now() + Duration::from_millis(5) >= deadline,
            Err(_) => true,
        };
        let error = match outcome {
            Ok(Ok(())) => None,
            Ok(Err(e)) if !cut => Some(e),
            _ if began + during.timeout > until => Some(format!(
                "probe still running when the fault's {} were up (cut, counted as failed)",
                format_seconds(spec.duration.as_secs_f64())
            )),
            _ => Some(format!(
                "probe still running after {} (cut, counted as failed)",
                format_seconds(during.timeout.as_secs_f64())
            )),
        };
        if let Some(e) = error {
            failed += 1;
            if failed == 1 {
                log.push(format!("first failed probe: {e}"));
            }
        }
        let elapsed = start.elapsed().as_secs_f64() / during.every.as_secs_f64();
        slot = (slot + 1).max(elapsed.floor().min(f64::from(u32::MAX)) as u32);
    }
    // The last probe may end long before the fault is due to: the fault stays its duration.
    sleep_until(until);
    Some((failed, runs))
}

/// Runs the steady-state checks on a thread of their own; the answer comes on the channel.
fn probe_in_thread(
    names: &[String],
    checks: &[CheckSpec],
    root: &Path,
    deadline: Instant,
) -> std::sync::mpsc::Receiver<Result<(), String>> {
    let (tx, rx) = std::sync::mpsc::channel();
    let (names, checks, root) = (names.to_vec(), checks.to_vec(), root.to_path_buf());
    std::thread::spawn(move || {
        // Nobody may be listening any more (the probe timed out): that is fine.
        let _ = tx.send(probe_all(&names, &checks, &root, deadline));
    });
    rx
}

/// How long past a probe's deadline its answer is still waited for: the time the process
/// layer needs to kill a command's group and the thread to say so.
const PROBE_GRACE: Duration = Duration::from_millis(200);

/// Probes until the steady state holds again: seconds from `removed_at`, or why not.
fn recover(
    spec: &ChaosSpec,
    checks: &[CheckSpec],
    root: &Path,
    removed_at: Instant,
) -> Result<f64, String> {
    let limit = format_seconds(spec.recover_within.as_secs_f64());
    // A recovery check is cut at `recover_within`, whatever its own timeout.
    let deadline = removed_at + spec.recover_within;
    loop {
        let probe = probe_all(&spec.steady_state, checks, root, deadline);
        let elapsed = removed_at.elapsed();
        if crate::exec::process::is_cancelled() {
            return Err("interrupted while waiting for the steady state".to_string());
        }
        match probe {
            // Late is not recovered, even if the steady state is back now.
            Ok(()) if elapsed > spec.recover_within => {
                return Err(format!(
                    "the steady state did not come back within {limit}: it came back only after {}",
                    format_seconds(elapsed.as_secs_f64())
                ));
            }
            Ok(()) => return Ok(elapsed.as_secs_f64()),
            Err(e) if elapsed > spec.recover_within => {
                return Err(format!(
                    "the steady state did not come back within {limit}: {e}"
                ));
            }
            Err(_) => sleep_until(Instant::now() + Duration::from_millis(100)),
        }
    }
}

/// How long each rollback command may run.
const ROLLBACK_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs the rollback commands, each under its own timeout, even after Ctrl-C (a second Ctrl-C
/// stops the one running and the rest do not start).
fn run_rollbacks(spec: &ChaosSpec, root: &Path, log: &mut Log<'_>) {
    for cmd in &spec.rollback {
        let shown = cmd.join(" ");
        let Some((program, args)) = cmd.split_first() else {
            log.push("rollback command is empty".to_string());
            continue;
        };
        let mut c = std::process::Command::new(program);
        c.args(args).current_dir(root);
        match crate::exec::process::cleanup_output(c, ROLLBACK_TIMEOUT) {
            Ok(out) if out.success() => log.push(format!("rollback command `{shown}` ran")),
            Ok(out) => {
                let text = [out.stdout_text(), out.stderr_text()]
                    .into_iter()
                    .filter(|t| !t.is_empty())
                    .collect::<Vec<_>>()
                    .join("\n");
                log.push(format!(
                    "rollback command `{shown}` failed ({}): {text}",
                    out.exit
                ));
            }
            Err(e) => log.push(format!("rollback command `{shown}` could not start: {e}")),
        }
    }
}
