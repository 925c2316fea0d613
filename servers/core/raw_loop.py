"""HTTP on one raw asyncio event loop (asyncio.Protocol), through the threads model's own
parser and response writer (http1.py): the async execution model without aiohttp.

aiohttp and sharebench's parser differ in what each costs per request, so comparing
`async` (aiohttp) with `global-lock` (threads) mixes the framework with the model. A
strategy served here speaks HTTP exactly as the thread strategies do; only the
execution model differs, and `async` beside it shows what the framework costs.

A request runs its handler (App.handle_async) at once, inside data_received: a
coroutine that completes without waiting (every state operation of an in-process
store) is answered on the spot, with no task; one that waits (``--io-ms``, a store
across a process boundary) continues in a task, and the connection reads no further
request until it has answered (HTTP/1.1 answers in order). A connection costs a
protocol object, its transport and one timer, never a task of its own.

Slow clients, as in threaded.py: a connection must send its first byte, and each later
piece of a request, within HEAD_TIMEOUT_S, and may idle IDLE_TIMEOUT_S between
requests. One timer per connection, re-armed lazily: a request only moves a deadline.
"""
from __future__ import annotations

import asyncio
import functools
import signal
import socket
import sys
from collections.abc import Coroutine
from typing import Any

from .handling import App, Response
from .http1 import Parser, Reject, reject, response
from .threaded import HEAD_TIMEOUT_S, IDLE_TIMEOUT_S

MAX_BUFFERED = 1 << 20  # pipelined bytes held while a request waits; beyond, stop reading


class _Connection(asyncio.Protocol):
    __slots__ = ("_app", "_loop", "_parser", "_transport", "_deadline", "_timer", "_busy",
                 "_spoken", "_paused", "_eof", "_closed")

    def __init__(self, app: App, loop: asyncio.AbstractEventLoop) -> None:
        self._app, self._loop = app, loop
        self._parser = Parser()
        self._transport: asyncio.Transport | None = None
        self._deadline = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._busy = False     # a request's handler is waiting: answer it before the next
        self._spoken = False   # answered a request: it may idle IDLE_TIMEOUT_S from now on
        self._paused = False   # the peer does not read its answers: read nothing more
        self._eof = False      # the peer closed its side: answer what is buffered, then close
        self._closed = False

    def connection_made(self, transport) -> None:
        self._transport = transport
        self._deadline = self._loop.time() + HEAD_TIMEOUT_S
        self._timer = self._loop.call_at(self._deadline, self._expire)

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()

    def data_received(self, data: bytes) -> None:
        self._parser.feed(data)
        if not self._busy:
            self._serve()
        elif self._parser.buffered() > MAX_BUFFERED and self._transport is not None:
            self._transport.pause_reading()  # resumed once the waiting request is answered

    def eof_received(self) -> bool:
        self._eof = True
        if not self._busy:
            self._serve()
        return True  # the transport stays open for our answers; _serve closes it

    def pause_writing(self) -> None:
        self._paused = True
        if self._transport is not None:
            self._transport.pause_reading()

    def resume_writing(self) -> None:
        self._paused = False
        if self._transport is not None and not self._closed and not self._busy:
            self._transport.resume_reading()
            self._serve()

    def _serve(self) -> None:
        """Answer every whole request buffered, in order, until one has to wait."""
        while not self._closed and not self._paused:
            try:
                request = self._parser.next()
                if request is None and self._eof:
                    self._parser.eof()  # a request cut short is answered 400 (raises Reject)
            except Reject as refused:
                self._write(refused.payload)
                self._close()
                return
            if request is None:
                if self._eof:
                    self._close()
                    return
                wait = IDLE_TIMEOUT_S if self._spoken and self._parser.idle else HEAD_TIMEOUT_S
                self._deadline = self._loop.time() + wait
                return
            method, target, keep_alive, body = request
            coro = self._app.handle_async(method, target, body)
            try:
                waiting = coro.send(None)
            except StopIteration as done:
                self._answer(done.value, keep_alive)
                continue
            except Exception as exc:
                self._failed(exc)
                return
            self._busy = True
            task = self._loop.create_task(_finish(coro, waiting))
            task.add_done_callback(functools.partial(self._resumed, keep_alive=keep_alive))
            return

    def _resumed(self, task: asyncio.Task, keep_alive: bool) -> None:
        self._busy = False
        if self._closed:
            return
        if task.cancelled():
            self._close()
            return
        exc = task.exception()
        if exc is not None:
            self._failed(exc)
            return
        self._answer(task.result(), keep_alive)
        if self._transport is not None and not self._closed and not self._paused:
            self._transport.resume_reading()
            self._serve()

    def _answer(self, result: Response, keep_alive: bool) -> None:
        status, payload, allow = result
        self._write(response(status, payload, allow, close=not keep_alive))
        self._spoken = True
        if not keep_alive:
            self._close()

    def _failed(self, exc: BaseException) -> None:
        """A bug in a strategy: say so, answer 500, keep serving the others."""
        print(f"sharebench: internal error: {exc!r}", file=sys.stderr, flush=True)
        self._write(reject(500, "internal error"))
        self._close()

    def _write(self, payload: bytes) -> None:
        if self._transport is not None and not self._closed:
            self._transport.write(payload)

    def _close(self) -> None:
        if self._transport is not None and not self._closed:
            self._closed = True
            self._transport.close()

    def _expire(self) -> None:
        """The connection's timer: closes it if its deadline passed (silently, as a thread
        whose read timed out does), else re-arms for the deadline."""
        if self._closed:
            return
        now = self._loop.time()
        if self._busy or now < self._deadline:  # a request in hand is the server's to finish
            self._timer = self._loop.call_at(max(self._deadline, now + 1.0), self._expire)
            return
        self._close()


async def _finish(coro: Coroutine[Any, Any, Response], waiting: Any) -> Response:
    """Drive to its end a handler that was started outside any task and is now waiting
    on ``waiting`` (what it yielded: a future, or None for a bare yield)."""
    while True:
        try:
            if waiting is None:
                await asyncio.sleep(0)
            else:
                # As a task does with what its coroutine yields: take the future's
                # "blocking" mark, wait for it, then resume the handler.
                waiting._asyncio_future_blocking = False
                await waiting
        except BaseException as exc:  # cancelled, or the future failed: the handler decides
            try:
                waiting = coro.throw(exc)
            except StopIteration as done:
                return done.value
            continue
        try:
            waiting = coro.send(None)
        except StopIteration as done:
            return done.value


async def _run(app: App, listener: socket.socket, backlog: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _Connection(app, loop), sock=listener,
                                      backlog=backlog)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        server.close()


def serve(app: App, listener: socket.socket, backlog: int) -> None:
    """Serve until SIGINT or SIGTERM; ``backlog``: the listener's kernel queue (asyncio
    would set its own, 100, otherwise)."""
    asyncio.run(_run(app, listener, backlog))
