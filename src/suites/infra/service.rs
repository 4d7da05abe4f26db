//! Services: started in dependency order, ready when their probe says so, logs captured, and
//! stopped with SIGTERM then SIGKILL — the whole process group, whatever happens (Ctrl-C,
//! an error, a panic: `Drop` stops them too).

use std::collections::BTreeMap;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::spec::{Probe, Rlimit, ServiceSpec};
use crate::exec::process::{ChildGuard, Tail, read_tail};

const LOG_TAIL: usize = 32 * 1024;

/// Why a service did not start: what happened, and the end of its output when it printed any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartError {
    /// One sentence.
    pub message: String,
    /// The end of the service's output.
    pub output: Option<String>,
}

impl From<String> for StartError {
    fn from(message: String) -> StartError {
        StartError {
            message,
            output: None,
        }
    }
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.output {
            Some(out) => write!(f, "{}; its output:\n{out}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

struct Running {
    child: Child,
    pgid: i32,
    _guard: ChildGuard,
    log: Arc<Mutex<Tail>>,
    /// When it exited, as a watcher thread saw it (`waitid` without reaping, so the child is
    /// still ours to wait for).
    exited_at: Arc<std::sync::OnceLock<Instant>>,
}

/// A service that exited while it should have been running.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exited {
    /// The service.
    pub name: String,
    /// How: `exited with code 3`, `was killed by signal 9 (SIGKILL)`.
    pub how: String,
    /// When, as the watcher saw it.
    pub at: Instant,
    /// The end of its output.
    pub output: String,
}

/// Blocks until `pid` exits, without reaping it; false when it cannot be waited for.
fn await_exit(pid: i32) -> bool {
    loop {
        // SAFETY: waitid(2) writes into the zeroed siginfo we own; WNOWAIT leaves the child
        // waitable for `Child::wait`.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        let r = unsafe {
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        if r == 0 {
            return true;
        }
        if std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            return false;
        }
    }
}

/// An exit status as a sentence.
fn describe(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with code {code}"),
        (None, Some(sig)) => format!(
            "was killed by signal {sig} ({})",
            crate::exec::process::signal_name(sig)
        ),
        _ => format!("ended ({status})"),
    }
}

/// The services of a run.
pub struct Services {
    root: PathBuf,
    specs: Vec<ServiceSpec>,
    running: BTreeMap<String, Running>,
}

fn signal_group(pgid: i32, sig: i32) {
    if pgid > 0 {
        // SAFETY: kill(2) on a process group we created; no memory is touched.
        unsafe {
            libc::kill(-pgid, sig);
        }
    }
}

/// Waits (bounded) until no process of the group is left: SIGKILLed grandchildren take a moment
/// to die, and the next service start or the port check must not find them.
fn wait_for_group_exit(pgid: i32, limit: Duration) {
    let deadline = Instant::now() + limit;
    while pgid > 0 && group_has_live_members(pgid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// True while a process of the group is alive. Zombies do not count: an orphaned grandchild
/// stays a zombie until PID 1 reaps it, which in a container may be never.
fn group_has_live_members(pgid: i32) -> bool {
    match live_members(pgid) {
        Some(pids) => !pids.is_empty(),
        // No procfs: signal 0 answers for zombies too, so this may wait out the limit.
        // SAFETY: signal 0 only checks whether the group still has members.
        None => (unsafe { libc::kill(-pgid, 0) }) == 0,
    }
}

/// Pids of the live (not zombie) members of a process group, from /proc (`None` without it).
fn live_members(pgid: i32) -> Option<Vec<i32>> {
    let entries = std::fs::read_dir("/proc").ok()?;
    let group = pgid.to_string();
    Some(
        entries
            .flatten()
            .filter_map(|e| {
                let pid: i32 = e.file_name().to_str()?.parse().ok()?;
                let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
                // After the command name: state, ppid, pgrp, ...
                let mut fields = stat.rsplit_once(") ")?.1.split(' ');
                let state = fields.next()?;
                let pgrp = fields.nth(1)?;
                (state != "Z" && state != "X" && pgrp == group).then_some(pid)
            })
            .collect(),
    )
}

impl Services {
    /// A manager for these services (none started yet).
    pub fn new(root: &Path, specs: &[ServiceSpec]) -> Services {
        Services {
            root: root.to_path_buf(),
            specs: specs.to_vec(),
            running: BTreeMap::new(),
        }
    }

    /// Starts every service in dependency order. Returns one outcome per service (in start
    /// order): `Ok(time to ready)` or why it is not running. A service whose dependency failed
    /// is not started.
    pub fn start_all(&mut self) -> Vec<(String, Result<Duration, StartError>)> {
        let order = super::spec::start_order(&self.specs)
            .unwrap_or_else(|_| (0..self.specs.len()).collect());
        let mut out: Vec<(String, Result<Duration, StartError>)> = Vec::new();
        for i in order {
            let spec = self.specs[i].clone();
            let failed_dep = spec
                .after
                .iter()
                .find(|d| out.iter().any(|(n, r)| n == *d && r.is_err()));
            let r = match failed_dep {
                Some(d) => Err(StartError::from(format!(
                    "not started: it starts after `{d}`, which is not ready"
                ))),
                None => self.start(&spec.name, &BTreeMap::new(), &[]),
            };
            out.push((spec.name, r));
        }
        out
    }

    /// Starts one service and waits until its probe passes.
    pub fn start(
        &mut self,
        name: &str,
        extra_env: &BTreeMap<String, String>,
        rlimits: &[(Rlimit, u64)],
    ) -> Result<Duration, StartError> {
        self.start_with(name, extra_env, rlimits, false)
    }

    /// Starts one service with extra environment and limits (for faults). With `degraded`, an
    /// HTTP probe accepts any status: a service started with a failpoint answers, but not 2xx.
    pub fn start_with(
        &mut self,
        name: &str,
        extra_env: &BTreeMap<String, String>,
        rlimits: &[(Rlimit, u64)],
        degraded: bool,
    ) -> Result<Duration, StartError> {
        let spec = self
            .specs
            .iter()
            .find(|s| s.name == name)
            .cloned()
            .ok_or_else(|| format!("no service `{name}`"))?;
        let workdir = spec
            .cwd
            .as_ref()
            .map_or_else(|| self.root.clone(), |c| self.root.join(c));
        let (mut cmd, reader) = self.command(&spec, &workdir, extra_env, rlimits)?;
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot start `{}`: {e}", spec.cmd.join(" ")))?;
        drop(cmd);
        let guard = ChildGuard::register(&child);
        let pgid = i32::try_from(child.id()).unwrap_or(0);
        let log = Arc::new(Mutex::new(Tail::default()));
        {
            let log = Arc::clone(&log);
            std::thread::spawn(move || read_tail(reader, &log, LOG_TAIL));
        }
        let exited_at = Arc::new(std::sync::OnceLock::new());
        {
            let exited_at = Arc::clone(&exited_at);
            std::thread::spawn(move || {
                if await_exit(pgid) {
                    let _ = exited_at.set(Instant::now());
                }
            });
        }
        self.running.insert(
            name.to_string(),
            Running {
                child,
                pgid,
                _guard: guard,
                log,
                exited_at,
            },
        );
        match &spec.ready {
            None => Ok(Duration::ZERO),
            Some(probe) => self.wait_ready(&spec, probe, &workdir, degraded),
        }
    }

    /// The service's command: its environment with the fault's on top (the clock-skew shim
    /// preloaded), its limits set in the child, its output into a pipe whose reading end is
    /// returned.
    fn command(
        &self,
        spec: &ServiceSpec,
        workdir: &std::path::Path,
        extra_env: &BTreeMap<String, String>,
        rlimits: &[(Rlimit, u64)],
    ) -> Result<(Command, std::io::PipeReader), StartError> {
        // The clock-skew fault: our own shim, preloaded (after any the service has already).
        let mut extra_env = extra_env.clone();
        if extra_env.contains_key(crate::suites::infra::clock::OFFSET_VAR) {
            let lib =
                crate::suites::infra::clock::shim(&self.root.join("target").join("cargo-gate"))
                    .map_err(StartError::from)?;
            let preload = match spec.env.get("LD_PRELOAD").or(extra_env.get("LD_PRELOAD")) {
                Some(other) if !other.is_empty() => format!("{}:{other}", lib.display()),
                _ => lib.display().to_string(),
            };
            extra_env.insert("LD_PRELOAD".to_string(), preload);
        }
        let (program, args) = spec
            .cmd
            .split_first()
            .ok_or_else(|| StartError::from("empty cmd".to_string()))?;
        let (reader, writer) = std::io::pipe().map_err(|e| format!("cannot create a pipe: {e}"))?;
        let mut cmd = Command::new(program);
        cmd.args(args)
            .current_dir(workdir)
            .envs(&spec.env)
            .envs(&extra_env)
            .stdin(Stdio::null())
            .stdout(writer.try_clone().map_err(|e| e.to_string())?)
            .stderr(writer)
            .process_group(0);
        if !rlimits.is_empty() {
            set_limits(&mut cmd, rlimits.to_vec());
        }
        Ok((cmd, reader))
    }

    /// Probes a started service until it is ready, exits, or runs out of time.
    fn wait_ready(
        &mut self,
        spec: &ServiceSpec,
        probe: &Probe,
        workdir: &std::path::Path,
        degraded: bool,
    ) -> Result<Duration, StartError> {
        let name = spec.name.as_str();
        let started = Instant::now();
        loop {
            if let Some(r) = self.running.get_mut(name)
                && let Ok(Some(status)) = r.child.try_wait()
            {
                let tail = self.log(name);
                self.running.remove(name);
                return Err(StartError {
                    message: format!("exited with {status} before it was ready"),
                    output: Some(tail),
                });
            }
            if ready(probe, workdir, degraded) {
                return Ok(started.elapsed());
            }
            let cancelled = crate::exec::process::is_cancelled();
            if started.elapsed() >= spec.ready_within || cancelled {
                let tail = self.log(name);
                self.stop(name);
                return Err(StartError {
                    message: if cancelled {
                        format!(
                            "interrupted after {} of waiting for it to be ready",
                            crate::util::units::format_seconds(started.elapsed().as_secs_f64())
                        )
                    } else {
                        format!(
                            "not ready within {} ({probe})",
                            crate::util::units::format_seconds(spec.ready_within.as_secs_f64())
                        )
                    },
                    output: Some(tail),
                });
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The end of a service's output.
    pub fn log(&self, name: &str) -> String {
        self.running.get(name).map_or_else(String::new, |r| {
            let l = r.log.lock().unwrap_or_else(|p| p.into_inner());
            // While the reader runs, up to twice the limit may be buffered.
            let from = l.buf.len().saturating_sub(LOG_TAIL);
            String::from_utf8_lossy(&l.buf[from..]).into_owned()
        })
    }

    /// Sends a signal to a service's process group.
    pub fn signal(&self, name: &str, sig: i32) -> Result<(), String> {
        let r = self
            .running
            .get(name)
            .ok_or_else(|| format!("service `{name}` is not running"))?;
        signal_group(r.pgid, sig);
        Ok(())
    }

    /// Kills a service at once (SIGKILL to its group), as a crash would.
    pub fn kill(&mut self, name: &str) -> Result<(), String> {
        let mut r = self
            .running
            .remove(name)
            .ok_or_else(|| format!("service `{name}` is not running"))?;
        signal_group(r.pgid, libc::SIGKILL);
        let _ = r.child.wait();
        Ok(())
    }

    /// The services that have exited since they were started (and were not stopped or killed
    /// by us), each taken off the running list with how and when it ended and its last output.
    pub fn exited(&mut self) -> Vec<Exited> {
        let gone: Vec<String> = self
            .running
            .iter_mut()
            .filter_map(|(name, r)| matches!(r.child.try_wait(), Ok(Some(_))).then(|| name.clone()))
            .collect();
        gone.into_iter()
            .filter_map(|name| {
                let output = self.log(&name);
                let mut r = self.running.remove(&name)?;
                let status = r.child.wait().ok()?;
                // Whatever it left in its group goes with it.
                signal_group(r.pgid, libc::SIGKILL);
                Some(Exited {
                    how: describe(status),
                    at: r.exited_at.get().copied().unwrap_or_else(Instant::now),
                    output,
                    name,
                })
            })
            .collect()
    }

    /// True while the service runs.
    pub fn is_running(&mut self, name: &str) -> bool {
        self.running
            .get_mut(name)
            .is_some_and(|r| matches!(r.child.try_wait(), Ok(None)))
    }

    /// Stops a service: SIGTERM to the group, SIGKILL after the grace period.
    pub fn stop(&mut self, name: &str) {
        let grace = self
            .specs
            .iter()
            .find(|s| s.name == name)
            .map_or(Duration::from_secs(5), |s| s.stop_grace);
        let Some(mut r) = self.running.remove(name) else {
            return;
        };
        // A stopped (SIGSTOP) group cannot act on SIGTERM until continued.
        signal_group(r.pgid, libc::SIGCONT);
        signal_group(r.pgid, libc::SIGTERM);
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = r.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // Whatever is left in the group (children of the service too) goes now.
        signal_group(r.pgid, libc::SIGKILL);
        let _ = r.child.wait();
        wait_for_group_exit(r.pgid, Duration::from_millis(500));
    }

    /// Stops every service, dependents first.
    pub fn stop_all(&mut self) {
        let order = super::spec::start_order(&self.specs)
            .unwrap_or_else(|_| (0..self.specs.len()).collect());
        for i in order.into_iter().rev() {
            let name = self.specs[i].name.clone();
            self.stop(&name);
        }
    }
}

impl Drop for Services {
    fn drop(&mut self) {
        self.stop_all();
    }
}

/// One readiness probe. With `degraded`, an HTTP probe accepts any status.
fn ready(probe: &Probe, workdir: &std::path::Path, degraded: bool) -> bool {
    match probe {
        Probe::Http(url) => super::check::http(url, "GET", &[], None, Duration::from_secs(2), None)
            .is_ok_and(|(s, _, _)| degraded || (200..300).contains(&s)),
        Probe::Tcp(addr) => {
            use std::net::ToSocketAddrs;
            addr.to_socket_addrs()
                .ok()
                .and_then(|mut a| a.next())
                .is_some_and(|a| {
                    std::net::TcpStream::connect_timeout(&a, Duration::from_secs(1)).is_ok()
                })
        }
        // In the service's own directory, like the service itself.
        Probe::Command(c) => super::check::run_command(c, workdir, Duration::from_secs(10)).is_ok(),
    }
}

/// Resource limits set in the child before it runs the service.
fn set_limits(cmd: &mut Command, limits: Vec<(Rlimit, u64)>) {
    // SAFETY: only async-signal-safe calls (setrlimit, signal) run between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            for (what, value) in &limits {
                let resource = match what {
                    Rlimit::Cpu => libc::RLIMIT_CPU,
                    Rlimit::Memory => libc::RLIMIT_AS,
                    Rlimit::FileSize => {
                        // Writes past the limit fail with EFBIG instead of killing.
                        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
                        libc::RLIMIT_FSIZE
                    }
                };
                let lim = libc::rlimit {
                    rlim_cur: *value as libc::rlim_t,
                    rlim_max: *value as libc::rlim_t,
                };
                if libc::setrlimit(resource, &lim) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str, script: &str) -> ServiceSpec {
        ServiceSpec {
            name: name.to_string(),
            cmd: vec!["sh".to_string(), "-c".to_string(), script.to_string()],
            cwd: None,
            env: BTreeMap::new(),
            after: Vec::new(),
            ready: None,
            ready_within: Duration::from_secs(5),
            stop_grace: Duration::from_millis(300),
        }
    }

    fn members(pgid: i32) -> Vec<i32> {
        live_members(pgid).unwrap_or_default()
    }

    /// Waits (bounded) until the group has `n` live members, so its children were forked.
    fn wait_for_members(pgid: i32, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while members(pgid).len() < n {
            assert!(
                Instant::now() < deadline,
                "group {pgid} never had {n} members"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn wait_until_gone(pgid: i32) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !members(pgid).is_empty() {
            assert!(
                Instant::now() < deadline,
                "group {pgid} still has {:?}",
                members(pgid)
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[test]
    fn services_start_in_dependency_order_with_their_env_and_working_dir() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("data")).unwrap();
        // Declared first, started second: `web` waits for `db` to be ready.
        let mut web = spec("web", "echo \"web $ROLE\" >> order.txt; sleep 300");
        web.after = vec!["db".to_string()];
        web.cwd = Some(PathBuf::from("data"));
        web.env = BTreeMap::from([("ROLE".to_string(), "frontend".to_string())]);
        let mut db = spec("db", "sleep 0.3; echo \"db $ROLE\" >> order.txt; sleep 300");
        db.cwd = Some(PathBuf::from("data"));
        db.env = BTreeMap::from([("ROLE".to_string(), "storage".to_string())]);
        db.ready = Some(Probe::Command(vec![
            "test".to_string(),
            "-s".to_string(),
            "order.txt".to_string(),
        ]));
        let mut services = Services::new(root.path(), &[web, db]);
        let started = services.start_all();
        let names: Vec<&str> = started.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["db", "web"]);
        assert!(started.iter().all(|(_, r)| r.is_ok()), "{started:?}");
        let order = root.path().join("data/order.txt");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::fs::read_to_string(&order)
            .unwrap_or_default()
            .lines()
            .count()
            < 2
        {
            assert!(Instant::now() < deadline, "web never wrote its line");
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(
            std::fs::read_to_string(&order).unwrap(),
            "db storage\nweb frontend\n"
        );
        services.stop_all();
        assert!(!services.is_running("db") && !services.is_running("web"));
    }

    #[test]
    fn a_panic_while_services_run_still_stops_their_whole_group() {
        let root = std::env::temp_dir();
        let mut pgid = 0;
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut services = Services::new(&root, &[spec("svc", "sleep 300 & sleep 300")]);
            let started = services.start_all();
            assert!(started[0].1.is_ok(), "{started:?}");
            pgid = services.running["svc"].pgid;
            wait_for_members(pgid, 3);
            panic!("a check panicked");
        }));
        assert!(result.is_err());
        assert!(pgid > 0);
        wait_until_gone(pgid);
    }

    #[test]
    fn a_service_that_ignores_sigterm_is_killed_after_its_grace_period() {
        let root = std::env::temp_dir();
        let mut services =
            Services::new(&root, &[spec("stubborn", "trap '' TERM; sleep 300 & wait")]);
        assert!(services.start_all()[0].1.is_ok());
        let pgid = services.running["stubborn"].pgid;
        wait_for_members(pgid, 2);
        let t0 = Instant::now();
        services.stop("stubborn");
        let took = t0.elapsed();
        assert!(members(pgid).is_empty(), "{:?}", members(pgid));
        assert!(
            took >= Duration::from_millis(300),
            "SIGKILL came before the grace period ended: {took:?}"
        );
        assert!(!services.is_running("stubborn"));
    }
}
