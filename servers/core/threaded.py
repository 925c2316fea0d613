"""HTTP/1.1 over plain sockets, one thread per connection (the threads model).

Written here rather than taken from http.server for two measured reasons
(README, "Measured here"): http.server sends headers and body in two writes,
which with Nagle and delayed ACK stalls every response for a delayed-ACK
timeout, and its per-request overhead would dominate the sharing disciplines
we want to compare. Each response leaves in one
sendall() on a TCP_NODELAY socket.

Connections are persistent (Locust keeps them open), so a thread lives as long
as its connection. ``--workers`` caps how many connections are served at once;
further connections wait until one closes.

Slow clients. A connection gets a thread, and one of those slots, only once it
has sent a byte: until then the accept loop holds it in a selector, closing it
after HEAD_TIMEOUT_S (or, beyond MAX_SILENT or out of descriptors, the oldest
first). So any number of connections that never speak cannot exhaust the cap,
and a client that connects and speaks at once (Locust, wrk) pays nothing
per request. A new connection must then send its first request with no read
waiting over HEAD_TIMEOUT_S; after that it may idle IDLE_TIMEOUT_S between
requests, as keep-alive clients do. What is left open: a client that has
spoken can keep its thread by idling between requests or dripping a byte
every few seconds, so enough such clients fill the cap, as in any
thread-per-connection server. Closing that would need a deadline per request
(changing a socket's timeout is a system call, on every request) or evicting
idle connections under pressure; the request path is what this project
measures and the servers bind loopback, so the line is drawn here.
"""
from __future__ import annotations

import selectors
import socket
import sys
import threading
import time

from .app import App
from .contract import MAX_BODY

IDLE_TIMEOUT_S = 30.0  # between requests of a connection that has sent one
HEAD_TIMEOUT_S = 10.0  # a new connection: to send its first byte, then each read of its request
MAX_SILENT = 4096      # connections held before their first byte; beyond, the oldest is closed
MAX_LINE = 8192
MAX_HEADERS = 100

REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
           408: "Request Timeout", 413: "Content Too Large", 414: "URI Too Long",
           431: "Request Header Fields Too Large", 500: "Internal Server Error"}


def response(status: int, body: bytes, allow: str = "", close: bool = False) -> bytes:
    head = (f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n")
    if allow:
        head += f"Allow: {allow}\r\n"
    if close:
        head += "Connection: close\r\n"
    return head.encode("latin-1") + b"\r\n" + body


def _reject(status: int, message: str) -> bytes:
    return response(status, b'{"error":"' + message.encode() + b'"}', close=True)


class _Reject(Exception):
    """The request cannot be read any further: answer and close."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.payload = _reject(status, message)


def _read_head(rfile) -> tuple[str, str, bool, int] | None:
    """Read a request line and headers: (method, target, keep_alive, length)."""
    line = rfile.readline(MAX_LINE + 1)
    if not line:
        return None
    if len(line) > MAX_LINE:
        raise _Reject(414, "request line too long")
    parts = line.split()
    if len(parts) != 3 or parts[2] not in (b"HTTP/1.1", b"HTTP/1.0"):
        raise _Reject(400, "malformed request line")
    keep_alive = parts[2] == b"HTTP/1.1"
    length = None
    for _ in range(MAX_HEADERS + 1):
        header = rfile.readline(MAX_LINE + 1)
        if header in (b"\r\n", b"\n"):
            break
        if not header or len(header) > MAX_LINE:
            raise _Reject(400 if not header else 431, "truncated or oversized header")
        name, sep, value = header.partition(b":")
        if not sep:
            raise _Reject(400, "malformed header")
        name = name.strip().lower()
        value = value.strip()
        if name == b"content-length":
            if not value.isdigit() or len(value) > 12:
                raise _Reject(400, "bad Content-Length")
            # Two different lengths: a proxy in front may have framed the body by the
            # other one (request smuggling), so neither can be trusted.
            if length is not None and int(value) != length:
                raise _Reject(400, "conflicting Content-Length")
            length = int(value)
        elif name == b"transfer-encoding":
            raise _Reject(400, "Transfer-Encoding is not supported; send Content-Length")
        elif name == b"connection":
            token = value.lower()
            keep_alive = token == b"keep-alive" if not keep_alive else token != b"close"
    else:
        raise _Reject(431, "too many headers")
    if length is not None and length > MAX_BODY:
        raise _Reject(413, f"body over {MAX_BODY} bytes")
    return parts[0].decode("latin-1"), parts[1].decode("latin-1"), keep_alive, length or 0


def _serve_connection(app: App, conn: socket.socket, slots: threading.BoundedSemaphore) -> None:
    try:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.settimeout(HEAD_TIMEOUT_S)
        rfile = conn.makefile("rb", buffering=65536)
        first = True
        while True:
            head = _read_head(rfile)
            if head is None:
                return
            method, target, keep_alive, length = head
            body = rfile.read(length) if length else b""
            if len(body) < length:
                return  # the client went away mid-body
            status, payload, allow = app.handle(method, target, body)
            conn.sendall(response(status, payload, allow, close=not keep_alive))
            if not keep_alive:
                return
            if first:  # it has spoken HTTP: from now on it may idle between requests
                conn.settimeout(IDLE_TIMEOUT_S)
                first = False
    except _Reject as reject:
        _send_quietly(conn, reject.payload)
    except (OSError, ValueError):
        pass  # timeouts, resets, a client that vanished: nothing to answer
    except Exception as exc:  # a bug in a strategy: say so, answer 500, keep serving others
        print(f"sharebench: internal error: {exc!r}", file=sys.stderr, flush=True)
        _send_quietly(conn, _reject(500, "internal error"))
    finally:
        conn.close()
        slots.release()


def _send_quietly(conn: socket.socket, payload: bytes) -> None:
    try:
        conn.sendall(payload)
    except OSError:
        pass


def serve(app: App, listener: socket.socket, stop: threading.Event,
          connections: int | None = None) -> None:
    """Accept until ``stop`` is set; connection threads are daemons.

    ``connections`` caps concurrent connections; it defaults to ``app.workers``
    (for a process worker, app.workers is the process count, so it passes its own cap).
    Connections wait here, threadless, for their first byte: see the module docstring.
    """
    slots = threading.BoundedSemaphore(connections or app.workers)
    silent: dict[socket.socket, float] = {}  # not yet spoken -> deadline; oldest first
    listener.setblocking(False)
    with selectors.DefaultSelector() as waiting:
        waiting.register(listener, selectors.EVENT_READ)
        try:
            while not stop.is_set():
                for key, _ in waiting.select(0.2):  # the timeout: notice ``stop`` promptly
                    if key.fileobj is listener:
                        _accept(listener, waiting, silent, stop)
                        continue
                    conn = key.fileobj
                    if conn not in silent:  # closed by _accept in this same round
                        continue
                    _forget(waiting, silent, conn)
                    if not _take(slots, stop):
                        conn.close()
                        return
                    threading.Thread(target=_serve_connection, args=(app, conn, slots),
                                     daemon=True).start()
                now = time.monotonic()
                while silent and next(iter(silent.values())) < now:
                    _forget(waiting, silent, next(iter(silent))).close()
        finally:
            for conn in silent:
                conn.close()


def _accept(listener: socket.socket, waiting: selectors.BaseSelector,
            silent: dict[socket.socket, float], stop: threading.Event) -> None:
    """Take every connection in the backlog; each waits for its first byte in ``waiting``."""
    while True:
        try:
            conn, _ = listener.accept()
        except BlockingIOError:
            return
        except OSError as exc:  # e.g. EMFILE: make room, or back off instead of spinning
            if silent:
                _forget(waiting, silent, next(iter(silent))).close()
            else:
                print(f"sharebench: accept failed: {exc}", file=sys.stderr, flush=True)
                stop.wait(0.1)
            return
        if len(silent) >= MAX_SILENT:
            _forget(waiting, silent, next(iter(silent))).close()
        silent[conn] = time.monotonic() + HEAD_TIMEOUT_S
        waiting.register(conn, selectors.EVENT_READ)


def _forget(waiting: selectors.BaseSelector, silent: dict[socket.socket, float],
            conn: socket.socket) -> socket.socket:
    waiting.unregister(conn)
    del silent[conn]
    return conn


def _take(slots: threading.BoundedSemaphore, stop: threading.Event) -> bool:
    """A connection slot, waiting for one to free up; False if the server stops first."""
    while not slots.acquire(timeout=0.2):
        if stop.is_set():
            return False
    return True
