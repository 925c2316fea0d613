"""The Locust side of a cell: users, the measured window, and exact latency histograms.

Every Locust process that runs users (a local runner, or each worker) keeps
its own HDR histogram at microsecond resolution — Locust's own percentiles are
whole-millisecond buckets, too coarse for servers that answer in under a millisecond.

The window is owned here, not by Locust's --run-time: the master (or the local
runner) fixes [start, end] when the test starts and writes it to window.json
for the harness, which samples CPU at those instants; custom arguments reach
the workers with the spawn message. After ``end`` users stop issuing requests;
after ``end + drain`` each process reports once — its histogram of the
requests that completed inside the window, and the increments the server
acknowledged over the whole run (for the correctness check). Reports from
workers travel over Locust's own messaging, so the same code serves
``--processes`` and workers on other hosts.

Open loop (``--sb-rate``, req/s per user): each user sends on its own schedule
(constant intervals with a random phase, or Poisson arrivals), whether or not
the server has answered the earlier requests of other users. A user is one
connection: if it is still waiting when its next slot comes, that request goes
out late, and its latency is counted from the slot it should have started in
(corrected for coordinated omission, as wrk2 does) as well as from its actual
send (uncorrected). The generator's own lag — how long after the later of
"slot" and "connection free" the request actually left — is recorded apart: it
is what Locust, not the server, adds.
"""
from __future__ import annotations

import bisect
import itertools
import json
import os
import random
import time
from pathlib import Path

import gevent
from locust import FastHttpUser, events, task
from locust.runners import MasterRunner, WorkerRunner

from results import hdr
from results.atomic import write_text

REPORT_MESSAGE = "sharebench_report"
BUCKET_S = 0.05  # open loop: the latency timeline's bucket, fine enough to see a GC pause


class Recorder:
    """Per-process counters; only this process's greenlets touch it (no locking needed)."""

    def __init__(self) -> None:
        self.hist = hdr.new()              # closed loop: from send; open loop: from the slot
        self.uncorrected = hdr.new()       # open loop: from the actual send
        self.lag = hdr.new()               # open loop: the generator's own send lag, µs
        self.scheduled = 0                 # open loop: slots inside the window
        self.open_loop = False             # set from --sb-rate when the test starts
        self.start = self.end = 0.0
        self.requests = 0          # completed inside the window
        self.errors: dict[str, int] = {}
        self.acked_incr = 0        # sum of `by` the server acknowledged with 200, whole run
        self.uncertain_incr = 0    # increments whose outcome is unknown (no HTTP answer)
        self.in_flight_incr = 0    # increments sent and not yet answered
        self.first_request = 0.0
        self.timeline: list[int] = []  # open loop: max corrected latency, µs, per bucket of the window

    def note_timeline(self, now: float, latency_us: int) -> None:
        """The largest latency of the requests completed in each BUCKET_S of the window:
        a few hundred integers, where the histogram cannot say *when* the tail happened."""
        index = int((now - self.start) / BUCKET_S)
        if index >= len(self.timeline):
            self.timeline.extend([0] * (index + 1 - len(self.timeline)))
        if latency_us > self.timeline[index]:
            self.timeline[index] = latency_us

    def report(self) -> dict:
        return {"pid": os.getpid(), "start": self.start, "end": self.end,
                "requests": self.requests, "errors": self.errors,
                "acked_incr": self.acked_incr,
                "uncertain_incr": self.uncertain_incr + self.in_flight_incr,
                "first_request": self.first_request,
                "hdr": hdr.encode(self.hist),
                **({"hdr_uncorrected": hdr.encode(self.uncorrected),
                    "lag_hdr": hdr.encode(self.lag), "scheduled": self.scheduled,
                    "timeline": {"bucket_ms": BUCKET_S * 1000, "start": self.start,
                                 "max_us": self.timeline}}
                   # Even with no slot in the window (a generator too starved to start its
                   # users in time): the harness must learn it lagged, not that it is not open loop.
                   if self.open_loop else {})}


RECORDER = Recorder()


@events.init_command_line_parser.add_listener
def _arguments(parser) -> None:
    parser.add_argument("--sb-workload", default="{}", help="sharebench: client config (JSON)")
    parser.add_argument("--sb-warmup", type=float, default=2.0, help="sharebench: warm-up s")
    parser.add_argument("--sb-duration", type=float, default=5.0, help="sharebench: window s")
    parser.add_argument("--sb-drain", type=float, default=0.5, help="sharebench: drain s")
    parser.add_argument("--sb-out", default="", help="sharebench: where reports are written")
    parser.add_argument("--sb-window", default="", help="sharebench: set by the master")
    parser.add_argument("--sb-rate", type=float, default=0.0,
                        help="sharebench: open loop, requests/s per user (0: closed loop)")
    parser.add_argument("--sb-arrivals", default="constant", choices=("constant", "poisson"),
                        help="sharebench: open-loop schedule")


@events.test_start.add_listener
def _test_start(environment, **_) -> None:
    opts = environment.parsed_options
    if not isinstance(environment.runner, WorkerRunner):
        start = time.time() + opts.sb_warmup
        opts.sb_window = f"{start},{start + opts.sb_duration}"  # travels to workers
        _write_json(opts.sb_out, "window.json", {"start": start, "end": start + opts.sb_duration})
    RECORDER.start, RECORDER.end = map(float, opts.sb_window.split(","))
    RECORDER.open_loop = opts.sb_rate > 0
    if not isinstance(environment.runner, MasterRunner):
        gevent.spawn(_report_after_window, environment)


@events.init.add_listener
def _init(environment, **_) -> None:
    if isinstance(environment.runner, MasterRunner):
        environment.runner.register_message(REPORT_MESSAGE, lambda msg, **kw: _write_json(
            environment.parsed_options.sb_out, f"part-{msg.data['pid']}.json", msg.data))


def _report_after_window(environment) -> None:
    gevent.sleep(max(0.0, RECORDER.end + environment.parsed_options.sb_drain - time.time()))
    report = RECORDER.report()
    if isinstance(environment.runner, WorkerRunner):
        environment.runner.send_message(REPORT_MESSAGE, report)
    else:
        _write_json(environment.parsed_options.sb_out, f"part-{report['pid']}.json", report)


def _write_json(folder: str, name: str, doc: dict) -> None:
    """Atomic write: the harness never reads half a report."""
    if not folder:
        return
    write_text(Path(folder) / name, json.dumps(doc))


@events.request.add_listener
def _on_request(request_type, name, response_time, response_length, response=None,
                context=None, exception=None, **_) -> None:
    rec = RECORDER
    now = time.time()
    if not rec.first_request:
        rec.first_request = now  # the harness checks the warm-up really happened
    by = context.get("by", 0) if context else 0
    if by:
        rec.in_flight_incr -= by
    if exception is None:
        rec.acked_incr += by
    else:
        status = getattr(response, "status_code", 0) or 0
        if not status:
            rec.uncertain_incr += by  # no answer: the server may or may not have applied it
    if rec.start <= now <= rec.end and not (context and context.get("connect")):
        rec.requests += 1
        slot = context.get("slot") if context else None
        if slot is None:
            rec.hist.record_value(hdr.clamp_us(response_time * 1000))
        else:
            corrected = hdr.clamp_us((now - slot) * 1e6)
            rec.hist.record_value(corrected)
            rec.note_timeline(now, corrected)
            rec.uncorrected.record_value(hdr.clamp_us(response_time * 1000))
        if exception is not None:
            kind = f"http {status}" if status else type(exception).__name__
            rec.errors[kind] = rec.errors.get(kind, 0) + 1


class Chooser:
    """Picks operations and keys for one workload, with precomputed tables."""

    def __init__(self, config: dict) -> None:
        self.keys = int(config.get("keys", 1024))
        ops = sorted(config.get("mix", {"get": 1}).items())
        self.ops = [op for op, _ in ops]
        self.op_cum = list(itertools.accumulate(weight for _, weight in ops))
        self.key_cum = None
        if config.get("distribution") == "zipf":
            s = float(config.get("zipf_s", 1.1))
            self.key_cum = list(itertools.accumulate(1 / (rank ** s) for rank in range(1, self.keys + 1)))

    def op(self) -> str:
        return self.ops[bisect.bisect(self.op_cum, random.random() * self.op_cum[-1])]

    def key(self) -> int:
        if self.key_cum is None:
            return random.randrange(self.keys)
        return min(self.keys - 1, bisect.bisect(self.key_cum, random.random() * self.key_cum[-1]))


JSON = {"Content-Type": "application/json"}


class ContractUser(FastHttpUser):
    """One persistent connection: closed loop (no think time), or open loop on a schedule."""

    chooser: Chooser | None = None

    def on_start(self) -> None:
        opts = self.environment.parsed_options
        if ContractUser.chooser is None:
            ContractUser.chooser = Chooser(json.loads(opts.sb_workload))
        self.pick = ContractUser.chooser
        self.rate, self.poisson = opts.sb_rate, opts.sb_arrivals == "poisson"
        # A random phase, so that users spawned together do not send in bursts.
        self.slot = time.time() + (random.expovariate(self.rate) if self.poisson
                                   else random.uniform(0, 1 / self.rate)) if self.rate else 0.0
        self.free = 0.0  # when this user's connection last became free
        if self.rate:
            # Open the connection now: at a low rate per user its first slot may be many
            # seconds away, and a connection sweep must hold every connection through the window.
            self.client.get("/health", name="connect", context={"connect": True})
            self.free = time.time()  # a server slow to take the connection is not Locust's lag

    @task
    def one_request(self) -> None:
        if self.rate:
            self._open_loop()
        elif time.time() > RECORDER.end > 0:
            gevent.sleep(0.05)  # the window is over: stop loading so the counts settle
        else:
            self._send({})

    def _open_loop(self) -> None:
        slot = self.slot
        if slot > RECORDER.end > 0:
            gevent.sleep(0.05)  # the schedule has left the window: stop, the counts settle
            return
        wait = slot - time.time()
        if wait > 0:
            gevent.sleep(wait)
        sent = time.time()
        self.slot += random.expovariate(self.rate) if self.poisson else 1 / self.rate
        if RECORDER.start <= sent <= RECORDER.end:
            # Only the delay after the later of "slot due" and "connection free" is Locust's
            # own; the rest is the server still answering this user's previous request.
            RECORDER.lag.record_value(hdr.clamp_us((sent - max(slot, self.free)) * 1e6))
        if RECORDER.start <= slot <= RECORDER.end:
            RECORDER.scheduled += 1
        self._send({"slot": slot})
        self.free = time.time()

    def _send(self, context: dict) -> None:
        pick = self.pick
        op = pick.op()
        if op == "get":
            self.client.get(f"/kv/{pick.key()}", name="get", context=context)
        elif op == "incr":
            by = random.randint(1, 1000)
            RECORDER.in_flight_incr += by
            self.client.post(f"/kv/{pick.key()}/incr", data=f'{{"by":{by}}}',
                             headers=JSON, name="incr", context={**context, "by": by})
        else:
            src = pick.key()
            dst = (src + 1 + random.randrange(pick.keys - 1)) % pick.keys
            self.client.post("/transfer", headers=JSON, name="transfer", context=context,
                             data=f'{{"from":{src},"to":{dst},"amount":{random.randint(1, 1000)}}}')
