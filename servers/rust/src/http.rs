//! HTTP/1.1 framing without I/O: servers/core/threaded.py's `_read_head`, in Rust.
//!
//! The same limits and the same answers: a request line over 8 KiB is 414, a
//! header line over 8 KiB or over 100 headers 431, a malformed request line or
//! header, a bad or conflicting Content-Length, or Transfer-Encoding 400, a
//! Content-Length over 64 KiB 413. Both execution models (threads, tokio) feed
//! bytes in and get a request, a rejection, or "read more" back.
use crate::contract::MAX_BODY;

pub const MAX_LINE: usize = 8192;
pub const MAX_HEADERS: usize = 100;

pub struct Head {
    pub method: Vec<u8>,
    pub target: Vec<u8>,
    pub keep_alive: bool,
    pub length: usize,
    pub head_len: usize, // bytes of request line and headers; the body follows
}

pub enum Framed {
    More,                    // read more bytes
    Close,                   // nothing (more) to answer: close quietly
    Reject(u16, &'static str), // answer this and close
    Head(Head),
}

enum Line {
    More,
    TooLong,
    Got(usize, usize), // start, end (after the '\n', or at EOF)
}

/// Like Python's `readline(MAX_LINE + 1)` on a buffered socket.
fn line(buf: &[u8], at: usize, eof: bool) -> Line {
    let window = &buf[at..buf.len().min(at + MAX_LINE + 1)];
    match window.iter().position(|&b| b == b'\n') {
        Some(i) if i + 1 > MAX_LINE => Line::TooLong,
        Some(i) => Line::Got(at, at + i + 1),
        None if window.len() > MAX_LINE => Line::TooLong,
        None if eof => Line::Got(at, buf.len()),
        None => Line::More,
    }
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) // Python's bytes.split()/strip()
}

fn strip(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| !is_space(b)).unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|&b| !is_space(b)).map_or(start, |i| i + 1);
    &bytes[start..end]
}

/// Frame the request at the start of `buf`; `eof`: the client sent all it will.
pub fn frame(buf: &[u8], eof: bool) -> Framed {
    let (start, end) = match line(buf, 0, eof) {
        Line::More => return Framed::More,
        Line::TooLong => return Framed::Reject(414, "request line too long"),
        Line::Got(start, end) => (start, end),
    };
    if end == start {
        return Framed::Close; // the client left between requests
    }
    let parts: Vec<&[u8]> = buf[start..end].split(|&b| is_space(b)).filter(|p| !p.is_empty()).collect();
    if parts.len() != 3 || (parts[2] != b"HTTP/1.1" && parts[2] != b"HTTP/1.0") {
        return Framed::Reject(400, "malformed request line");
    }
    let mut keep_alive = parts[2] == b"HTTP/1.1";
    let mut length: Option<usize> = None;
    let mut at = end;
    let mut ended = false;
    for _ in 0..=MAX_HEADERS {
        let (start, end) = match line(buf, at, eof) {
            Line::More => return Framed::More,
            Line::TooLong => return Framed::Reject(431, "truncated or oversized header"),
            Line::Got(start, end) => (start, end),
        };
        at = end;
        let header = &buf[start..end];
        if header == b"\r\n" || header == b"\n" {
            ended = true;
            break;
        }
        if header.is_empty() {
            return Framed::Reject(400, "truncated or oversized header");
        }
        let colon = match header.iter().position(|&b| b == b':') {
            Some(i) => i,
            None => return Framed::Reject(400, "malformed header"),
        };
        let name = strip(&header[..colon]).to_ascii_lowercase();
        let value = strip(&header[colon + 1..]);
        match name.as_slice() {
            b"content-length" => {
                if value.is_empty() || value.len() > 12 || !value.iter().all(u8::is_ascii_digit) {
                    return Framed::Reject(400, "bad Content-Length");
                }
                // Two different lengths: a proxy in front may have framed the body by the
                // other one (request smuggling), so neither can be trusted.
                let parsed: usize = std::str::from_utf8(value).unwrap_or("0").parse().unwrap_or(0);
                if length.map_or(false, |known| known != parsed) {
                    return Framed::Reject(400, "conflicting Content-Length");
                }
                length = Some(parsed);
            }
            b"transfer-encoding" => {
                return Framed::Reject(400, "Transfer-Encoding is not supported; send Content-Length")
            }
            b"connection" => {
                let token = value.to_ascii_lowercase();
                keep_alive = if keep_alive { token != b"close" } else { token == b"keep-alive" };
            }
            _ => {}
        }
    }
    if !ended {
        return Framed::Reject(431, "too many headers");
    }
    let length = length.unwrap_or(0);
    if length > MAX_BODY {
        return Framed::Reject(413, "body over 65536 bytes");
    }
    Framed::Head(Head {
        method: parts[0].to_vec(),
        target: parts[1].to_vec(),
        keep_alive,
        length,
        head_len: at,
    })
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Content Too Large",
        414 => "URI Too Long",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        _ => "Error",
    }
}

/// One response, to leave in one write on a TCP_NODELAY socket.
pub fn response(status: u16, body: &[u8], allow: &str, close: bool) -> Vec<u8> {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        status,
        reason(status),
        body.len()
    );
    if !allow.is_empty() {
        head.push_str(&format!("Allow: {}\r\n", allow));
    }
    if close {
        head.push_str("Connection: close\r\n");
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(body);
    out
}

/// The answer to a request that cannot be read any further.
pub fn reject(status: u16, message: &str) -> Vec<u8> {
    response(status, format!("{{\"error\":\"{}\"}}", message).as_bytes(), "", true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(raw: &[u8]) -> u16 {
        match frame(raw, true) {
            Framed::Head(_) => 200,
            Framed::Reject(status, _) => status,
            Framed::Close => 0,
            Framed::More => 1,
        }
    }

    #[test]
    fn like_threaded_py() {
        assert_eq!(status(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"), 200);
        assert_eq!(status(b"GET  /health\tHTTP/1.1\n\n"), 200);
        assert_eq!(status(b""), 0);
        assert_eq!(status(b"garbage\r\n\r\n"), 400);
        assert_eq!(status(b"GET /health HTTP/9.9\r\n\r\n"), 400);
        assert_eq!(status(b"GET /health HTTP/1.1\r\nHost: x"), 400);
        assert_eq!(status(b"POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n"), 400);
        assert_eq!(status(b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"), 400);
        assert_eq!(status(b"POST / HTTP/1.1\r\nContent-Length: 65537\r\n\r\n"), 413);
        assert_eq!(status(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"), 400);
        let flood = [&b"GET / HTTP/1.1\r\n"[..], &b"X: y\r\n".repeat(101), b"\r\n"].concat();
        assert_eq!(status(&flood), 431);
        let long = [&b"GET /"[..], &b"a".repeat(9000), b" HTTP/1.1\r\n\r\n"].concat();
        assert_eq!(status(&long), 414);
        assert!(matches!(frame(b"GET / HTTP/1.1\r\nHost", false), Framed::More));
        match frame(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nrest", false) {
            Framed::Head(head) => assert!(head.keep_alive && head.head_len == 42),
            _ => panic!("not framed"),
        }
    }
}
