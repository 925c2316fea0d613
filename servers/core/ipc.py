"""Messages between a server's own processes: fixed frames over Unix sockets.

Every message, request or reply, is one 32-byte struct: an op code (a status
in a reply), padding, three signed 64-bit integers. Nothing is pickled: a
frame is parsed by struct.unpack and can only ever become four integers, and
fixed frames need no length prefix (measured in benchmarks/, they are also
cheaper than pickle).

Sockets live in Linux's abstract namespace (no file to clean up if the leader
is SIGKILLed) under a name carrying the leader's pid. Only the server's own
processes may talk: a listener drops any peer outside its process group
(SO_PEERCRED), so no client can reach these frames at all.

Two ways to serve a listener, one per discipline:
  * serve_owner: one thread, one message at a time, replies in arrival order
    per connection — the owner of message-passing-mp and async-mp.
  * serve_sessions: a thread per connection with per-connection state, so a
    handler may block (on a key lock) and hold locks across messages — the
    shards of ownership-mp.
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import selectors
import socket
import struct
import sys
import threading
import time
from collections import deque
from typing import Callable, Iterator, Protocol

from .state import PlainState, Totals

FRAME = struct.Struct("<B7xqqq")  # op or status, padding, three int64
OK, FAILED = 0, 1
GET, INCR, TRANSFER, TOTALS = 1, 2, 3, 4  # the store's ops; strategies add theirs above 15
CONNECT_TIMEOUT_S = 5.0  # a peer worker may still be starting when the first request lands

Reply = tuple[int, int, int]
Handler = Callable[[int, int, int, int], Reply]  # (op, a, b, c) -> reply


class IpcError(RuntimeError):
    """A peer answered FAILED or went away: a bug or a dead process, never a client error."""


def address(tag: str, index: int = 0) -> str:
    """A Unix address unique to this server; call it in the leader (it names the leader's pid)."""
    return f"\0sharebench-{os.getpid()}-{tag}-{index}"


def unix_listener(addr: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(addr)
    sock.listen(1024)
    return sock


def unix_connect(addr: str, timeout: float = CONNECT_TIMEOUT_S) -> socket.socket:
    """Connect, retrying while the peer has not bound its listener yet."""
    deadline = time.monotonic() + timeout
    while True:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(addr)
            return sock
        except (ConnectionRefusedError, FileNotFoundError):
            sock.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def same_group(conn: socket.socket) -> bool:
    """Is the peer one of this server's processes (same process group)?"""
    pid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))[0]
    try:
        return os.getpgid(pid) == os.getpgrp()
    except ProcessLookupError:
        return False


def recv_exact(sock: socket.socket, size: int) -> bytes:
    data = sock.recv(size, socket.MSG_WAITALL)
    while len(data) < size:  # MSG_WAITALL may still return short, e.g. on a signal
        more = sock.recv(size - len(data), socket.MSG_WAITALL)
        if not more:
            raise IpcError("peer closed the connection mid-frame")
        data += more
    return data


def _answer(handle: Handler, op: int, a: int, b: int, c: int) -> bytes:
    try:
        return FRAME.pack(OK, *handle(op, a, b, c))
    except Exception as exc:  # a bad frame must not kill the process that owns state
        print(f"sharebench: ipc op {op} failed: {exc!r}", file=sys.stderr, flush=True)
        return FRAME.pack(FAILED, 0, 0, 0)


# --- clients -----------------------------------------------------------------

class Channel:
    """One connection to a peer; one request in flight at a time."""

    def __init__(self, addr: str) -> None:
        self.sock = unix_connect(addr)

    def call(self, op: int, a: int = 0, b: int = 0, c: int = 0) -> Reply:
        self.sock.sendall(FRAME.pack(op, a, b, c))
        status, x, y, z = FRAME.unpack(recv_exact(self.sock, FRAME.size))
        if status != OK:
            raise IpcError(f"peer refused op {op}")
        return x, y, z

    def close(self) -> None:
        self.sock.close()


class Peers:
    """Pooled channels to a fixed list of peers, shared by a process's threads.

    A thread borrows an idle channel (or opens one) for a call and gives it
    back, so connections number the calls in flight, not the threads ever seen.
    A channel that failed is closed, never returned: its peer then knows that
    whatever the channel held is abandoned.
    """

    def __init__(self, addresses: list[str]) -> None:
        self._addresses = addresses
        self._idle: list[queue.SimpleQueue[Channel]] = [queue.SimpleQueue() for _ in addresses]

    @contextlib.contextmanager
    def session(self, index: int) -> Iterator[Channel]:
        """A channel for several calls in a row (e.g. lock, then write, on one connection)."""
        try:
            channel = self._idle[index].get_nowait()
        except queue.Empty:
            channel = Channel(self._addresses[index])
        try:
            yield channel
        except BaseException:
            channel.close()
            raise
        self._idle[index].put(channel)

    def call(self, index: int, op: int, a: int = 0, b: int = 0, c: int = 0) -> Reply:
        with self.session(index) as channel:
            return channel.call(op, a, b, c)


class AsyncChannel:
    """One pipelined stream to a peer, for an event loop that must never block.

    Calls write their frame at once and await a future; the peer answers a
    connection's frames in order (serve_owner does), so replies resolve the
    futures first-in first-out — no request ids, no connection per task.
    """

    def __init__(self, addr: str) -> None:
        self._addr = addr
        self._writer: asyncio.StreamWriter | None = None
        self._pending: deque[asyncio.Future] = deque()
        self._connecting = asyncio.Lock()
        self._reader: asyncio.Task | None = None  # held so the task is not garbage-collected

    async def call(self, op: int, a: int = 0, b: int = 0, c: int = 0) -> Reply:
        if self._writer is None:
            await self._connect()
        future = asyncio.get_running_loop().create_future()
        self._pending.append(future)
        self._writer.write(FRAME.pack(op, a, b, c))
        status, x, y, z = await future
        if status != OK:
            raise IpcError(f"peer refused op {op}")
        return x, y, z

    async def _connect(self) -> None:
        async with self._connecting:  # many tasks may arrive before the first connect ends
            if self._writer is None:
                reader, self._writer = await asyncio.open_unix_connection(self._addr)
                self._reader = asyncio.get_running_loop().create_task(self._read(reader))

    async def _read(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                reply = FRAME.unpack(await reader.readexactly(FRAME.size))
                future = self._pending.popleft()
                if not future.done():  # a cancelled request: its reply is dropped
                    future.set_result(reply)
        except (OSError, asyncio.IncompleteReadError) as exc:
            self._writer = None  # the next call reconnects, or fails loudly
            while self._pending:
                future = self._pending.popleft()
                if not future.done():
                    future.set_exception(IpcError(f"peer went away: {exc!r}"))


# --- servers -----------------------------------------------------------------

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


# --- the store, served by an owner and reached through a channel -------------

def store_handler(state: PlainState) -> Handler:
    """The store's four ops as frames, for an owner that alone touches ``state``."""
    def handle(op: int, a: int, b: int, c: int) -> Reply:
        if op == GET:
            return state.get(a), 0, 0
        if op == INCR:
            return state.incr(a, b), 0, 0
        if op == TRANSFER:
            return (*state.transfer(a, b, c), 0)
        if op == TOTALS:
            totals = state.totals()
            return totals.sum, totals.incr_applied, totals.transfers
        raise ValueError(f"unknown op {op}")
    return handle


def run_owner(addr: str, state: PlainState, ready: Callable[[], None]) -> None:
    """The body of an owner process: listen, say ready, serve ``state`` for ever."""
    listener = unix_listener(addr)
    ready()
    serve_owner(listener, store_handler(state))


class StoreClient:
    """The store interface (get, incr, transfer, totals) as calls to an owner."""

    def __init__(self, addr: str) -> None:
        self._peers = Peers([addr])

    def get(self, key: int) -> int:
        return self._peers.call(0, GET, key)[0]

    def incr(self, key: int, by: int) -> int:
        return self._peers.call(0, INCR, key, by)[0]

    def transfer(self, src: int, dst: int, amount: int) -> tuple[int, int]:
        return self._peers.call(0, TRANSFER, src, dst, amount)[:2]

    def totals(self) -> Totals:
        return Totals(*self._peers.call(0, TOTALS))


class AsyncStoreClient:
    """The same interface, awaited, over one pipelined stream."""

    def __init__(self, addr: str) -> None:
        self._channel = AsyncChannel(addr)

    async def get(self, key: int) -> int:
        return (await self._channel.call(GET, key))[0]

    async def incr(self, key: int, by: int) -> int:
        return (await self._channel.call(INCR, key, by))[0]

    async def transfer(self, src: int, dst: int, amount: int) -> tuple[int, int]:
        return (await self._channel.call(TRANSFER, src, dst, amount))[:2]

    async def totals(self) -> Totals:
        return Totals(*await self._channel.call(TOTALS))
