"""The owner's side of the -mp transport: serving a listener, and the store's RPC.

Two ways to serve a listener, one per discipline:
  * serve_owner: one thread, one message at a time, replies in arrival order
    per connection — the owner of message-passing-mp and async-mp.
  * serve_sessions: a thread per connection with per-connection state, so a
    handler may block (on a key lock) and hold locks across messages — the
    shards of ownership-mp.
Both drop, unanswered, any peer outside the server's process group.
"""
from __future__ import annotations

import selectors
import socket
import sys
import threading
from collections.abc import Callable
from dataclasses import astuple
from typing import Protocol

from .ipc_transport import (
    FAILED,
    FRAME,
    GET,
    INCR,
    OK,
    TOTALS,
    TRANSFER,
    Handler,
    Reply,
    same_group,
    unix_listener,
)
from .state import PlainState


def _answer(handle: Handler, op: int, a: int, b: int, c: int) -> bytes:
    try:
        return FRAME.pack(OK, *handle(op, a, b, c))
    except Exception as exc:  # a bad frame must not kill the process that owns state
        print(f"sharebench: ipc op {op} failed: {exc!r}", file=sys.stderr, flush=True)
        return FRAME.pack(FAILED, 0, 0, 0)


def serve_owner(listener: socket.socket, handle: Handler) -> None:
    """Serve every connection from this one thread, one frame at a time, forever.

    Sockets stay blocking: select() says which has data, and a reply is a
    blocking sendall — the peers always read their replies promptly.
    """
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    while True:
        for key, _ in selector.select():
            sock = key.fileobj
            assert isinstance(sock, socket.socket)  # only sockets are registered
            if sock is listener:
                conn, _ = listener.accept()
                if same_group(conn):
                    selector.register(conn, selectors.EVENT_READ, bytearray())
                else:
                    conn.close()
                continue
            pending: bytearray = key.data
            try:
                chunk = sock.recv(65536)
            except OSError:
                chunk = b""
            if not chunk:
                selector.unregister(sock)
                sock.close()
                continue
            pending += chunk
            whole = len(pending) - len(pending) % FRAME.size
            replies = b"".join(_answer(handle, *FRAME.unpack_from(pending, offset))
                               for offset in range(0, whole, FRAME.size))
            del pending[:whole]
            try:
                sock.sendall(replies)
            except OSError:  # the peer died: it will never read this
                selector.unregister(sock)
                sock.close()


class Session(Protocol):
    def handle(self, op: int, a: int, b: int, c: int) -> Reply: ...
    def close(self) -> None: ...


def serve_sessions(listener: socket.socket, new_session: Callable[[], Session]) -> None:
    """Accept forever; each connection gets a daemon thread and a session of its own."""
    while True:
        conn, _ = listener.accept()
        if not same_group(conn):
            conn.close()
            continue
        threading.Thread(target=_session, args=(conn, new_session()), daemon=True).start()


def _session(conn: socket.socket, session: Session) -> None:
    try:
        while True:
            data = conn.recv(FRAME.size, socket.MSG_WAITALL)
            if len(data) < FRAME.size:
                return  # the peer closed (or died): close() below gives back what it held
            conn.sendall(_answer(session.handle, *FRAME.unpack(data)))
    except OSError:
        pass
    finally:
        session.close()
        conn.close()


# The store's four ops as frames: op -> what it does to the owner's state.
STORE_OPS: dict[int, Callable[[PlainState, int, int, int], Reply]] = {
    GET: lambda state, a, b, c: (state.get(a), 0, 0),
    INCR: lambda state, a, b, c: (state.incr(a, b), 0, 0),
    TRANSFER: lambda state, a, b, c: (*state.transfer(a, b, c), 0),
    TOTALS: lambda state, a, b, c: astuple(state.totals()),
}


def store_handler(state: PlainState) -> Handler:
    """The store's ops as frames, for an owner that alone touches ``state``."""
    def handle(op: int, a: int, b: int, c: int) -> Reply:
        operation = STORE_OPS.get(op)
        if operation is None:
            raise ValueError(f"unknown op {op}")
        return operation(state, a, b, c)
    return handle


def run_owner(addr: str, state: PlainState, ready: Callable[[], None]) -> None:
    """The body of an owner process: listen, say ready, serve ``state`` for ever."""
    listener = unix_listener(addr)
    ready()
    serve_owner(listener, store_handler(state))
