"""HTTP/1.1 over plain sockets, one thread per connection (the threads model).

Written here rather than taken from http.server for two measured reasons
(README, "Measured here"): http.server sends headers and body in two writes,
which with Nagle and delayed ACK stalls every response for a delayed-ACK
timeout, and its per-request overhead would dominate the sharing disciplines
we want to compare. Each response leaves in one sendall() on a TCP_NODELAY
socket. Requests are parsed, and responses made, by http1.py, which the raw
event loop (asyncraw.py) shares: both execution models speak HTTP through the
same code.

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

from .handling import App
from .http1 import Parser, Reject, reject, response

IDLE_TIMEOUT_S = 30.0  # between requests of a connection that has sent one
HEAD_TIMEOUT_S = 10.0  # a new connection: to send its first byte, then each read of its request
MAX_SILENT = 4096      # connections held before their first byte; beyond, the oldest is closed
# A storm of connections (10,000 opened at once by a client that reconnects when closed)
# once livelocked this loop: it evicted the oldest silent connection for every new one
# beyond MAX_SILENT before the client, busy opening the rest, had sent its first byte,
# so no connection ever spoke. Now the oldest is evicted only once it has had
# SILENT_GRACE_S to speak; until then new connections wait in the kernel's backlog
# (the loop stops accepting), and each turn accepts ACCEPTS_PER_TURN at most, so the
# connections that have spoken get their threads between accepts.
SILENT_GRACE_S = 1.0
ACCEPTS_PER_TURN = 64
READ_BYTES = 65536


def _serve_connection(app: App, conn: socket.socket, slots: threading.BoundedSemaphore) -> None:
    try:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.settimeout(HEAD_TIMEOUT_S)
        parser = Parser()
        first = True
        while True:
            request = parser.next()
            if request is None:
                data = conn.recv(READ_BYTES)
                if not data:
                    parser.eof()  # a request cut short is answered 400 (raises Reject)
                    return
                parser.feed(data)
                continue
            method, target, keep_alive, body = request
            status, payload, allow = app.handle(method, target, body)
            conn.sendall(response(status, payload, allow, close=not keep_alive))
            if not keep_alive:
                return
            if first:  # it has spoken HTTP: from now on it may idle between requests
                conn.settimeout(IDLE_TIMEOUT_S)
                first = False
    except Reject as refused:
        _send_quietly(conn, refused.payload)
    except (OSError, ValueError):
        pass  # timeouts, resets, a client that vanished: nothing to answer
    except Exception as exc:  # a bug in a strategy: say so, answer 500, keep serving others
        print(f"sharebench: internal error: {exc!r}", file=sys.stderr, flush=True)
        _send_quietly(conn, reject(500, "internal error"))
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
                _listen_if_room(listener, waiting, silent)
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
    """Take connections from the backlog (ACCEPTS_PER_TURN at most); each waits for its
    first byte in ``waiting``."""
    for _ in range(ACCEPTS_PER_TURN):
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
        if not _room(silent):
            waiting.unregister(listener)  # the backlog holds the rest until there is room
            return


def _room(silent: dict[socket.socket, float]) -> bool:
    """Room for one more silent connection: under MAX_SILENT, or the oldest has had its
    SILENT_GRACE_S to speak (it is evicted for the newcomer)."""
    if len(silent) < MAX_SILENT:
        return True
    oldest = next(iter(silent.values())) - HEAD_TIMEOUT_S  # when it was accepted
    return time.monotonic() - oldest >= SILENT_GRACE_S


def _listen_if_room(listener: socket.socket, waiting: selectors.BaseSelector,
                    silent: dict[socket.socket, float]) -> None:
    """Accept again once _accept stopped for lack of room and there is room now."""
    try:
        waiting.get_key(listener)
    except KeyError:
        if _room(silent):
            waiting.register(listener, selectors.EVENT_READ)


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
