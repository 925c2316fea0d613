"""Soak: every safe strategy at a moderate fixed request rate for a long time, RSS sampled.

``make soak`` (not in CI) asks one question: does a server's memory grow while
it serves a steady load? Each server gets ``rate`` requests/s from CONNECTIONS
keep-alive connections (70% get, 25% incr, 5% transfer, uniform keys), each
connection replaced after RECONNECT_EVERY requests so that accepting and
retiring connections soaks too. Every few seconds the server's process tree is
sampled: RSS, processes, threads, open descriptors. Tree RSS counts pages the
-mp processes share (forked code, the shared store) once per process, so
compare growth, not absolute sizes, across models.

All strategies run at once, each with its own server (its own process group,
loopback, pinned nowhere) and its own client threads, so a 10-minute soak
takes 10 minutes, not 80. That is sound for memory: what a server allocates
per request and per connection does not depend on who shares the CPUs, and
each server's RSS is its own tree's. It does distort latency (servers and
clients take turns on the same cores), so no latency is reported; and if the
machine cannot keep up, a server gets fewer requests than asked, which the
summary shows beside the target rate.

Output: results/soak-<stamp>/soak.csv (every sample) and summary.csv (per
strategy: RSS after warm-up, at the end, peak, growth in MiB and %/hour, a
least-squares slope, requests, errors, and /stats against the increments the
clients were acknowledged).
"""
from __future__ import annotations

import csv
import http.client
import random
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import astuple, dataclass, field
from pathlib import Path
from typing import Any

from loadtests.checks import correctness
from loadtests.machine import measure, signals
from loadtests.machine.client import Client
from loadtests.machine.process_groups import Survivors
from loadtests.machine.server import ServerError, ServerProcess
from loadtests.planning import profiles
from results.schema import SOAK_SAMPLE_COLUMNS, SOAK_SUMMARY_COLUMNS

KEYS = 1024
CONNECTIONS = 4         # per strategy, one client thread each
RECONNECT_EVERY = 500   # requests per connection, on average, before it is replaced
TIMEOUT_S = 5.0
JSON = {"Content-Type": "application/json"}
MAX_S = 24 * 3600


class SoakError(ValueError):
    """A bad soak option; the message says which."""


def parse_duration(text: str) -> float:
    """The harness's durations (profiles.parse_duration), up to a day."""
    try:
        return profiles.parse_duration(text, "soak duration", most=MAX_S)
    except profiles.PlanError as exc:
        raise SoakError(str(exc)) from None


# --- the load: paced keep-alive requests -------------------------------------------

@dataclass
class Counts:
    """One client thread's counts; only that thread writes them."""
    requests: int = 0        # answered
    errors: int = 0          # non-200 answers and failed connections
    acked_incr: int = 0      # sum of `by` answered with 200
    uncertain_incr: int = 0  # sent, never answered: may or may not have been applied


def _request(rng: random.Random) -> tuple[str, str, dict | None, int]:
    """The next request (method, path, JSON body) and the increment it carries (0 if none)."""
    pick, key = rng.random(), rng.randrange(KEYS)
    if pick < 0.70:
        return "GET", f"/kv/{key}", None, 0
    if pick < 0.95:
        by = rng.randint(1, 1000)
        return "POST", f"/kv/{key}/incr", {"by": by}, by
    return "POST", "/transfer", {"from": key, "to": (key + 1) % KEYS,
                                 "amount": rng.randint(1, 1000)}, 0


def _drive(port: int, rate: float, halt: threading.Event, load: Counts, seed: int) -> None:
    """One connection's share of the load, paced at ``rate`` requests/s, until ``halt``."""
    rng, interval = random.Random(seed), 1.0 / rate
    due, used = time.monotonic() + rng.random() * interval, 0
    client = Client("127.0.0.1", port, timeout=TIMEOUT_S)
    # Staggered, so a server's connections are not all replaced at the same instant.
    limit = rng.randint(RECONNECT_EVERY // 2, RECONNECT_EVERY * 3 // 2)
    while not halt.is_set():
        delay = due - time.monotonic()
        if delay > 0 and halt.wait(delay):
            break
        if delay < -1.0:  # fell behind (a busy machine): carry on, do not burst to catch up
            due = time.monotonic()
        due += interval
        method, path, body, by = _request(rng)
        try:
            status, _ = client.request(method, path, body, JSON if body else None)
        except (OSError, http.client.HTTPException):
            load.errors += 1
            load.uncertain_incr += by
            client.close()
            continue
        load.requests += 1
        if status == 200:
            load.acked_incr += by
        else:
            load.errors += 1
        used += 1
        if used >= limit:  # the next request opens a new connection
            client.close()
            used, limit = 0, rng.randint(RECONNECT_EVERY // 2, RECONNECT_EVERY * 3 // 2)
    client.close()


# --- one strategy under soak --------------------------------------------------------

@dataclass
class Sample:
    t_s: float
    rss_mib: float
    processes: int
    threads: int
    fds: int
    requests: int
    errors: int


@dataclass
class Subject:
    name: str
    safety: str
    server: ServerProcess
    loads: list[Counts] = field(default_factory=list)
    threads: list[threading.Thread] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    status: str = "ok"
    stats: dict | None = None

    def start_load(self, rate: float, halt: threading.Event) -> None:
        if self.status != "ok":
            return
        for index in range(CONNECTIONS):
            load, seed = Counts(), sum(self.name.encode()) * CONNECTIONS + index  # stable per run
            thread = threading.Thread(target=_drive, daemon=True, name=f"soak-{self.name}-{index}",
                                      args=(self.server.port, rate / CONNECTIONS, halt, load, seed))
            self.loads.append(load)
            self.threads.append(thread)
            thread.start()

    def sample(self, t_s: float) -> Sample | None:
        if self.status != "ok":
            return None
        if not self.server.alive():
            self.status = f"died: {self.server.stderr_tail(3).replace(chr(10), ' | ')[:200]}"
            return None
        assert self.server.proc is not None  # alive() said so
        pid = self.server.proc.pid
        threads, fds = measure.threads_and_fds(pid)
        sample = Sample(round(t_s, 2), round(measure.rss_mb(pid), 2), len(measure.tree(pid)),
                        threads, fds, sum(load.requests for load in self.loads),
                        sum(load.errors for load in self.loads))
        self.samples.append(sample)
        return sample


def summarise(subject: Subject, target_rps: float, warmup: float, wall: float) -> dict:
    row: dict[str, Any] = dict.fromkeys(SOAK_SUMMARY_COLUMNS)
    loads = subject.loads
    requests = sum(load.requests for load in loads)
    acked, uncertain = sum(load.acked_incr for load in loads), sum(load.uncertain_incr for load in loads)
    row.update(strategy=subject.name, status=subject.status, duration_s=round(wall, 1),
               server_pid=subject.server.proc.pid if subject.server.proc else None,
               target_rps=target_rps, warmup_s=round(warmup, 1), requests=requests,
               errors=sum(load.errors for load in loads), acked_incr=acked, uncertain_incr=uncertain)
    row["achieved_rps"] = round(requests / wall, 1) if wall > 0 else None
    samples = subject.samples
    if samples:
        steady = [s for s in samples if s.t_s >= warmup] or samples[-1:]
        first, last = steady[0], samples[-1]
        hours = (last.t_s - first.t_s) / 3600
        growth = last.rss_mib - first.rss_mib
        row.update(start_rss_mib=first.rss_mib, end_rss_mib=last.rss_mib,
                   peak_rss_mib=max(s.rss_mib for s in samples), growth_mib=round(growth, 2),
                   start_threads=first.threads, end_threads=last.threads,
                   start_fds=first.fds, end_fds=last.fds)
        if hours > 0 and first.rss_mib > 0:
            row["growth_pct_per_hour"] = round(100 * growth / first.rss_mib / hours, 2)
        if len(steady) >= 2 and hours > 0:
            slope = statistics.linear_regression([s.t_s / 3600 for s in steady],
                                                 [s.rss_mib for s in steady]).slope
            row["slope_mib_per_hour"] = round(slope, 2)
    if subject.stats is not None:
        stats = subject.stats
        row.update(server_sum=stats["sum"], server_incr_applied=stats["incr_applied"],
                   server_requests=stats["requests"])
        if subject.safety == "safe":  # an increment never answered may or may not be applied
            row["correct"] = correctness.verdict(acked, uncertain, stats["sum"], stats["incr_applied"],
                                                 subject.safety).correct
    return row


# --- the run -------------------------------------------------------------------------

def install_signal_handlers(stop: threading.Event) -> None:
    """SIGINT/SIGTERM end the soak early; what was sampled is kept and summarised."""
    signals.install(stop, "stopping the soak")


def run(names: list[str], safety: dict[str, str], duration: float, rate: float,
        results: Path, stop: threading.Event,
        progress: Callable[[str], None] | None = None) -> tuple[Path, list[dict]]:
    """Soak ``names`` at once for ``duration`` s at ``rate`` requests/s each; returns the
    folder written and the summary rows. ``stop`` ends it early (rows marked interrupted).
    ``progress`` is given a line every tenth of the soak (at least once a minute)."""
    folder = results / f"soak-{time.strftime('%Y%m%d-%H%M%S')}"
    folder.mkdir(parents=True)
    warmup = min(60.0, duration / 5)        # allocators and caches settle first
    every = min(5.0, max(0.5, duration / 20))
    halt = threading.Event()                # the clients' stop, whatever stopped the soak
    subjects: list[Subject] = []
    began = ended = time.monotonic()
    try:
        for name in names:
            if stop.is_set():
                break
            subject = Subject(name, safety[name], ServerProcess(name, ["--keys", str(KEYS)]))
            subjects.append(subject)
            try:
                subject.server.start()
            except ServerError as exc:  # costs this strategy its row, not the soak
                subject.status = f"did not start: {str(exc).splitlines()[0][:200]}"
        with open(folder / "soak.csv", "w", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(SOAK_SAMPLE_COLUMNS)
            began = time.monotonic()
            for subject in subjects:
                subject.start_load(rate, halt)
            due = told = began
            tell_every = min(60.0, max(every, duration / 10))
            while True:
                for subject in subjects:
                    sample = subject.sample(time.monotonic() - began)
                    if sample is not None:
                        t_s, *rest = astuple(sample)
                        writer.writerow([t_s, subject.name, *rest])
                out.flush()  # an interrupted soak keeps every sample taken
                if progress and time.monotonic() - told >= tell_every:
                    told = time.monotonic()
                    progress(_progress_line(subjects, told - began, duration))
                if due >= began + duration or stop.is_set():
                    break
                due = min(due + every, began + duration)
                if stop.wait(max(0.0, due - time.monotonic())):
                    break
    finally:
        halt.set()
        ended = time.monotonic()
        for subject in subjects:
            for thread in subject.threads:
                thread.join(TIMEOUT_S + 1)
        for subject in subjects:
            _finish(subject, interrupted=stop.is_set())
    rows = [summarise(s, rate, warmup, ended - began) for s in subjects]
    with open(folder / "summary.csv", "w", newline="") as out:
        summary = csv.DictWriter(out, SOAK_SUMMARY_COLUMNS)
        summary.writeheader()
        summary.writerows(rows)
    return folder, rows


def _progress_line(subjects: list[Subject], elapsed: float, duration: float) -> str:
    """Where the soak is: its time, and each server's RSS now."""
    now = ", ".join(f"{s.name} {s.samples[-1].rss_mib:.0f} MiB" for s in subjects if s.samples)
    return f"soak {elapsed:.0f}/{duration:.0f} s: {now or 'no samples yet'}"


def _finish(subject: Subject, interrupted: bool) -> None:
    """/stats once the load has stopped, then stop the server's whole process group."""
    server = subject.server
    try:
        if subject.status == "ok" and server.alive():
            status, doc = Client(server.host, server.port, timeout=TIMEOUT_S).get("/stats")
            if status == 200:
                subject.stats = doc
        if interrupted and subject.status == "ok":
            subject.status = "interrupted"
    except OSError as exc:
        subject.status = f"/stats failed: {exc}"
    finally:
        try:
            server.stop()
        except (ServerError, Survivors) as exc:
            subject.status = f"did not stop: {exc}"


def table(rows: list[dict]) -> str:
    """The summary as aligned text, one strategy a line."""
    head = (f"{'strategy':<20} {'req/s':>13} {'errors':>6} {'RSS MiB start':>13} {'end':>7} "
            f"{'peak':>7} {'growth':>7} {'%/hour':>7} {'MiB/h':>7} {'threads':>9} {'fds':>9} "
            f"{'correct':>7}  status")
    lines = [head]
    for r in rows:
        def num(key: str, spec: str = ".1f", r: dict = r) -> str:
            return "-" if r[key] is None else format(r[key], spec)
        lines.append(
            f"{r['strategy']:<20} {num('achieved_rps'):>6}/{r['target_rps']:<6g} {r['errors']:>6} "
            f"{num('start_rss_mib'):>13} {num('end_rss_mib'):>7} {num('peak_rss_mib'):>7} "
            f"{num('growth_mib', '+.1f'):>7} {num('growth_pct_per_hour', '+.1f'):>7} "
            f"{num('slope_mib_per_hour', '+.1f'):>7} "
            f"{num('start_threads', 'd'):>4}>{num('end_threads', 'd'):<4} "
            f"{num('start_fds', 'd'):>4}>{num('end_fds', 'd'):<4} "
            f"{'-' if r['correct'] is None else ('yes' if r['correct'] else 'NO'):>7}  {r['status']}")
    lines.append("(growth after warm-up; %/hour and MiB/h extrapolate it, so a short soak "
                 "magnifies noise)")
    return "\n".join(lines)
