//! A small HTTP/1.1 server for cargo-gate's load tests and benchmarks (`bench/load.sh`).
//!
//! ```text
//! load_server [--port N] [--delay-ms N] [--fail-every N] [--stall-ms N --stall-period-ms N]
//! ```
//! It prints `listening on 127.0.0.1:PORT` once ready. `--delay-ms` adds a fixed service time;
//! `--fail-every N` answers 500 to every Nth request; with `--stall-*` the server answers nothing
//! during the first `stall-ms` of every `stall-period-ms` (a GC pause, a lock convoy).
//! `GET /__count` answers the number of requests served so far (itself not counted), so a
//! benchmark can measure a client's throughput from the server's side.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

struct Config {
    delay: Duration,
    fail_every: u64,
    stall: Duration,
    stall_period: Duration,
}

fn arg(args: &[String], name: &str) -> Option<u64> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let config = Arc::new(Config {
        delay: Duration::from_millis(arg(&args, "--delay-ms").unwrap_or(0)),
        fail_every: arg(&args, "--fail-every").unwrap_or(0),
        stall: Duration::from_millis(arg(&args, "--stall-ms").unwrap_or(0)),
        stall_period: Duration::from_millis(arg(&args, "--stall-period-ms").unwrap_or(1000)),
    });
    let port = arg(&args, "--port").unwrap_or(0);
    let listener = match TcpListener::bind(("127.0.0.1", port as u16)) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("cannot listen: {e}");
            std::process::exit(2);
        }
    };
    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    println!("listening on {addr}");
    let _ = std::io::stdout().flush();
    let counter = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    for stream in listener.incoming().flatten() {
        let config = Arc::clone(&config);
        let counter = Arc::clone(&counter);
        std::thread::spawn(move || serve(stream, &config, &counter, start));
    }
}

fn serve(stream: TcpStream, config: &Config, counter: &AtomicU64, start: Instant) {
    let _ = stream.set_nodelay(true);
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    loop {
        // Request line and headers; bodies are read by Content-Length.
        let mut length = 0usize;
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let count_asked = line.starts_with("GET /__count ");
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            if line == "\r\n" || line == "\n" {
                break;
            }
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse().unwrap_or(0);
            }
        }
        if length > 0 {
            let mut body = vec![0u8; length];
            if std::io::Read::read_exact(&mut reader, &mut body).is_err() {
                return;
            }
        }
        if count_asked {
            let n = counter.load(Ordering::Relaxed).to_string();
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", n.len());
            if writer.write_all(format!("{head}{n}").as_bytes()).is_err() {
                return;
            }
            continue;
        }
        if !config.stall.is_zero() {
            let period = config.stall_period.as_nanos().max(1);
            let phase = Duration::from_nanos((start.elapsed().as_nanos() % period) as u64);
            if phase < config.stall {
                std::thread::sleep(config.stall - phase);
            }
        }
        if !config.delay.is_zero() {
            std::thread::sleep(config.delay);
        }
        let n = counter.fetch_add(1, Ordering::Relaxed) + 1;
        let response: &[u8] = if config.fail_every > 0 && n.is_multiple_of(config.fail_every) {
            b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 5\r\n\r\nerror"
        } else {
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"
        };
        if writer.write_all(response).is_err() {
            return;
        }
    }
}
