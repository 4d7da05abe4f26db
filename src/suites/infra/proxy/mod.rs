//! A TCP fault proxy (toxiproxy-like, built in): forwards a listen address to an upstream and
//! applies one toxic at a time, changed live on open connections.
//!
//! Each direction of a connection is one future that keeps reading while pieces wait: every
//! piece is stamped with the time it was read and held until the toxic in force lets it go
//! ([`shape`]), so a toxic acts on each piece from when it arrived; the future watches the
//! toxic and acts on a change at once, data or not. With no toxic a piece is written as soon
//! as it is read. The client's direction follows HTTP requests ([`framing`]) so `http_error`
//! is decided per request. `down` closes the listener, so new connections are
//! refused, and opens it again when the toxic is removed.

mod framing;
mod shape;
mod woken;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};

use self::shape::{Plan, Shaper};
use super::spec::{Stream, Toxic, ToxicSpec};

/// How long the proxy waits for the upstream to accept a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A running proxy.
pub struct Proxy {
    toxic: watch::Sender<Option<ToxicSpec>>,
    /// The address it listens on.
    pub addr: SocketAddr,
    counters: Arc<Counters>,
    /// Whether the listener is open (closed while `down` is in).
    listening: Arc<watch::Sender<bool>>,
    /// Ends the proxy's thread, and with it every open connection.
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Counted from the moment a fault is applied: `toxicity` spreads over connections,
/// `http_error` over requests.
#[derive(Default)]
struct Counters {
    connections: AtomicU64,
    requests: AtomicU64,
}

fn is_down(spec: &Option<ToxicSpec>) -> bool {
    matches!(spec.as_ref().map(|t| &t.toxic), Some(Toxic::Down))
}

impl Proxy {
    /// Starts listening on `listen` and forwarding to `upstream`. The proxy runs on a thread
    /// of its own with a single-threaded runtime, as haproxy runs one event loop per thread:
    /// on the shared work-stealing runtime every read woke the other worker thread, which cost
    /// 8 % of throughput at 256 connections (`bench/proxy.sh`).
    pub async fn start(listen: &str, upstream: &str) -> std::io::Result<Proxy> {
        let upstream: SocketAddr = tokio::net::lookup_host(upstream)
            .await?
            .next()
            .ok_or_else(|| std::io::Error::other(format!("{upstream} has no address")))?;
        let (tx, rx) = watch::channel(None);
        let counters = Arc::new(Counters::default());
        let listening = Arc::new(watch::channel(true).0);
        let (ready_tx, ready) = tokio::sync::oneshot::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (listen, shared, flag) = (
            listen.to_string(),
            Arc::clone(&counters),
            Arc::clone(&listening),
        );
        let thread = std::thread::Builder::new()
            .name("cargo-gate-proxy".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(r) => r,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                runtime.block_on(async move {
                    // Bound here: a listener belongs to the runtime that polls it.
                    let bound = TcpListener::bind(&listen).await.and_then(|l| {
                        let addr = l.local_addr()?;
                        Ok((l, addr))
                    });
                    let (listener, addr) = match bound {
                        Ok(b) => b,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    let _ = ready_tx.send(Ok(addr));
                    tokio::select! {
                        () = accept_loop(listener, addr, upstream, rx, shared, flag) => {}
                        _ = stopped => {}
                    }
                });
                // Dropping the runtime here closes every open connection.
            })?;
        let addr = ready
            .await
            .map_err(|_| std::io::Error::other("the proxy thread ended before listening"))??;
        Ok(Proxy {
            toxic: tx,
            addr,
            counters,
            listening,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Applies a toxic (or none) to every new and open connection, both ways.
    pub fn set(&self, toxic: Option<Toxic>) {
        self.apply(toxic.map(ToxicSpec::everywhere));
    }

    /// Applies a toxic (or none) to new and open connections, on the stream and share of
    /// connections it names.
    pub fn apply(&self, toxic: Option<ToxicSpec>) {
        if toxic.is_some() {
            // `first = N`, `fraction` and `toxicity` count from the moment the fault is applied.
            self.counters.connections.store(0, Ordering::SeqCst);
            self.counters.requests.store(0, Ordering::SeqCst);
        }
        // Stored even with no connection listening: the next one must see it.
        self.toxic.send_replace(toxic);
    }

    /// Whether the proxy is accepting connections: false once `down` has closed its listener,
    /// true again once it listens after the toxic is removed.
    pub fn listening(&self) -> bool {
        *self.listening.borrow()
    }

    /// Waits (at most `limit`) until [`Proxy::listening`] is `want`: a fault is in force only
    /// once the accept loop has acted on it. False if it did not happen in time.
    pub fn settle(&self, want: bool, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while self.listening() != want {
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        true
    }
}

impl Drop for Proxy {
    /// Returns once every connection is closed: a fault's end (or the run's) is then final.
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    addr: SocketAddr,
    upstream: SocketAddr,
    mut rx: watch::Receiver<Option<ToxicSpec>>,
    counters: Arc<Counters>,
    listening: Arc<watch::Sender<bool>>,
) {
    // Connections live in this set: when the proxy is dropped the accept loop ends, the set
    // with it, and every open connection is closed at once.
    let mut open = tokio::task::JoinSet::new();
    let mut listener = Some(listener);
    loop {
        let down = is_down(&rx.borrow_and_update());
        if down {
            // Closing the listener is what makes connecting fail with "connection refused".
            listener = None;
        } else if listener.is_none() {
            // The port was ours a moment ago; SO_REUSEADDR (set by tokio) lets us take it back
            // even with connections in TIME_WAIT. Retried below if something else holds it.
            listener = TcpListener::bind(addr).await.ok();
        }
        let rebind_pending = !down && listener.is_none();
        listening.send_replace(listener.is_some());
        tokio::select! {
            // The accept itself is the branch: a toxic change must interrupt it.
            accepted = async {
                match &listener {
                    Some(l) => l.accept().await,
                    None => std::future::pending().await,
                }
            }, if listener.is_some() => {
                let Ok((client, _)) = accepted else {
                    // Out of file descriptors or similar: back off instead of spinning.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let n = counters.connections.fetch_add(1, Ordering::SeqCst);
                let rx = rx.clone();
                let counters = Arc::clone(&counters);
                open.spawn(async move {
                    let _ = handle(client, upstream, rx, n, counters).await;
                });
            }
            changed = rx.changed() => {
                if changed.is_err() {
                    return;
                }
            }
            _ = tokio::time::sleep(Duration::from_millis(50)), if rebind_pending => {}
            // Reap finished connections so the set does not grow without bound.
            Some(_) = open.join_next(), if !open.is_empty() => {}
        }
    }
}

#[allow(deprecated)]
fn reset(stream: &TcpStream) {
    // SO_LINGER 0 makes close send a RST; on a non-blocking socket closing does not block.
    let _ = stream.set_linger(Some(Duration::ZERO));
}

#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum End {
    /// The source closed normally.
    Eof,
    /// A fault closed the connection.
    Closed,
    /// A fault resets the connection.
    Reset,
    /// The client's request was picked to fail: the other direction answers and closes.
    Answered,
}

/// Which stream a pipe carries, on which connection (the toxicity spread is by connection).
#[derive(Clone, Copy)]
struct Flow {
    stream: Stream,
    connection: u64,
}

impl Flow {
    /// The toxic that acts on this pipe's data, if any.
    fn toxic(&self, spec: &Option<ToxicSpec>) -> Option<Toxic> {
        spec.as_ref()
            .filter(|t| t.stream.is_none_or(|s| s == self.stream))
            .filter(|t| picked(self.connection, t.toxicity))
            .map(|t| t.toxic.clone())
    }
}

/// Connection `n` is among a `share` of connections spread evenly: it is picked when the running
/// count of picked connections is behind the share (deterministic, exact over any window).
fn picked(n: u64, share: f64) -> bool {
    share >= 1.0 || ((n + 1) as f64 * share).floor() > (n as f64 * share).floor()
}

async fn handle(
    client: TcpStream,
    upstream: SocketAddr,
    mut rx: watch::Receiver<Option<ToxicSpec>>,
    n: u64,
    counters: Arc<Counters>,
) -> std::io::Result<()> {
    let opened = Instant::now();
    let _ = client.set_nodelay(true);
    let spec = rx.borrow_and_update().clone();
    match spec
        .as_ref()
        .filter(|t| picked(n, t.toxicity))
        .map(|t| &t.toxic)
    {
        // Accepted in the instant before the listener closed: end it as `down` ends open ones.
        Some(Toxic::Down) => return Ok(()),
        Some(Toxic::ResetPeer) => {
            reset(&client);
            return Ok(());
        }
        _ => {}
    }
    let server = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(upstream))
        .await
        .map_err(|_| std::io::Error::other("the upstream did not accept in time"))??;
    let _ = server.set_nodelay(true);
    let kill = Arc::new(watch::channel(false).0);
    // The one message between the directions: an injected HTTP answer for the client.
    let (answer_tx, answer_rx) = mpsc::channel(1);
    let (mut cr, cw) = client.into_split();
    let (sr, mut sw) = server.into_split();
    let flow = |stream| Flow {
        stream,
        connection: n,
    };
    // Each direction runs until its source closes (then it half-closes its destination, so
    // request/response protocols finish); a fault that ends the connection stops both. The
    // service's direction is a task of its own: in one task, every wake-up of either direction
    // polled both (a read woke the task, the other direction's futures were polled for nothing).
    let down = Pipe {
        flow: flow(Stream::Downstream),
        rx: rx.clone(),
        kill: Arc::clone(&kill),
        opened,
        http: None,
        answers: Some(answer_rx),
    };
    let down = Detached(tokio::spawn(async move {
        let (mut sr, mut cw) = (sr, cw);
        let end = pipe(&mut sr, &mut cw, down).await;
        (end, sr, cw)
    }));
    let up = pipe(
        &mut cr,
        &mut sw,
        Pipe {
            flow: flow(Stream::Upstream),
            rx,
            kill,
            opened,
            http: Some((counters, answer_tx)),
            answers: None,
        },
    )
    .await;
    let Ok((down, sr, cw)) = down.finish().await else {
        return Ok(());
    };
    // Put back together, the halves close as the stream closes (a write half dropped on its own
    // would send a FIN first, and a reset must not be preceded by one).
    let (client, _server) = (cr.reunite(cw), sr.reunite(sw));
    if (up == End::Reset || down == End::Reset)
        && let Ok(client) = &client
    {
        reset(client);
    }
    Ok(())
}

/// A spawned direction of a connection, aborted when the connection's own task is dropped (the
/// proxy going away): it must not outlive its connection.
struct Detached<T>(tokio::task::JoinHandle<T>);

impl<T> Detached<T> {
    async fn finish(mut self) -> Result<T, tokio::task::JoinError> {
        (&mut self.0).await
    }
}

impl<T> Drop for Detached<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// What one direction of a connection needs besides its two halves.
struct Pipe {
    flow: Flow,
    rx: watch::Receiver<Option<ToxicSpec>>,
    /// Set when a fault ends the connection: the other direction stops too.
    kill: Arc<watch::Sender<bool>>,
    opened: Instant,
    /// Client → service only: follow HTTP requests for `http_error`, answers go here.
    http: Option<(Arc<Counters>, mpsc::Sender<Vec<u8>>)>,
    /// Service → client only: an injected answer to write before closing.
    answers: Option<mpsc::Receiver<Vec<u8>>>,
}

/// A piece read and not yet (all) written.
struct Held {
    /// When it was read: latency counts from here.
    at: Instant,
    bytes: Vec<u8>,
    /// How much of it is written.
    offset: usize,
    /// Its jitter draw, fixed when read.
    jitter: f64,
}

/// Bytes a direction holds back at most (pieces waiting out a latency or a bandwidth
/// schedule): beyond this it stops reading, which is TCP's backpressure. 4 MiB keeps 20 MB/s
/// flowing through a 200 ms latency.
const HOLD_LIMIT: usize = 4 * 1024 * 1024;

async fn pipe<R, W>(src: &mut R, dst: &mut W, mut p: Pipe) -> End
where
    R: AsyncReadExt + Unpin,
    W: AsyncWriteExt + Unpin,
{
    let end = pipe_inner(src, dst, &mut p).await;
    match end {
        End::Eof => {
            let _ = dst.shutdown().await;
        }
        End::Answered => {}
        End::Closed | End::Reset => {
            // `send` would drop the value when the other direction has not subscribed yet.
            p.kill.send_replace(true);
        }
    }
    end
}

/// What ends a stretch of the hot loop: rarely happens, so it is waited on by one future that
/// lives as long as the stretch and is polled only when it was woken ([`woken`]).
enum Rare {
    /// The other direction ended the connection.
    Killed,
    /// The toxic changed (or was applied again).
    Toxic,
    /// The proxy is going away.
    Gone,
    /// An injected HTTP answer to write before closing.
    Answer(Vec<u8>),
}

async fn rare(
    killed: &mut watch::Receiver<bool>,
    toxic: &mut watch::Receiver<Option<ToxicSpec>>,
    answers: &mut Option<mpsc::Receiver<Vec<u8>>>,
) -> Rare {
    tokio::select! {
        biased;
        _ = killed.changed() => Rare::Killed,
        Some(answer) = next_answer(answers) => Rare::Answer(answer),
        changed = toxic.changed() => if changed.is_err() { Rare::Gone } else { Rare::Toxic },
    }
}

/// One direction: reads whenever there is room, stamping each piece; writes each piece when
/// the toxic in force lets it go. With no toxic that delays pieces, a piece read while none
/// waits is written at once, unstamped, in the same task (no hand-over between tasks on the
/// hot path).
async fn pipe_inner<R, W>(src: &mut R, dst: &mut W, p: &mut Pipe) -> End
where
    R: AsyncReadExt + Unpin,
    W: AsyncWriteExt + Unpin,
{
    let mut killed = p.kill.subscribe();
    // The other direction may have ended the connection before this one subscribed (a
    // subscription starts with the value seen, so `changed` would never fire).
    if *killed.borrow_and_update() {
        return End::Closed;
    }
    let mut shaper = Shaper::new(p.flow.toxic(&p.rx.borrow_and_update()), p.opened);
    // Changes are waited on through a clone, so that reading the toxic in force (`p.rx`, for
    // `http_error`) does not need the waiting future to end.
    let mut changes = p.rx.clone();
    let mut out = Outbox::default();
    let mut eof = false;
    let mut requests = Requests::default();
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        let event = {
            let mut event = woken::WhenWoken::new(rare(&mut killed, &mut changes, &mut p.answers));
            loop {
                match shaper.toxic() {
                    Some(Toxic::Down) => return End::Closed,
                    Some(Toxic::ResetPeer) => return End::Reset,
                    _ => {}
                }
                let next_due = match out.write_due(&mut shaper, dst).await {
                    Ok(next) => next,
                    Err(end) => return end,
                };
                if eof && out.queue.is_empty() {
                    return End::Eof;
                }
                let close_at = shaper.close_at();
                tokio::select! {
                    biased;
                    event = &mut event => break event,
                    _ = sleep_until(close_at), if close_at.is_some() => return End::Closed,
                    _ = sleep_until(next_due), if next_due.is_some() => {}
                    read = src.read(&mut buf), if !eof && out.held < HOLD_LIMIT => {
                        let n = match read {
                            Ok(0) | Err(_) => 0,
                            Ok(n) => n,
                        };
                        if n == 0 {
                            eof = true;
                            continue;
                        }
                        let at = Instant::now();
                        let forward = match &p.http {
                            None => None,
                            Some((counters, answers)) => {
                                let (forward, answer) =
                                    requests.filter(&buf[..n], &p.rx, counters);
                                if let Some(status) = answer {
                                    // Requests before it in the same read still reach the
                                    // service.
                                    let forward = forward.as_deref().unwrap_or(&buf[..n]);
                                    if !forward.is_empty() {
                                        let _ = dst.write_all(forward).await;
                                    }
                                    let _ = answers.send(error_response(status)).await;
                                    return End::Answered;
                                }
                                forward
                            }
                        };
                        let bytes = forward.as_deref().unwrap_or(&buf[..n]);
                        if out.queue.is_empty() && shaper.passes() {
                            if dst.write_all(bytes).await.is_err() {
                                return End::Closed;
                            }
                            shaper.wrote(bytes.len(), at);
                        } else {
                            out.push(at, bytes.to_vec());
                        }
                    }
                }
            }
        };
        match event {
            Rare::Killed | Rare::Gone => return End::Closed,
            Rare::Answer(answer) => {
                let _ = dst.write_all(&answer).await;
                let _ = dst.shutdown().await;
                return End::Closed;
            }
            Rare::Toxic => {
                shaper.change(p.flow.toxic(&p.rx.borrow_and_update()), Instant::now());
                out.planned = None;
            }
        }
    }
}

/// What a direction has read and not yet written, in order.
#[derive(Default)]
struct Outbox {
    queue: VecDeque<Held>,
    /// Bytes in `queue`.
    held: usize,
    /// The front piece's next write: how much, not before when.
    planned: Option<(usize, Option<Instant>)>,
}

impl Outbox {
    fn push(&mut self, at: Instant, bytes: Vec<u8>) {
        if bytes.is_empty() {
            return;
        }
        self.held += bytes.len();
        self.queue.push_back(Held {
            at,
            bytes,
            offset: 0,
            jitter: jitter_draw(),
        });
    }

    fn pop_front(&mut self) {
        if let Some(front) = self.queue.pop_front() {
            self.held -= front.bytes.len();
        }
    }

    /// Writes what the toxic lets go now; returns when the next piece is due (`None`: nothing
    /// waits), or how the connection ends.
    async fn write_due<W>(
        &mut self,
        shaper: &mut Shaper,
        dst: &mut W,
    ) -> Result<Option<Instant>, End>
    where
        W: AsyncWriteExt + Unpin,
    {
        while let Some(front) = self.queue.front() {
            let now = Instant::now();
            // A write is planned once and kept until done (or the toxic changes): planned
            // again on every wake-up, a wait measured from "now" would never end.
            let (len, not_before) = match self.planned {
                Some(p) => p,
                None => {
                    let rest = front.bytes.len() - front.offset;
                    match shaper.plan(front.at, rest, front.offset, front.jitter, now) {
                        Plan::Close => return Err(End::Closed),
                        Plan::Drop => {
                            self.pop_front();
                            continue;
                        }
                        Plan::Write { len, not_before } => {
                            self.planned = Some((len, not_before));
                            (len, not_before)
                        }
                    }
                }
            };
            if let Some(t) = not_before.filter(|t| *t > now) {
                return Ok(Some(t));
            }
            let part = &front.bytes[front.offset..front.offset + len];
            if dst.write_all(part).await.is_err() {
                return Err(End::Closed);
            }
            self.planned = None;
            let done = match self.queue.front_mut() {
                Some(front) => {
                    front.offset += len;
                    front.offset == front.bytes.len()
                }
                None => false,
            };
            // The schedule's time, not the (later) wake-up: lateness does not add up.
            shaper.wrote(len, not_before.unwrap_or(now));
            if done {
                self.pop_front();
            }
            if shaper.exhausted() {
                return Err(End::Closed);
            }
        }
        Ok(None)
    }
}

/// The requests of a client's stream, for `http_error`: which are picked to fail.
#[derive(Default)]
struct Requests {
    framer: framing::Framer,
    /// Set while a request picked to fail is being read: the status to answer with.
    failing: Option<u16>,
}

impl Requests {
    /// The bytes of `data` to forward (`None`: all of them, the usual case, which copies
    /// nothing), and the status to answer with once a request picked to fail has been read
    /// (what follows it is not forwarded).
    fn filter(
        &mut self,
        data: &[u8],
        rx: &watch::Receiver<Option<ToxicSpec>>,
        counters: &Counters,
    ) -> (Option<Vec<u8>>, Option<u16>) {
        // Set once some of `data` is held back: what is forwarded, from then on.
        let mut kept: Option<Vec<u8>> = None;
        let mut offset = 0;
        while offset < data.len() {
            let seg = self.framer.segment(&data[offset..]);
            let (start, end) = (offset, offset + seg.len);
            offset = end;
            if seg.starts {
                self.failing = fails(&rx.borrow(), counters);
            }
            match self.failing {
                None => {
                    if let Some(kept) = &mut kept {
                        kept.extend_from_slice(&data[start..end]);
                    }
                }
                Some(status) => {
                    let kept = kept.get_or_insert_with(|| data[..start].to_vec());
                    // A client waiting for `100 Continue` sends no body: answer after the head.
                    if seg.done || (seg.head_done && self.framer.expect_continue()) {
                        return (Some(std::mem::take(kept)), Some(status));
                    }
                }
            }
        }
        (kept, None)
    }
}

/// The next injected answer, if this direction takes them (else never).
async fn next_answer(answers: &mut Option<mpsc::Receiver<Vec<u8>>>) -> Option<Vec<u8>> {
    match answers {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// Whether the request starting now fails under the toxic in force, and with which status.
fn fails(spec: &Option<ToxicSpec>, counters: &Counters) -> Option<u16> {
    let Some(Toxic::HttpError {
        status,
        fraction,
        first,
    }) = spec.as_ref().map(|t| &t.toxic)
    else {
        return None;
    };
    let n = counters.requests.fetch_add(1, Ordering::SeqCst);
    let fail = match (first, fraction) {
        (Some(f), _) => n < *f,
        (None, Some(fr)) => picked(n, *fr),
        (None, None) => true,
    };
    fail.then_some(*status)
}

fn error_response(status: u16) -> Vec<u8> {
    let reason = http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Injected");
    let body = format!("cargo-gate fault proxy: injected HTTP {status}\n");
    format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A uniform draw in [-1, 1] for jitter (no need for a seeded generator here).
fn jitter_draw() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(Instant::now().elapsed().as_nanos());
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
}

async fn sleep_until(at: Option<Instant>) {
    if let Some(at) = at {
        tokio::time::sleep_until(at.into()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http_error(fraction: Option<f64>) -> watch::Receiver<Option<ToxicSpec>> {
        let toxic = Toxic::HttpError {
            status: 503,
            fraction,
            first: None,
        };
        watch::channel(Some(ToxicSpec::everywhere(toxic))).1
    }

    const TWO: &[u8] = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n";

    #[test]
    fn with_no_request_failing_everything_is_forwarded_without_a_copy() {
        let (none, counters) = (watch::channel(None).1, Counters::default());
        let mut requests = Requests::default();
        assert_eq!(requests.filter(TWO, &none, &counters), (None, None));
        // A request picked to pass under http_error is forwarded whole too.
        let mut requests = Requests::default();
        let rx = http_error(Some(0.5));
        let first = &TWO[..TWO.len() / 2];
        assert_eq!(requests.filter(first, &rx, &counters), (None, None));
    }

    #[test]
    fn pipelined_requests_before_a_failing_one_still_reach_the_service() {
        let counters = Counters::default();
        // A share of 0.5 passes the first request of the fault and fails the second.
        let mut requests = Requests::default();
        let (forward, status) = requests.filter(TWO, &http_error(Some(0.5)), &counters);
        assert_eq!(status, Some(503));
        assert_eq!(forward.as_deref(), Some(&TWO[..TWO.len() / 2]));
    }

    #[test]
    fn a_failing_request_is_held_back_until_its_body_is_read() {
        let (rx, counters) = (http_error(None), Counters::default());
        let mut requests = Requests::default();
        let head = b"POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\nab";
        assert_eq!(requests.filter(head, &rx, &counters), (Some(vec![]), None));
        assert_eq!(
            requests.filter(b"cd", &rx, &counters),
            (Some(vec![]), Some(503))
        );
    }
}
