//! The `infra` suite (services and checks) and the `chaos` suite (experiments), run with the
//! services up and the fault proxies listening; the load suite runs in the same environment.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use crate::config::Config;
use crate::infra::proxy::Proxy;
use crate::infra::service::Services;
use crate::infra::{chaos, check};
use crate::report::{Case, CaseStatus, Metric, Suite, SuiteKind};

/// Services and proxies, up for the duration of the infra, chaos and load suites.
pub struct Environment {
    /// The services.
    pub services: Services,
    proxies: BTreeMap<String, Proxy>,
    runtime: tokio::runtime::Runtime,
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
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| crate::error::Error::io("cannot start the proxy runtime", e))?;
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
                    format!("ready in {}", crate::units::format_seconds(d.as_secs_f64())),
                    None,
                ),
                Err(e) => {
                    let (first, rest) = e.split_once('\n').unwrap_or((&e, ""));
                    case(
                        format!("service {name}"),
                        &name,
                        CaseStatus::Failed,
                        0.0,
                        first.to_string(),
                        (!rest.is_empty()).then(|| rest.to_string()),
                    )
                }
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
            if crate::runner::process::is_cancelled() {
                break;
            }
            let started = Instant::now();
            let (result, attempts) = check::run(c, root);
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
        super::suite(SuiteKind::Infra, clock.elapsed().as_secs_f64(), cases)
    }

    /// Runs every experiment, in order.
    pub fn chaos(&mut self, config: &Config, root: &Path) -> Suite {
        let clock = Instant::now();
        let _enter = self.runtime.enter();
        let mut cases = Vec::new();
        let mut metrics = Vec::new();
        for x in &config.chaos {
            if crate::runner::process::is_cancelled() {
                break;
            }
            let started = Instant::now();
            let f = chaos::run(x, &mut self.services, &self.proxies, &config.checks, root);
            let status = if f.held {
                CaseStatus::Passed
            } else {
                CaseStatus::Failed
            };
            cases.push(case(
                format!("chaos {}", x.name),
                &x.name,
                status,
                started.elapsed().as_secs_f64(),
                f.message.clone(),
                Some(f.log.join("\n")),
            ));
            let key = x.name.replace(|c: char| !c.is_ascii_alphanumeric(), "_");
            if let Some(r) = f.recovery {
                metrics.push(Metric {
                    name: format!("chaos.{key}.recovery"),
                    unit: "s".into(),
                    direction: crate::report::Direction::LowerIsBetter,
                    samples: vec![r],
                });
            }
            if let Some(r) = f.failure_ratio {
                metrics.push(Metric {
                    name: format!("chaos.{key}.failure_ratio"),
                    unit: "%".into(),
                    direction: crate::report::Direction::LowerIsBetter,
                    samples: vec![r * 100.0],
                });
            }
        }
        let mut s = super::suite(SuiteKind::Chaos, clock.elapsed().as_secs_f64(), cases);
        s.metrics = metrics;
        s
    }

    /// Stops every service and proxy.
    pub fn stop(mut self) {
        self.services.stop_all();
        self.proxies.clear();
    }
}
