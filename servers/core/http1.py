"""HTTP/1.1 requests from bytes, incrementally, and responses as bytes: written once for
both of sharebench's own HTTP layers, a thread per connection (threaded.py) and one raw
event loop (asyncraw.py), so the two execution models speak HTTP through the same code.

The parser is fed whatever a socket read returned and hands out whole requests: it
never reads a socket itself, so a blocking thread and an event loop can both drive it.
It reads line by line, as a buffered ``readline`` would, and refuses as early as the
bytes allow: an oversized line or header count, a bad request line, a body over the
limit are answered before the rest arrives. Each response leaves as one bytes object,
headers and body together, so one write sends it (see threaded.py for why it matters).
"""
from __future__ import annotations

from .contract import MAX_BODY

MAX_LINE = 8192
MAX_HEADERS = 100

REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
           408: "Request Timeout", 413: "Content Too Large", 414: "URI Too Long",
           431: "Request Header Fields Too Large", 500: "Internal Server Error",
           503: "Service Unavailable"}

Request = tuple[str, str, bool, bytes]  # method, target, keep_alive, body


def response(status: int, body: bytes, allow: str = "", close: bool = False) -> bytes:
    head = (f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n")
    if allow:
        head += f"Allow: {allow}\r\n"
    if close:
        head += "Connection: close\r\n"
    return head.encode("latin-1") + b"\r\n" + body


def reject(status: int, message: str) -> bytes:
    """A JSON error that closes the connection: nothing after it is read."""
    return response(status, b'{"error":"' + message.encode() + b'"}', close=True)


class Reject(Exception):
    """The request cannot be read any further: answer ``payload`` and close."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.payload = reject(status, message)


class Parser:
    """One connection's requests, in order. ``feed`` bytes, then call ``next`` until it
    returns None (it needs more bytes); at end of input call ``eof``."""

    __slots__ = ("_buf", "_pos", "_line", "_keep_alive", "_length", "_headers", "_body")

    def __init__(self) -> None:
        self._buf = b""
        self._pos = 0          # where the unparsed bytes start in _buf
        self._line: tuple[str, str] | None = None  # method, target: a head in progress
        self._keep_alive = True
        self._length: int | None = None
        self._headers = 0
        self._body = -1        # >= 0: the head is complete and this many body bytes are due

    @property
    def idle(self) -> bool:
        """No byte of a next request has arrived: between requests (or before the first)."""
        return self._line is None and self._body < 0 and self._pos >= len(self._buf)

    def buffered(self) -> int:
        return len(self._buf) - self._pos

    def feed(self, data: bytes) -> None:
        if self._pos >= len(self._buf):  # the usual case: everything before was consumed
            self._buf, self._pos = data, 0
        else:
            self._buf = self._buf[self._pos:] + data
            self._pos = 0

    def next(self) -> Request | None:
        """The next whole request, or None until more bytes arrive; raises Reject."""
        while self._body < 0:
            end = self._buf.find(b"\n", self._pos)
            if end < 0:
                if len(self._buf) - self._pos > MAX_LINE:
                    self._too_long()
                return None
            line = self._buf[self._pos:end + 1]
            self._pos = end + 1
            if len(line) > MAX_LINE:
                self._too_long()
            if self._line is None:
                self._request_line(line)
            else:
                self._header(line)
        if len(self._buf) - self._pos < self._body:
            return None
        body = self._buf[self._pos:self._pos + self._body]
        self._pos += self._body
        assert self._line is not None
        method, target = self._line
        request = (method, target, self._keep_alive, body)
        self._line, self._length, self._headers, self._body = None, None, 0, -1
        return request

    def eof(self) -> None:
        """The peer closed its side. Nothing pending: a clean end. A head cut short is
        answered 400 (as a reader that found EOF mid-line would); a body cut short is not
        answered at all (the client went away mid-body)."""
        if self._body >= 0:
            return
        rest = self._buf[self._pos:]
        self._pos = len(self._buf)
        if self._line is None:
            if not rest:
                return
            self._request_line(rest)  # a malformed line raises here
        elif rest:
            self._header(rest)
            if self._body >= 0:
                return
        raise Reject(400, "truncated or oversized header")

    def _too_long(self) -> None:
        if self._line is None:
            raise Reject(414, "request line too long")
        raise Reject(431, "truncated or oversized header")

    def _request_line(self, line: bytes) -> None:
        parts = line.split()
        if len(parts) != 3 or parts[2] not in (b"HTTP/1.1", b"HTTP/1.0"):
            raise Reject(400, "malformed request line")
        self._keep_alive = parts[2] == b"HTTP/1.1"
        self._line = (parts[0].decode("latin-1"), parts[1].decode("latin-1"))

    def _header(self, header: bytes) -> None:
        if header in (b"\r\n", b"\n"):
            if self._length is not None and self._length > MAX_BODY:
                raise Reject(413, f"body over {MAX_BODY} bytes")
            self._body = self._length or 0
            return
        self._headers += 1
        if self._headers > MAX_HEADERS:
            raise Reject(431, "too many headers")
        name, sep, value = header.partition(b":")
        if not sep:
            raise Reject(400, "malformed header")
        name = name.strip().lower()
        value = value.strip()
        if name == b"content-length":
            if not value.isdigit() or len(value) > 12:
                raise Reject(400, "bad Content-Length")
            # Two different lengths: a proxy in front may have framed the body by the
            # other one (request smuggling), so neither can be trusted.
            if self._length is not None and int(value) != self._length:
                raise Reject(400, "conflicting Content-Length")
            self._length = int(value)
        elif name == b"transfer-encoding":
            raise Reject(400, "Transfer-Encoding is not supported; send Content-Length")
        elif name == b"connection":
            token = value.lower()
            self._keep_alive = token == b"keep-alive" if not self._keep_alive else token != b"close"
