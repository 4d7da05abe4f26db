//! HTTP/1.x message framing, the one parser behind the load generator's client, the HTTP
//! checks and the fault proxy: heads are parsed by `httparse`, and this module decides from
//! them how the body is delimited (RFC 9112 §6). Pure: bytes in, framing out.

use std::mem::MaybeUninit;

/// Most headers a head may have; more is treated as malformed.
const MAX_HEADERS: usize = 128;

/// How a message's body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// Exactly this many bytes (0: no body).
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// A response without length: the body ends when the server closes.
    UntilClose,
    /// A request that leaves HTTP (an upgrade, CONNECT) or frames itself ambiguously (two
    /// different lengths: the request-smuggling shape): nobody can tell where it ends.
    Unknown,
}

/// A response's head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    /// Bytes of the head, blank line included: the body starts here.
    pub len: usize,
    /// The status code.
    pub status: u16,
    /// How the body is delimited.
    pub body: Body,
    /// The server closes the connection after this response.
    pub close: bool,
}

/// A request's head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead {
    /// Bytes of the head, blank line included.
    pub len: usize,
    /// How the body is delimited.
    pub body: Body,
    /// `Expect: 100-continue`: the client waits for an interim response before the body.
    pub expect_continue: bool,
}

/// Every value of the header `name`, trimmed. Compared without allocating: the load generator
/// parses a head per response and the fault proxy one per request.
fn values<'a>(
    headers: &'a [httparse::Header<'a>],
    name: &'a str,
) -> impl Iterator<Item = &'a [u8]> {
    headers
        .iter()
        .filter(move |h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value.trim_ascii())
}

/// Room for a head's headers, left uninitialised: httparse fills what it uses (zeroing all
/// `MAX_HEADERS` on every parse was a noticeable share of the proxy's own work).
fn header_slots<'b>() -> [MaybeUninit<httparse::Header<'b>>; MAX_HEADERS] {
    [const { MaybeUninit::uninit() }; MAX_HEADERS]
}

/// The body framing the headers declare; `None` when they declare neither a transfer coding
/// nor a length. Transfer-Encoding wins over Content-Length (RFC 9112 §6.3).
fn declared(headers: &[httparse::Header<'_>]) -> Option<Body> {
    let chunked = |v: &[u8]| {
        v.rsplit(|b| *b == b',')
            .next()
            .is_some_and(|last| last.trim_ascii().eq_ignore_ascii_case(b"chunked"))
    };
    if values(headers, "transfer-encoding").any(chunked) {
        return Some(Body::Chunked);
    }
    let mut lengths = values(headers, "content-length");
    let first = lengths.next()?;
    // Repeated equal values are allowed; different ones are not.
    if lengths.any(|v| !v.eq_ignore_ascii_case(first)) {
        return Some(Body::Unknown);
    }
    let length = std::str::from_utf8(first).ok().and_then(|v| v.parse().ok());
    Some(length.map_or(Body::Unknown, Body::Length))
}

/// The response head at the start of `buf`: `Ok(None)` while it is incomplete, `Err` when the
/// bytes are not an HTTP/1.x response.
pub fn response_head(buf: &[u8]) -> Result<Option<ResponseHead>, String> {
    let mut headers = header_slots();
    let mut res = httparse::Response::new(&mut []);
    let parsed = httparse::ParserConfig::default().parse_response_with_uninit_headers(
        &mut res,
        buf,
        &mut headers,
    );
    let len = match parsed {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(format!("not an HTTP/1.x response: {e}")),
    };
    let status = res.code.unwrap_or(0);
    let mut connection = values(res.headers, "connection");
    let close = if res.version == Some(0) {
        !connection.any(|v| v.eq_ignore_ascii_case(b"keep-alive"))
    } else {
        connection.any(|v| v.eq_ignore_ascii_case(b"close"))
    };
    let body = if status == 204 || status == 304 || (100..200).contains(&status) {
        Body::Length(0)
    } else {
        declared(res.headers).unwrap_or(Body::UntilClose)
    };
    Ok(Some(ResponseHead {
        len,
        status,
        body,
        close: close || body == Body::UntilClose,
    }))
}

/// The request head at the start of `buf`: `Ok(None)` while it is incomplete, `Err` when the
/// bytes are not an HTTP/1.x request.
pub fn request_head(buf: &[u8]) -> Result<Option<RequestHead>, String> {
    let mut headers = header_slots();
    let mut req = httparse::Request::new(&mut []);
    let len = match req.parse_with_uninit_headers(buf, &mut headers) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(format!("not an HTTP/1.x request: {e}")),
    };
    let expect_continue =
        values(req.headers, "expect").any(|v| v.eq_ignore_ascii_case(b"100-continue"));
    let body = if req.method == Some("CONNECT") || values(req.headers, "upgrade").next().is_some() {
        Body::Unknown
    } else {
        // A request without a length has no body (RFC 9112 §6.3, rule 7).
        declared(req.headers).unwrap_or(Body::Length(0))
    };
    Ok(Some(RequestHead {
        len,
        body,
        expect_continue,
    }))
}

/// A chunk-size line at the start of `buf` (extensions allowed): `Ok(None)` while the line is
/// incomplete, else the bytes of the line and the chunk's size.
pub fn chunk_size(buf: &[u8]) -> Result<Option<(usize, u64)>, String> {
    match httparse::parse_chunk_size(buf) {
        Ok(httparse::Status::Complete((n, size))) => Ok(Some((n, size))),
        Ok(httparse::Status::Partial) => Ok(None),
        Err(_) => Err("malformed chunk size".to_string()),
    }
}

/// Where a complete chunked body in `buf` ends and its data: `Ok(None)` while it is
/// incomplete. Trailer fields after the last chunk are skipped.
pub fn dechunk(buf: &[u8]) -> Result<Option<(usize, Vec<u8>)>, String> {
    let mut pos = 0;
    let mut data = Vec::new();
    loop {
        let Some((line, size)) = chunk_size(&buf[pos..])? else {
            return Ok(None);
        };
        pos += line;
        if size == 0 {
            // Trailer lines, then the blank line that ends the body.
            loop {
                let Some(end) = buf[pos..].windows(2).position(|w| w == b"\r\n") else {
                    return Ok(None);
                };
                pos += end + 2;
                if end == 0 {
                    return Ok(Some((pos, data)));
                }
            }
        }
        let size = usize::try_from(size).map_err(|_| "chunk too large".to_string())?;
        let end = pos.checked_add(size).ok_or("chunk too large")?;
        if buf.len() < end + 2 {
            return Ok(None);
        }
        if &buf[end..end + 2] != b"\r\n" {
            return Err("chunk data not followed by CRLF".to_string());
        }
        data.extend_from_slice(&buf[pos..end]);
        pos = end + 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_response_head_says_how_its_body_ends() {
        let head = |s: &str| response_head(s.as_bytes()).unwrap().unwrap();
        let r = head("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
        assert_eq!(
            (r.status, r.body, r.close, r.len),
            (200, Body::Length(5), false, 38)
        );
        let r = head(
            "HTTP/1.1 503 Busy\r\ncontent-length: 9\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        );
        assert_eq!(r.body, Body::Chunked, "transfer coding wins");
        let r = head("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
        assert_eq!((r.body, r.close), (Body::UntilClose, true));
        let r = head("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n");
        assert!(r.close, "HTTP/1.0 closes unless keep-alive");
        let r = head("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 1\r\n\r\n");
        assert!(!r.close);
        let r = head("HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n");
        assert_eq!(r.body, Body::Length(0), "304 has no body whatever it says");
        let r = head("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n");
        assert_eq!(r.body, Body::Unknown);
        let r = head("HTTP/1.1 200 OK\r\nContent-Length: 4\r\nContent-Length:  4 \r\n\r\n");
        assert_eq!(
            r.body,
            Body::Length(4),
            "a repeated equal length is allowed"
        );
        let r = head("HTTP/1.1 200 OK\r\nTransfer-Encoding: GZIP , Chunked \r\n\r\n");
        assert_eq!(r.body, Body::Chunked, "codings compare without case");
        assert_eq!(response_head(b"HTTP/1.1 200 OK\r\nA: b\r\n").unwrap(), None);
        assert!(response_head(b"SSH-2.0-OpenSSH\r\n\r\n").is_err());
    }

    #[test]
    fn a_request_head_says_how_its_body_ends() {
        let head = |s: &str| request_head(s.as_bytes()).unwrap().unwrap();
        assert_eq!(
            head("GET / HTTP/1.1\r\nHost: a\r\n\r\n").body,
            Body::Length(0)
        );
        let r = head("POST / HTTP/1.1\r\nContent-Length: 7\r\nExpect: 100-continue\r\n\r\n");
        assert_eq!((r.body, r.expect_continue), (Body::Length(7), true));
        assert_eq!(
            head("GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n").body,
            Body::Unknown
        );
        assert_eq!(head("CONNECT a:443 HTTP/1.1\r\n\r\n").body, Body::Unknown);
        assert_eq!(
            head("POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n").body,
            Body::Unknown
        );
        assert!(
            request_head(b"\x16\x03\x01\x02\x00").is_err(),
            "TLS is not HTTP"
        );
    }

    #[test]
    fn chunked_bodies_are_decoded_with_extensions_and_trailers() {
        let body = b"3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Sum: 1\r\n\r\nnext";
        let (end, data) = dechunk(body).unwrap().unwrap();
        assert_eq!(data, b"abcde");
        assert_eq!(&body[end..], b"next");
        for cut in 0..end {
            assert_eq!(dechunk(&body[..cut]).unwrap(), None, "cut at {cut}");
        }
        assert!(dechunk(b"zz\r\n").is_err());
        assert!(dechunk(b"2\r\nabcd\r\n").is_err());
    }
}
