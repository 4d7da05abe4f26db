//! A minimal HTTP/1.1 client for load generation: one keep-alive connection, a pre-serialized
//! request, and a response parser for `Content-Length`, chunked and read-to-close bodies. Small
//! and allocation-light so the generator, not the client, is never the bottleneck.

use std::io;
use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Where requests go and what they are.
#[derive(Debug, Clone)]
pub struct Target {
    /// Resolved once, before the run: the run only ever connects here.
    pub addr: SocketAddr,
    /// The serialized request.
    pub request: Vec<u8>,
}

/// The parts of an `http://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    /// Host as written (brackets removed for IPv6).
    pub host: String,
    /// Port (80 when omitted).
    pub port: u16,
    /// Path and query, at least `/`.
    pub path: String,
}

/// Parses an `http://host[:port][/path]` URL.
pub fn parse_url(url: &str) -> Result<Url, String> {
    let rest = url.strip_prefix("http://").ok_or_else(|| {
        if url.starts_with("https://") {
            format!("`{url}`: https is not supported by the load generator yet; target the service over http")
        } else {
            format!("`{url}` is not an http:// URL")
        }
    })?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], rest[i..].to_string()),
        None => (rest, "/".to_string()),
    };
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6
            .split_once(']')
            .ok_or_else(|| format!("`{url}`: unclosed `[`"))?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().map_err(|_| format!("`{url}`: bad port `{p}`"))?,
            None => 80,
        };
        (h.to_string(), port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (
                h.to_string(),
                p.parse().map_err(|_| format!("`{url}`: bad port `{p}`"))?,
            ),
            None => (authority.to_string(), 80),
        }
    };
    if host.is_empty() {
        return Err(format!("`{url}` has no host"));
    }
    Ok(Url { host, port, path })
}

/// Serializes a request with `Host`, keep-alive and `Content-Length` set.
pub fn build_request(
    method: &str,
    url: &Url,
    headers: &[(String, String)],
    body: Option<&str>,
) -> Vec<u8> {
    let host = if url.host.contains(':') {
        format!("[{}]:{}", url.host, url.port)
    } else {
        format!("{}:{}", url.host, url.port)
    };
    let mut r = format!(
        "{method} {} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: cargo-gate\r\nConnection: keep-alive\r\n",
        url.path
    );
    for (k, v) in headers {
        r.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(b) = body {
        r.push_str(&format!("Content-Length: {}\r\n\r\n{b}", b.len()));
    } else {
        r.push_str("\r\n");
    }
    r.into_bytes()
}

/// What came back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// Bytes received (head and body).
    pub bytes: usize,
    /// The server will close the connection.
    pub close: bool,
}

/// One keep-alive connection.
pub struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

fn bad(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.to_string())
}

impl Conn {
    /// Connects.
    pub async fn connect(addr: SocketAddr) -> io::Result<Conn> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            stream,
            buf: Vec::with_capacity(8192),
        })
    }

    async fn fill(&mut self) -> io::Result<usize> {
        let len = self.buf.len();
        self.buf.resize(len + 8192, 0);
        let n = self.stream.read(&mut self.buf[len..]).await;
        self.buf.truncate(len + *n.as_ref().unwrap_or(&0));
        n
    }

    /// Sends a request and reads the whole response.
    pub async fn send(&mut self, request: &[u8]) -> io::Result<Response> {
        self.stream.write_all(request).await?;
        self.buf.clear();
        let head_end = loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                break i + 4;
            }
            if self.fill().await? == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "connection closed before the response",
                ));
            }
        };
        let head = std::str::from_utf8(&self.buf[..head_end])
            .map_err(|_| bad("response head is not UTF-8"))?;
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or("");
        let status: u16 = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad("malformed status line"))?;
        let mut length = None;
        let mut chunked = false;
        let mut close = status_line.starts_with("HTTP/1.0");
        for line in lines {
            let Some((k, v)) = line.split_once(':') else {
                continue;
            };
            let v = v.trim();
            if k.eq_ignore_ascii_case("content-length") {
                length = Some(v.parse::<usize>().map_err(|_| bad("bad content-length"))?);
            } else if k.eq_ignore_ascii_case("transfer-encoding")
                && v.eq_ignore_ascii_case("chunked")
            {
                chunked = true;
            } else if k.eq_ignore_ascii_case("connection") {
                close = v.eq_ignore_ascii_case("close");
            }
        }
        let body_len = if chunked {
            self.read_chunked(head_end).await?
        } else if let Some(n) = length {
            while self.buf.len() < head_end + n {
                if self.fill().await? == 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "body cut short",
                    ));
                }
            }
            n
        } else if status == 204 || status == 304 || (100..200).contains(&status) {
            0
        } else {
            // No length: the body ends when the server closes.
            while self.fill().await? > 0 {}
            close = true;
            self.buf.len() - head_end
        };
        Ok(Response {
            status,
            bytes: head_end + body_len,
            close,
        })
    }

    async fn read_chunked(&mut self, mut pos: usize) -> io::Result<usize> {
        let start = pos;
        loop {
            let line_end = loop {
                if let Some(i) = find(&self.buf[pos..], b"\r\n") {
                    break pos + i;
                }
                if self.fill().await? == 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "chunked body cut short",
                    ));
                }
            };
            let size_text =
                std::str::from_utf8(&self.buf[pos..line_end]).map_err(|_| bad("bad chunk size"))?;
            let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| bad("bad chunk size"))?;
            let need = line_end + 2 + size + 2;
            while self.buf.len() < need {
                if self.fill().await? == 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "chunk cut short",
                    ));
                }
            }
            pos = need;
            if size == 0 {
                return Ok(pos - start);
            }
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls() {
        assert_eq!(
            parse_url("http://127.0.0.1:8080/health?x=1").unwrap(),
            Url {
                host: "127.0.0.1".into(),
                port: 8080,
                path: "/health?x=1".into()
            }
        );
        assert_eq!(
            parse_url("http://[::1]:9000").unwrap(),
            Url {
                host: "::1".into(),
                port: 9000,
                path: "/".into()
            }
        );
        assert_eq!(parse_url("http://localhost").unwrap().port, 80);
        assert!(
            parse_url("https://x")
                .unwrap_err()
                .contains("https is not supported")
        );
        assert!(parse_url("ftp://x").is_err());
        assert!(parse_url("http://h:notaport/").is_err());
        assert!(parse_url("http://:80/").is_err());
    }

    #[test]
    fn builds_requests() {
        let u = parse_url("http://[::1]:9000/a").unwrap();
        let r = String::from_utf8(build_request(
            "POST",
            &u,
            &[("X-A".into(), "1".into())],
            Some("hi"),
        ))
        .unwrap();
        assert!(r.starts_with("POST /a HTTP/1.1\r\nHost: [::1]:9000\r\n"));
        assert!(r.ends_with("X-A: 1\r\nContent-Length: 2\r\n\r\nhi"));
    }

    async fn serve(responses: &'static [&'static [u8]]) -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 4096];
            for r in responses {
                let _ = s.read(&mut buf).await;
                s.write_all(r).await.unwrap();
            }
        });
        addr
    }

    #[tokio::test]
    async fn reads_length_chunked_and_close_delimited_bodies() {
        let addr = serve(&[
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
            b"HTTP/1.1 503 Busy\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end",
        ])
        .await;
        let mut c = Conn::connect(addr).await.unwrap();
        let req = build_request("GET", &parse_url("http://127.0.0.1:1/").unwrap(), &[], None);
        let r = c.send(&req).await.unwrap();
        assert_eq!((r.status, r.close), (200, false));
        assert_eq!(r.bytes, 38 + 5);
        let r = c.send(&req).await.unwrap();
        assert_eq!(r.status, 503);
        let r = c.send(&req).await.unwrap();
        assert_eq!((r.status, r.close), (200, true));
    }
}
