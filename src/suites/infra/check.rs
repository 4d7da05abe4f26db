//! Running checks: HTTP, TCP, command and file, each with optional retry.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use super::patterns::Pattern;
use super::spec::{CheckKind, CheckSpec};
use crate::exec::process::{self, Exit, Limits};
use crate::util::http1::{self, Body};

/// How long one attempt of a network check may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);

fn connect(address: &str, timeout: Duration) -> Result<TcpStream, String> {
    let addrs: Vec<_> = address
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {address}: {e}"))?
        .collect();
    let mut last = format!("{address} has no address");
    for a in addrs {
        match TcpStream::connect_timeout(&a, timeout) {
            Ok(s) => return Ok(s),
            Err(e) => last = format!("cannot connect to {a}: {e}"),
        }
    }
    Err(last)
}

/// A byte stream for the blocking client: TCP or TLS over TCP.
trait Stream: Read + Write {}
impl<T: Read + Write> Stream for T {}

/// A blocking HTTP/1.1 request with `Connection: close`: status, body, time. `https://` uses
/// TLS (the system's roots, plus the CA certificates in `ca`).
pub fn http(
    url: &str,
    method: &str,
    headers: &[(String, String)],
    body: Option<&str>,
    timeout: Duration,
    ca: Option<&Path>,
) -> Result<(u16, String, Duration), String> {
    let u = crate::suites::load::http::parse_url(url)?;
    let host = if u.host.contains(':') {
        format!("[{}]", u.host)
    } else {
        u.host.clone()
    };
    let started = Instant::now();
    let tcp = connect(&format!("{host}:{}", u.port), timeout)?;
    let _ = tcp.set_read_timeout(Some(timeout));
    let _ = tcp.set_write_timeout(Some(timeout));
    let mut s: Box<dyn Stream> = if u.tls {
        // This client speaks HTTP/1.1 only, so that is all it offers.
        let mut config = (*crate::suites::load::http::client_config(ca)?).clone();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let name = rustls::pki_types::ServerName::try_from(u.host.clone())
            .map_err(|e| format!("`{}`: {e}", u.host))?;
        let conn = rustls::ClientConnection::new(std::sync::Arc::new(config), name)
            .map_err(|e| format!("TLS: {e}"))?;
        Box::new(rustls::StreamOwned::new(conn, tcp))
    } else {
        Box::new(tcp)
    };
    let mut req = format!(
        "{method} {} HTTP/1.1\r\nHost: {host}:{}\r\nConnection: close\r\nUser-Agent: cargo-gate\r\n",
        u.path, u.port
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    match body {
        Some(b) => req.push_str(&format!("Content-Length: {}\r\n\r\n{b}", b.len())),
        None => req.push_str("\r\n"),
    }
    s.write_all(req.as_bytes())
        .map_err(|e| format!("cannot send to {url}: {e}"))?;
    // Read until the body is complete (by Content-Length or the final chunk), or the server
    // closes: a server that ignores `Connection: close` must not make every check wait.
    let mut raw = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    let mut closed = false;
    let (head, body) = loop {
        if let Some(done) = response(&raw, closed).map_err(|e| format!("{url}: {e}"))? {
            break done;
        }
        if closed {
            return Err(format!("{url} closed the connection mid-response"));
        }
        match s.read(&mut buf) {
            Ok(0) => closed = true,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(e) if raw.is_empty() => return Err(format!("no answer from {url}: {e}")),
            Err(e) => return Err(format!("{url} stopped answering mid-response: {e}")),
        }
    };
    let elapsed = started.elapsed();
    Ok((
        head.status,
        String::from_utf8_lossy(&body).into_owned(),
        elapsed,
    ))
}

/// The whole response in `raw` (its head and decoded body), or `None` while more is to come;
/// `closed` says the server has closed, which ends a body without length.
fn response(raw: &[u8], closed: bool) -> Result<Option<(http1::ResponseHead, Vec<u8>)>, String> {
    let Some(head) = http1::response_head(raw)? else {
        return if closed && raw.is_empty() {
            Err("sent no HTTP response".to_string())
        } else {
            Ok(None)
        };
    };
    let rest = &raw[head.len..];
    let body = match head.body {
        Body::Length(n) => match usize::try_from(n) {
            Ok(n) if rest.len() >= n => Some(rest[..n].to_vec()),
            _ => None,
        },
        Body::Chunked => http1::dechunk(rest)?.map(|(_, data)| data),
        Body::UntilClose => closed.then(|| rest.to_vec()),
        Body::Unknown => return Err("conflicting content-length headers".to_string()),
    };
    Ok(body.map(|b| (head, b)))
}

fn patterns(what: &str, list: &[Pattern], text: &str) -> Result<(), String> {
    for p in list {
        if let Some(why) = p.check(text) {
            let shown: String = text.chars().take(300).collect();
            return Err(format!("{what} {why}: {shown:?}"));
        }
    }
    Ok(())
}

/// One attempt. With a `deadline` (a probe during a fault, a recovery check), every wait of
/// it — connecting, reading, a command, whose process group is killed then — ends by the
/// deadline, so nothing it started outlives the experiment's schedule.
pub fn attempt(kind: &CheckKind, root: &Path, deadline: Option<Instant>) -> Result<String, String> {
    let left = match deadline {
        Some(d) => {
            let left = d.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err("no time left before the deadline".to_string());
            }
            Some(left)
        }
        None => None,
    };
    let cap = |t: Duration| left.map_or(t, |l| t.min(l));
    match kind {
        CheckKind::Http {
            url,
            method,
            headers,
            body,
            status,
            expect,
            max_time,
            ca,
        } => http_check(
            &HttpCheck {
                url,
                method,
                headers,
                body: body.as_deref(),
                status: *status,
                expect,
                max_time: *max_time,
            },
            cap,
            ca.as_ref().map(|p| root.join(p)).as_deref(),
        ),
        CheckKind::Tcp {
            address,
            send,
            expect,
        } => tcp_check(address, send.as_deref(), expect, cap(ATTEMPT_TIMEOUT)),
        CheckKind::Command {
            cmd,
            exit,
            stdout,
            stderr,
            timeout,
        } => command_check(cmd, *exit, (stdout, stderr), cap(*timeout), root),
        CheckKind::File {
            path,
            exists,
            mode,
            contains,
        } => file_check(&root.join(path), path, *exists, *mode, contains),
    }
}

/// An HTTP check's request and what it expects.
struct HttpCheck<'a> {
    url: &'a str,
    method: &'a str,
    headers: &'a [(String, String)],
    body: Option<&'a str>,
    status: Option<u16>,
    expect: &'a [Pattern],
    max_time: Option<Duration>,
}

fn http_check(
    c: &HttpCheck<'_>,
    cap: impl Fn(Duration) -> Duration,
    ca: Option<&Path>,
) -> Result<String, String> {
    let url = c.url;
    let timeout = cap(c.max_time.unwrap_or(ATTEMPT_TIMEOUT)).max(Duration::from_millis(1));
    let (code, text, took) = http(url, c.method, c.headers, c.body, timeout, ca)?;
    match c.status {
        Some(want) if code != want => {
            return Err(format!("{url} answered {code}, expected {want}"));
        }
        None if !(200..300).contains(&code) => {
            return Err(format!("{url} answered {code}, expected 2xx"));
        }
        _ => {}
    }
    if let Some(limit) = c.max_time
        && took > limit
    {
        return Err(format!(
            "{url} took {}, limit {}",
            crate::util::units::format_seconds(took.as_secs_f64()),
            crate::util::units::format_seconds(limit.as_secs_f64())
        ));
    }
    patterns("the body", c.expect, &text)?;
    Ok(format!(
        "{code} in {}",
        crate::util::units::format_seconds(took.as_secs_f64())
    ))
}

fn tcp_check(
    address: &str,
    send: Option<&str>,
    expect: &[Pattern],
    timeout: Duration,
) -> Result<String, String> {
    let mut s = connect(address, timeout)?;
    if let Some(data) = send {
        s.write_all(data.as_bytes())
            .map_err(|e| format!("cannot send to {address}: {e}"))?;
    }
    if !expect.is_empty() {
        let _ = s.set_read_timeout(Some(timeout));
        let mut buf = vec![0u8; 64 * 1024];
        let n = s
            .read(&mut buf)
            .map_err(|e| format!("no answer from {address}: {e}"))?;
        patterns("the answer", expect, &String::from_utf8_lossy(&buf[..n]))?;
    }
    Ok(format!("connected to {address}"))
}

fn command_check(
    cmd: &[String],
    exit: i32,
    (stdout, stderr): (&[Pattern], &[Pattern]),
    timeout: Duration,
    root: &Path,
) -> Result<String, String> {
    let (program, args) = cmd.split_first().ok_or("empty command")?;
    let mut c = Command::new(program);
    c.args(args).current_dir(root);
    let out =
        process::output(c, Some(timeout)).map_err(|e| format!("cannot run `{program}`: {e}"))?;
    let code = match out.exit {
        Exit::Code(code) => code,
        Exit::TimedOut => {
            return Err(format!(
                "`{}` did not finish within {}; its process group was killed",
                cmd.join(" "),
                crate::util::units::format_seconds(timeout.as_secs_f64())
            ));
        }
        other => {
            return Err(format!("`{}` was {other}", cmd.join(" ")));
        }
    };
    if code != exit {
        return Err(format!(
            "`{}` exited with {code}, expected {exit}:\n{}",
            cmd.join(" "),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    patterns("stdout", stdout, &String::from_utf8_lossy(&out.stdout))?;
    patterns("stderr", stderr, &String::from_utf8_lossy(&out.stderr))?;
    Ok(format!("exited with {code}"))
}

fn file_check(
    full: &Path,
    path: &Path,
    exists: bool,
    mode: Option<u32>,
    contains: &[Pattern],
) -> Result<String, String> {
    let meta = std::fs::metadata(full);
    match (meta, exists) {
        (Err(_), false) => return Ok(format!("{} does not exist", path.display())),
        (Ok(_), false) => {
            return Err(format!("{} exists, expected it not to", path.display()));
        }
        (Err(e), true) => return Err(format!("{}: {e}", path.display())),
        (Ok(m), true) => {
            if let Some(want) = mode {
                let have = m.permissions().mode() & 0o7777;
                if have != want {
                    return Err(format!(
                        "{} has mode {have:04o}, expected {want:04o}",
                        path.display()
                    ));
                }
            }
        }
    }
    if !contains.is_empty() {
        let text = std::fs::read_to_string(full)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        patterns("the file", contains, &text)?;
    }
    Ok(format!("{} is as expected", path.display()))
}

/// Runs a check, retrying as configured, all of it by `deadline` when there is one. Returns
/// the outcome and how many attempts it took.
pub fn run(
    check: &CheckSpec,
    root: &Path,
    deadline: Option<Instant>,
) -> (Result<String, String>, u32) {
    let started = Instant::now();
    let mut attempts = 0;
    loop {
        attempts += 1;
        let r = attempt(&check.kind, root, deadline);
        match (&r, check.retry) {
            (Ok(_), _) | (Err(_), None) => return (r, attempts),
            (Err(_), Some(retry)) => {
                let next = Instant::now() + retry.every;
                if started.elapsed() + retry.every > retry.within
                    || deadline.is_some_and(|d| next >= d)
                    || process::is_cancelled()
                {
                    return (r, attempts);
                }
                std::thread::sleep(retry.every);
            }
        }
    }
}

/// Runs a command to completion for readiness probes and rollbacks.
pub fn run_command(cmd: &[String], root: &Path, timeout: Duration) -> Result<(), String> {
    let (program, args) = cmd.split_first().ok_or("empty command")?;
    let mut c = Command::new(program);
    c.args(args).current_dir(root);
    let o = process::run(
        c,
        &Limits {
            tail_bytes: 8192,
            slow: None,
            timeout: Some(timeout),
        },
    )
    .map_err(|e| format!("cannot run `{program}`: {e}"))?;
    match o.exit {
        Exit::Code(0) => Ok(()),
        other => Err(format!(
            "`{}` ended with {other:?}: {}",
            cmd.join(" "),
            o.output_text()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_response_is_whole_by_its_framing() {
        let body = |raw: &str, closed| {
            response(raw.as_bytes(), closed)
                .unwrap()
                .map(|(h, b)| (h.status, String::from_utf8(b).unwrap()))
        };
        let sized = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        assert_eq!(body(sized, false), Some((200, "ok".into())));
        assert_eq!(body(&sized[..sized.len() - 1], false), None);
        let chunked = "HTTP/1.1 503 X\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nno\r\n0\r\n\r\n";
        assert_eq!(body(chunked, false), Some((503, "no".into())));
        // Without a length the body is whole only once the server has closed.
        let open = "HTTP/1.1 200 OK\r\n\r\nup";
        assert_eq!(body(open, false), None);
        assert_eq!(body(open, true), Some((200, "up".into())));
        assert!(response(b"", true).is_err());
        assert!(response(b"garbage\r\n\r\n", false).is_err());
    }
}
