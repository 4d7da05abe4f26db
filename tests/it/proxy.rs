//! The fault proxy measured at the client, with real sockets on 127.0.0.1.

use std::time::{Duration, Instant};

use crate::common::servers;
use cargo_gate::suites::infra::proxy::Proxy;
use cargo_gate::suites::infra::spec::{Stream, Toxic, ToxicSpec};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// An upstream that answers each read with `reply` bytes of `x`, or echoes when `reply` is 0.
async fn upstream(reply: usize) -> String {
    servers::blob(reply).await.to_string()
}

async fn proxy(reply: usize, toxic: Option<Toxic>) -> Proxy {
    let up = upstream(reply).await;
    let p = Proxy::start("127.0.0.1:0", &up).await.unwrap();
    p.set(toxic);
    p
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
async fn reset_peer_is_seen_as_a_connection_reset() {
    let p = proxy(0, None).await;
    let mut s = TcpStream::connect(p.addr).await.unwrap();
    s.write_all(b"a").await.unwrap();
    let mut buf = [0u8; 1];
    s.read_exact(&mut buf).await.unwrap();
    p.set(Some(Toxic::ResetPeer));
    let err = servers::read_up_to(&mut s, 1, Duration::from_secs(5))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset);
    // New connections are reset too (possibly before connect() has returned).
    let r = match TcpStream::connect(p.addr).await {
        Ok(mut s2) => servers::read_up_to(&mut s2, 1, Duration::from_secs(5)).await,
        Err(e) => Err(e),
    };
    assert!(matches!(r, Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slice_splits_writes_with_pauses() {
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
    let got = servers::read_up_to(&mut s, 16, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(got, 16);
    assert!(
        t.elapsed() >= Duration::from_millis(60),
        "4 slices with pauses each way"
    );
}

/// Requests a stream of 5 lines 20 ms apart through a proxy whose connection was opened
/// before `toxic` was applied: each line's delay.
async fn line_delays(toxic: Option<Toxic>) -> Vec<Duration> {
    let (up, sent) = servers::lines(5, Duration::from_millis(20)).await;
    let p = Proxy::start("127.0.0.1:0", &up.to_string()).await.unwrap();
    let mut s = TcpStream::connect(p.addr).await.unwrap();
    p.apply(toxic.map(|t| ToxicSpec {
        toxic: t,
        stream: Some(Stream::Downstream),
        toxicity: 1.0,
    }));
    servers::line_delays(&mut s, 5, &sent).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_delays_each_piece_from_its_arrival_so_a_stream_keeps_its_pace() {
    let base = line_delays(None).await;
    let slow = line_delays(Some(Toxic::Latency {
        latency: Duration::from_millis(200),
        jitter: Duration::ZERO,
    }))
    .await;
    let worst_base = base.iter().max().copied().unwrap_or_default();
    for (i, d) in slow.iter().enumerate() {
        // Waiting behind the previous line would make the 5th line a second late.
        assert!(
            *d >= Duration::from_millis(195) && *d <= Duration::from_millis(280) + worst_base,
            "line {i} arrived {d:?} after it was sent (all: {slow:?}, no toxic: {base:?})"
        );
    }
}

/// Time for `size` bytes to come back through a proxy with `toxic` for a 2-byte request.
async fn download(size: usize, toxic: Option<Toxic>) -> Duration {
    let p = proxy(size, toxic).await;
    let mut s = TcpStream::connect(p.addr).await.unwrap();
    let t = Instant::now();
    s.write_all(b"go").await.unwrap();
    let got = servers::read_up_to(&mut s, size, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(got, size);
    t.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_response_through_latency_keeps_its_throughput() {
    let base = download(1_000_000, None).await;
    let took = download(
        1_000_000,
        Some(Toxic::Latency {
            latency: Duration::from_millis(200),
            jitter: Duration::ZERO,
        }),
    )
    .await;
    // 200 ms on the request and 200 ms on the response; per-piece stacking took 6 s here.
    assert!(
        took >= Duration::from_millis(395) && took < base + Duration::from_millis(1200),
        "1 MB took {took:?} through 200 ms of latency ({base:?} without)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bandwidth_paces_small_and_large_transfers_at_the_rate() {
    // (bytes, rate in B/s): size / rate is the time it must take; sizes are SI (100KB = 100 000).
    for (size, rate) in [(5_000usize, 100_000u64), (25, 1_000), (200_000, 100_000)] {
        let base = download(size, None).await;
        let took = download(size, Some(Toxic::Bandwidth { rate })).await;
        // The 2-byte request is paced too.
        let want = (size + 2) as f64 / rate as f64;
        let secs = took.as_secs_f64();
        assert!(
            secs >= want * 0.95 && secs <= want * 1.05 + base.as_secs_f64() + 0.05,
            "{size} B at {rate} B/s took {secs:.4}s, expected {want:.4}s ± 5 % ({base:?} without)"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_closes_an_idle_connection_counting_from_when_it_was_applied() {
    let p = proxy(0, None).await;
    let mut s = TcpStream::connect(p.addr).await.unwrap();
    round_trip(&mut s).await;
    // Older than `after` already: the clock starts at the fault, not at the connection.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let applied = Instant::now();
    p.set(Some(Toxic::Timeout {
        after: Duration::from_millis(300),
    }));
    let mut buf = [0u8; 8];
    let read = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await;
    let closed = applied.elapsed();
    assert!(
        matches!(read, Ok(Ok(0)) | Ok(Err(_))),
        "an idle connection stayed open: {read:?}"
    );
    assert!(
        closed >= Duration::from_millis(290) && closed < Duration::from_secs(2),
        "closed {closed:?} after the fault"
    );

    // New connections are held `after` from their opening, their data swallowed.
    let mut s = TcpStream::connect(p.addr).await.unwrap();
    let t = Instant::now();
    s.write_all(b"hello").await.unwrap();
    let got = servers::read_up_to(&mut s, 5, Duration::from_secs(5))
        .await
        .unwrap_or(0);
    assert_eq!(got, 0, "nothing forwarded");
    let held = t.elapsed();
    assert!(
        held >= Duration::from_millis(290) && held < Duration::from_secs(2),
        "{held:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_zero_holds_the_connection_open_until_the_toxic_goes() {
    let p = proxy(0, None).await;
    let mut s = TcpStream::connect(p.addr).await.unwrap();
    p.set(Some(Toxic::Timeout {
        after: Duration::ZERO,
    }));
    s.write_all(b"lost").await.unwrap();
    let mut buf = [0u8; 8];
    let read = tokio::time::timeout(Duration::from_millis(600), s.read(&mut buf)).await;
    assert!(read.is_err(), "not held open and silent: {read:?}");
    p.set(None);
    // What was sent under the toxic is gone; the connection itself works again.
    assert!(round_trip(&mut s).await < Duration::from_secs(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limit_data_counts_each_direction_on_its_own() {
    let p = proxy(10_000, Some(Toxic::LimitData { bytes: 1000 })).await;
    let mut s = TcpStream::connect(p.addr).await.unwrap();
    s.write_all(b"go").await.unwrap();
    let got = servers::read_up_to(&mut s, 10_000, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(
        got, 1000,
        "the 2-byte request does not count against the response"
    );
}

/// Connects until the proxy accepts: the listener reopens a moment after `down` goes. Bounded.
async fn connect_until_accepted(addr: std::net::SocketAddr) -> TcpStream {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Ok(s) = TcpStream::connect(addr).await {
            return s;
        }
        assert!(Instant::now() < deadline, "the proxy never listened again");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn down_refuses_connections_closes_open_ones_and_comes_back() {
    let p = proxy(0, None).await;
    let mut open = TcpStream::connect(p.addr).await.unwrap();
    round_trip(&mut open).await;
    p.set(Some(Toxic::Down));
    let mut buf = [0u8; 4];
    let read = tokio::time::timeout(Duration::from_secs(5), open.read(&mut buf)).await;
    assert!(
        matches!(read, Ok(Ok(0)) | Ok(Err(_))),
        "the open connection was not closed: {read:?}"
    );
    // Once the accept loop has acted on the fault, every attempt is refused, the first too.
    let deadline = Instant::now() + Duration::from_secs(5);
    while p.listening() {
        assert!(Instant::now() < deadline, "the listener stayed open");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    for _ in 0..20 {
        let e = TcpStream::connect(p.addr).await.err();
        assert_eq!(
            e.map(|e| e.kind()),
            Some(std::io::ErrorKind::ConnectionRefused)
        );
    }
    p.set(None);
    let mut again = connect_until_accepted(p.addr).await;
    assert!(round_trip(&mut again).await < Duration::from_secs(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_error_is_decided_per_request_on_keep_alive_connections() {
    let up = servers::http_ok().await;
    let p = Proxy::start("127.0.0.1:0", &up.to_string()).await.unwrap();
    // Opened, and used, before the fault.
    let mut s = TcpStream::connect(p.addr).await.unwrap();
    assert_eq!(servers::get(&mut s).await, Some(200));
    p.set(Some(Toxic::HttpError {
        status: 503,
        fraction: Some(0.25),
        first: None,
    }));
    let mut statuses = Vec::new();
    let mut reconnected = false;
    for _ in 0..40 {
        let status = servers::get(&mut s).await.expect("a response");
        statuses.push((status, reconnected));
        if status == 503 {
            // An injected error closes its connection, as a failing proxy would.
            s = TcpStream::connect(p.addr).await.unwrap();
            reconnected = true;
        }
    }
    let errors = statuses.iter().filter(|(st, _)| *st == 503).count();
    assert_eq!(errors, 10, "a quarter of 40 requests: {statuses:?}");
    assert_eq!(
        statuses[3],
        (503, false),
        "the 4th request fails, on the connection opened before the fault: {statuses:?}"
    );

    p.set(Some(Toxic::HttpError {
        status: 500,
        fraction: None,
        first: Some(2),
    }));
    let mut s = TcpStream::connect(p.addr).await.unwrap();
    let mut seen = Vec::new();
    for _ in 0..4 {
        let status = servers::get(&mut s).await.expect("a response");
        seen.push(status);
        if status != 200 {
            s = TcpStream::connect(p.addr).await.unwrap();
        }
    }
    assert_eq!(seen, [500, 500, 200, 200], "the first 2 requests fail");
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
        // On a loaded machine the reset can also arrive before the write, which then fails
        // (and a read after it sees the end of the stream, the reset already consumed).
        match s.write_all(b"hi").await {
            Ok(()) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe
                ) =>
            {
                outcomes.push("reset");
                continue;
            }
            Err(e) => panic!("write: {e}"),
        }
        // What a reset looks like to the reader varies with timing (ECONNRESET, or the end of
        // the stream when the failed write consumed it); how the reset is sent is tested with
        // the reset toxic itself. Here only the share matters: echoed or cut.
        outcomes.push(
            match servers::read_up_to(&mut s, 2, Duration::from_secs(5)).await {
                Ok(2) => "echo",
                _ => "reset",
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

/// Client → service bulk data is paced like the other way: 300 000 B at 100 000 B/s upstream
/// reach the echo service (and come back unpaced) in 3 s, not faster.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bandwidth_paces_a_bulk_upload() {
    let p = proxy(0, None).await;
    p.apply(Some(ToxicSpec {
        toxic: Toxic::Bandwidth { rate: 100_000 },
        stream: Some(Stream::Upstream),
        toxicity: 1.0,
    }));
    let s = TcpStream::connect(p.addr).await.unwrap();
    let (mut r, mut w) = s.into_split();
    let t = Instant::now();
    let writer = tokio::spawn(async move {
        w.write_all(&vec![b'x'; 300_000]).await.unwrap();
        w
    });
    let got = servers::read_up_to(&mut r, 300_000, Duration::from_secs(30))
        .await
        .unwrap();
    let took = t.elapsed().as_secs_f64();
    drop(writer.await);
    assert_eq!(got, 300_000);
    assert!(
        (2.85..=4.5).contains(&took),
        "300 000 B upstream at 100 000 B/s took {took:.2}s, expected 3 s"
    );
}

/// Upstream `limit_data` ends the connection when the limit is reached: a client that sent
/// more and waits to read learns at once, as from Toxiproxy (a close or a reset).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limit_data_upstream_closes_the_connection() {
    let p = proxy(1, None).await;
    p.apply(Some(ToxicSpec {
        toxic: Toxic::LimitData { bytes: 50_000 },
        stream: Some(Stream::Upstream),
        toxicity: 1.0,
    }));
    let mut s = TcpStream::connect(p.addr).await.unwrap();
    let _ = s.write_all(&vec![b'x'; 100_000]).await;
    let t = Instant::now();
    let mut buf = vec![0u8; 65536];
    // Whatever the service answered before the limit, then the end.
    let ended = loop {
        match tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break true,
            Ok(Ok(_)) => continue,
            Err(_) => break false,
        }
    };
    assert!(ended, "no close or reset within 5 s of the limit");
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
}
