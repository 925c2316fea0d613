"""Run one strategy in the foreground until SIGINT or SIGTERM.

The ready line on stdout carries the bound port, so a caller can ask for port
0 and never race another process for a "free" port. The "processes" model is
served by processes.py (a leader forking worker processes); this module only
dispatches to it. A strategy in another language (foreign.py) is exec'd with
the same flags once they are checked: the binary then prints the ready line
and answers the signals itself.

``--workers`` per model: threads — the connection-thread cap (default 1024);
async — the one event loop (must be 1); processes — the number of worker
processes (default: the cores this server may run on).
"""
from __future__ import annotations

import os
import sys

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
from .work import Work

MAX_PROCESSES = 256    # --workers for the processes model: a typo must not fork-bomb the box
SWITCH_INTERVAL_BOUNDS_S = (1e-6, 1.0)  # --switch-interval bounds: 1 us is the stress check's


def cores() -> int:
    """The cores this process may run on: what a pinned server was given."""
    return len(os.sched_getaffinity(0))


def default_workers(model: str) -> int:
    if model == "threads":
        return THREAD_WORKERS
    if model == "async":
        return 1
    return cores()


def check_options(spec: registry.Strategy, opts: Options) -> int:
    """Validate options before anything starts; returns the worker count."""
    if not 1 <= opts.keys <= 10_000_000:
        raise ValueError(f"--keys must be in 1..10000000, got {opts.keys}")
    if not 0 <= opts.port <= 65535:
        raise ValueError(f"--port must be in 0..65535, got {opts.port}")
    heap.check(opts.live_objects, opts.churn)
    if opts.gc not in gcstats.MODES:
        raise ValueError(f"--gc must be one of {', '.join(gcstats.MODES)}, got {opts.gc!r}")
    low, high = SWITCH_INTERVAL_BOUNDS_S
    if opts.switch_interval is not None and not low <= opts.switch_interval <= high:
        raise ValueError(f"--switch-interval must be in {low:g}..{high:g} seconds, "
                         f"got {opts.switch_interval:g}")
    return check_workers(spec.name, spec.model, spec.manifest is not None, opts.workers)


def check_workers(name: str, model: str, foreign: bool, workers: int | None) -> int:
    """The ``--workers`` a strategy of ``model`` can take (None: its default); the worker
    count, or ValueError saying why not. The plan asks this of a block's ``workers``
    before anything starts, so a run never starts a server that would refuse it."""
    if foreign:  # a server in another language: its own defaults (it reports them)
        if workers is not None and not 1 <= workers <= THREAD_WORKERS * 64:
            raise ValueError(f"--workers must be in 1..{THREAD_WORKERS * 64}, got {workers}")
        return workers or 0
    count = workers or default_workers(model)
    if model == "async" and count != 1:
        raise ValueError(f"{name} runs one event loop; --workers must be 1, got {count}")
    if count < 1:
        raise ValueError(f"--workers must be at least 1, got {count}")
    if model == "processes" and count > MAX_PROCESSES:
        raise ValueError(f"{name}: --workers is a process count here; "
                         f"at most {MAX_PROCESSES}, got {count}")
    return count


def run(spec: registry.Strategy, opts: Options) -> None:
    workers = check_options(spec, opts)
    registry.build(spec)  # a foreign program, if missing (discovery never builds)
    if spec.manifest is not None:  # another language: this process becomes that server
        # --garbage, --gc and --switch-interval are CPython's (its collector, its GIL):
        # checked like every flag, and meaningless to a server without them. The live
        # heap is passed on: the server without a collector holds the same objects.
        from . import foreign
        Work.create(opts.cpu_us, opts.hold_us, opts.io_ms, opts.garbage, measure=False)  # checks
        foreign.exec_server(foreign.command(
            spec.manifest, spec.name, opts.port, opts.host, opts.workers, opts.keys,
            opts.cpu_us, opts.hold_us, opts.io_ms, opts.live_objects, opts.churn))
    work = Work.create(opts.cpu_us, opts.hold_us, opts.io_ms, opts.garbage)
    if opts.switch_interval is not None:
        # Before any fork: the interval is interpreter state, so forked workers inherit it.
        sys.setswitchinterval(opts.switch_interval)
    if spec.model == "processes":
        from . import processes  # forks workers; see processes.py
        processes.run(spec, opts, work, workers)
        return
    assert spec.factory is not None, "a foreign strategy is exec'd, never built here"
    store = spec.factory(opts.keys, work)
    slot = gcstats.local_slot()
    live = heap.Heap(opts.live_objects, opts.churn)  # before start_gc: freeze freezes it
    app = App(spec, store, work, opts.keys, workers, [slot], opts.gc, live)
    start_gc(opts.gc, slot)
    listener = listen(opts.host, opts.port)
    # a thread per connection, at most `workers` at once; one event loop takes any number
    announce(spec, listener, workers, workers if spec.model == "threads" else None)
    try:
        if spec.model == "async":
            serve_loop(http_layer(spec.factory, spec.model), app, listener)
        else:
            serve_threads(app, listener)
    finally:
        listener.close()

