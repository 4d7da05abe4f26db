//! The load generator. Open loop: requests are scheduled on a fixed timeline and latency is
//! measured from the intended send time, so a server that stalls cannot hide it by slowing the
//! client down (no coordinated omission). Closed loop: N virtual users send, wait, think, repeat.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tokio::sync::mpsc;

use super::http::{Conn, Target};
pub use super::schedule::{Schedule, planned, schedule};
pub use super::timeline::Tick;
use super::timeline::Timeline;
use crate::gate::Op;
use crate::gate::threshold::{Stat, Threshold};

/// How load is applied.
#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    /// Requests per second, by stage: each stage ramps linearly from the previous rate to its
    /// own over its duration (a single constant stage for `rate = N`).
    Open {
        /// `(duration, rate at the end of the stage)`.
        stages: Vec<(Duration, f64)>,
        /// The rate the first stage starts from.
        start_rate: f64,
        /// Connections at most (requests queue when all are busy, and their wait counts).
        connections: usize,
    },
    /// Virtual users, each with one connection.
    Closed {
        /// Users.
        users: usize,
        /// Pause between a response and the next request.
        think: Duration,
        /// How long.
        duration: Duration,
    },
}

/// A scenario ready to run.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Scenario name.
    pub name: String,
    /// Where and what.
    pub target: Target,
    /// Open or closed loop.
    pub mode: Mode,
    /// Run unmeasured first.
    pub warmup: Duration,
    /// A request slower than this is an error (`timeout`).
    pub timeout: Duration,
    /// Thresholds, for `abort_on_fail`.
    pub thresholds: Vec<Threshold>,
    /// Stop once a threshold cannot pass any more.
    pub abort_on_fail: bool,
    /// Open loop: requests due within this of each other go out on one wake-up of the pacer
    /// (zero: each at its own time).
    pub pacing_slack: Duration,
}

/// What a run measured.
pub struct Outcome {
    /// Latencies of every measured request (errors included), in microseconds.
    pub hist: Histogram<u64>,
    /// Measured requests: every one that was due, sent or not.
    pub requests: u64,
    /// Of which were answered (any status): what `rps` counts.
    pub completed: u64,
    /// Errors by kind: `http_4xx`, `http_5xx`, `timeout`, `connection`, and `dropped` for
    /// requests that were never sent (they waited past the timeout for a free connection, or
    /// the queue of waiting requests was full).
    pub errors: BTreeMap<String, u64>,
    /// Bytes received.
    pub bytes: u64,
    /// Length of the measured phase, in seconds.
    pub elapsed: f64,
    /// Per-second timeline.
    pub timeline: Vec<Tick>,
    /// Why the run stopped early, if it did.
    pub aborted: Option<String>,
    /// The intended rate (open loop), for "achieved vs target".
    pub target_rps: Option<f64>,
    /// `HTTP/1.1` or `HTTP/2`, as negotiated.
    pub protocol: Option<&'static str>,
}

impl Outcome {
    /// Errors of every kind.
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    /// A statistic: seconds for latencies, percent for error rate, a number otherwise.
    pub fn stat(&self, stat: Stat) -> f64 {
        let us = |v: u64| v as f64 * 1e-6;
        if self.hist.is_empty() && stat.is_latency() {
            return f64::NAN;
        }
        match stat {
            Stat::Percentile(p) => us(self.hist.value_at_quantile(p / 100.0)),
            Stat::Avg => self.hist.mean() * 1e-6,
            Stat::Med => us(self.hist.value_at_quantile(0.5)),
            Stat::Min => us(self.hist.min()),
            Stat::Max => us(self.hist.max()),
            Stat::ErrorRate => {
                if self.requests == 0 {
                    0.0
                } else {
                    self.error_count() as f64 * 100.0 / self.requests as f64
                }
            }
            Stat::Rps => {
                if self.elapsed > 0.0 {
                    self.completed as f64 / self.elapsed
                } else {
                    0.0
                }
            }
            Stat::Requests => self.requests as f64,
        }
    }
}

fn histogram() -> Histogram<u64> {
    // 1 µs to 1 hour, 3 significant digits; the bounds are constants, so this cannot fail.
    Histogram::new_with_bounds(1, 3_600_000_000, 3)
        .unwrap_or_else(|_| Histogram::new(3).unwrap_or_else(|_| unreachable!()))
}

/// One worker's totals (the per-second series is shared: `Timeline`).
#[derive(Default)]
struct Recorder {
    hist: Option<Histogram<u64>>,
    errors: BTreeMap<&'static str, u64>,
    bytes: u64,
    requests: u64,
    completed: u64,
}

impl Recorder {
    /// Records a request in the worker's totals and in its second of the shared timeline.
    fn record(
        &mut self,
        timeline: &Mutex<Timeline>,
        second: usize,
        latency: Duration,
        error: Option<&'static str>,
        bytes: usize,
    ) {
        let us = u64::try_from(latency.as_micros())
            .unwrap_or(u64::MAX)
            .max(1);
        self.hist
            .get_or_insert_with(histogram)
            .saturating_record(us);
        if let Some(kind) = error {
            *self.errors.entry(kind).or_default() += 1;
        }
        self.bytes += bytes as u64;
        self.requests += 1;
        let completed = !matches!(error, Some("timeout" | "connection" | "dropped"));
        self.completed += u64::from(completed);
        timeline.lock().unwrap_or_else(|p| p.into_inner()).record(
            second,
            us,
            error.is_some(),
            completed,
        );
    }
}

type Shared = Arc<Mutex<Recorder>>;

fn lock(r: &Shared) -> std::sync::MutexGuard<'_, Recorder> {
    r.lock().unwrap_or_else(|p| p.into_inner())
}

/// Requests waiting for a free connection at most: enough for `timeout` at the peak rate
/// (a request that waited longer is dropped anyway), within a fixed memory bound.
fn queue_capacity(peak_rate: f64, timeout: Duration, connections: usize) -> usize {
    const MAX_QUEUED: f64 = 100_000.0;
    let wanted = (peak_rate * timeout.as_secs_f64())
        .ceil()
        .clamp(1.0, MAX_QUEUED);
    (wanted as usize).max(connections).max(1)
}

enum Failure {
    Timeout,
    Connection,
    /// Never sent.
    Dropped,
}

async fn one_request(
    conn: &mut Option<Conn>,
    target: &Target,
    timeout: Duration,
    protocol: &std::sync::OnceLock<&'static str>,
) -> Result<(u16, usize), Failure> {
    let work = async {
        if conn.is_none() {
            let c = Conn::open(target).await.map_err(|_| Failure::Connection)?;
            let _ = protocol.set(c.protocol());
            *conn = Some(c);
        }
        let c = conn.as_mut().ok_or(Failure::Connection)?;
        c.send(target).await.map_err(|_| Failure::Connection)
    };
    match tokio::time::timeout(timeout, work).await {
        Ok(Ok(r)) => {
            if r.close {
                *conn = None;
            }
            Ok((r.status, r.bytes))
        }
        Ok(Err(f)) => {
            *conn = None;
            Err(f)
        }
        Err(_) => {
            *conn = None;
            Err(Failure::Timeout)
        }
    }
}

fn classify(result: &Result<(u16, usize), Failure>) -> (Option<&'static str>, usize) {
    match result {
        Ok((s, b)) if *s >= 500 => (Some("http_5xx"), *b),
        Ok((s, b)) if *s >= 400 => (Some("http_4xx"), *b),
        Ok((_, b)) => (None, *b),
        Err(Failure::Timeout) => (Some("timeout"), 0),
        Err(Failure::Connection) => (Some("connection"), 0),
        Err(Failure::Dropped) => (Some("dropped"), 0),
    }
}

/// True once `t` cannot pass whatever the remaining `planned - done` requests do.
fn certainly_lost(t: &Threshold, hist: &Histogram<u64>, errors: u64, planned: u64) -> bool {
    if planned == 0 {
        return false;
    }
    match (t.stat, t.op) {
        (Stat::ErrorRate, Op::Lt | Op::Le) => {
            let worst_best = errors as f64 * 100.0 / planned as f64;
            if t.op == Op::Lt {
                worst_best >= t.limit
            } else {
                worst_best > t.limit
            }
        }
        (Stat::Percentile(p), Op::Lt | Op::Le) => {
            // More requests over the limit than the percentile allows in the whole run.
            let limit_us = (t.limit * 1e6) as u64;
            let over = hist.count_between(limit_us.saturating_add(1), u64::MAX);
            over as f64 > (100.0 - p) * planned as f64 / 100.0
        }
        (Stat::Max, Op::Lt | Op::Le) => !hist.is_empty() && hist.max() as f64 * 1e-6 > t.limit,
        _ => false,
    }
}

/// Runs one scenario: the work is split over lanes, one thread each with its own
/// single-threaded runtime (as wrk runs one event loop per thread), and this thread watches
/// them. Lanes share nothing on the request path but the recorders' uncontended locks: no
/// work stealing, no cross-thread wakeup per request.
pub fn run(spec: &Spec, events: crate::event::Sink<'_>) -> Result<Outcome, String> {
    let begin = Instant::now() + Duration::from_millis(20);
    let (total, target_rps, planned) = match &spec.mode {
        Mode::Open {
            stages, start_rate, ..
        } => {
            let len: Duration = stages.iter().map(|(d, _)| *d).sum();
            let planned = planned(*start_rate, stages);
            let rps = planned as f64 / len.as_secs_f64().max(1e-9);
            (len, Some(rps), planned)
        }
        Mode::Closed { duration, .. } => (*duration, None, 0),
    };
    let run = Run {
        spec,
        recorders: Arc::default(),
        timeline: Arc::default(),
        stop: Arc::new(AtomicBool::new(false)),
        protocol: Arc::default(),
        begin,
        measure_from: begin + spec.warmup,
        total,
    };
    let workers = match &spec.mode {
        Mode::Open { connections, .. } => *connections,
        Mode::Closed { users, .. } => *users,
    };
    let lanes = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(workers)
        .max(1);
    let (kill, killed) = tokio::sync::watch::channel(false);
    let (done_tx, done) = std::sync::mpsc::channel::<Result<(), String>>();
    let (aborted, lane_error) = std::thread::scope(|scope| {
        for lane in 0..lanes {
            let (run, killed, done_tx) = (&run, killed.clone(), done_tx.clone());
            scope.spawn(move || {
                let _ = done_tx.send(run_lane(
                    run,
                    Lane {
                        index: lane,
                        count: lanes,
                    },
                    killed,
                ));
            });
        }
        monitor(&run, &done, lanes, &kill, planned, events)
    });
    if let Some(e) = lane_error {
        return Err(e);
    }
    let elapsed = if aborted.is_some() {
        Instant::now()
            .duration_since(run.measure_from)
            .as_secs_f64()
            .min(total.as_secs_f64())
    } else {
        total.as_secs_f64()
    };
    let Recorder {
        hist,
        errors,
        bytes,
        requests,
        completed,
    } = merged(&run.recorders);
    let hist = hist.unwrap_or_else(histogram);
    let errors: BTreeMap<String, u64> = errors
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    let timeline =
        std::mem::take(&mut *run.timeline.lock().unwrap_or_else(|p| p.into_inner())).finish();
    Ok(Outcome {
        hist,
        requests,
        completed,
        errors,
        bytes,
        elapsed,
        timeline,
        aborted,
        target_rps,
        protocol: run.protocol.get().copied(),
    })
}

/// What every worker and the monitor of one scenario run share.
struct Run<'a> {
    spec: &'a Spec,
    /// One recorder per worker (and one per lane for requests its pacer dropped).
    recorders: Arc<Mutex<Vec<Shared>>>,
    /// The per-second series, shared by every worker.
    timeline: Arc<Mutex<Timeline>>,
    /// Set to stop early (a threshold lost, the time bound passed).
    stop: Arc<AtomicBool>,
    /// The protocol the first connection negotiated.
    protocol: Arc<std::sync::OnceLock<&'static str>>,
    /// When the first request is due (warm-up included).
    begin: Instant,
    /// When measuring starts (after the warm-up).
    measure_from: Instant,
    /// The measured length.
    total: Duration,
}

impl Run<'_> {
    fn end(&self) -> Instant {
        self.measure_from + self.total
    }

    fn new_recorder(&self) -> Shared {
        let r: Shared = Arc::default();
        self.recorders
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Arc::clone(&r));
        r
    }
}

/// One of the threads a run is split over: it takes every `count`-th worker and every
/// `count`-th scheduled request, starting with number `index`.
#[derive(Clone, Copy)]
struct Lane {
    index: usize,
    count: usize,
}

impl Lane {
    /// This lane's share of `n` workers (the first lanes take the remainder).
    fn share(self, n: usize) -> usize {
        n / self.count + usize::from(self.index < n % self.count)
    }
}

/// A lane's thread: its workers on its own runtime until they finish or the run is killed
/// (dropping the runtime then drops every request in flight and closes its connections).
fn run_lane(
    run: &Run<'_>,
    lane: Lane,
    mut killed: tokio::sync::watch::Receiver<bool>,
) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start a load generator thread: {e}"))?;
    runtime.block_on(async {
        let tasks = match &run.spec.mode {
            Mode::Open {
                stages,
                start_rate,
                connections,
            } => open_workers(run, lane, stages, *start_rate, lane.share(*connections)),
            Mode::Closed { users, think, .. } => closed_workers(run, lane.share(*users), *think),
        };
        let all = async {
            for t in tasks {
                let _ = t.await;
            }
        };
        tokio::select! {
            () = all => {}
            _ = killed.wait_for(|k| *k) => {}
        }
    });
    Ok(())
}

/// An open model: a lane's `connections` workers send the requests its pacer schedules,
/// whether or not earlier ones have answered.
fn open_workers(
    run: &Run<'_>,
    lane: Lane,
    stages: &[(Duration, f64)],
    start_rate: f64,
    connections: usize,
) -> Vec<tokio::task::JoinHandle<()>> {
    let spec = run.spec;
    let measure_from = run.measure_from;
    let mut tasks = Vec::new();
    let peak = stages.iter().map(|(_, r)| *r).fold(start_rate, f64::max) / lane.count as f64;
    let (tx, rx) = mpsc::channel::<Instant>(queue_capacity(peak, spec.timeout, connections));
    let rx = Arc::new(tokio::sync::Mutex::new(rx));
    for _ in 0..connections.max(1) {
        let rx = Arc::clone(&rx);
        let rec = run.new_recorder();
        let timeline = Arc::clone(&run.timeline);
        let target = spec.target.clone();
        let timeout = spec.timeout;
        let protocol = Arc::clone(&run.protocol);
        tasks.push(tokio::spawn(async move {
            let mut conn: Option<Conn> = None;
            loop {
                let next = rx.lock().await.recv().await;
                let Some(intended) = next else { break };
                // A request that already waited past the timeout is a timeout: sending it now
                // would measure the queue, not the server, and overload it more. One sent gets
                // what is left of its timeout, counted from when it was due: latency is
                // measured from then, so no success is ever slower than `timeout`.
                let waited = intended.elapsed();
                let result = if waited >= timeout {
                    Err(Failure::Dropped)
                } else {
                    one_request(&mut conn, &target, timeout - waited, &protocol).await
                };
                if intended >= measure_from {
                    let (error, bytes) = classify(&result);
                    let second = intended.duration_since(measure_from).as_secs() as usize;
                    let latency = intended.elapsed();
                    lock(&rec).record(&timeline, second, latency, error, bytes);
                }
            }
        }));
    }
    // Warm-up at the first stage's rate, then the measured schedule; this lane takes every
    // `lane.count`-th request of the whole, so the lanes together keep its spacing.
    let warm_rate = stages
        .first()
        .map_or(start_rate, |(_, r)| start_rate.max(*r))
        .max(1.0);
    let begin = run.begin;
    let times = Schedule::new(warm_rate, &[(spec.warmup, warm_rate)])
        .map(move |t| begin + t)
        .take_while(move |t| *t < measure_from)
        .chain(Schedule::new(start_rate, stages).map(move |t| measure_from + t))
        .skip(lane.index)
        .step_by(lane.count);
    let dropped = run.new_recorder();
    let timeline = Arc::clone(&run.timeline);
    let stop = Arc::clone(&run.stop);
    let slack = spec.pacing_slack;
    tasks.push(tokio::spawn(async move {
        let mut clock = super::clock::Clock::new();
        for t in times {
            if stop.load(Ordering::Relaxed) || crate::exec::process::is_cancelled() {
                break;
            }
            clock
                .sleep_until(super::clock::wake_at(t, begin, slack))
                .await;
            match tx.try_send(t) {
                Ok(()) => {}
                // Every connection busy and the queue full: the request is due and cannot be
                // sent. It counts, as dropped, never as sent.
                Err(mpsc::error::TrySendError::Full(t)) => {
                    if t >= measure_from {
                        let second = t.duration_since(measure_from).as_secs() as usize;
                        lock(&dropped).record(&timeline, second, t.elapsed(), Some("dropped"), 0);
                    }
                }
                Err(mpsc::error::TrySendError::Closed(_)) => break,
            }
        }
    }));
    tasks
}

/// A closed model: a lane's `users` workers, each sending its next request once the last
/// answered (and it thought for `think`).
fn closed_workers(
    run: &Run<'_>,
    users: usize,
    think: Duration,
) -> Vec<tokio::task::JoinHandle<()>> {
    let (begin, measure_from, end) = (run.begin, run.measure_from, run.end());
    (0..users.max(1))
        .map(|_| {
            let rec = run.new_recorder();
            let timeline = Arc::clone(&run.timeline);
            let target = run.spec.target.clone();
            let timeout = run.spec.timeout;
            let stop = Arc::clone(&run.stop);
            let protocol = Arc::clone(&run.protocol);
            tokio::spawn(async move {
                tokio::time::sleep_until(begin.into()).await;
                let mut conn: Option<Conn> = None;
                while Instant::now() < end
                    && !stop.load(Ordering::Relaxed)
                    && !crate::exec::process::is_cancelled()
                {
                    let sent = Instant::now();
                    let result = one_request(&mut conn, &target, timeout, &protocol).await;
                    if sent >= measure_from {
                        let (error, bytes) = classify(&result);
                        let second = sent.duration_since(measure_from).as_secs() as usize;
                        lock(&rec).record(&timeline, second, sent.elapsed(), error, bytes);
                    }
                    if !think.is_zero() {
                        tokio::time::sleep(think).await;
                    }
                }
            })
        })
        .collect()
}

/// Watches the lanes until they finish: progress once a second, threshold certainty four
/// times a second (with `abort_on_fail`), and a hard bound in time whatever the server does.
/// Returns why the run stopped early, if it did, and a lane's error.
fn monitor(
    run: &Run<'_>,
    done: &std::sync::mpsc::Receiver<Result<(), String>>,
    lanes: usize,
    kill: &tokio::sync::watch::Sender<bool>,
    planned: u64,
    events: crate::event::Sink<'_>,
) -> (Option<String>, Option<String>) {
    let spec = run.spec;
    let mut aborted = None;
    let mut lane_error = None;
    let mut finished = 0;
    let mut last_print = Instant::now();
    let mut tick = Instant::now();
    loop {
        tick += Duration::from_millis(250);
        // A lane's end wakes this at once; otherwise the next quarter second.
        while finished < lanes {
            match done.recv_timeout(tick.saturating_duration_since(Instant::now())) {
                Ok(result) => {
                    finished += 1;
                    if let Err(e) = result {
                        lane_error.get_or_insert(e);
                        run.stop.store(true, Ordering::Relaxed);
                    }
                }
                Err(_) => break,
            }
        }
        if finished == lanes {
            return (aborted, lane_error);
        }
        let now = Instant::now();
        // A request is recorded at most two timeouts after its second (a wait for a free
        // connection, then its own time): seconds further back are final.
        let settled = now
            .saturating_duration_since(run.measure_from)
            .saturating_sub(spec.timeout * 2 + Duration::from_secs(2))
            .as_secs() as usize;
        run.timeline
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .close_before(settled);
        if now > run.end() + spec.timeout + Duration::from_secs(5) {
            run.stop.store(true, Ordering::Relaxed);
            kill.send_replace(true);
            return (aborted, lane_error);
        }
        let check_abort = spec.abort_on_fail && aborted.is_none() && planned > 0;
        let print =
            now.duration_since(last_print) >= Duration::from_secs(1) && now > run.measure_from;
        if !(check_abort || print) {
            continue;
        }
        let totals = merged(&run.recorders);
        let hist = totals.hist.unwrap_or_else(histogram);
        let (completed, errors) = (totals.completed, totals.errors.values().sum::<u64>());
        if check_abort
            && let Some(t) = spec
                .thresholds
                .iter()
                .find(|t| certainly_lost(t, &hist, errors, planned))
        {
            aborted = Some(format!("stopped early: `{}` can no longer pass", t.source));
            run.stop.store(true, Ordering::Relaxed);
        }
        if print {
            last_print = now;
            let secs = now
                .duration_since(run.measure_from)
                .as_secs_f64()
                .min(run.total.as_secs_f64());
            let p95 = if hist.is_empty() {
                0.0
            } else {
                hist.value_at_quantile(0.95) as f64 / 1000.0
            };
            events(&crate::event::Event::LoadTick(&crate::event::LoadTick {
                scenario: &spec.name,
                elapsed: secs,
                total: run.total.as_secs_f64(),
                requests: completed,
                rps: completed as f64 / secs.max(1e-3),
                p95_ms: p95,
                errors,
            }));
        }
    }
}

/// Every worker's recorder added up.
fn merged(recorders: &Arc<Mutex<Vec<Shared>>>) -> Recorder {
    let all = recorders.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let mut out = Recorder {
        hist: Some(histogram()),
        ..Recorder::default()
    };
    for r in &all {
        let r = lock(r);
        if let (Some(total), Some(h)) = (out.hist.as_mut(), &r.hist) {
            let _ = total.add(h);
        }
        for (k, v) in &r.errors {
            *out.errors.entry(k).or_default() += v;
        }
        out.bytes += r.bytes;
        out.requests += r.requests;
        out.completed += r.completed;
    }
    out
}

/// Resolves a host once, before the run: the generator only ever connects to this address.
pub fn resolve(host: &str, port: u16) -> Result<SocketAddr, String> {
    use std::net::ToSocketAddrs;
    (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .next()
        .ok_or_else(|| format!("{host} has no address"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_queue_is_bounded() {
        assert_eq!(queue_capacity(1e9, Duration::from_secs(10), 64), 100_000);
        assert_eq!(queue_capacity(10.0, Duration::from_secs(1), 64), 64);
        assert_eq!(queue_capacity(1000.0, Duration::from_secs(2), 8), 2000);
    }

    #[test]
    fn rps_counts_answered_requests_only() {
        let mut r = Recorder::default();
        let timeline = Mutex::new(Timeline::default());
        for _ in 0..98 {
            r.record(&timeline, 0, Duration::from_millis(1), Some("dropped"), 0);
        }
        r.record(&timeline, 0, Duration::from_millis(1), None, 10);
        r.record(&timeline, 0, Duration::from_millis(1), Some("http_5xx"), 10);
        let ticks = timeline.into_inner().unwrap().finish();
        // The second's throughput counts answers (the 5xx too); its schedule, every request.
        assert_eq!(
            (ticks[0].requests, ticks[0].completed, ticks[0].errors),
            (100, 2, 99)
        );
        let outcome = Outcome {
            hist: r.hist.take().unwrap_or_else(histogram),
            requests: r.requests,
            completed: r.completed,
            errors: BTreeMap::new(),
            bytes: r.bytes,
            elapsed: 1.0,
            timeline: Vec::new(),
            aborted: None,
            target_rps: None,
            protocol: None,
        };
        assert_eq!(outcome.stat(Stat::Requests), 100.0);
        assert_eq!(outcome.stat(Stat::Rps), 2.0);
    }

    #[test]
    fn certainty_of_losing() {
        let t = crate::gate::threshold::parse("error_rate < 5%").unwrap();
        assert!(!certainly_lost(&t, &histogram(), 4, 100));
        assert!(certainly_lost(&t, &histogram(), 5, 100));
        let t = crate::gate::threshold::parse("p(90) < 10ms").unwrap();
        let mut h = histogram();
        for _ in 0..10 {
            h.record(50_000).unwrap();
        }
        assert!(
            !certainly_lost(&t, &h, 0, 100),
            "10 of 100 may still be the slowest 10 %"
        );
        h.record(50_000).unwrap();
        assert!(certainly_lost(&t, &h, 0, 100));
    }
}
