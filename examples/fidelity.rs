//! The fault proxy's fidelity, measured from outside: for each toxic, our own servers and
//! clients on 127.0.0.1 stamp what they send and receive (the proxy's own counters are not
//! used), and each measurement is compared with the same one through the proxy with no toxic.
//! Prints a Markdown table: configured, expected, measured (median of `REPS` runs, and range).
//!
//! Run by `bench/fidelity.sh`.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use cargo_gate::suites::infra::proxy::Proxy;
use cargo_gate::suites::infra::spec::{Stream, Toxic, ToxicSpec};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[path = "../tests/it/common/servers.rs"]
mod servers;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

async fn proxy_to(up: SocketAddr, toxic: Option<ToxicSpec>) -> Result<Proxy> {
    let p = Proxy::start("127.0.0.1:0", &up.to_string()).await?;
    p.apply(toxic);
    Ok(p)
}

fn both(t: Toxic) -> Option<ToxicSpec> {
    Some(ToxicSpec::everywhere(t))
}

/// Seconds for `size` bytes to come back for a 2-byte request.
async fn download(size: usize, toxic: Option<ToxicSpec>) -> Result<f64> {
    let p = proxy_to(servers::blob(size).await, toxic).await?;
    let mut s = TcpStream::connect(p.addr).await?;
    let t = Instant::now();
    s.write_all(b"go").await?;
    let got = servers::read_up_to(&mut s, size, Duration::from_secs(60)).await?;
    if got != size {
        return Err(format!("{got} of {size} bytes arrived").into());
    }
    Ok(t.elapsed().as_secs_f64())
}

/// Per-line delay (arrival minus send), in seconds, for 20 lines 20 ms apart.
async fn line_delays(toxic: Option<ToxicSpec>) -> Result<Vec<f64>> {
    let (up, sent) = servers::lines(20, Duration::from_millis(20)).await;
    let p = proxy_to(up, toxic).await?;
    let mut s = TcpStream::connect(p.addr).await?;
    let delays = servers::line_delays(&mut s, 20, &sent).await;
    Ok(delays.iter().map(Duration::as_secs_f64).collect())
}

/// Seconds from applying `timeout` to an idle, open connection until it closes (capped).
async fn idle_close(after: Duration, cap: Duration) -> Result<f64> {
    let p = proxy_to(servers::blob(0).await, None).await?;
    let mut s = TcpStream::connect(p.addr).await?;
    s.write_all(b"hi").await?;
    servers::read_up_to(&mut s, 2, Duration::from_secs(5)).await?;
    let t = Instant::now();
    p.set(Some(Toxic::Timeout { after }));
    let mut buf = [0u8; 8];
    let _ = tokio::time::timeout(cap, s.read(&mut buf)).await;
    Ok(t.elapsed().as_secs_f64())
}

/// Bytes the client receives through `limit_data` for a 12-byte request and a 20 kB answer.
async fn limited(bytes: u64) -> Result<f64> {
    let p = proxy_to(
        servers::blob(20_000).await,
        both(Toxic::LimitData { bytes }),
    )
    .await?;
    let mut s = TcpStream::connect(p.addr).await?;
    s.write_all(b"GET /x HTTP/").await?;
    Ok(servers::read_up_to(&mut s, 20_000, Duration::from_secs(5)).await? as f64)
}

/// Seconds for `size` bytes sent up to an echo service under `toxic` to come back.
async fn upload(size: usize, toxic: Option<ToxicSpec>) -> Result<f64> {
    let p = proxy_to(servers::blob(0).await, toxic).await?;
    let (mut r, mut w) = TcpStream::connect(p.addr).await?.into_split();
    let t = Instant::now();
    let writer = tokio::spawn(async move { w.write_all(&vec![b'x'; size]).await.map(|()| w) });
    let got = servers::read_up_to(&mut r, size, Duration::from_secs(60)).await?;
    drop(writer.await);
    if got != size {
        return Err(format!("{got} of {size} bytes came back").into());
    }
    Ok(t.elapsed().as_secs_f64())
}

/// Seconds from sending past an upstream `limit_data` until the client sees the end.
async fn upstream_limit_end(bytes: u64) -> Result<f64> {
    let toxic = Some(ToxicSpec {
        toxic: Toxic::LimitData { bytes },
        stream: Some(Stream::Upstream),
        toxicity: 1.0,
    });
    let p = proxy_to(servers::blob(1).await, toxic).await?;
    let mut s = TcpStream::connect(p.addr).await?;
    let t = Instant::now();
    let _ = s.write_all(&vec![b'x'; 2 * bytes as usize]).await;
    let mut buf = vec![0u8; 65536];
    loop {
        match tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return Ok(t.elapsed().as_secs_f64()),
            Ok(Ok(_)) => {}
            Err(_) => return Ok(10.0),
        }
    }
}

/// Share of connection attempts refused while `down` is in (out of 20).
async fn refused() -> Result<f64> {
    let p = proxy_to(servers::blob(0).await, None).await?;
    p.set(Some(Toxic::Down));
    // The listener closes when the accept loop sees the change: give it that moment.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut n = 0;
    for _ in 0..20 {
        if matches!(TcpStream::connect(p.addr).await, Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused)
        {
            n += 1;
        }
    }
    Ok(f64::from(n) / 20.0)
}

/// Share of 200 keep-alive requests answered 503, on a connection opened before the fault.
async fn http_errors(fraction: f64) -> Result<f64> {
    let p = proxy_to(servers::http_ok().await, None).await?;
    let mut s = TcpStream::connect(p.addr).await?;
    servers::get(&mut s)
        .await
        .ok_or("no answer before the fault")?;
    p.set(Some(Toxic::HttpError {
        status: 503,
        fraction: Some(fraction),
        first: None,
    }));
    let mut errors = 0;
    for _ in 0..200 {
        match servers::get(&mut s).await {
            Some(200) => {}
            Some(_) => {
                errors += 1;
                s = TcpStream::connect(p.addr).await?;
            }
            None => return Err("a request got no answer".into()),
        }
    }
    Ok(f64::from(errors) / 200.0)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

struct Row {
    toxic: &'static str,
    measure: &'static str,
    expected: String,
    unit: Unit,
    samples: Vec<f64>,
}

#[derive(Clone, Copy)]
enum Unit {
    Ms,
    Bytes,
    Percent,
}

impl Unit {
    fn show(self, v: f64) -> String {
        match self {
            Unit::Ms => format!("{:.1} ms", v * 1000.0),
            Unit::Bytes => format!("{v:.0} B"),
            Unit::Percent => format!("{:.1} %", v * 100.0),
        }
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let reps: usize = std::env::var("REPS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    let latency = |ms, jitter| {
        Some(ToxicSpec {
            toxic: Toxic::Latency {
                latency: Duration::from_millis(ms),
                jitter: Duration::from_millis(jitter),
            },
            stream: Some(Stream::Downstream),
            toxicity: 1.0,
        })
    };
    let mut rows = Vec::new();
    let mut row = |toxic, measure, expected: String, unit, samples| {
        rows.push(Row {
            toxic,
            measure,
            expected,
            unit,
            samples,
        })
    };
    let mut s = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..reps {
        let base = line_delays(None).await?;
        let slow = line_delays(latency(200, 0)).await?;
        let extra: Vec<f64> = slow.iter().zip(&base).map(|(s, b)| s - b).collect();
        s.0.push(extra.iter().copied().fold(f64::MAX, f64::min));
        s.1.push(extra.iter().copied().fold(f64::MIN, f64::max));
        let jit = line_delays(latency(100, 50)).await?;
        s.2.push(jit.iter().copied().fold(f64::MAX, f64::min));
        s.3.push(jit.iter().copied().fold(f64::MIN, f64::max));
    }
    row(
        "latency 200ms (downstream)",
        "added delay, earliest of 20 lines 20 ms apart",
        "200 ms".into(),
        Unit::Ms,
        s.0,
    );
    row(
        "latency 200ms (downstream)",
        "added delay, latest of the 20 lines",
        "200 ms".into(),
        Unit::Ms,
        s.1,
    );
    row(
        "latency 100ms ± 50ms",
        "smallest delay of 20 lines",
        "≥ 50 ms".into(),
        Unit::Ms,
        s.2,
    );
    row(
        "latency 100ms ± 50ms",
        "largest delay of 20 lines",
        "≤ 150 ms".into(),
        Unit::Ms,
        s.3,
    );

    let (mut base, mut slow) = (Vec::new(), Vec::new());
    for _ in 0..reps {
        base.push(download(1_000_000, None).await?);
        slow.push(download(1_000_000, latency(200, 0)).await?);
    }
    row("none", "1 MB response", "—".into(), Unit::Ms, base);
    row(
        "latency 200ms (downstream)",
        "1 MB response",
        "200 ms + the above".into(),
        Unit::Ms,
        slow,
    );

    for (size, rate, label) in [
        (5_000usize, 100_000u64, "bandwidth 100KB/s"),
        (1_000_000, 100_000, "bandwidth 100KB/s"),
        (25, 1_000, "bandwidth 1KB/s"),
    ] {
        let mut v = Vec::new();
        for _ in 0..reps {
            v.push(download(size, both(Toxic::Bandwidth { rate })).await?);
        }
        let measure = match size {
            5_000 => "5 000 B response (+2 B request)",
            25 => "25 B response (+2 B request)",
            _ => "1 MB response (+2 B request)",
        };
        let want = (size + 2) as f64 / rate as f64;
        row(label, measure, Unit::Ms.show(want), Unit::Ms, v);
    }

    let (mut up, mut end) = (Vec::new(), Vec::new());
    for _ in 0..reps {
        let upstream = Some(ToxicSpec {
            toxic: Toxic::Bandwidth { rate: 100_000 },
            stream: Some(Stream::Upstream),
            toxicity: 1.0,
        });
        up.push(upload(300_000, upstream).await?);
        end.push(upstream_limit_end(50_000).await?);
    }
    row(
        "bandwidth 100KB/s (upstream)",
        "300 000 B uploaded to an echo service",
        Unit::Ms.show(3.0),
        Unit::Ms,
        up,
    );
    row(
        "limit_data 50KB (upstream)",
        "client sends 100 kB, then sees the close after",
        "at once".into(),
        Unit::Ms,
        end,
    );

    let mut v = Vec::new();
    for _ in 0..reps {
        v.push(idle_close(Duration::from_millis(300), Duration::from_secs(5)).await?);
    }
    row(
        "timeout 300ms",
        "idle open connection closed after",
        "300 ms".into(),
        Unit::Ms,
        v,
    );
    let mut v = Vec::new();
    for _ in 0..reps {
        v.push(idle_close(Duration::ZERO, Duration::from_secs(2)).await?);
    }
    row(
        "timeout 0",
        "idle connection still open after (2 s cap)",
        "2000 ms (never closed)".into(),
        Unit::Ms,
        v,
    );

    let mut v = Vec::new();
    for _ in 0..reps {
        v.push(limited(10_000).await?);
    }
    row(
        "limit_data 10000 B",
        "bytes received for a 12-byte request",
        "10000 B".into(),
        Unit::Bytes,
        v,
    );

    let mut v = Vec::new();
    for _ in 0..reps {
        v.push(refused().await?);
    }
    row(
        "down",
        "connection attempts refused",
        "100.0 %".into(),
        Unit::Percent,
        v,
    );

    let mut v = Vec::new();
    for _ in 0..reps {
        v.push(http_errors(0.25).await?);
    }
    row(
        "http_error 503, fraction 0.25",
        "keep-alive requests failed (200, connection open before)",
        "25.0 %".into(),
        Unit::Percent,
        v,
    );

    println!("| toxic | measured | expected | median of {reps} | range |");
    println!("|---|---|---|---|---|");
    for mut r in rows {
        let unit = r.unit;
        let lo = r.samples.iter().copied().fold(f64::MAX, f64::min);
        let hi = r.samples.iter().copied().fold(f64::MIN, f64::max);
        let m = median(&mut r.samples);
        println!(
            "| {} | {} | {} | {} | {} – {} |",
            r.toxic,
            r.measure,
            r.expected,
            unit.show(m),
            unit.show(lo),
            unit.show(hi)
        );
    }
    Ok(())
}
