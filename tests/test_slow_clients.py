"""Slow clients must not stop a server from answering others.

Every strategy gets more connections that never send a byte than it has
connection threads — threads strategies run with ``--workers 64`` so that 264
overflow the cap cheaply; thread-based process workers have 1024 each; async
ones have no cap and get 200 — plus 40 that send part of a request and stall.
While all of them are open, a normal client must get /health, /kv/0 and an
increment answered within 2 s each.
"""
from __future__ import annotations

import resource
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from loadtests.machine.client import Client
from servers import get
from servers.core import threaded
from servers.core.handling import App
from servers.core.startup import THREAD_WORKERS, listen
from servers.core.work import Work

from .helpers import STRATEGIES

pytestmark = pytest.mark.servers  # starts real servers; make test-fast leaves it out

THREAD_CAP = 64        # --workers for threads strategies in this test
PROMPT_S = 2.0         # a normal client's request, answered within this while slow ones wait
PARTIAL = [b"GET /kv/0 HT", b"GET /health HTTP/1.1\r\nHost: x", b"POST /kv/0/incr HTTP/1.1\r\n"
           b"Content-Length: 9\r\n\r\n{\"by\"", b"G"]


@pytest.fixture(scope="module", autouse=True)
def enough_descriptors() -> Iterator[None]:
    """Over 2000 sockets here and in each server (which inherits the limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 8192 if hard == resource.RLIM_INFINITY else min(hard, 8192)
    if wanted < 4096:
        pytest.skip(f"needs 4096 file descriptors, the hard limit is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, wanted), hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def silent_count(name: str, processes: int) -> tuple[list[str], int]:
    """Server flags, and how many silent connections overflow its connection threads."""
    spec = STRATEGIES[name]
    if spec.model == "threads":
        return ["--workers", str(THREAD_CAP)], THREAD_CAP + 200
    if spec.model == "processes" and getattr(spec.factory, "http", "") == "threads":
        return [], THREAD_WORKERS * processes + 200
    return [], 200  # one event loop per process: no cap to overflow


def timed(fn, *args) -> tuple[int, float]:
    start = time.monotonic()
    status, _ = fn(*args)
    return status, time.monotonic() - start


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_slow_clients_do_not_stop_the_others(serve, name: str) -> None:
    probe = serve(name, "--keys", "8")  # learns how many worker processes it runs
    flags, count = silent_count(name, probe.workers)
    probe.stop()
    server = serve(name, "--keys", "8", *flags)
    with ExitStack() as stack:
        for index in range(count + len(PARTIAL) * 10):
            try:
                sock = stack.enter_context(socket.create_connection(
                    (server.host, server.port), timeout=PROMPT_S))
            except OSError as exc:
                pytest.fail(f"connection {index} could not even connect: {exc}")
            if index >= count:
                sock.sendall(PARTIAL[index % len(PARTIAL)])
        time.sleep(0.2)  # let the server take them all in
        client = Client(server.host, server.port, timeout=PROMPT_S + 1)
        for fn, args in ((client.get, ("/health",)), (client.get, ("/kv/0",)),
                         (client.post, ("/kv/1/incr", {"by": 5}))):
            try:
                status, took = timed(fn, *args)
            except OSError as exc:
                pytest.fail(f"{name}: {args[0]} unanswered beside {count} silent and "
                            f"{len(PARTIAL) * 10} stalled connections: {exc!r}")
            assert status == 200 and took < PROMPT_S, (args[0], status, took)
        client.close()
    assert server.alive(), server.stderr_tail()
    status, doc = Client(server.host, server.port).get("/stats")
    assert status == 200, doc
    if STRATEGIES[name].stateful:
        assert doc["sum"] == doc["incr_applied"] == 5, doc


@pytest.fixture
def local_server(monkeypatch) -> Iterator[tuple[str, int]]:
    """The threads layer in this process, with a head timeout short enough to wait for."""
    monkeypatch.setattr(threaded, "HEAD_TIMEOUT_S", 0.3)
    spec, work = get("global-lock"), Work.create()
    app = App(spec, spec.factory(8, work), work, 8, 16)
    listener = listen("127.0.0.1", 0)
    stop = threading.Event()
    thread = threading.Thread(target=threaded.serve, args=(app, listener, stop), daemon=True)
    thread.start()
    yield listener.getsockname()[:2]
    stop.set()
    thread.join(5)
    listener.close()
    assert not thread.is_alive()


def closed_by_server(sock: socket.socket, within: float) -> bool:
    sock.settimeout(within)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def test_silent_and_stalled_connections_are_closed_after_the_head_timeout(local_server) -> None:
    host, port = local_server
    with socket.create_connection((host, port)) as silent, \
            socket.create_connection((host, port)) as stalled:
        stalled.sendall(b"GET /health HT")
        assert closed_by_server(silent, 3.0), "a connection that never spoke was kept"
        assert closed_by_server(stalled, 3.0), "a stalled first request was kept"


def test_a_connection_that_has_spoken_may_idle_longer(local_server) -> None:
    """The head timeout is for new connections only: keep-alive clients idle between requests."""
    host, port = local_server
    ask = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
    with socket.create_connection((host, port), timeout=3.0) as sock:
        for _ in range(2):
            sock.sendall(ask)
            answer = sock.recv(65536)
            assert answer.startswith(b"HTTP/1.1 200 "), f"closed while idle: {answer!r}"
            time.sleep(0.6)  # twice the head timeout


def test_a_storm_of_connections_is_served_not_evicted(monkeypatch) -> None:
    """More connections opened at once than the server holds silent, each speaking a moment
    later (as a load generator busy opening the rest does): every one is answered. Before,
    the oldest silent connection was evicted for each newcomer, before it could speak."""
    monkeypatch.setattr(threaded, "MAX_SILENT", 32)
    spec, work = get("global-lock"), Work.create()
    app = App(spec, spec.factory(8, work), work, 8, 256)
    listener = listen("127.0.0.1", 0)
    stop = threading.Event()
    thread = threading.Thread(target=threaded.serve, args=(app, listener, stop), daemon=True)
    thread.start()
    host, port = listener.getsockname()[:2]
    try:
        with ExitStack() as stack:
            socks = [stack.enter_context(socket.create_connection((host, port), timeout=5.0))
                     for _ in range(128)]  # 4x what it holds silent: the backlog keeps the rest
            time.sleep(0.3)
            for sock in socks:
                sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            answered = 0
            for sock in socks:
                try:
                    answered += sock.recv(65536).startswith(b"HTTP/1.1 200 ")
                except OSError:
                    pass
            assert answered == len(socks), f"{len(socks) - answered} connections never answered"
    finally:
        stop.set()
        thread.join(5)
        listener.close()
