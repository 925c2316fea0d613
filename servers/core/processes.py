"""Serving one strategy from several processes: what every -mp strategy shares.

A running server is one process group, led by ``sharebench serve``:

    leader      binds the port, forks, supervises, prints the ready line; serves nothing
    helpers     processes a strategy needs besides HTTP workers (e.g. the store's owner)
    worker 0..N-1  each its own SO_REUSEPORT listener on the shared port, running the
                existing HTTP layer (threaded.py, asyncserve.py or asyncraw.py) and App

Why fork, not spawn: the leader forks while it has exactly one thread and no
event loop, so fork's hazards (a lock held by another thread, a shared
selector) cannot arise; children inherit the Work (its loop already timed) and the
strategy's shared memory and locks with nothing pickled, and start in a few
milliseconds, which keeps a respawn cheap.

The port: the leader binds it with SO_REUSEPORT and never listens. That
resolves ``--port 0`` before the ready line and keeps the port reserved
across a respawn, while only listening sockets (the workers') get
connections; the kernel spreads new connections across the workers' sockets.

Dying together: children stay in the leader's process group (no setsid), so
a signal to the group reaches every one, and each asks the kernel for SIGKILL
when the leader dies (PR_SET_PDEATHSIG), so even SIGKILL of the leader alone
leaves no orphan. On SIGTERM/SIGINT the leader stops the workers (SIGTERM),
then the helpers (SIGKILL: they ignore SIGTERM so that workers can finish
their requests first), and reaps every child before it exits.

A child that dies: the leader hears it at once (SIGCHLD). A helper's death is
always fatal. A worker is replaced only if its layout says workers hold no
state (``respawn = True``); otherwise the leader prints why on stderr, stops
the whole group and exits with status 3: loud, never a silent loss.

/stats: each worker publishes its request count in a slot of shared memory
and /stats sums the slots, so ``requests`` is the whole server's count. The
same for the garbage collector: every worker and helper (not the leader, which
serves nothing) records its collections in its own shared slot (gcstats.py),
and /stats's ``gc`` covers them all. The GC mode is applied in each child once
it is built, since gc.freeze() only freezes the objects alive when it is called.

The live heap (--live-objects, heap.py): every worker builds its own after the
fork, before it says it is ready (a per-process cache); helpers hold none.
"""
from __future__ import annotations

import contextlib
import ctypes
import itertools
import mmap
import os
import select
import signal
import socket
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn, Protocol

from . import gcstats, heap, registry
from .handling import App
from .startup import (
    THREAD_WORKERS,
    Options,
    announce,
    http_layer,
    listen,
    serve_loop,
    serve_threads,
    start_gc,
)
from .state import PlainState
from .work import Work

EXIT_CHILD_DIED = 3
READY_TIMEOUT_S = 15.0   # plus the time a worker may take to build its live heap
STOP_GRACE_S = 3.0
MAX_RESPAWNS_PER_MINUTE = 10  # beyond this a worker is crash-looping: stop loudly instead

SIGNALS = {signal.SIGCHLD, signal.SIGTERM, signal.SIGINT}
STOP = {signal.SIGTERM, signal.SIGINT}
_PR_SET_PDEATHSIG, _PR_SET_NAME = 1, 15
_libc = ctypes.CDLL(None, use_errno=True)

Ready = Callable[[], None]  # a child calls it once it can serve


@dataclass(frozen=True)
class Helper:
    """A process a layout needs besides its HTTP workers. ``run(ready)`` binds what it
    serves, calls ready(), then serves until killed. Its death is always fatal."""
    name: str
    run: Callable[[Ready], None]
    why: str  # printed if it dies: what was lost


class Layout(Protocol):
    """What a ``model="processes"`` strategy class provides; the registry's factory
    builds it in the leader, before any fork, as ``cls(keys, work, workers)``."""
    http: str      # the HTTP layer each worker runs: serving.HTTP_LAYERS
    respawn: bool  # True only if a worker holds no state of its own
    why: str       # when respawn is False: what a worker's death loses (printed)

    def helpers(self) -> list[Helper]: ...
    def attach(self, index: int): ...  # in worker ``index``, after fork: its store


def shared_ints(count: int) -> memoryview:
    """``count`` zeroed int64s in anonymous shared memory, inherited by every child.

    MAP_SHARED|MAP_ANONYMOUS has no name in /dev/shm, so nothing is left behind
    however the server dies; the pages go with the last process that maps them.
    """
    return memoryview(mmap.mmap(-1, 8 * max(count, 1))).cast("q")[:count]


def shared_state(keys: int, hold: Callable[[], None]) -> PlainState:
    """The store's counters (values, applied, sent) in anonymous shared memory, with the
    same operations as the thread strategies' PlainState: made before the fork, so every
    worker reads and writes the same counters."""
    ints = shared_ints(3 * keys)
    return PlainState.over(ints[:keys], ints[keys:2 * keys], ints[2 * keys:], hold)


class ProcessApp(App):
    """App for one worker: requests are counted in a shared slot, /stats sums them."""

    def __init__(self, spec: registry.Strategy, store, work: Work, keys: int, workers: int,
                 counts: memoryview, index: int, threads: bool, gc_slots: list,
                 gc_mode: str, live: heap.Heap | None = None) -> None:
        super().__init__(spec, store, work, keys, workers, gc_slots, gc_mode, live)
        self._counts, self._index = counts, index
        self._requests = itertools.count(counts[index] + 1)  # a respawned worker carries on
        # Orders this process's threads only (never another process): without it a
        # thread preempted between next() and the store could publish an older count.
        self._publish = threading.Lock() if threads else contextlib.nullcontext()

    def _count(self) -> int:
        with self._publish:
            count = next(self._requests)
            self._counts[self._index] = count
        return count

    def stats(self, totals, requests: int) -> bytes:
        return super().stats(totals, sum(self._counts))


class Fatal(Exception):
    """The server cannot go on; the message says why."""


@dataclass
class Child:
    name: str
    body: Callable[[Ready], None]
    why: str      # "" if it may be respawned, else what its death loses
    helper: bool  # helpers are stopped after the workers


class Supervisor:
    def __init__(self, strategy: str, ready_timeout: float = READY_TIMEOUT_S) -> None:
        self.strategy = strategy
        self.ready_timeout = ready_timeout
        self.leader = os.getpid()
        self.children: dict[int, Child] = {}
        self._respawns: deque[float] = deque()

    def start(self, child: Child) -> None:
        """Fork ``child`` and wait until it says it is ready."""
        read_fd, write_fd = os.pipe()
        sys.stdout.flush()  # else the child would hold, and could flush, a copy of our buffer
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            os.close(read_fd)
            _child_main(child, write_fd, self.leader)
        os.close(write_fd)
        self.children[pid] = child
        try:
            readable, _, _ = select.select([read_fd], [], [], self.ready_timeout)
            ready = bool(readable) and os.read(read_fd, 1) == b"r"
        finally:
            os.close(read_fd)
        if not ready:
            raise Fatal(f"{child.name} (pid {pid}) did not start; its error is above")

    def supervise(self) -> int:
        """Block until SIGTERM/SIGINT (return 0); replace or fail on a child's death."""
        while True:
            info = signal.sigtimedwait(SIGNALS, 1.0)
            if (info is not None and info.si_signo in STOP) or signal.sigpending() & STOP:
                return 0
            for pid, status in _reap():
                child = self.children.pop(pid, None)
                if child is not None:
                    self._died(child, pid, status)

    def _died(self, child: Child, pid: int, status: int) -> None:
        how = _describe(status)
        if child.why:
            raise Fatal(f"{child.name} (pid {pid}) {how}, and {child.why}; "
                        "stopping every process of the server")
        now = time.monotonic()
        self._respawns.append(now)
        while self._respawns[0] < now - 60:
            self._respawns.popleft()
        if len(self._respawns) > MAX_RESPAWNS_PER_MINUTE:
            raise Fatal(f"{child.name} (pid {pid}) {how}; over {MAX_RESPAWNS_PER_MINUTE} "
                        "worker deaths in a minute, stopping instead of respawning")
        print(f"sharebench: {self.strategy}: {child.name} (pid {pid}) {how}; it held no state, "
              "starting a new one", file=sys.stderr, flush=True)
        self.start(child)

    def stop(self) -> None:
        """Workers first (SIGTERM, so they finish their requests), then helpers (SIGKILL)."""
        workers = [pid for pid, child in self.children.items() if not child.helper]
        self._wait(workers, signal.SIGTERM, STOP_GRACE_S)
        self._wait(workers, signal.SIGKILL, STOP_GRACE_S)
        self._wait(list(self.children), signal.SIGKILL, STOP_GRACE_S)

    def _wait(self, pids: list[int], sig: int, grace: float) -> None:
        for pid in pids:
            if pid in self.children:  # a reaped pid may already belong to someone else
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
        deadline = time.monotonic() + grace
        while any(pid in self.children for pid in pids) and time.monotonic() < deadline:
            for pid, _ in _reap():
                self.children.pop(pid, None)
            time.sleep(0.01)


def _reap():
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        yield pid, status


def _describe(status: int) -> str:
    code = os.waitstatus_to_exitcode(status)
    if code < 0:
        return f"was killed by {signal.Signals(-code).name}"
    return f"exited with status {code}"


def _child_main(child: Child, ready_fd: int, leader: int) -> NoReturn:
    code = 1
    try:
        _libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        if os.getppid() != leader:  # the leader died before prctl took effect
            os._exit(1)
        _libc.prctl(_PR_SET_NAME, f"sb-{child.name}"[:15].encode(), 0, 0, 0)  # for ps and tests
        for sig in (*STOP, signal.SIGCHLD):
            signal.signal(sig, signal.SIG_DFL)  # until the body installs its own
        signal.pthread_sigmask(signal.SIG_UNBLOCK, SIGNALS)

        def ready() -> None:
            os.write(ready_fd, b"r")
            os.close(ready_fd)
        child.body(ready)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        os._exit(code)  # never run the leader's exit handlers or flush its buffers


def _reserve(host: str, port: int) -> socket.socket:
    """Bind (host, port) with SO_REUSEPORT, without listening: see the module docstring."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    if port:
        # SO_REUSEPORT would let us join another server of this user on the same
        # port and split its connections silently; a plain bind fails loudly instead.
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def _helper_body(helper: Helper, reserved: socket.socket, gc_mode: str,
                 gc_slot: memoryview) -> Callable[[Ready], None]:
    def body(ready: Ready) -> None:
        reserved.close()  # the leader's port reservation is not ours to keep open
        for sig in STOP:
            signal.signal(sig, signal.SIG_IGN)  # outlive the workers; the leader kills us after

        def built() -> None:  # the helper has made what it serves with
            start_gc(gc_mode, gc_slot)
            ready()
        helper.run(built)
    return body


def _worker_body(spec: registry.Strategy, layout: Layout, opts: Options, work: Work, workers: int,
                 counts: memoryview, index: int, reserved: socket.socket,
                 gc_slots: list) -> Callable[[Ready], None]:
    host, port = reserved.getsockname()[:2]

    def body(ready: Ready) -> None:
        reserved.close()
        listener = listen(host, port, reuse_port=True)
        store = layout.attach(index)
        threads = layout.http == "threads"
        live = heap.Heap(opts.live_objects, opts.churn)  # this worker's own, before start_gc
        app = ProcessApp(spec, store, work, opts.keys, workers, counts, index, threads,
                         gc_slots, opts.gc, live)
        start_gc(opts.gc, gc_slots[index])
        ready()
        if threads:  # each worker: a thread per connection, up to the threads model's cap
            serve_threads(app, listener, THREAD_WORKERS)
        else:
            serve_loop(layout.http, app, listener)
    return body


def run(spec: registry.Strategy, opts: Options, work: Work, workers: int) -> None:
    """Start helpers and ``workers`` worker processes, then supervise until stopped."""
    assert spec.factory is not None, "a foreign strategy is exec'd, never built here"
    layout: Layout = spec.factory(opts.keys, work, workers)
    http_layer(layout, "processes")  # a layer that does not exist fails before any fork
    if layout.http == "async":
        from . import aiohttp_loop  # noqa: F401  import aiohttp once, before forking
    counts = shared_ints(workers)
    helpers = layout.helpers()
    gc_memory = shared_ints(gcstats.SLOT * (workers + len(helpers)))  # workers', then helpers'
    gc_slots = [gc_memory[gcstats.SLOT * n:gcstats.SLOT * (n + 1)]
                for n in range(workers + len(helpers))]
    reserved = _reserve(opts.host, opts.port)
    supervisor = Supervisor(spec.name,
                            READY_TIMEOUT_S + heap.BUILD_S_PER_OBJECT * opts.live_objects)
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)  # taken by sigtimedwait
    code = 0
    try:
        for n, helper in enumerate(helpers):
            body = _helper_body(helper, reserved, opts.gc, gc_slots[workers + n])
            supervisor.start(Child(helper.name, body, helper.why, True))
        why = "" if layout.respawn else layout.why
        for index in range(workers):
            body = _worker_body(spec, layout, opts, work, workers, counts, index, reserved, gc_slots)
            supervisor.start(Child(f"worker-{index}", body, why, False))
        # a threaded front: each worker serves up to the threads model's cap
        announce(spec, reserved, workers, workers * THREAD_WORKERS if layout.http == "threads" else None)
        code = supervisor.supervise()
    except Fatal as exc:
        print(f"sharebench: {spec.name}: {exc}", file=sys.stderr, flush=True)
        code = EXIT_CHILD_DIED
    finally:
        supervisor.stop()
        reserved.close()
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
    if code:
        raise SystemExit(code)
