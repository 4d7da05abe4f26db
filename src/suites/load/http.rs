//! The load generator's HTTP client: a minimal HTTP/1.1 client (one keep-alive connection, a
//! pre-serialized request, a response parser for `Content-Length`, chunked and read-to-close
//! bodies, small and allocation-light so the generator is never the bottleneck), over plain TCP
//! or TLS; over TLS, HTTP/2 is used when the server offers it (ALPN), through hyper.

use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::util::http1::{self, Body};

/// TLS settings of a target.
#[derive(Clone)]
pub struct Tls {
    /// Client configuration (roots, ALPN `h2` and `http/1.1`).
    pub config: Arc<rustls::ClientConfig>,
    /// The name the certificate must carry.
    pub name: rustls::pki_types::ServerName<'static>,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tls({:?})", self.name)
    }
}

/// Where requests go and what they are.
#[derive(Debug, Clone)]
pub struct Target {
    /// Resolved once, before the run: the run only ever connects here.
    pub addr: SocketAddr,
    /// The serialized HTTP/1.1 request.
    pub request: Vec<u8>,
    /// TLS, for `https://` targets.
    pub tls: Option<Tls>,
    /// The same request for HTTP/2.
    pub h2: http::Request<Bytes>,
}

/// A client configuration trusting the system's roots and, optionally, the CA certificates in
/// a PEM file (for internal or self-signed services); it offers HTTP/2 and HTTP/1.1.
pub fn client_config(extra_ca: Option<&Path>) -> Result<Arc<rustls::ClientConfig>, String> {
    use rustls::pki_types::{CertificateDer, pem::PemObject};
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    if let Some(path) = extra_ca {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
            .map_err(|e| format!("cannot read CA file {}: {e}", path.display()))?
            .collect::<Result<_, _>>()
            .map_err(|e| format!("{}: not PEM certificates: {e}", path.display()))?;
        if certs.is_empty() {
            return Err(format!("{} holds no certificate", path.display()));
        }
        for c in certs {
            roots
                .add(c)
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| format!("TLS setup: {e}"))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Builds a target: the request in both protocols, and TLS for `https://`.
pub fn target(
    addr: SocketAddr,
    method: &str,
    url: &Url,
    headers: &[(String, String)],
    body: Option<&str>,
    tls: Option<Arc<rustls::ClientConfig>>,
) -> Result<Target, String> {
    let tls = match (url.tls, tls) {
        (false, _) => None,
        (true, Some(config)) => Some(Tls {
            config,
            name: rustls::pki_types::ServerName::try_from(url.host.clone())
                .map_err(|e| format!("`{}`: {e}", url.host))?,
        }),
        (true, None) => return Err("an https:// target needs a TLS configuration".to_string()),
    };
    let scheme = if url.tls { "https" } else { "http" };
    let host = if url.host.contains(':') {
        format!("[{}]", url.host)
    } else {
        url.host.clone()
    };
    let mut h2 = http::Request::builder()
        .method(method)
        .uri(format!("{scheme}://{host}:{}{}", url.port, url.path));
    for (k, v) in headers {
        h2 = h2.header(k.as_str(), v.as_str());
    }
    let h2 = h2
        .body(Bytes::from(body.unwrap_or("").to_string()))
        .map_err(|e| format!("invalid request: {e}"))?;
    Ok(Target {
        addr,
        request: build_request(method, url, headers, body),
        tls,
        h2,
    })
}

/// The parts of an `http://` or `https://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    /// `https://`.
    pub tls: bool,
    /// Host as written (brackets removed for IPv6).
    pub host: String,
    /// Port (80 when omitted).
    pub port: u16,
    /// Path and query, at least `/`.
    pub path: String,
}

/// Parses an `http[s]://host[:port][/path]` URL.
pub fn parse_url(url: &str) -> Result<Url, String> {
    let (tls, rest) = match (url.strip_prefix("http://"), url.strip_prefix("https://")) {
        (Some(r), _) => (false, r),
        (_, Some(r)) => (true, r),
        _ => return Err(format!("`{url}` is not an http:// or https:// URL")),
    };
    let default_port = if tls { 443 } else { 80 };
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
            None => default_port,
        };
        (h.to_string(), port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (
                h.to_string(),
                p.parse().map_err(|_| format!("`{url}`: bad port `{p}`"))?,
            ),
            None => (authority.to_string(), default_port),
        }
    };
    if host.is_empty() {
        return Err(format!("`{url}` has no host"));
    }
    Ok(Url {
        tls,
        host,
        port,
        path,
    })
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

/// A byte stream the HTTP/1.1 client can use: TCP or TLS.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// One keep-alive connection.
pub enum Conn {
    /// HTTP/1.1 over TCP or TLS.
    H1 {
        /// The stream.
        stream: Box<dyn Io>,
        /// Read buffer.
        buf: Vec<u8>,
    },
    /// HTTP/2 (TLS with ALPN `h2`).
    H2 {
        /// hyper's request sender for this connection.
        send: hyper::client::conn::http2::SendRequest<Full<Bytes>>,
    },
}

impl Conn {
    /// Connects: TCP, then TLS for https, then HTTP/2 when the server chose `h2`.
    pub async fn open(target: &Target) -> io::Result<Conn> {
        let tcp = TcpStream::connect(target.addr).await?;
        tcp.set_nodelay(true)?;
        let Some(tls) = &target.tls else {
            return Ok(Conn::H1 {
                stream: Box::new(tcp),
                buf: Vec::with_capacity(8192),
            });
        };
        let stream = tokio_rustls::TlsConnector::from(Arc::clone(&tls.config))
            .connect(tls.name.clone(), tcp)
            .await?;
        if stream.get_ref().1.alpn_protocol() == Some(b"h2") {
            let (send, connection) = hyper::client::conn::http2::handshake(
                hyper_util::rt::TokioExecutor::new(),
                hyper_util::rt::TokioIo::new(stream),
            )
            .await
            .map_err(io::Error::other)?;
            tokio::spawn(connection);
            return Ok(Conn::H2 { send });
        }
        Ok(Conn::H1 {
            stream: Box::new(stream),
            buf: Vec::with_capacity(8192),
        })
    }

    /// `HTTP/1.1` or `HTTP/2`.
    pub fn protocol(&self) -> &'static str {
        match self {
            Conn::H1 { .. } => "HTTP/1.1",
            Conn::H2 { .. } => "HTTP/2",
        }
    }

    /// Sends the target's request and reads the whole response.
    pub async fn send(&mut self, target: &Target) -> io::Result<Response> {
        match self {
            Conn::H1 { stream, buf } => send_h1(stream.as_mut(), buf, &target.request).await,
            Conn::H2 { send } => {
                send.ready().await.map_err(io::Error::other)?;
                let (parts, body) = target.h2.clone().into_parts();
                let resp = send
                    .send_request(http::Request::from_parts(parts, Full::new(body)))
                    .await
                    .map_err(io::Error::other)?;
                let status = resp.status().as_u16();
                let body = resp
                    .into_body()
                    .collect()
                    .await
                    .map_err(io::Error::other)?
                    .to_bytes();
                Ok(Response {
                    status,
                    bytes: body.len(),
                    close: false,
                })
            }
        }
    }
}

/// Reads what is there onto the end of `buf`, into its spare room: zeroing 8 KiB before every
/// read (to hand `read` an initialised slice) was most of the load generator's own work per
/// request.
async fn fill(stream: &mut dyn Io, buf: &mut Vec<u8>) -> io::Result<usize> {
    buf.reserve(8192);
    stream.read_buf(buf).await
}

async fn send_h1(stream: &mut dyn Io, buf: &mut Vec<u8>, request: &[u8]) -> io::Result<Response> {
    stream.write_all(request).await?;
    buf.clear();
    let head = loop {
        if let Some(head) = http1::response_head(buf).map_err(|e| bad(&e))? {
            break head;
        }
        if fill(stream, buf).await? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed before the response",
            ));
        }
    };
    let body_len = match head.body {
        Body::Chunked => read_chunked(stream, buf, head.len).await?,
        Body::Length(n) => {
            let n = usize::try_from(n).map_err(|_| bad("content-length too large"))?;
            while buf.len() < head.len + n {
                if fill(stream, buf).await? == 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "body cut short",
                    ));
                }
            }
            n
        }
        // No length: the body ends when the server closes.
        Body::UntilClose => {
            while fill(stream, buf).await? > 0 {}
            buf.len() - head.len
        }
        Body::Unknown => return Err(bad("conflicting content-length headers")),
    };
    Ok(Response {
        status: head.status,
        bytes: head.len + body_len,
        close: head.close,
    })
}

/// Reads a chunked body starting at `start` in `buf`; returns its length on the wire. Each
/// part is parsed once as it arrives (a large body is not scanned again on every read).
async fn read_chunked(stream: &mut dyn Io, buf: &mut Vec<u8>, start: usize) -> io::Result<usize> {
    let cut = || io::Error::new(io::ErrorKind::UnexpectedEof, "chunked body cut short");
    let mut pos = start;
    loop {
        let (line, size) = loop {
            if let Some(found) = http1::chunk_size(&buf[pos..]).map_err(|e| bad(&e))? {
                break found;
            }
            if fill(stream, buf).await? == 0 {
                return Err(cut());
            }
        };
        pos += line;
        if size == 0 {
            // Trailer lines, then the blank line that ends the body.
            loop {
                let Some(end) = buf[pos..].windows(2).position(|w| w == b"\r\n") else {
                    if fill(stream, buf).await? == 0 {
                        return Err(cut());
                    }
                    continue;
                };
                pos += end + 2;
                if end == 0 {
                    return Ok(pos - start);
                }
            }
        }
        let size = usize::try_from(size).map_err(|_| bad("chunk too large"))?;
        let need = pos.saturating_add(size).saturating_add(2);
        while buf.len() < need {
            if fill(stream, buf).await? == 0 {
                return Err(cut());
            }
        }
        pos = need;
    }
}

fn bad(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls() {
        assert_eq!(
            parse_url("http://127.0.0.1:8080/health?x=1").unwrap(),
            Url {
                tls: false,
                host: "127.0.0.1".into(),
                port: 8080,
                path: "/health?x=1".into()
            }
        );
        assert_eq!(
            parse_url("http://[::1]:9000").unwrap(),
            Url {
                tls: false,
                host: "::1".into(),
                port: 9000,
                path: "/".into()
            }
        );
        assert_eq!(parse_url("http://localhost").unwrap().port, 80);
        let https = parse_url("https://example.com/x").unwrap();
        assert_eq!((https.tls, https.port), (true, 443));
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
        let t = target(
            addr,
            "GET",
            &parse_url("http://127.0.0.1:1/").unwrap(),
            &[],
            None,
            None,
        )
        .unwrap();
        let mut c = Conn::open(&t).await.unwrap();
        assert_eq!(c.protocol(), "HTTP/1.1");
        let r = c.send(&t).await.unwrap();
        assert_eq!((r.status, r.close), (200, false));
        assert_eq!(r.bytes, 38 + 5);
        let r = c.send(&t).await.unwrap();
        assert_eq!(r.status, 503);
        let r = c.send(&t).await.unwrap();
        assert_eq!((r.status, r.close), (200, true));
    }
}
