//! A TCP fault proxy (toxiproxy-like, built in): forwards a listen address to an upstream and
//! applies one toxic at a time, changeable while connections are open.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use super::spec::{Stream, Toxic, ToxicSpec};

/// A running proxy.
pub struct Proxy {
    toxic: watch::Sender<Option<ToxicSpec>>,
    /// The address it listens on.
    pub addr: SocketAddr,
    connections: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
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
        let connections = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&connections);
        let task = tokio::spawn(async move {
            // Connections live in this set: when the proxy is dropped the accept loop is
            // aborted, the set with it, and every open connection is closed at once.
            let mut open = tokio::task::JoinSet::new();
            loop {
                tokio::select! {
                    accepted = listener.accept() => {
                        let Ok((client, _)) = accepted else {
                            // Out of file descriptors or similar: back off instead of spinning.
                            tokio::time::sleep(Duration::from_millis(10)).await;
                            continue;
                        };
                        let n = counter.fetch_add(1, Ordering::SeqCst);
                        let rx = rx.clone();
                        open.spawn(async move {
                            let _ = handle(client, upstream, rx, n).await;
                        });
                    }
                    // Reap finished connections so the set does not grow without bound.
                    Some(_) = open.join_next(), if !open.is_empty() => {}
                }
            }
        });
        Ok(Proxy {
            toxic: tx,
            addr,
            connections,
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
            // `first = N` and `toxicity` count connections from the moment the fault is applied.
            self.connections.store(0, Ordering::SeqCst);
        }
        let _ = self.toxic.send(toxic);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[allow(deprecated)]
fn reset(stream: &TcpStream) {
    // SO_LINGER 0 makes close send a RST; on a non-blocking socket closing does not block.
    let _ = stream.set_linger(Some(Duration::ZERO));
}

async fn handle(
    mut client: TcpStream,
    upstream: SocketAddr,
    mut rx: watch::Receiver<Option<ToxicSpec>>,
    n: u64,
) -> std::io::Result<()> {
    let _ = client.set_nodelay(true);
    let toxic = rx.borrow_and_update().clone();
    match toxic.filter(|t| picked(n, t.toxicity)).map(|t| t.toxic) {
        Some(Toxic::Down) => return Ok(()),
        Some(Toxic::ResetPeer) => {
            reset(&client);
            return Ok(());
        }
        Some(Toxic::HttpError {
            status,
            fraction,
            first,
        }) => {
            let fail = match (first, fraction) {
                (Some(f), _) => n < f,
                (None, Some(fr)) => picked(n, fr),
                (None, None) => true,
            };
            if fail {
                let mut buf = [0u8; 4096];
                let _ = tokio::time::timeout(Duration::from_secs(5), client.read(&mut buf)).await;
                let body = format!("cargo-gate fault proxy: injected HTTP {status}\n");
                let resp = format!(
                    "HTTP/1.1 {status} Injected\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                client.write_all(resp.as_bytes()).await?;
                return client.shutdown().await;
            }
        }
        _ => {}
    }
    let mut server = TcpStream::connect(upstream).await?;
    let _ = server.set_nodelay(true);
    let link = Link {
        kill: watch::channel(false).0,
        sent: AtomicU64::new(0),
        started: Instant::now(),
    };
    let (mut cr, mut cw) = client.split();
    let (mut sr, mut sw) = server.split();
    // Each direction runs until its source closes (then it half-closes its destination, so
    // request/response protocols finish); a fault that ends the connection stops both.
    let up = pipe(
        &mut cr,
        &mut sw,
        Flow {
            stream: Stream::Upstream,
            connection: n,
        },
        rx.clone(),
        link.kill.subscribe(),
        &link,
    );
    let down = pipe(
        &mut sr,
        &mut cw,
        Flow {
            stream: Stream::Downstream,
            connection: n,
        },
        rx,
        link.kill.subscribe(),
        &link,
    );
    let (a, b) = tokio::join!(up, down);
    if a == End::Reset || b == End::Reset {
        reset(&client);
    }
    Ok(())
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

/// What the two directions of one connection share.
struct Link {
    /// Set when a fault ends the connection: the other direction stops too.
    kill: watch::Sender<bool>,
    /// Bytes forwarded both ways (for `limit_data`).
    sent: AtomicU64,
    /// When the connection was opened (for `timeout`).
    started: Instant,
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

async fn pipe<R, W>(
    src: &mut R,
    dst: &mut W,
    flow: Flow,
    rx: watch::Receiver<Option<ToxicSpec>>,
    kill: watch::Receiver<bool>,
    link: &Link,
) -> End
where
    R: AsyncReadExt + Unpin,
    W: AsyncWriteExt + Unpin,
{
    let end = pipe_inner(src, dst, flow, rx, kill, link).await;
    match end {
        End::Eof => {
            let _ = dst.shutdown().await;
        }
        _ => {
            let _ = link.kill.send(true);
        }
    }
    end
}

async fn pipe_inner<R, W>(
    src: &mut R,
    dst: &mut W,
    flow: Flow,
    mut rx: watch::Receiver<Option<ToxicSpec>>,
    mut kill: watch::Receiver<bool>,
    link: &Link,
) -> End
where
    R: AsyncReadExt + Unpin,
    W: AsyncWriteExt + Unpin,
{
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        let n = tokio::select! {
            r = src.read(&mut buf) => match r {
                Ok(0) | Err(_) => return End::Eof,
                Ok(n) => n,
            },
            _ = kill.changed() => return End::Closed,
            changed = rx.changed() => {
                if changed.is_err() {
                    return End::Closed;
                }
                match flow.toxic(&rx.borrow()) {
                    Some(Toxic::Down) => return End::Closed,
                    Some(Toxic::ResetPeer) => return End::Reset,
                    _ => continue,
                }
            }
        };
        let toxic = flow.toxic(&rx.borrow());
        let data = &buf[..n];
        let ok = match toxic {
            None | Some(Toxic::HttpError { .. }) => dst.write_all(data).await.is_ok(),
            Some(Toxic::Down) => return End::Closed,
            Some(Toxic::ResetPeer) => return End::Reset,
            Some(Toxic::Latency { latency, jitter }) => {
                let spread = if jitter.is_zero() {
                    0.0
                } else {
                    (pseudo_random() * 2.0 - 1.0) * jitter.as_secs_f64()
                };
                tokio::time::sleep(Duration::from_secs_f64(
                    (latency.as_secs_f64() + spread).max(0.0),
                ))
                .await;
                dst.write_all(data).await.is_ok()
            }
            Some(Toxic::Bandwidth { rate }) => {
                // Chunks of 1/20 s worth of data, each followed by its share of time.
                let chunk = (rate / 20).max(1) as usize;
                let mut ok = true;
                for part in data.chunks(chunk) {
                    let t0 = Instant::now();
                    if dst.write_all(part).await.is_err() {
                        ok = false;
                        break;
                    }
                    let due = Duration::from_secs_f64(part.len() as f64 / rate as f64);
                    if let Some(left) = due.checked_sub(t0.elapsed()) {
                        tokio::time::sleep(left).await;
                    }
                }
                ok
            }
            Some(Toxic::Slice { size, delay }) => {
                let mut ok = true;
                for part in data.chunks(size) {
                    if dst.write_all(part).await.is_err() {
                        ok = false;
                        break;
                    }
                    let _ = dst.flush().await;
                    if !delay.is_zero() {
                        tokio::time::sleep(delay).await;
                    }
                }
                ok
            }
            Some(Toxic::LimitData { bytes }) => {
                let before = link.sent.fetch_add(n as u64, Ordering::SeqCst);
                let allowed = bytes.saturating_sub(before).min(n as u64) as usize;
                let _ = dst.write_all(&data[..allowed]).await;
                if before + n as u64 >= bytes {
                    return End::Closed;
                }
                true
            }
            Some(Toxic::Timeout { after }) => {
                // Swallow data; close once the connection has lived `after`.
                let left = after.saturating_sub(link.started.elapsed());
                tokio::time::sleep(left).await;
                return End::Closed;
            }
        };
        if !ok {
            return End::Closed;
        }
    }
}

/// A cheap uniform value in [0, 1) for jitter (no need for a seeded generator here).
fn pseudo_random() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(Instant::now().elapsed().as_nanos());
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}
