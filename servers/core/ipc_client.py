"""The caller's side of the -mp transport: channels to peers, and the store as calls.

Channel and Peers block (threads); AsyncChannel pipelines for an event loop.
StoreClient and AsyncStoreClient give an owner's store the store interface.
"""
from __future__ import annotations

import asyncio
import contextlib
import queue
from collections import deque
from collections.abc import Iterator

from .ipc_transport import FRAME, GET, INCR, OK, TOTALS, TRANSFER, IpcError, Reply, recv_exact, unix_connect
from .state import Totals


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
        assert self._writer is not None  # _connect() opened it or raised
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
