"""What every load engine provides, so a cell is measured the same way whoever drives it.

A load run (`LoadRun`) is one engine run for one cell, as its `LoadSpec` asks: it starts, fixes a measured window
(warm-up excluded), and after the window hands back one report per process that
ran users or connections. A report (`Part`) has the same fields whatever the
engine, so latency, errors and correctness are judged once, in cell.py.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import NotRequired, Protocol, TypedDict

from loadtests.machine.measure import Sample
from loadtests.machine.ssh import SshHost
from loadtests.planning.workloads import Workload


class LoadGenError(RuntimeError):
    """The engine did not start, did not report, or hung; the message says which."""


class Stopped(Exception):
    """The run was asked to stop (SIGINT/SIGTERM): drop the cell in flight.

    Not an OSError (as InterruptedError is), so no handler of I/O errors can
    mistake a stop for a failed cell."""


class Part(TypedDict):
    """One process's report of a cell."""
    requests: int              # completed inside the measured window
    duration: NotRequired[float]  # the window as the engine timed it, s (wrk); else the harness's
    errors: dict[str, int]     # kind -> count, inside the window
    acked_incr: int            # increments the server acknowledged, whole cell (warm-up too)
    uncertain_incr: int        # increments with no answer: may or may not have been applied
    first_request: float       # epoch of the first answer (0: none)
    hdr: str                   # encoded HdrHistogram of the window's latencies, µs
    # Open loop only (absent in closed-loop reports): `hdr` then counts from each request's
    # slot (corrected); these count from its actual send, and the generator's own send lag.
    hdr_uncorrected: NotRequired[str]
    lag_hdr: NotRequired[str]
    scheduled: NotRequired[int]  # slots that fell inside the window (paced wrk: and the
    #                              requests left unanswered, waiting on the server)
    # {"bucket_ms", "start" (epoch s), "max_us": [max corrected latency per bucket]}
    timeline: NotRequired[dict]


@dataclass
class LoadSpec:
    """What a load run is asked to do."""
    url: str
    workload: Workload
    users: int                 # concurrent users (Locust) or connections (wrk)
    warmup: float
    duration: float
    out: Path                  # scratch folder for this attempt
    cpus: set[int] | None = None
    processes: int = 1         # processes (Locust) or threads (wrk) that run the load
    remote: bool = False       # Locust workers on other hosts
    master_port: int = 5557
    rate: float = 0.0          # open loop: requests/s offered in total; 0: closed loop
    arrivals: str = "constant"  # open loop: constant intervals or poisson
    host: SshHost | None = None  # the load host (wrk, or Locust's workers, run there); None: here
    master_host: str = "127.0.0.1"  # this host's address as the load host sees it (Locust's master)


class LoadRun(Protocol):
    remote: bool
    cpus: set[int] | None
    host: SshHost | None        # the load host it runs on; None: this one

    def sample(self) -> Sample | None: ...  # its tree's counters, read on its host

    @property
    def pid(self) -> int | None: ...

    def start(self) -> LoadRun: ...

    def window(self, stop: threading.Event) -> tuple[float, float]: ...

    def reports(self, stop: threading.Event, end: float) -> list[Part]: ...

    def stop(self, grace: float = 5.0) -> None: ...

    def bind_failed(self) -> bool: ...

    def log_tail(self, lines: int = 15) -> str: ...
