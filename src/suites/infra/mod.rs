//! The `infra` suite (services and checks) and the `chaos` suite (experiments), run with the
//! services up and the fault proxies listening; the load suite runs in the same environment.

pub mod chaos;
pub mod check;
pub mod clock;
pub mod patterns;
pub mod proxy;
pub mod service;
pub mod spec;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use crate::config::Config;
use crate::model::{Case, CaseStatus, Direction, Metric, Role, Suite, SuiteKind};
use crate::suites::infra::proxy::Proxy;
use crate::suites::infra::service::Services;

/// Services and proxies, up for the duration of the infra, chaos and load suites.
pub struct Environment {
    /// The services.
    pub services: Services,
    proxies: BTreeMap<String, Proxy>,
    runtime: &'static tokio::runtime::Runtime,
    /// One case per service and per proxy: did it come up.
    pub startup: Vec<Case>,
}

fn case(
    id: String,
    name: &str,
    status: CaseStatus,
    secs: f64,
    message: String,
    detail: Option<String>,
) -> Case {
    Case {
        detail,
        ..Case::single(id, name, status, secs, message, String::new())
    }
}

impl Environment {
    /// Starts the proxies, then the services in dependency order.
    pub fn start(config: &Config, root: &Path) -> crate::error::Result<Environment> {
        let runtime = crate::exec::runtime::get()?;
        let mut startup = Vec::new();
        let mut proxies = BTreeMap::new();
        for p in &config.proxies {
            match runtime.block_on(Proxy::start(&p.listen, &p.upstream)) {
                Ok(proxy) => {
                    proxies.insert(p.name.clone(), proxy);
                }
                Err(e) => startup.push(case(
                    format!("proxy {}", p.name),
                    &p.name,
                    CaseStatus::Failed,
                    0.0,
                    format!("cannot listen on {}: {e}", p.listen),
                    None,
                )),
            }
        }
        let mut services = Services::new(root, &config.services);
        for (name, r) in services.start_all() {
            startup.push(match r {
                Ok(d) => case(
                    format!("service {name}"),
                    &name,
                    CaseStatus::Passed,
                    d.as_secs_f64(),
                    format!(
                        "ready in {}",
                        crate::util::units::format_seconds(d.as_secs_f64())
                    ),
                    None,
                ),
                Err(e) => case(
                    format!("service {name}"),
                    &name,
                    CaseStatus::Failed,
                    0.0,
                    e.message,
                    e.output,
                ),
            });
        }
        Ok(Environment {
            services,
            proxies,
            runtime,
            startup,
        })
    }

    /// Runs every check; with the service cases, this is the `infra` suite.
    pub fn checks(&mut self, config: &Config, root: &Path) -> Suite {
        let clock = Instant::now();
        let mut cases = std::mem::take(&mut self.startup);
        for c in &config.checks {
            if crate::exec::process::is_cancelled() {
                break;
            }
            let started = Instant::now();
            let (result, attempts) = check::run(c, root, None);
            let tries = if attempts > 1 {
                format!(" (attempt {attempts})")
            } else {
                String::new()
            };
            cases.push(match result {
                Ok(m) => case(
                    format!("check {}", c.name),
                    &c.name,
                    CaseStatus::Passed,
                    started.elapsed().as_secs_f64(),
                    format!("{m}{tries}"),
                    None,
                ),
                Err(e) => case(
                    format!("check {}", c.name),
                    &c.name,
                    CaseStatus::Failed,
                    started.elapsed().as_secs_f64(),
                    format!("{e}{tries}"),
                    None,
                ),
            });
        }
        crate::suites::suite(SuiteKind::Infra, clock.elapsed().as_secs_f64(), cases)
    }

    /// Runs every experiment, in order.
    pub fn chaos(&mut self, config: &Config, root: &Path, events: crate::event::Sink<'_>) -> Suite {
        let clock = Instant::now();
        let _enter = self.runtime.enter();
        let mut cases = Vec::new();
        let mut metrics = Vec::new();
        for x in &config.chaos {
            if crate::exec::process::is_cancelled() {
                break;
            }
            let started = Instant::now();
            let f = chaos::run(
                x,
                &mut self.services,
                &self.proxies,
                &config.checks,
                root,
                events,
            );
            // A service that died on its own during the experiment fails it, whatever the
            // probes said (the fault's own restarts are not deaths: they replaced it).
            let log = f.log.join("\n");
            let (message, log, held) = match died_during(&self.deaths(started), &log) {
                Some((message, log)) => (message, log, false),
                None => (f.message.clone(), log, f.held),
            };
            let status = if held {
                CaseStatus::Passed
            } else {
                CaseStatus::Failed
            };
            cases.push(case(
                format!("chaos {}", x.name),
                &x.name,
                status,
                started.elapsed().as_secs_f64(),
                message,
                Some(log),
            ));
            let key = x.name.replace(|c: char| !c.is_ascii_alphanumeric(), "_");
            // Recovery time; how long the fault was in, measured (`duration` unless Ctrl-C cut
            // it short); the share of probes that failed.
            for (what, unit, value) in [
                ("recovery", "s", f.recovery),
                ("fault", "s", f.fault_secs),
                ("failure_ratio", "%", f.failure_ratio.map(|r| r * 100.0)),
            ] {
                if let Some(v) = value {
                    metrics.push(Metric::new(
                        format!("chaos.{key}.{what}"),
                        unit,
                        Direction::LowerIsBetter,
                        Role::Gated,
                        vec![v],
                    ));
                }
            }
        }
        let mut s = crate::suites::suite(SuiteKind::Chaos, clock.elapsed().as_secs_f64(), cases);
        s.metrics = metrics;
        s
    }

    /// The services that died since they were started, for the case that was running: each
    /// with how and when it ended and its last lines.
    pub fn deaths(&mut self, since: Instant) -> Vec<String> {
        self.services
            .exited()
            .into_iter()
            .map(|e| death(&e, since))
            .collect()
    }

    /// Stops every service and proxy.
    pub fn stop(mut self) {
        self.services.stop_all();
        self.proxies.clear();
    }
}

/// Lines of a dead service's output kept in the report.
const DEATH_LINES: usize = 20;

/// "service `api` was killed by signal 9 (SIGKILL) 2.31s into it; its last output: …"
fn death(e: &service::Exited, since: Instant) -> String {
    let lines: Vec<&str> = e.output.lines().collect();
    let tail = lines[lines.len().saturating_sub(DEATH_LINES)..].join("\n");
    let when =
        crate::util::units::format_seconds(e.at.saturating_duration_since(since).as_secs_f64());
    if tail.trim().is_empty() {
        format!(
            "service `{}` {} {when} into it (it printed nothing)",
            e.name, e.how
        )
    } else {
        format!(
            "service `{}` {} {when} into it; its last output:\n{tail}",
            e.name, e.how
        )
    }
}

/// What a case that saw services die says instead: the first death's line as its message, and
/// its detail followed by every death with its output. `None` when none died.
pub fn died_during(deaths: &[String], detail: &str) -> Option<(String, String)> {
    let first = deaths.first()?;
    let message = first.lines().next().unwrap_or_default().to_string();
    let all = deaths.join("\n");
    Some(if detail.is_empty() {
        (message, all)
    } else {
        (message, format!("{detail}\n{all}"))
    })
}

/// The infra suite: the services' startup and the checks.
struct ChecksSuite;

/// The chaos suite: the experiments.
struct ChaosSuite;

/// Makes the infra suite.
pub fn build_checks(
    _config: &Config,
    _options: &crate::suites::SuiteOptions,
) -> crate::error::Result<Box<dyn crate::suites::Suite>> {
    Ok(Box::new(ChecksSuite))
}

/// Makes the chaos suite.
pub fn build_chaos(
    _config: &Config,
    _options: &crate::suites::SuiteOptions,
) -> crate::error::Result<Box<dyn crate::suites::Suite>> {
    Ok(Box::new(ChaosSuite))
}

impl crate::suites::Suite for ChecksSuite {
    fn kind(&self) -> SuiteKind {
        SuiteKind::Infra
    }

    fn list(
        &self,
        cx: &crate::suites::RunContext<'_>,
    ) -> crate::error::Result<Vec<crate::suites::Listed>> {
        let mut listed =
            crate::suites::Listed::all("service", cx.config.services.iter().map(|s| &s.name));
        listed.extend(crate::suites::Listed::all(
            "check",
            cx.config.checks.iter().map(|c| &c.name),
        ));
        Ok(listed)
    }

    fn run(&mut self, cx: &mut crate::suites::RunContext<'_>) -> crate::error::Result<Suite> {
        let (config, root) = (cx.config, cx.ws.root.clone());
        Ok(cx.environment()?.checks(config, &root))
    }
}

impl crate::suites::Suite for ChaosSuite {
    fn kind(&self) -> SuiteKind {
        SuiteKind::Chaos
    }

    fn list(
        &self,
        cx: &crate::suites::RunContext<'_>,
    ) -> crate::error::Result<Vec<crate::suites::Listed>> {
        Ok(crate::suites::Listed::all(
            "chaos",
            cx.config.chaos.iter().map(|c| &c.name),
        ))
    }

    fn run(&mut self, cx: &mut crate::suites::RunContext<'_>) -> crate::error::Result<Suite> {
        let (config, root, events) = (cx.config, cx.ws.root.clone(), cx.events);
        Ok(cx.environment()?.chaos(config, &root, events))
    }
}
