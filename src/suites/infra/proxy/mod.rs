//! A TCP fault proxy (toxiproxy-like, built in): forwards a listen address to an upstream and
//! applies one toxic at a time, changed live on open connections.
//!
//! Each connection runs four parts: a reader and a writer per direction, joined by a queue of
//! pieces stamped with the time they were read. Readers never wait on a toxic, so a toxic acts
//! on each piece from when it arrived ([`shape`]); writers watch the toxic and act on a change
//! at once, data or not. The client's reader follows HTTP requests ([`framing`]) so
//! `http_error` is decided per request. `down` closes the listener, so new connections are
//! refused, and opens it again when the toxic is removed.

mod framing;
mod shape;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};

use self::shape::{Plan, Shaper};
use super::spec::{Stream, Toxic, ToxicSpec};

/// Pieces queued per direction: with reads of up to 32 KiB, at most 2 MiB in flight each way
/// (enough to keep 10 MB/s flowing through a 200 ms latency).
const QUEUE: usize = 64;

/// How long the proxy waits for the upstream to accept a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A running proxy.
pub struct Proxy {
    toxic: watch::Sender<Option<ToxicSpec>>,
    /// The address it listens on.
    pub addr: SocketAddr,
    counters: Arc<Counters>,
    task: tokio::task::JoinHandle<()>,
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
    /// Starts listening on `listen` and forwarding to `upstream`.
    pub async fn start(listen: &str, upstream: &str) -> std::io::Result<Proxy> {
        let listener = TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let upstream: SocketAddr = tokio::net::lookup_host(upstream)
            .await?
            .next()
            .ok_or_else(|| std::io::Error::other(format!("{upstream} has no address")))?;
        let (tx, rx) = watch::channel(None);
        let counters = Arc::new(Counters::default());
        let shared = Arc::clone(&counters);
        let task = tokio::spawn(accept_loop(listener, addr, upstream, rx, shared));
        Ok(Proxy {
            toxic: tx,
            addr,
            counters,
            task,
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
        let _ = self.toxic.send(toxic);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn accept_loop(
    listener: TcpListener,
    addr: SocketAddr,
    upstream: SocketAddr,
    mut rx: watch::Receiver<Option<ToxicSpec>>,
    counters: Arc<Counters>,
) {
    // Connections live in this set: when the proxy is dropped the accept loop is aborted, the
    // set with it, and every open connection is closed at once.
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
        tokio::select! {
            accepted = async { listener.as_ref().map(TcpListener::accept) }, if listener.is_some() => {
                let Some(accepted) = accepted else { continue };
                let Ok((client, _)) = accepted.await else {
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

/// What travels from a reader to the writer of the same direction.
enum Piece {
    /// Bytes, and when they were read.
    Data(Instant, Vec<u8>),
    /// The source closed.
    Eof,
    /// An injected HTTP response: write it, then close the connection.
    Answer(Vec<u8>),
}

#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum End {
    /// The source closed normally.
    Eof,
    /// A fault closed the connection.
    Closed,
    /// A fault resets the connection.
    Reset,
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
    mut client: TcpStream,
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
    let mut server = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(upstream))
        .await
        .map_err(|_| std::io::Error::other("the upstream did not accept in time"))??;
    let _ = server.set_nodelay(true);
    let kill = watch::channel(false).0;
    let (up_tx, up_rx) = mpsc::channel(QUEUE);
    let (down_tx, down_rx) = mpsc::channel(QUEUE);
    let (mut cr, mut cw) = client.split();
    let (mut sr, mut sw) = server.split();
    let flow = |stream| Flow {
        stream,
        connection: n,
    };
    // Each direction runs until its source closes (then it half-closes its destination, so
    // request/response protocols finish); a fault that ends the connection stops all four.
    let (_, _, a, b) = tokio::join!(
        read_client(
            &mut cr,
            &up_tx,
            &down_tx,
            rx.clone(),
            kill.subscribe(),
            &counters
        ),
        read(&mut sr, &down_tx, kill.subscribe()),
        write(
            up_rx,
            &mut sw,
            flow(Stream::Upstream),
            rx.clone(),
            &kill,
            opened
        ),
        write(
            down_rx,
            &mut cw,
            flow(Stream::Downstream),
            rx,
            &kill,
            opened
        ),
    );
    drop((up_tx, down_tx));
    if a == End::Reset || b == End::Reset {
        reset(&client);
    }
    Ok(())
}

/// Reads the server: every piece goes to the client's writer with its time.
async fn read<R: AsyncReadExt + Unpin>(
    src: &mut R,
    out: &mpsc::Sender<Piece>,
    mut kill: watch::Receiver<bool>,
) {
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        let n = tokio::select! {
            r = src.read(&mut buf) => match r {
                Ok(0) | Err(_) => 0,
                Ok(n) => n,
            },
            _ = kill.changed() => return,
        };
        let piece = if n == 0 {
            Piece::Eof
        } else {
            Piece::Data(Instant::now(), buf[..n].to_vec())
        };
        tokio::select! {
            _ = out.send(piece) => {}
            _ = kill.changed() => return,
        }
        if n == 0 {
            return;
        }
    }
}

/// Reads the client, following its HTTP requests: under `http_error`, a request picked to
/// fail is read to its end and answered here, and the connection then closes.
async fn read_client<R: AsyncReadExt + Unpin>(
    src: &mut R,
    up: &mpsc::Sender<Piece>,
    down: &mpsc::Sender<Piece>,
    rx: watch::Receiver<Option<ToxicSpec>>,
    mut kill: watch::Receiver<bool>,
    counters: &Counters,
) {
    let mut framer = framing::Framer::new();
    // Set while a failing request is being read: the status to answer with.
    let mut failing: Option<u16> = None;
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        let n = tokio::select! {
            r = src.read(&mut buf) => match r {
                Ok(0) | Err(_) => 0,
                Ok(n) => n,
            },
            _ = kill.changed() => return,
        };
        if n == 0 {
            let _ = up.send(Piece::Eof).await;
            return;
        }
        let at = Instant::now();
        let mut forward = Vec::with_capacity(n);
        let mut offset = 0;
        let mut answer = None;
        for seg in framer.split(&buf[..n]) {
            let bytes = &buf[offset..offset + seg.len];
            offset += seg.len;
            if seg.starts {
                failing = fails(&rx.borrow(), counters);
            }
            match failing {
                None => forward.extend_from_slice(bytes),
                Some(status) => {
                    // A client waiting for `100 Continue` sends no body: answer after the head.
                    if seg.done || (seg.head_done && framer.expect_continue()) {
                        answer = Some(status);
                        break;
                    }
                }
            }
        }
        if !forward.is_empty() {
            tokio::select! {
                _ = up.send(Piece::Data(at, forward)) => {}
                _ = kill.changed() => return,
            }
        }
        if let Some(status) = answer {
            let _ = down.send(Piece::Answer(error_response(status))).await;
            return;
        }
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

/// Writes one direction: pieces from its queue, shaped by the toxic in force, which it
/// watches even while waiting (a `timeout` closes idle connections, `down` closes them all).
async fn write<W: AsyncWriteExt + Unpin>(
    mut queue: mpsc::Receiver<Piece>,
    dst: &mut W,
    flow: Flow,
    mut rx: watch::Receiver<Option<ToxicSpec>>,
    kill: &watch::Sender<bool>,
    opened: Instant,
) -> End {
    let mut killed = kill.subscribe();
    let mut shaper = Shaper::new(flow.toxic(&rx.borrow_and_update()), opened);
    let end = 'conn: loop {
        if matches!(shaper.toxic(), Some(Toxic::Down)) {
            break End::Closed;
        }
        if matches!(shaper.toxic(), Some(Toxic::ResetPeer)) {
            break End::Reset;
        }
        let close_at = shaper.close_at();
        let piece = tokio::select! {
            _ = killed.changed() => break End::Closed,
            changed = rx.changed() => {
                if changed.is_err() {
                    break End::Closed;
                }
                shaper.change(flow.toxic(&rx.borrow_and_update()), Instant::now());
                continue;
            }
            _ = sleep_until(close_at), if close_at.is_some() => break End::Closed,
            piece = queue.recv() => piece,
        };
        let (read_at, bytes) = match piece {
            None | Some(Piece::Eof) => {
                let _ = dst.shutdown().await;
                break End::Eof;
            }
            Some(Piece::Answer(bytes)) => {
                let _ = dst.write_all(&bytes).await;
                let _ = dst.shutdown().await;
                break End::Closed;
            }
            Some(Piece::Data(at, bytes)) => (at, bytes),
        };
        let draw = jitter_draw();
        let mut offset = 0;
        while offset < bytes.len() {
            let now = Instant::now();
            let (len, not_before) =
                match shaper.plan(read_at, bytes.len() - offset, offset, draw, now) {
                    Plan::Close => break 'conn End::Closed,
                    Plan::Drop => break,
                    Plan::Write { len, not_before } => (len, not_before),
                };
            if let Some(t) = not_before.filter(|t| *t > now) {
                // A change while waiting is acted on at once: the piece is planned again.
                tokio::select! {
                    _ = tokio::time::sleep_until(t.into()) => {}
                    _ = killed.changed() => break 'conn End::Closed,
                    changed = rx.changed() => {
                        if changed.is_err() {
                            break 'conn End::Closed;
                        }
                        shaper.change(flow.toxic(&rx.borrow_and_update()), Instant::now());
                        if matches!(shaper.toxic(), Some(Toxic::ResetPeer)) {
                            break 'conn End::Reset;
                        }
                        continue;
                    }
                }
            }
            if dst.write_all(&bytes[offset..offset + len]).await.is_err() {
                break 'conn End::Closed;
            }
            offset += len;
            shaper.wrote(len, not_before.unwrap_or(now).max(now));
            if shaper.exhausted() {
                break 'conn End::Closed;
            }
        }
    };
    if end != End::Eof {
        let _ = kill.send(true);
    }
    end
}

async fn sleep_until(at: Option<Instant>) {
    if let Some(at) = at {
        tokio::time::sleep_until(at.into()).await;
    }
}
