"""What serve.py (one process) and processes.py (a leader and its workers) share.

The options a server runs with, its listening socket, the ready line, the GC
start in each serving process, and the threads model's serving loop. It lives
apart from both so that neither imports the other: serve.py dispatches to
processes.py, and processes.py builds its workers from these same pieces.
"""
from __future__ import annotations

import os
import signal
import socket
import threading
from dataclasses import dataclass

from . import gcstats, registry
from .handling import App
from .heap import DEFAULT_CHURN

THREAD_WORKERS = 1024  # default connection cap of the threads model (see threaded.py)
BACKLOG = 1024         # pending connections the kernel queues per listening socket
# The HTTP layers a server runs: a thread per connection (threaded.py), aiohttp on one
# event loop (asyncserve.py), or one raw event loop with the threads' parser (asyncraw.py).
# A strategy class names its own in ``http``; an async one without it runs aiohttp.
HTTP_LAYERS = ("threads", "async", "async-raw")


@dataclass
class Options:
    port: int = 0
    host: str = "127.0.0.1"
    workers: int | None = None
    keys: int = 1024
    cpu_us: float = 0
    hold_us: float = 0
    io_ms: float = 0
    garbage: int = 0
    live_objects: int = 0                 # heap.py: the live heap each serving process holds
    churn: float = DEFAULT_CHURN          # share of state requests that replace heap entries
    gc: str = "default"                   # gcstats.MODES
    switch_interval: float | None = None  # seconds; None: CPython's default (5 ms)


def listen(host: str, port: int, reuse_port: bool = False) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(BACKLOG)
    return sock


def announce(spec: registry.Strategy, listener: socket.socket, workers: int,
             connection_cap: int | None) -> None:
    """The ready line: printed once the server accepts connections (ServerProcess parses
    it). ``connection_cap``: connections served at once; None for no cap of its own."""
    host, port = listener.getsockname()[:2]
    cap = f" connection_cap={connection_cap}" if connection_cap else ""
    print(f"sharebench: serving {spec.name} on http://{host}:{port} pid={os.getpid()} "
          f"workers={workers}{cap}", flush=True)


def start_gc(mode: str, slot) -> None:
    """In each serving process, once it is built: the GC mode, then the monitor."""
    gcstats.apply_mode(mode)
    gcstats.Monitor(slot).install()


def serve_threads(app: App, listener: socket.socket, connections: int | None = None) -> None:
    """A thread per connection (threaded.py) until SIGINT or SIGTERM."""
    from . import threaded
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    threaded.serve(app, listener, stop, connections)


def http_layer(factory, model: str) -> str:
    """The HTTP layer a strategy's class asks for (``http``), else its model's."""
    layer = getattr(factory, "http", "threads" if model == "threads" else "async")
    if layer not in HTTP_LAYERS:
        raise ValueError(f"http = {layer!r}: must be one of {', '.join(HTTP_LAYERS)}")
    return layer


def serve_loop(layer: str, app: App, listener: socket.socket) -> None:
    """One event loop until SIGINT or SIGTERM: aiohttp's, or the raw one."""
    if layer == "async-raw":
        from . import raw_loop
        raw_loop.serve(app, listener, BACKLOG)
    else:
        from . import aiohttp_loop  # aiohttp only where it is used
        aiohttp_loop.serve(app, listener, BACKLOG)
