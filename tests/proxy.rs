//! The fault proxy measured at the client, with real sockets on 127.0.0.1.

use std::time::{Duration, Instant};

use cargo_gate::suites::infra::proxy::Proxy;
use cargo_gate::suites::infra::spec::{Stream, Toxic, ToxicSpec};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// An upstream that answers each read with `reply` bytes of `x`, or echoes when `reply` is 0.
async fn upstream(reply: usize) -> String {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = l.accept().await else {
                return;
            };
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

async fn proxy(reply: usize, toxic: Option<Toxic>) -> Proxy {
    let up = upstream(reply).await;
    let p = Proxy::start("127.0.0.1:0", &up).await.unwrap();
    p.set(toxic);
    p
}

async fn read_exact_or_eof(
    s: &mut TcpStream,
    want: usize,
    limit: Duration,
) -> std::io::Result<usize> {
    let mut got = 0;
    let mut buf = vec![0u8; 65536];
    let deadline = Instant::now() + limit;
    while got < want {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, s.read(&mut buf)).await {
            Err(_) => break,
            Ok(Ok(0)) => break,
            Ok(Ok(n)) => got += n,
            Ok(Err(e)) => return Err(e),
        }
    }
    Ok(got)
}

/// Time for `ping` to go through the proxy to the echo upstream and back.
async fn round_trip(s: &mut TcpStream) -> Duration {
    let t = Instant::now();
    s.write_all(b"ping").await.unwrap();
    let mut buf = [0u8; 4];
    s.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"ping");
    t.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_toxic_the_proxy_is_transparent() {
    let p = proxy(0, None).await;
    let mut s = TcpStream::connect(p.addr).await.unwrap();
    s.write_all(b"hello").await.unwrap();
    let mut buf = [0u8; 5];
    s.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"hello");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_is_added_each_way() {
    let p = proxy(
        0,
        Some(Toxic::Latency {
            latency: Duration::from_millis(100),
            jitter: Duration::ZERO,
        }),
    )
    .await;
    let mut s = TcpStream::connect(p.addr).await.unwrap();
    let rtt = round_trip(&mut s).await;
    assert!(
        rtt >= Duration::from_millis(200) && rtt < Duration::from_millis(300),
        "round trip {rtt:?}"
    );
    // Removing the toxic takes effect on the open connection.
    p.set(None);
    assert!(round_trip(&mut s).await < Duration::from_millis(50));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bandwidth_is_capped_within_ten_percent() {
    let p = proxy(200 * 1024, Some(Toxic::Bandwidth { rate: 100 * 1024 })).await;
    let mut s = TcpStream::connect(p.addr).await.unwrap();
    let t = Instant::now();
    s.write_all(b"go").await.unwrap();
    let got = read_exact_or_eof(&mut s, 200 * 1024, Duration::from_secs(10))
        .await
        .unwrap();
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(got, 200 * 1024);
    let rate = got as f64 / secs / 1024.0;
    assert!(
        (90.0..=110.0).contains(&rate),
        "{rate:.1} KiB/s for a 100 KiB/s cap"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_peer_is_seen_as_a_connection_reset() {
    let p = proxy(0, None).await;
    let mut s = TcpStream::connect(p.addr).await.unwrap();
    s.write_all(b"a").await.unwrap();
    let mut buf = [0u8; 1];
    s.read_exact(&mut buf).await.unwrap();
    p.set(Some(Toxic::ResetPeer));
    let err = read_exact_or_eof(&mut s, 1, Duration::from_secs(5))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset);
    // New connections are reset too (possibly before connect() has returned).
    let r = match TcpStream::connect(p.addr).await {
        Ok(mut s2) => read_exact_or_eof(&mut s2, 1, Duration::from_secs(5)).await,
        Err(e) => Err(e),
    };
    assert!(matches!(r, Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn down_limit_data_timeout_and_slice() {
    let p = proxy(0, Some(Toxic::Down)).await;
    let mut s = TcpStream::connect(p.addr).await.unwrap();
    let _ = s.write_all(b"x").await;
    assert_eq!(
        read_exact_or_eof(&mut s, 1, Duration::from_secs(2))
            .await
            .unwrap_or(0),
        0,
        "closed at once"
    );

    let p = proxy(10_000, Some(Toxic::LimitData { bytes: 1000 })).await;
    let mut s = TcpStream::connect(p.addr).await.unwrap();
    s.write_all(b"go").await.unwrap();
    let got = read_exact_or_eof(&mut s, 10_000, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(got, 998, "1000 bytes in all: 2 up, 998 down");

    let p = proxy(
        0,
        Some(Toxic::Timeout {
            after: Duration::from_millis(300),
        }),
    )
    .await;
    let mut s = TcpStream::connect(p.addr).await.unwrap();
    let t = Instant::now();
    s.write_all(b"hello").await.unwrap();
    let got = read_exact_or_eof(&mut s, 5, Duration::from_secs(5))
        .await
        .unwrap_or(0);
    assert_eq!(got, 0, "nothing forwarded");
    let held = t.elapsed();
    assert!(
        held >= Duration::from_millis(250) && held < Duration::from_secs(2),
        "{held:?}"
    );

    let p = proxy(
        0,
        Some(Toxic::Slice {
            size: 4,
            delay: Duration::from_millis(20),
        }),
    )
    .await;
    let mut s = TcpStream::connect(p.addr).await.unwrap();
    let t = Instant::now();
    s.write_all(b"0123456789abcdef").await.unwrap();
    let got = read_exact_or_eof(&mut s, 16, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(got, 16);
    assert!(
        t.elapsed() >= Duration::from_millis(60),
        "4 slices with pauses each way"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_errors_for_the_first_n_connections() {
    let p = proxy(
        0,
        Some(Toxic::HttpError {
            status: 503,
            fraction: None,
            first: Some(2),
        }),
    )
    .await;
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let mut s = TcpStream::connect(p.addr).await.unwrap();
        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut buf = vec![0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        let text = String::from_utf8_lossy(&buf[..n]).to_string();
        statuses.push(text.split(' ').nth(1).unwrap_or("echo").to_string());
    }
    // The third connection reaches the (echo) upstream, which sends the request back.
    assert_eq!(statuses, vec!["503", "503", "/"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_on_one_stream_delays_only_that_way() {
    let p = proxy(0, None).await;
    for stream in [Stream::Downstream, Stream::Upstream] {
        p.apply(Some(ToxicSpec {
            toxic: Toxic::Latency {
                latency: Duration::from_millis(100),
                jitter: Duration::ZERO,
            },
            stream: Some(stream),
            toxicity: 1.0,
        }));
        let mut s = TcpStream::connect(p.addr).await.unwrap();
        let rtt = round_trip(&mut s).await;
        // Both ways would be 200 ms or more.
        assert!(
            rtt >= Duration::from_millis(100) && rtt < Duration::from_millis(190),
            "{stream:?}: round trip {rtt:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn toxicity_spreads_a_toxic_over_a_share_of_connections() {
    let p = proxy(0, None).await;
    p.apply(Some(ToxicSpec {
        toxic: Toxic::ResetPeer,
        stream: None,
        toxicity: 0.25,
    }));
    let mut outcomes = Vec::new();
    for _ in 0..8 {
        // The reset can come before connect() has even returned.
        let mut s = match TcpStream::connect(p.addr).await {
            Ok(s) => s,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                outcomes.push("reset");
                continue;
            }
            Err(e) => panic!("connect: {e}"),
        };
        let _ = s.write_all(b"hi").await;
        outcomes.push(
            match read_exact_or_eof(&mut s, 2, Duration::from_secs(5)).await {
                Ok(2) => "echo",
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => "reset",
                other => panic!("neither an echo nor a reset: {other:?}"),
            },
        );
    }
    // One connection in four, evenly: the 4th and the 8th since the fault was applied.
    assert_eq!(
        outcomes,
        [
            "echo", "echo", "echo", "reset", "echo", "echo", "echo", "reset"
        ]
    );
}

/// A proxy that goes away closes the connections open through it, even when the runtime it ran
/// on lives on (one runtime serves the whole run).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_proxy_closes_its_open_connections() {
    let p = proxy(0, None).await;
    let mut s = TcpStream::connect(p.addr).await.unwrap();
    s.write_all(b"ping").await.unwrap();
    let mut buf = [0u8; 4];
    s.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"ping", "the connection works through the proxy");
    drop(p);
    let mut rest = [0u8; 16];
    let read = tokio::time::timeout(Duration::from_secs(10), s.read(&mut rest)).await;
    match read {
        Ok(Ok(0)) | Ok(Err(_)) => {}
        Ok(Ok(n)) => panic!("{n} bytes arrived after the proxy was dropped"),
        Err(_) => panic!("the connection stayed open after the proxy was dropped"),
    }
}
