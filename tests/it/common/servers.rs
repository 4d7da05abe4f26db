//! Servers and clients on 127.0.0.1 that measure the fault proxy from outside: shared by
//! `tests/proxy.rs` and the fidelity benchmark (`examples/fidelity.rs`, which includes this
//! file by path). Test helpers: they panic on what a test would fail on anyway.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A server that answers each read with `reply` bytes of `x`, or echoes when `reply` is 0.
pub async fn blob(reply: usize) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                loop {
                    let n = match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    let out = if reply == 0 {
                        buf[..n].to_vec()
                    } else {
                        vec![b'x'; reply]
                    };
                    if s.write_all(&out).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

/// Bytes of each line [`lines`] sends.
pub const LINE: usize = 9;

/// A server that answers a request with `count` lines of [`LINE`] bytes, `gap` apart, and
/// keeps the time it sent each.
pub async fn lines(count: usize, gap: Duration) -> (SocketAddr, Arc<Mutex<Vec<Instant>>>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let sent = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&sent);
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            let log = Arc::clone(&log);
            tokio::spawn(async move {
                let mut buf = [0u8; 64];
                if s.read(&mut buf).await.unwrap_or(0) == 0 {
                    return;
                }
                for i in 0..count {
                    log.lock().unwrap().push(Instant::now());
                    if s.write_all(format!("line {i:03}\n").as_bytes())
                        .await
                        .is_err()
                    {
                        return;
                    }
                    tokio::time::sleep(gap).await;
                }
            });
        }
    });
    (addr, sent)
}

/// Each line's delay through `s` (its arrival minus the server's send time) once `count`
/// lines of [`lines`] have arrived after a request.
pub async fn line_delays(
    s: &mut TcpStream,
    count: usize,
    sent: &Mutex<Vec<Instant>>,
) -> Vec<Duration> {
    s.write_all(b"go").await.unwrap();
    let mut arrived = Vec::new();
    let mut pending = 0usize;
    let mut buf = [0u8; 512];
    while arrived.len() < count {
        let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf))
            .await
            .expect("the stream stalled")
            .unwrap();
        assert!(n > 0, "closed after {} lines", arrived.len());
        pending += n;
        let now = Instant::now();
        while pending >= LINE {
            pending -= LINE;
            arrived.push(now);
        }
    }
    let sent = sent.lock().unwrap().clone();
    arrived.iter().zip(&sent).map(|(a, s)| *a - *s).collect()
}

/// A keep-alive HTTP/1.1 server answering every request `200 ok`.
pub async fn http_ok() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            tokio::spawn(async move {
                let mut pending = Vec::new();
                let mut buf = [0u8; 4096];
                loop {
                    while let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                        pending.drain(..end + 4);
                        let ok = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
                        if s.write_all(ok).await.is_err() {
                            return;
                        }
                    }
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => pending.extend_from_slice(&buf[..n]),
                    }
                }
            });
        }
    });
    addr
}

/// One GET on `s`: the status, or `None` if the connection closed first.
pub async fn get(s: &mut TcpStream) -> Option<u16> {
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .ok()?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match tokio::time::timeout(Duration::from_secs(5), s.read(&mut byte)).await {
            Ok(Ok(1)) => head.push(byte[0]),
            _ => return None,
        }
    }
    let text = String::from_utf8_lossy(&head).to_string();
    let length: usize = text
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    s.read_exact(&mut body).await.ok()?;
    text.split(' ').nth(1)?.parse().ok()
}

/// Reads until `want` bytes, EOF or `limit`: the bytes read, or the error that ended it.
pub async fn read_up_to<R: tokio::io::AsyncRead + Unpin>(
    s: &mut R,
    want: usize,
    limit: Duration,
) -> std::io::Result<usize> {
    let mut got = 0;
    let mut buf = vec![0u8; 65536];
    let deadline = Instant::now() + limit;
    while got < want {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, s.read(&mut buf)).await {
            Err(_) | Ok(Ok(0)) => break,
            Ok(Ok(n)) => got += n,
            Ok(Err(e)) => return Err(e),
        }
    }
    Ok(got)
}
