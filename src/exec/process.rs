//! Running one child process: its own process group, combined stdout/stderr kept as a bounded
//! tail, slow notice, timeout that kills the whole group, and Ctrl-C that kills every child.

use std::collections::BTreeSet;
use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, Once};
use std::thread;
use std::time::{Duration, Instant};

static CANCELLED: AtomicBool = AtomicBool::new(false);
/// How many times the run was cancelled: a second Ctrl-C also stops cleanup.
static CANCELS: AtomicU64 = AtomicU64::new(0);
static RUNNING: Mutex<BTreeSet<i32>> = Mutex::new(BTreeSet::new());
static HANDLER: Once = Once::new();

/// Installs the Ctrl-C / SIGTERM handler: it marks the run as cancelled and kills the process
/// group of every running child, so nothing outlives cargo-gate and the partial report is written.
pub fn install_signal_handler() {
    HANDLER.call_once(|| {
        // If another handler is already installed (embedding), cancellation still works through
        // `cancel()`, so an error here is not fatal.
        let _ = ctrlc::set_handler(cancel);
    });
}

/// Cancels the run: no new process starts, running ones are killed.
pub fn cancel() {
    CANCELS.fetch_add(1, Ordering::SeqCst);
    CANCELLED.store(true, Ordering::SeqCst);
    let running = RUNNING.lock().unwrap_or_else(|p| p.into_inner());
    for pgid in running.iter() {
        kill_group(*pgid);
    }
}

/// True once the run was cancelled.
pub fn is_cancelled() -> bool {
    CANCELLED.load(Ordering::SeqCst)
}

/// Kills the process group `pgid` (a child started with `process_group(0)`).
pub fn kill_group(pgid: impl TryInto<i32>) {
    let pgid = pgid.try_into().unwrap_or(0);
    if pgid > 0 {
        // SAFETY: kill(2) with a negative pid signals a process group; it has no memory effects.
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
    }
}

/// How a child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Exited with a code.
    Code(i32),
    /// Killed by a signal it did not get from us.
    Signal(i32),
    /// Killed by us after the timeout.
    TimedOut,
    /// Killed by us because the run was cancelled.
    Interrupted,
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Exit::Code(c) => write!(f, "exit code {c}"),
            Exit::Signal(s) => write!(f, "killed by signal {s}"),
            Exit::TimedOut => f.write_str("timed out"),
            Exit::Interrupted => f.write_str("interrupted"),
        }
    }
}

/// What a finished child left behind.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// How it ended.
    pub exit: Exit,
    /// Wall time.
    pub duration: Duration,
    /// The last bytes of combined stdout and stderr.
    pub tail: Vec<u8>,
    /// Bytes that were cut from the front of `tail`.
    pub omitted: u64,
}

impl Outcome {
    /// What a child that never started because the run was cancelled leaves.
    fn not_started() -> Outcome {
        Outcome {
            exit: Exit::Interrupted,
            duration: Duration::ZERO,
            tail: Vec::new(),
            omitted: 0,
        }
    }

    /// The output tail as text, with a note when the front was cut.
    pub fn output_text(&self) -> String {
        let text = String::from_utf8_lossy(&self.tail);
        if self.omitted > 0 {
            format!(
                "[... {} bytes of earlier output omitted ...]\n{text}",
                self.omitted
            )
        } else {
            text.into_owned()
        }
    }
}

/// Limits for one run.
pub struct Limits<'a> {
    /// Bytes of output to keep.
    pub tail_bytes: usize,
    /// Called once when the child has run this long.
    pub slow: Option<(Duration, &'a dyn Fn(Duration))>,
    /// Kill the group after this long.
    pub timeout: Option<Duration>,
}

/// The end of a process's output, as [`read_tail`] keeps it.
#[derive(Default)]
pub struct Tail {
    /// The last bytes.
    pub buf: Vec<u8>,
    /// How many bytes were cut from the front.
    pub omitted: u64,
}

/// Runs `cmd` to completion under `limits`. Stdin is closed; stdout and stderr share one pipe so
/// their interleaving is kept.
pub fn run(cmd: Command, limits: &Limits<'_>) -> std::io::Result<Outcome> {
    let Some((mut started, reader)) = start_piped(cmd)? else {
        return Ok(Outcome::not_started());
    };
    let tail = Arc::new(Mutex::new(Tail::default()));
    let done = spawn_reader(reader, &tail, limits.tail_bytes);
    let (status, timed_out) = started.supervise(limits.slow, limits.timeout);
    let duration = started.finish();
    // A grandchild that escaped the group (setsid) may hold the pipe open; do not wait forever.
    let _ = done.recv_timeout(Duration::from_secs(2));
    let (buf, omitted) = take(&tail);
    Ok(Outcome {
        exit: classify(status?, timed_out),
        duration,
        tail: buf,
        omitted,
    })
}

/// Runs `cmd` like [`run`] (no slow notice) and hands each line of its output to `on_line` on
/// the calling thread as it is printed: a long command's progress (`cargo bench`) is shown
/// while it runs, not after.
pub fn run_lines(
    cmd: Command,
    tail_bytes: usize,
    timeout: Option<Duration>,
    on_line: &mut dyn FnMut(&str),
) -> std::io::Result<Outcome> {
    let Some((mut started, reader)) = start_piped(cmd)? else {
        return Ok(Outcome::not_started());
    };
    let tail = Arc::new(Mutex::new(Tail::default()));
    let (line_tx, line_rx) = mpsc::channel::<String>();
    // The end of the pipe is seen as the line channel closing.
    let _ = spawn_lines(reader, &tail, tail_bytes, move |line| {
        line_tx
            .send(String::from_utf8_lossy(line).trim_end().to_string())
            .is_ok()
    });
    let (status, timed_out) = thread::scope(|s| {
        let supervisor = s.spawn(|| started.supervise(None, timeout));
        // Lines until the pipe closes; a grandchild that escaped the group (setsid) may hold it
        // open after the exit, so that wait is bounded as in `run`.
        let mut exited: Option<Instant> = None;
        loop {
            match line_rx.recv_timeout(Duration::from_millis(100)) {
                Ok(line) => on_line(&line),
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => {
                    if supervisor.is_finished() {
                        let since = *exited.get_or_insert_with(Instant::now);
                        if since.elapsed() >= Duration::from_secs(2) {
                            break;
                        }
                    }
                }
            }
        }
        supervisor.join().unwrap_or_else(|_| {
            (
                Err(std::io::Error::other("the process supervisor panicked")),
                false,
            )
        })
    });
    let duration = started.finish();
    outcome(&tail, tail_bytes, status, timed_out, duration)
}

/// Runs `cmd` like [`run`] (no slow notice) and kills its group as soon as a line of its output
/// satisfies `stop` (a test binary's first failure, when one failure is all the caller needs):
/// the outcome, and the first such line when that is why it ended.
pub fn run_until(
    cmd: Command,
    tail_bytes: usize,
    timeout: Option<Duration>,
    stop: fn(&str) -> bool,
) -> std::io::Result<(Outcome, Option<String>)> {
    let Some((mut started, reader)) = start_piped(cmd)? else {
        return Ok((Outcome::not_started(), None));
    };
    let tail = Arc::new(Mutex::new(Tail::default()));
    let hit: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
    let done_rx = {
        let hit = Arc::clone(&hit);
        let pgid = started.pgid;
        spawn_lines(reader, &tail, tail_bytes, move |line| {
            let text = String::from_utf8_lossy(line);
            if !stop(text.trim_end()) {
                return true;
            }
            *hit.lock().unwrap_or_else(|p| p.into_inner()) = Some(text.trim_end().to_string());
            kill_group(pgid);
            false
        })
    };
    let (status, timed_out) = started.supervise(None, timeout);
    let duration = started.finish();
    let _ = done_rx.recv_timeout(Duration::from_secs(2));
    let stopped = hit.lock().unwrap_or_else(|p| p.into_inner()).take();
    Ok((
        outcome(&tail, tail_bytes, status, timed_out, duration)?,
        stopped,
    ))
}

/// Runs `cmd` in *this* process's group (not one of its own), its output kept, killed at
/// `timeout`: for a helper that is itself a child in a group the run kills as a whole (cargo's
/// doctest runner), so that whatever it starts dies with it.
pub fn run_in_group(mut cmd: Command, timeout: Duration) -> std::io::Result<Outcome> {
    let (reader, writer) = std::io::pipe()?;
    cmd.stdout(writer.try_clone()?)
        .stderr(writer)
        .stdin(Stdio::null());
    let start = Instant::now();
    let mut child = cmd.spawn()?;
    drop(cmd);
    let pid = i32::try_from(child.id()).unwrap_or(0);
    let tail = Arc::new(Mutex::new(Tail::default()));
    let done = spawn_reader(reader, &tail, 64 * 1024);
    let (exit_tx, exit_rx) = mpsc::channel::<std::io::Result<ExitStatus>>();
    thread::spawn(move || {
        let _ = exit_tx.send(child.wait());
    });
    let (status, timed_out) = match exit_rx.recv_timeout(timeout) {
        Ok(status) => (status, false),
        Err(_) => {
            if pid > 0 {
                // SAFETY: kill(2) on our own child's pid; no memory effects.
                unsafe {
                    libc::kill(pid, libc::SIGKILL);
                }
            }
            let status = exit_rx
                .recv()
                .unwrap_or_else(|_| Err(std::io::Error::other("the waiter thread ended")));
            (status, true)
        }
    };
    let duration = start.elapsed();
    let _ = done.recv_timeout(Duration::from_secs(2));
    outcome(&tail, 64 * 1024, status, timed_out, duration)
}

/// Runs `cmd` like [`run`], but `idle_timeout` counts from the last line for which
/// `is_progress` holds: a test binary running thousands of tests is killed when no test has
/// finished for that long, not after a fixed time for the whole binary.
pub fn run_with_progress(
    cmd: Command,
    tail_bytes: usize,
    idle_timeout: Option<Duration>,
    is_progress: fn(&str) -> bool,
) -> std::io::Result<Outcome> {
    let Some((mut started, reader)) = start_piped(cmd)? else {
        return Ok(Outcome::not_started());
    };
    let tail = Arc::new(Mutex::new(Tail::default()));
    let progress = Arc::new(AtomicU64::new(0));
    let done_rx = {
        let progress = Arc::clone(&progress);
        let begun = started.start;
        spawn_lines(reader, &tail, tail_bytes, move |line| {
            if is_progress(String::from_utf8_lossy(line).trim_end()) {
                let ms = u64::try_from(begun.elapsed().as_millis()).unwrap_or(u64::MAX);
                progress.store(ms, Ordering::SeqCst);
            }
            true
        })
    };
    let (status, timed_out) = started.supervise_with(None, idle_timeout, Some(&progress));
    let duration = started.finish();
    let _ = done_rx.recv_timeout(Duration::from_secs(2));
    outcome(&tail, tail_bytes, status, timed_out, duration)
}

/// Reads `reader` a line at a time into the bounded `tail`, handing each line to `each` (which
/// returns false to stop reading) on a thread of its own; the receiver hears when the pipe has
/// closed.
fn spawn_lines(
    reader: std::io::PipeReader,
    tail: &Arc<Mutex<Tail>>,
    tail_bytes: usize,
    mut each: impl FnMut(&[u8]) -> bool + Send + 'static,
) -> mpsc::Receiver<()> {
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let tail = Arc::clone(tail);
    thread::spawn(move || {
        let mut lines = std::io::BufReader::new(reader);
        let mut line = Vec::new();
        loop {
            line.clear();
            match std::io::BufRead::read_until(&mut lines, b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            append(&tail, &line, tail_bytes);
            if !each(&line) {
                break;
            }
        }
        let _ = done_tx.send(());
    });
    done_rx
}

/// The outcome of a run whose output went into `tail`, cut to `tail_bytes`.
fn outcome(
    tail: &Mutex<Tail>,
    tail_bytes: usize,
    status: std::io::Result<ExitStatus>,
    timed_out: bool,
    duration: Duration,
) -> std::io::Result<Outcome> {
    let (mut buf, mut omitted) = take(tail);
    if buf.len() > tail_bytes {
        let cut = buf.len() - tail_bytes;
        buf.drain(..cut);
        omitted += cut as u64;
    }
    Ok(Outcome {
        exit: classify(status?, timed_out),
        duration,
        tail: buf,
        omitted,
    })
}

/// Starts `cmd` with stdout and stderr on one pipe (their interleaving kept): the child and the
/// pipe's reading end, or `None` after Ctrl-C.
fn start_piped(mut cmd: Command) -> std::io::Result<Option<(Started, std::io::PipeReader)>> {
    let (reader, writer) = std::io::pipe()?;
    cmd.stdout(writer.try_clone()?).stderr(writer);
    Ok(start(cmd)?.map(|started| (started, reader)))
}

/// Adds `bytes` to a bounded tail, trimming in batches.
fn append(tail: &Mutex<Tail>, bytes: &[u8], limit: usize) {
    let mut t = tail.lock().unwrap_or_else(|p| p.into_inner());
    t.buf.extend_from_slice(bytes);
    if t.buf.len() > limit.saturating_mul(2).max(64 * 1024) {
        let cut = t.buf.len() - limit;
        t.buf.drain(..cut);
        t.omitted += cut as u64;
    }
}

/// What [`output`] captured: stdout and stderr apart, for programs whose stdout is data.
#[derive(Debug, Clone)]
pub struct Captured {
    /// How it ended.
    pub exit: Exit,
    /// Standard output (its last [`CAPTURE_LIMIT`] bytes).
    pub stdout: Vec<u8>,
    /// Standard error (its last [`CAPTURE_LIMIT`] bytes).
    pub stderr: Vec<u8>,
}

impl Captured {
    /// True when the program exited with code 0.
    pub fn success(&self) -> bool {
        self.exit == Exit::Code(0)
    }

    /// Standard output as text, trimmed.
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).trim().to_string()
    }

    /// Standard error as text, trimmed.
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).trim().to_string()
    }
}

/// Runs `cmd` like [`output`] even after Ctrl-C, under `timeout`: cleanup that must happen
/// however the run ends (a worktree removed). A second Ctrl-C still stops it.
pub fn cleanup(mut cmd: Command, timeout: Duration) -> std::io::Result<Exit> {
    cmd.stdout(Stdio::null()).stderr(Stdio::null());
    let Some(mut started) = start_anyway(cmd)? else {
        return Ok(Exit::Interrupted);
    };
    let (status, timed_out) = started.supervise(None, Some(timeout));
    started.finish();
    Ok(classify(status?, timed_out))
}

/// Bytes of each stream [`output`] keeps.
pub const CAPTURE_LIMIT: usize = 16 * 1024 * 1024;

/// Runs `cmd` like [`run`] (own group, timeout, Ctrl-C), keeping stdout and stderr apart.
pub fn output(cmd: Command, timeout: Option<Duration>) -> std::io::Result<Captured> {
    capture(cmd, timeout, start)
}

/// [`output`] even after Ctrl-C, under `timeout`: cleanup whose output matters (a chaos
/// experiment's rollback commands). A second Ctrl-C still stops it.
pub fn cleanup_output(cmd: Command, timeout: Duration) -> std::io::Result<Captured> {
    capture(cmd, Some(timeout), start_anyway)
}

fn capture(
    mut cmd: Command,
    timeout: Option<Duration>,
    start: fn(Command) -> std::io::Result<Option<Started>>,
) -> std::io::Result<Captured> {
    let (out_r, out_w) = std::io::pipe()?;
    let (err_r, err_w) = std::io::pipe()?;
    cmd.stdout(out_w).stderr(err_w);
    let Some(mut started) = start(cmd)? else {
        return Ok(Captured {
            exit: Exit::Interrupted,
            stdout: Vec::new(),
            stderr: Vec::new(),
        });
    };
    let out = Arc::new(Mutex::new(Tail::default()));
    let err = Arc::new(Mutex::new(Tail::default()));
    let out_done = spawn_reader(out_r, &out, CAPTURE_LIMIT);
    let err_done = spawn_reader(err_r, &err, CAPTURE_LIMIT);
    let (status, timed_out) = started.supervise(None, timeout);
    started.finish();
    let _ = out_done.recv_timeout(Duration::from_secs(2));
    let _ = err_done.recv_timeout(Duration::from_secs(2));
    Ok(Captured {
        exit: classify(status?, timed_out),
        stdout: take(&out).0,
        stderr: take(&err).0,
    })
}

/// A child in its own process group, registered for Ctrl-C.
struct Started {
    pgid: i32,
    start: Instant,
    exit_rx: mpsc::Receiver<std::io::Result<ExitStatus>>,
}

/// Spawns `cmd` in a process group of its own with stdin closed; `None` when the run is already
/// cancelled, so nothing new starts.
fn start(cmd: Command) -> std::io::Result<Option<Started>> {
    if is_cancelled() {
        return Ok(None);
    }
    start_anyway(cmd)
}

/// [`start`] even after Ctrl-C: for cleanup that must still happen (removing a worktree).
fn start_anyway(mut cmd: Command) -> std::io::Result<Option<Started>> {
    // A second Ctrl-C means "stop now": no more cleanup starts either.
    if CANCELS.load(Ordering::SeqCst) >= 2 {
        return Ok(None);
    }
    cmd.stdin(Stdio::null()).process_group(0);
    let cleanup = is_cancelled();
    let start = Instant::now();
    let mut child = cmd.spawn()?;
    // The Command holds the pipes' write ends; drop it so EOF arrives when the child exits.
    drop(cmd);
    let pgid = i32::try_from(child.id()).unwrap_or(0);
    RUNNING
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(pgid);
    // Cancelled between the check and the spawn: the new child goes too (cleanup started
    // after the cancellation is let run).
    if is_cancelled() && !cleanup {
        kill_group(pgid);
    }
    let (exit_tx, exit_rx) = mpsc::channel::<std::io::Result<ExitStatus>>();
    thread::spawn(move || {
        let _ = exit_tx.send(child.wait());
    });
    Ok(Some(Started {
        pgid,
        start,
        exit_rx,
    }))
}

impl Started {
    /// Waits for the exit, calling `slow` once and killing the group at `timeout`. With
    /// `progress` (milliseconds since the start at which the child last made progress), the
    /// timeout counts from the last progress instead: a long run that keeps going is not
    /// killed, one that stalls is.
    fn supervise(
        &mut self,
        slow: Option<(Duration, &dyn Fn(Duration))>,
        timeout: Option<Duration>,
    ) -> (std::io::Result<ExitStatus>, bool) {
        self.supervise_with(slow, timeout, None)
    }

    fn supervise_with(
        &mut self,
        slow: Option<(Duration, &dyn Fn(Duration))>,
        timeout: Option<Duration>,
        progress: Option<&AtomicU64>,
    ) -> (std::io::Result<ExitStatus>, bool) {
        let origin = || {
            progress.map_or(Duration::ZERO, |p| {
                Duration::from_millis(p.load(Ordering::SeqCst))
            })
        };
        let mut slow_pending = slow;
        let mut timed_out = false;
        loop {
            let elapsed = self.start.elapsed();
            let mut next: Option<Duration> = None;
            if let Some((after, _)) = slow_pending {
                next = Some(after.saturating_sub(elapsed));
            }
            if let Some(t) = timeout.filter(|_| !timed_out) {
                let left = (origin() + t).saturating_sub(elapsed);
                next = Some(next.map_or(left, |n| n.min(left)));
            }
            let received = match next {
                Some(wait) => self.exit_rx.recv_timeout(wait),
                None => self
                    .exit_rx
                    .recv()
                    .map_err(|_| RecvTimeoutError::Disconnected),
            };
            match received {
                Ok(status) => return (status, timed_out),
                Err(RecvTimeoutError::Timeout) => {
                    let elapsed = self.start.elapsed();
                    if let Some((after, notify)) = slow_pending
                        && elapsed >= after
                    {
                        notify(elapsed);
                        slow_pending = None;
                    }
                    if let Some(t) = timeout
                        && !timed_out
                        && elapsed >= origin() + t
                    {
                        timed_out = true;
                        kill_group(self.pgid);
                    }
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return (
                        Err(std::io::Error::other(
                            "the waiter thread ended without a status",
                        )),
                        timed_out,
                    );
                }
            }
        }
    }

    /// Reaps what the child left in its group (servers, `sleep`s, ...) and unregisters it;
    /// returns the wall time.
    fn finish(&mut self) -> Duration {
        let duration = self.start.elapsed();
        kill_group(self.pgid);
        RUNNING
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.pgid);
        duration
    }
}

fn spawn_reader(
    reader: std::io::PipeReader,
    tail: &Arc<Mutex<Tail>>,
    limit: usize,
) -> mpsc::Receiver<()> {
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let tail = Arc::clone(tail);
    thread::spawn(move || {
        read_tail(reader, &tail, limit);
        let _ = done_tx.send(());
    });
    done_rx
}

fn take(tail: &Mutex<Tail>) -> (Vec<u8>, u64) {
    let mut t = tail.lock().unwrap_or_else(|p| p.into_inner());
    (std::mem::take(&mut t.buf), t.omitted)
}

fn classify(status: ExitStatus, timed_out: bool) -> Exit {
    if timed_out {
        Exit::TimedOut
    } else if let Some(code) = status.code() {
        Exit::Code(code)
    } else if is_cancelled() {
        Exit::Interrupted
    } else {
        Exit::Signal(status.signal().unwrap_or(0))
    }
}

/// Reads `reader` to its end, keeping the last `limit` bytes (and a count of the rest) in `tail`,
/// which other threads may look at while it grows.
pub fn read_tail(mut reader: impl Read, tail: &Mutex<Tail>, limit: usize) {
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => {
                let mut t = tail.lock().unwrap_or_else(|p| p.into_inner());
                t.buf.extend_from_slice(&chunk[..n]);
                // Trim in batches so a chatty test costs amortised O(1) per byte.
                if t.buf.len() > limit.saturating_mul(2).max(64 * 1024) {
                    let cut = t.buf.len() - limit;
                    t.buf.drain(..cut);
                    t.omitted += cut as u64;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    let mut t = tail.lock().unwrap_or_else(|p| p.into_inner());
    if t.buf.len() > limit {
        let cut = t.buf.len() - limit;
        t.buf.drain(..cut);
        t.omitted += cut as u64;
    }
}

/// Runs `cmd` in its own process group with its streams as the caller set them (a tool that
/// draws its own progress on our standard error: cargo-nextest), until it exits; Ctrl-C kills
/// its group. Its exit status.
pub fn run_passthrough(mut cmd: Command) -> std::io::Result<std::process::ExitStatus> {
    use std::os::unix::process::CommandExt;
    cmd.stdin(Stdio::null()).process_group(0);
    let mut child = cmd.spawn()?;
    let guard = ChildGuard::register(&child);
    let status = child.wait();
    drop(guard);
    status
}

/// Registers a child that is not run through [`run`] (e.g. cargo itself, spawned with its own
/// process group) so Ctrl-C kills its group too; unregisters on drop.
pub struct ChildGuard {
    pid: i32,
}

impl ChildGuard {
    /// Registers `child`.
    pub fn register(child: &std::process::Child) -> ChildGuard {
        let pid = i32::try_from(child.id()).unwrap_or(0);
        RUNNING
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(pid);
        if is_cancelled() {
            kill_group(pid);
        }
        ChildGuard { pid }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        RUNNING
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.pid);
    }
}

/// The usual name of a signal that ends a process, for messages.
pub fn signal_name(sig: i32) -> &'static str {
    match sig {
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGABRT => "SIGABRT",
        libc::SIGKILL => "SIGKILL",
        libc::SIGTERM => "SIGTERM",
        libc::SIGINT => "SIGINT",
        libc::SIGHUP => "SIGHUP",
        libc::SIGBUS => "SIGBUS",
        libc::SIGILL => "SIGILL",
        libc::SIGFPE => "SIGFPE",
        libc::SIGXCPU => "SIGXCPU",
        libc::SIGXFSZ => "SIGXFSZ",
        _ => "signal",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut c = Command::new("sh");
        c.arg("-c").arg(script);
        c
    }

    fn limits(tail: usize, timeout: Option<Duration>) -> Limits<'static> {
        Limits {
            tail_bytes: tail,
            slow: None,
            timeout,
        }
    }

    #[test]
    fn captures_both_streams_and_the_exit_code() {
        let o = run(sh("echo out; echo err >&2; exit 3"), &limits(1024, None)).unwrap();
        assert_eq!(o.exit, Exit::Code(3));
        assert_eq!(o.output_text(), "out\nerr\n");
    }

    #[test]
    fn keeps_only_the_tail_and_says_how_much_was_cut() {
        let o = run(
            sh("yes x | head -c 300000; echo; echo END"),
            &limits(100, None),
        )
        .unwrap();
        assert_eq!(o.tail.len(), 100);
        assert!(o.output_text().ends_with("END\n"));
        assert_eq!(o.omitted, 300000 + 5 - 100);
        assert!(o.output_text().starts_with("[... 299905 bytes"));
    }

    #[test]
    fn timeout_kills_the_whole_group() {
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("pid");
        // The grandchild sleeps in the background; only a group kill reaches it.
        let script = format!("sleep 30 & echo $! > {}; wait", pidfile.display());
        let o = run(sh(&script), &limits(1024, Some(Duration::from_millis(300)))).unwrap();
        assert_eq!(o.exit, Exit::TimedOut);
        assert!(o.duration < Duration::from_secs(10));
        let pid: i32 = std::fs::read_to_string(&pidfile)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        // Give the kernel a moment to reap; kill(pid, 0) fails once the process is gone.
        let mut gone = false;
        for _ in 0..100 {
            // SAFETY: signal 0 only checks for existence.
            if unsafe { libc::kill(pid, 0) } != 0 {
                gone = true;
                break;
            }
            thread::sleep(Duration::from_millis(20));
        }
        assert!(gone, "grandchild {pid} survived the timeout");
    }

    #[test]
    fn slow_notice_fires_once() {
        let hits = std::sync::atomic::AtomicUsize::new(0);
        let notify = |_: Duration| {
            hits.fetch_add(1, Ordering::SeqCst);
        };
        let l = Limits {
            tail_bytes: 10,
            slow: Some((Duration::from_millis(50), &notify)),
            timeout: None,
        };
        let o = run(sh("sleep 0.3"), &l).unwrap();
        assert_eq!(o.exit, Exit::Code(0));
        assert_eq!(hits.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn an_idle_timeout_moves_with_progress_and_fires_on_a_stall() {
        let ticks = |line: &str| line == "tick";
        // Ticks keep it alive past three idle windows: the timeout counts from the last one.
        let o = run_with_progress(
            sh("for i in $(seq 15); do echo tick; sleep 0.2; done; echo done"),
            1024,
            Some(Duration::from_secs(2)),
            ticks,
        )
        .unwrap();
        assert_eq!(o.exit, Exit::Code(0));
        assert!(o.output_text().ends_with("done\n"));
        // One tick, then nothing: killed once the window after it passes.
        let o = run_with_progress(
            sh("echo tick; sleep 30"),
            1024,
            Some(Duration::from_millis(300)),
            ticks,
        )
        .unwrap();
        assert_eq!(o.exit, Exit::TimedOut);
        assert!(o.duration < Duration::from_secs(20));
    }

    #[test]
    fn lines_arrive_while_the_command_runs() {
        // The command waits for a file that only the line callback creates: it can only end if
        // its first line was handed over before it exited.
        let dir = tempfile::tempdir().unwrap();
        let go = dir.path().join("go");
        let script = format!(
            "echo first; for i in $(seq 1 500); do [ -e '{}' ] && break; sleep 0.02; done; [ -e '{}' ] || exit 9; echo second",
            go.display(),
            go.display()
        );
        let mut seen = Vec::new();
        let o = run_lines(sh(&script), 1024, Some(Duration::from_secs(60)), &mut |l| {
            if l == "first" {
                std::fs::write(&go, b"").unwrap();
            }
            seen.push(l.to_string());
        })
        .unwrap();
        assert_eq!(o.exit, Exit::Code(0), "{}", o.output_text());
        assert_eq!(seen, ["first", "second"]);
        assert_eq!(o.output_text(), "first\nsecond\n");
        // The tail stays bounded.
        let o = run_lines(
            sh("yes x | head -c 300000; echo END"),
            100,
            None,
            &mut |_| {},
        )
        .unwrap();
        assert!(o.tail.len() <= 100 && o.omitted > 0);
    }

    #[test]
    fn a_signal_death_is_reported() {
        let o = run(sh("kill -SEGV $$"), &limits(10, None)).unwrap();
        assert_eq!(o.exit, Exit::Signal(libc::SIGSEGV));
    }
}
