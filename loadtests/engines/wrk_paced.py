"""wrk, paced: thousands of connections held open, each sending at a slow fixed pace.

An open-loop cell (one with a rate) on engine ``wrk``: N connections at R requests/s
in total, so each connection sends about every N / R seconds (its interval), through
wrk's Lua ``delay()`` hook (wrk_script.paced_lua has the schedule). One wrk thread
holds thousands of sockets on epoll, which one Locust process cannot.

One wrk run covers the warm-up and the window, so every connection is opened once,
at the start, and held through the window: the server carries all N throughout. The
warm-up lasts at least one interval and a second more, so that every connection has
sent its first request (and, in a thread-per-connection server, holds its thread)
before the window opens. The script counts only answers inside the window (wall
clock, as the harness samples CPU and memory), so the record is the window's alone.

Latency: from each request's slot in the schedule (``p*_us``: corrected for
coordinated omission, as wrk2 does) and from its actual send (``p*_uncorrected_us``),
with the engine's own lag behind its schedule (``send_lag_p99_us``). wrk's socket
errors (connect, read, write, timeout: no answer within ``--timeout``) are its own
counts over the whole run, warm-up included; non-2xx answers are the window's.
Increments are exact: each answer is matched to its request (see paced_lua), so an
increment is acknowledged when its own answer was a 2xx, and uncertain when it had none.
"""
from __future__ import annotations

import shutil
import threading
import time

from loadtests.engines.base import LoadGenError, LoadSpec, Part
from loadtests.engines.wrk import START_SLACK_S, WrkRun, whole_seconds
from loadtests.engines.wrk_script import paced_lua
from loadtests.planning.engine_costs import CONNECTIONS_PER_WRK_THREAD, paced_warmup
from results import hdr

DRAIN_S = 0.5  # the run goes on this long past the window, so no answer in it is cut off


def threads_for(connections: int) -> int:
    """wrk threads for ``connections``: about CONNECTIONS_PER_WRK_THREAD each (wrk's timers
    are a list scanned on every turn of its loop, so fewer per thread cost less in all),
    and a divisor of the count, since wrk gives each thread connections // threads."""
    wanted = max(1, connections // CONNECTIONS_PER_WRK_THREAD)
    return next(t for t in range(wanted, 0, -1) if connections % t == 0)


class PacedWrkRun(WrkRun):
    def __init__(self, load: LoadSpec) -> None:
        super().__init__(load)
        if load.rate <= 0:
            raise ValueError("a paced wrk run needs a rate")
        self.interval = load.users / load.rate
        self.threads = threads_for(load.users)
        self.warmup = paced_warmup(load.warmup, load.users, load.rate)
        self._window = (0.0, 0.0)

    def start(self) -> PacedWrkRun:
        if not self.host and not shutil.which("wrk"):
            raise LoadGenError("wrk is not installed: `make wrk` installs Debian's wrk")
        self.load.out.mkdir(parents=True, exist_ok=True)
        self._started = time.time()
        self._window = (self._started + self.warmup, self._started + self.warmup + self.load.duration)
        script = paced_lua(self.load.workload, self.interval, self.load.users // self.threads,
                           self._window)
        (self.load.out / "workload.lua").write_text(script)
        self._spawn(whole_seconds(self.warmup + self.load.duration + DRAIN_S), "paced")
        return self

    def window(self, stop: threading.Event) -> tuple[float, float]:
        return self._window

    def reports(self, stop: threading.Event, end: float) -> list[Part]:
        total = whole_seconds(self.warmup + self.load.duration + DRAIN_S)
        found = self._finish(self._started + total + START_SLACK_S, stop)
        histograms = {}
        for name in ("corrected", "uncorrected", "lag"):
            histogram = hdr.new()
            for value, count in found[name]:
                histogram.record_value(hdr.clamp_us(value), count)
            histograms[name] = hdr.encode(histogram)
        errors = {("non-2xx" if kind == "status" else kind): count
                  for kind, count in found["errors"].items() if count}
        return [{"requests": found["requests"], "duration": found["window_s"], "errors": errors,
                 "acked_incr": found["acked_incr"],
                 "uncertain_incr": max(0, found["sent_incr"] - found["answered_incr"]),
                 "first_request": found["first_answer"] or self._started,
                 "hdr": histograms["corrected"], "hdr_uncorrected": histograms["uncorrected"],
                 "lag_hdr": histograms["lag"],
                 # Requests the server never answered were waiting on it, not on wrk: a
                 # window with no slot but those was the server's silence, not an idle engine.
                 "scheduled": found["scheduled"] + found["unanswered"]}]
