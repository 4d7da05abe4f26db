//! Where HTTP/1.x requests begin and end in a client's byte stream, so `http_error` can be
//! decided per request on keep-alive connections. Pure: bytes in, boundaries out.
//!
//! The framer follows requests as long as the stream parses as HTTP/1.x; anything else (TLS, a
//! database protocol, an upgrade to WebSocket, a malformed head) turns the connection opaque
//! for good, and an opaque connection is forwarded untouched.

use crate::util::http1::{self, Body};

/// Longest request head followed; a longer one makes the connection opaque.
const MAX_HEAD: usize = 64 * 1024;

/// A run of bytes of the stream, all belonging to one request (or to none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// How many bytes.
    pub len: usize,
    /// A new request begins with the first of them.
    pub starts: bool,
    /// The request's head is complete with the last of them.
    pub head_done: bool,
    /// The request (head and body) is complete with the last of them.
    pub done: bool,
}

impl Segment {
    /// `len` bytes that start, end or complete nothing.
    fn plain(len: usize) -> Segment {
        Segment {
            len,
            starts: false,
            head_done: false,
            done: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// Between requests (blank lines before a request line are skipped, as RFC 9112 allows).
    Idle,
    /// Inside a head, not yet complete.
    Head,
    /// Inside a body of known length: bytes left.
    Body(u64),
    /// Inside a chunked body.
    Chunked(Chunk),
    /// Not HTTP (or no longer): nothing is followed.
    Opaque,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Chunk {
    /// Reading a chunk-size line (up to its LF).
    Size,
    /// Inside chunk data: bytes left, then its CRLF.
    Data(u64),
    /// The CRLF after chunk data: bytes left.
    DataEnd(u8),
    /// Trailer lines after the last chunk; `true` when the current line is still empty.
    Trailer(bool),
}

/// Follows the requests of one connection.
#[derive(Debug, Clone)]
pub struct Framer {
    state: State,
    /// The head (or chunk-size line) read so far.
    line: Vec<u8>,
    expect_continue: bool,
}

impl Default for Framer {
    fn default() -> Self {
        Framer::new()
    }
}

/// Just past the blank line that ends a head in `buf`, if it is there: a head has a few
/// lines, so jumping from line end to line end beats comparing every window of four bytes.
fn head_end(buf: &[u8]) -> Option<usize> {
    memchr::memchr_iter(b'\n', buf)
        .find(|&i| i >= 3 && &buf[i - 3..=i] == b"\r\n\r\n")
        .map(|i| i + 1)
}

/// How a completed head frames the body, and whether it expects `100 Continue`: a head that
/// does not parse frames nothing (the connection turns opaque).
fn body_of(head: &[u8]) -> (Body, bool) {
    match http1::request_head(head) {
        Ok(Some(h)) => (h.body, h.expect_continue),
        Ok(None) | Err(_) => (Body::Unknown, false),
    }
}

impl Framer {
    /// A connection that has sent nothing yet.
    pub fn new() -> Framer {
        Framer {
            state: State::Idle,
            line: Vec::new(),
            expect_continue: false,
        }
    }

    /// True once the stream is not followed any more.
    #[cfg(test)]
    pub fn opaque(&self) -> bool {
        self.state == State::Opaque
    }

    /// Whether the current request's head asked for `100 Continue` (its body comes only after).
    pub fn expect_continue(&self) -> bool {
        self.expect_continue
    }

    /// Splits `data`, the next bytes of the stream, into segments.
    #[cfg(test)]
    pub fn split(&mut self, data: &[u8]) -> Vec<Segment> {
        let mut out = Vec::new();
        let mut at = 0;
        while at < data.len() {
            let seg = self.segment(&data[at..]);
            at += seg.len;
            out.push(seg);
        }
        out
    }

    /// One segment from the front of `data`, never empty unless `data` is. The proxy calls it
    /// in a loop rather than collecting the segments: every read of a client passes here.
    pub fn segment(&mut self, data: &[u8]) -> Segment {
        if data.is_empty() {
            return Segment::plain(0);
        }
        let plain = Segment::plain;
        match self.state.clone() {
            State::Opaque => plain(data.len()),
            State::Idle => {
                let blank = data
                    .iter()
                    .take_while(|b| **b == b'\r' || **b == b'\n')
                    .count();
                if blank > 0 {
                    return plain(blank);
                }
                if !data[0].is_ascii_uppercase() {
                    // Request methods are upper-case tokens; anything else is another protocol.
                    self.state = State::Opaque;
                    return plain(data.len());
                }
                self.state = State::Head;
                self.line.clear();
                self.expect_continue = false;
                let mut seg = self.head(data);
                seg.starts = true;
                seg
            }
            State::Head => self.head(data),
            State::Body(left) => {
                let len = (left.min(data.len() as u64)) as usize;
                let rest = left - len as u64;
                self.state = if rest == 0 {
                    State::Idle
                } else {
                    State::Body(rest)
                };
                Segment {
                    done: rest == 0,
                    ..plain(len)
                }
            }
            State::Chunked(c) => self.chunked(c, data),
        }
    }

    fn head(&mut self, data: &[u8]) -> Segment {
        // The usual case, a whole head in one read with nothing held from the last: found and
        // parsed in place, not copied (every request through the proxy passes here).
        if self.line.is_empty() {
            let window = &data[..data.len().min(MAX_HEAD + 4)];
            if let Some(end) = head_end(window) {
                let (body, expect) = body_of(&window[..end]);
                return self.head_complete(body, expect, end);
            }
        }
        // The end of the head can straddle two reads: search from three bytes back.
        let from = self.line.len().saturating_sub(3);
        let take = data
            .len()
            .min(MAX_HEAD + 4 - self.line.len().min(MAX_HEAD + 4));
        self.line.extend_from_slice(&data[..take]);
        let end = head_end(&self.line[from..]).map(|p| from + p);
        let Some(end) = end else {
            if self.line.len() > MAX_HEAD {
                self.state = State::Opaque;
                return Segment::plain(data.len());
            }
            return Segment::plain(take);
        };
        let used = take - (self.line.len() - end);
        self.line.truncate(end);
        let (body, expect) = body_of(&self.line);
        self.line.clear();
        self.head_complete(body, expect, used)
    }

    /// The segment that ends a head (`used` bytes of the read), and the state its body puts
    /// the framer in.
    fn head_complete(&mut self, body: Body, expect: bool, used: usize) -> Segment {
        self.expect_continue = expect;
        let mut seg = Segment {
            head_done: true,
            ..Segment::plain(used)
        };
        self.state = match body {
            Body::Length(0) => {
                seg.done = true;
                State::Idle
            }
            Body::Length(n) => State::Body(n),
            Body::Chunked => State::Chunked(Chunk::Size),
            Body::Unknown | Body::UntilClose => State::Opaque,
        };
        seg
    }

    fn chunked(&mut self, c: Chunk, data: &[u8]) -> Segment {
        let mut seg = Segment::plain(0);
        match c {
            Chunk::Size => {
                let lf = data.iter().position(|b| *b == b'\n');
                let len = lf.map_or(data.len(), |p| p + 1);
                self.line.extend_from_slice(&data[..len]);
                seg.len = len;
                if self.line.len() > 4096 {
                    self.state = State::Opaque;
                } else if lf.is_some() {
                    let size = http1::chunk_size(&self.line);
                    self.line.clear();
                    self.state = match size {
                        Ok(Some((_, 0))) => State::Chunked(Chunk::Trailer(true)),
                        Ok(Some((_, n))) => State::Chunked(Chunk::Data(n)),
                        Ok(None) | Err(_) => State::Opaque,
                    };
                }
            }
            Chunk::Data(left) => {
                let len = (left.min(data.len() as u64)) as usize;
                seg.len = len;
                let rest = left - len as u64;
                self.state = State::Chunked(if rest == 0 {
                    Chunk::DataEnd(2)
                } else {
                    Chunk::Data(rest)
                });
            }
            Chunk::DataEnd(left) => {
                let len = (left as usize).min(data.len());
                seg.len = len;
                let rest = left - len as u8;
                self.state = State::Chunked(if rest == 0 {
                    Chunk::Size
                } else {
                    Chunk::DataEnd(rest)
                });
            }
            Chunk::Trailer(empty) => {
                // Up to and including the next LF: an empty line (only CR before it) ends the body.
                let lf = data.iter().position(|b| *b == b'\n');
                let len = lf.map_or(data.len(), |p| p + 1);
                seg.len = len;
                let line_empty = empty && data[..len].iter().all(|b| *b == b'\r' || *b == b'\n');
                if lf.is_some() {
                    if line_empty {
                        self.state = State::Idle;
                        seg.done = true;
                    } else {
                        self.state = State::Chunked(Chunk::Trailer(true));
                    }
                } else {
                    self.state = State::Chunked(Chunk::Trailer(line_empty));
                }
            }
        }
        seg
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (request starts, request ends) seen over `data` fed in pieces of `step` bytes, as
    /// offsets of the byte that starts or ends each request.
    fn boundaries(data: &[u8], step: usize) -> (Vec<usize>, Vec<usize>, bool) {
        let mut f = Framer::new();
        let (mut starts, mut ends) = (Vec::new(), Vec::new());
        let mut offset = 0;
        for piece in data.chunks(step) {
            for s in f.split(piece) {
                assert!(s.len > 0, "empty segment");
                if s.starts {
                    starts.push(offset);
                }
                offset += s.len;
                if s.done {
                    ends.push(offset);
                }
            }
        }
        assert_eq!(offset, data.len(), "every byte is in a segment");
        (starts, ends, f.opaque())
    }

    #[test]
    fn keep_alive_requests_are_found_at_any_split() {
        let a = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec();
        let b = b"POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello".to_vec();
        let c = b"\r\nPUT /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\nT: 1\r\n\r\n"
            .to_vec();
        let d = b"GET /last HTTP/1.1\r\n\r\n".to_vec();
        let all = [a.clone(), b.clone(), c.clone(), d.clone()].concat();
        let s_b = a.len();
        let s_c = s_b + b.len() + 2; // the blank line before PUT belongs to no request
        let s_d = s_b + b.len() + c.len();
        for step in [1, 2, 3, 7, 16, 1000] {
            let (starts, ends, opaque) = boundaries(&all, step);
            assert_eq!(starts, vec![0, s_b, s_c, s_d], "step {step}");
            assert_eq!(
                ends,
                vec![s_b, s_b + b.len(), s_d, all.len()],
                "step {step}"
            );
            assert!(!opaque);
        }
    }

    #[test]
    fn other_protocols_upgrades_and_bad_heads_are_left_alone() {
        // TLS ClientHello, a lower-case start, an upgrade, conflicting lengths, CONNECT.
        for data in [
            &b"\x16\x03\x01\x00\xa5"[..],
            b"hello there\r\n\r\n",
            b"GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nGET / HTTP/1.1\r\n\r\n",
            b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
            b"CONNECT h:443 HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n",
            b"GET / HTTP/1.1\r\nContent-Length: lots\r\n\r\n",
        ] {
            let (starts, ends, opaque) = boundaries(data, 5);
            assert!(opaque, "{:?}", String::from_utf8_lossy(data));
            assert!(starts.len() <= 1 && ends.is_empty(), "{starts:?} {ends:?}");
        }
    }

    #[test]
    fn a_head_without_end_beyond_the_limit_turns_opaque() {
        let mut f = Framer::new();
        let mut data = b"GET / HTTP/1.1\r\nX: ".to_vec();
        data.extend(std::iter::repeat_n(b'a', MAX_HEAD + 10));
        let segs = f.split(&data);
        assert_eq!(segs.iter().map(|s| s.len).sum::<usize>(), data.len());
        assert!(f.opaque());
    }

    #[test]
    fn expect_continue_is_reported_with_the_head() {
        let mut f = Framer::new();
        let segs = f.split(b"PUT / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
        assert!(segs.last().is_some_and(|s| s.head_done && !s.done));
        assert!(f.expect_continue());
        let segs = f.split(b"abc");
        assert!(segs[0].done);
    }
}
