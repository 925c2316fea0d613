"""Measure one cell: start the server, load it, sample CPU, check correctness, stop.

``run_cell`` builds the cell's record in one visible order; each step is a function
that takes what it needs as arguments and returns a typed part (a dataclass whose
fields are cell-record fields, results/record.py), which the record takes whole.
"""
from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from loadtests import engines
from loadtests.checks import correctness
from loadtests.checks.correctness import Correctness
from loadtests.engines import LoadGenError, LoadRun, LoadSpec, Part, Stopped
from loadtests.engines import locust as locust_engine
from loadtests.machine import measure
from loadtests.machine.client import Client
from loadtests.machine.measure import Sample
from loadtests.machine.process_groups import Survivors
from loadtests.machine.remote import HostServer
from loadtests.machine.server import ServerError, ServerProcess
from loadtests.machine.ssh import SshHost
from loadtests.planning.cells import Cell
from loadtests.planning.workloads import Workload
from loadtests.running import gcwindow, hosts
from results import hdr, schema
from results.record import CellRecord
from results.schema import BUSY, OTHER_CPU
from servers.core.heap import BUILD_S_PER_OBJECT, DEFAULT_CHURN


@dataclass(kw_only=True)
class Setup:
    """How every cell of a run is measured."""
    warmup: float
    duration: float
    loadgen_cpus: set[int]
    server_cpus: dict[int, set[int]]   # cores -> the CPU set the server is pinned to
    scratch: Path                      # Locust's working files, per cell
    spec: dict                         # strategy name -> its manifest entry (declared traits)
    target: str | None = None          # a server someone else runs (distributed mode)
    remote_workers: int = 0            # Locust workers on other hosts; 0: local processes
    master_port: int = 5557            # where the Locust master listens for them
    pythons: dict[str, str] = field(default_factory=dict)  # label -> the venv python serving it
    arrivals: str = "constant"         # open-loop schedule: constant or poisson
    server_host: SshHost | None = None  # the servers' host (--server-host); None: this one
    server_address: str = "127.0.0.1"  # where servers listen, and are loaded
    load_host: SshHost | None = None    # the load generator's host (--load-host); None: this one
    master_address: str = "127.0.0.1"  # this host's address as the load host sees it

    @property
    def apart(self) -> bool:
        """Server and load generator on different hosts: no CPU of theirs is shared."""
        def name(host: SshHost | None) -> str:
            return host.name if host else hosts.LOCAL
        return name(self.server_host) != name(self.load_host)

    @classmethod
    def from_manifest(cls, manifest: dict[str, Any], scratch: Path) -> Setup:
        """How a run's cells are measured, from its manifest (so --resume measures alike)."""
        placement = manifest["placement"]
        return cls(warmup=manifest["timing"]["warmup_s"], duration=manifest["timing"]["duration_s"],
                   loadgen_cpus=set(placement["loadgen_cpus"]),
                   server_cpus={int(c): set(cpus) for c, cpus in placement["server_cpus"].items()},
                   scratch=scratch, spec=manifest["strategies"], target=manifest.get("target"),
                   remote_workers=manifest.get("loadgen_workers") or 0,
                   master_port=manifest.get("master_port", 5557),
                   pythons={label: doc["python"]
                            for label, doc in (manifest.get("pythons") or {}).items()},
                   arrivals=manifest.get("arrivals", "constant"),
                   server_host=hosts.host_of(manifest, "server"),
                   load_host=hosts.host_of(manifest, "load"),
                   master_address=((manifest.get("hosts") or {}).get("load") or {}).get(
                       "client") or "127.0.0.1",
                   server_address=((manifest.get("hosts") or {}).get("server") or {}).get(
                       "address") or "127.0.0.1")


class RemoteServer:
    """A server on another host (``TARGET=``): not ours to start, stop or measure."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        hostport = self.url.split("://", 1)[-1]
        self.host, _, port = hostport.rpartition(":")
        self.port = int(port)
        self.proc = None
        self.connection_cap: int | None = None  # not ours to know

    def start(self) -> RemoteServer:
        return self

    def alive(self) -> bool:
        try:
            return Client(self.host, self.port, timeout=5).get("/health")[0] == 200
        except OSError:
            return False

    def stderr_tail(self) -> str:
        return ""

    def sample(self) -> None:
        return None  # not ours to measure

    def stop(self) -> None:
        pass


def run_cell(cell: Cell, workload: Workload, setup: Setup, stop: threading.Event,
             offered: float = 0.0) -> CellRecord:
    """Measure ``cell`` (open loop at ``offered`` req/s when it has a rate); always returns
    a record (status ok or failed), never raises except Stopped when ``stop`` is set."""
    spec = setup.spec[cell.strategy]
    server_cpus, loadgen_cpus = setup.server_cpus.get(cell.cores, set()), setup.loadgen_cpus
    record = CellRecord(
        strategy=cell.strategy, workload=cell.workload, engine=cell.engine, cores=cell.cores,
        users=cell.users, workers=cell.workers or None, repeat=cell.repeat, python=cell.python,
        rate=cell.rate, live_objects=cell.live_objects, model=spec["model"], safety=spec["safety"], status="failed", reason="",
        server_cores=len(server_cpus) if not setup.target else None,
        loadgen_cores=len(loadgen_cpus) if not setup.remote_workers else None,
        shared_cpu=(not setup.apart and bool(server_cpus & loadgen_cpus)) if not setup.target
        else None,
        server_host=setup.server_host.name if setup.server_host else hosts.LOCAL,
        load_host=setup.load_host.name if setup.load_host else hosts.LOCAL,
        cpu_us=workload.knob("cpu_us"), hold_us=workload.knob("hold_us"),
        io_ms=workload.knob("io_ms"), garbage=int(workload.knob("garbage")),
        gc_mode=workload.gc_mode,
        # The knob asked, like the others (a server without a live heap is not given it,
        # and its default says nothing about the cell), so one workload records one churn.
        churn=float(workload.server.get("churn", DEFAULT_CHURN)),
        offered_rps=round(offered, 1) if cell.rate else None)
    flags = workload.server_flags() + (["--workers", str(cell.workers)] if cell.workers else [])
    if cell.live_objects:
        flags += ["--live-objects", str(cell.live_objects)]
    python = setup.pythons.get(cell.python)
    # A live heap is built before the ready line, by each worker of an -mp server in turn.
    start_timeout = 20.0 + BUILD_S_PER_OBJECT * cell.live_objects * max(1, cell.cores)
    server: RemoteServer | ServerProcess | HostServer
    if setup.target:
        server = RemoteServer(setup.target)
    elif setup.server_host:
        server = HostServer(cell.strategy, setup.server_host, setup.server_address, flags,
                            cpus=server_cpus, start_timeout=start_timeout)
    else:
        server = ServerProcess(cell.strategy, flags, host=setup.server_address, cpus=server_cpus,
                               python=python, start_timeout=start_timeout)
    loadgen = None
    try:
        server.start()
        record.fill(_interpreter(server, cell))
        record.connection_cap = server.connection_cap
        before = _stats(server)
        # Read at the window's edges only from a server that reports an external store.
        store = partial(_store_cpu_s, server) if _store_cpu_s(server) is not None else None
        loadgen, (start, end) = _start_loadgen(server.url, cell, workload, setup, stop, offered)
        window = _sample_window(server, loadgen, start, end, stop, setup.apart, store)
        parts = loadgen.reports(stop, end)
        loadgen.stop()
        if not server.alive():
            raise ServerError(_died(server, cell))
        after = _stats(server)
        latency = _latency(parts, start, end)
        cpu = _cpu(window, latency.rps, bool(spec["parallel"]), record.server_cores,
                   record.loadgen_cores)
        record.fill(latency, cpu)
        if cell.rate:
            record.fill(open_loop(parts, latency.rps, offered, cpu.loadgen_cpus_busy,
                                  record.loadgen_cores))
        record.fill(_correctness(parts, before, after, spec["safety"]),
                    gcwindow.window_gc(before, after, start, end))
        record.window_start_unix_s = round(start, 6)  # places gc_pauses on the window
        record.status = "ok"
    except (ServerError, LoadGenError, Survivors, OSError) as exc:
        cause = _blame(exc, server, cell)
        record.reason = str(cause).splitlines()[0][:300]
        record.detail = str(cause)[-4000:]
        if server.proc is not None:
            record.server_stderr_tail = server.stderr_tail()
        if loadgen is not None:
            record.loadgen_detail = loadgen.log_tail()
    finally:
        if loadgen is not None:
            loadgen.stop()
        server.stop()
    return record


def _blame(exc: Exception, server, cell: Cell) -> Exception:
    """A load generator that failed because our server died (wrk cannot connect to a dead
    port and exits 1) names the server as the cause, keeping the generator's own words."""
    if isinstance(exc, LoadGenError) and server.proc is not None and not server.alive():
        return ServerError(f"{_died(server, cell)}; the load generator then failed:\n{exc}")
    return exc


def _died(server, cell: Cell) -> str:
    """A dead server, and the last line it wrote: a multi-process server's leader says
    there which of its processes died and what that lost (processes.py)."""
    last = server.stderr_tail().strip().splitlines()[-1:]
    return f"{cell.strategy} died during the cell" + (f" ({last[0][:200]})" if last else "")


@dataclass
class ServedBy:
    python: str | None       # its --pythons label, or its major.minor ("t": free-threaded)
    gil_enabled: bool | None
    heap_objects: int | None = None     # the live heap it built (/health's "heap")
    tracked_objects: int | None = None  # what its collector tracked once built


def _interpreter(server, cell: Cell) -> ServedBy:
    """From the server itself: the serving interpreter's label, whether its GIL is on, and
    the live heap it built (what it holds, what its collector tracked at start-up)."""
    status, doc = Client(server.host, server.port, timeout=5).get("/health")
    version = str(doc.get("python", "")) if status == 200 else ""
    gil = doc.get("gil_enabled") if status == 200 else None
    label = cell.python or ".".join(version.split(".")[:2]) + ("t" if gil is False else "")
    found = doc.get("heap") if status == 200 else None
    heap: dict = found if isinstance(found, dict) else {}
    return ServedBy(label if version else cell.python or None, gil, heap.get("heap_objects"),
                       heap.get("tracked_objects"))


BIND_ATTEMPTS = 3


def _start_loadgen(url: str, cell: Cell, workload: Workload, setup: Setup,
                   stop: threading.Event, offered: float) -> tuple[LoadRun, tuple[float, float]]:
    """Start the cell's engine and wait for its window. Local multi-process Locust needs
    a port for its master: chosen free, and chosen again if someone takes it first."""
    for attempt in range(1, BIND_ATTEMPTS + 1):
        by_hand = bool(setup.remote_workers) and cell.engine == "locust"  # --loadgen-workers
        remote = by_hand or (setup.load_host is not None and cell.engine == "locust")
        load = LoadSpec(url, workload, cell.users, cell.warmup or setup.warmup,
                    cell.duration or setup.duration,
                    setup.scratch / cell.id / f"attempt-{attempt}", cpus=setup.loadgen_cpus,
                    processes=setup.remote_workers if by_hand else len(setup.loadgen_cpus),
                    remote=remote, master_port=setup.master_port if by_hand else locust_engine.free_port(),
                    rate=offered if cell.rate else 0.0, arrivals=setup.arrivals,
                    host=setup.load_host, master_host=setup.master_address)
        loadgen = engines.create(cell.engine, load)
        loadgen.start()
        try:
            return loadgen, loadgen.window(stop)
        except LoadGenError:
            loadgen.stop()
            if by_hand or not loadgen.bind_failed() or attempt == BIND_ATTEMPTS:
                raise
            print(f"sharebench: {cell.id}: Locust's master port {load.master_port} was taken; "
                  "retrying on another", file=sys.stderr, flush=True)
        except BaseException:  # Stopped, or anything else: Locust must not outlive the cell
            loadgen.stop()
            raise
    raise AssertionError("unreachable")


def _stats(server) -> dict:
    status, doc = Client(server.host, server.port).get("/stats")
    if status != 200:
        raise ServerError(f"/stats answered {status}: {doc}")
    return doc


def _store_cpu_s(server) -> float | None:
    """The server's external store's own CPU seconds (/health's ``store_cpu_s``); None for
    a server without one, or when /health does not answer (the figure is then missing,
    the cell goes on: whether the server died is judged after the window)."""
    try:
        status, doc = Client(server.host, server.port, timeout=5).get("/health")
    except OSError:
        return None
    found = doc.get("store_cpu_s") if status == 200 else None
    return float(found) if isinstance(found, (int, float)) else None


@dataclass
class Counters:
    """CPU seconds at one instant: both process trees, and how busy three CPU sets were."""
    at: float
    server_s: float | None      # the server's tree; None: not ours to sample
    loadgen_s: float | None     # the load generator's tree; None: on other hosts
    loadgen_cpus_s: float       # busy time of the load generator's CPUs, by anyone
    all_cpus_s: float           # busy time of every CPU the cell uses
    server_cpus_s: float        # busy time of the server's CPUs, by anyone
    store_s: float | None = None  # the external store's own (inside server_s); None: none


@dataclass
class Window:
    """What was sampled over the measured window: CPU differences and the server's peaks."""
    wall: float
    server_s: float | None
    loadgen_s: float | None
    loadgen_cpus_s: float
    all_cpus_s: float
    server_cpus_s: float
    rss_mb: float | None = None
    threads: int | None = None
    fds: int | None = None
    store_s: float | None = None

    @classmethod
    def between(cls, first: Counters, last: Counters) -> Window:
        def delta(a: float | None, b: float | None) -> float | None:
            return None if a is None or b is None else b - a
        return cls(last.at - first.at, delta(first.server_s, last.server_s),
                   delta(first.loadgen_s, last.loadgen_s), last.loadgen_cpus_s - first.loadgen_cpus_s,
                   last.all_cpus_s - first.all_cpus_s, last.server_cpus_s - first.server_cpus_s,
                   store_s=delta(first.store_s, last.store_s))


def _sample_window(server, loadgen: LoadRun, start: float, end: float,
                   stop: threading.Event, apart: bool = False,
                   store: Callable[[], float | None] | None = None) -> Window:
    """CPU seconds of both process trees at the window's edges; the server's peak RSS,
    threads and fds inside it (read on its host: ``server.sample()``). A server someone
    else runs (or remote Locust workers) cannot be sampled: None. ``apart``: the server
    is on another host, its CPUs busy there, not here. ``store``: reads the server's
    external store's CPU seconds (None: it has none)."""
    loadgen_pid = None if loadgen.remote or loadgen.host else loadgen.pid
    loadgen_cpus = loadgen.cpus or set()
    ours = loadgen_cpus | (server.cpus or set() if server.proc and not apart else set())

    def until(moment: float) -> None:
        if stop.wait(max(0.0, moment - time.time())):
            raise Stopped()

    def counters() -> tuple[Counters, Sample | None]:
        at = time.time()
        found = server.sample()
        there = loadgen.sample() if loadgen.host else None  # on the load host
        loadgen_busy = there.cpus_busy_s if there else measure.cpus_busy_seconds(loadgen_cpus)
        loadgen_s = there.cpu_s if there else (
            measure.cpu_seconds(loadgen_pid) if loadgen_pid else None)
        server_busy = found.cpus_busy_s if found else 0.0
        return Counters(at, found.cpu_s if found else None, loadgen_s, loadgen_busy,
                        loadgen_busy + server_busy if apart else measure.cpus_busy_seconds(ours),
                        server_busy, store() if store else None), found

    until(start)
    first, found = counters()
    peak = found.rss_mb if found else None
    threads = found.threads if found else None
    fds = found.fds if found else None
    if found:
        while time.time() < end - 0.25:
            until(min(end, time.time() + 0.25))
            now = server.sample()
            peak = max(peak or 0.0, now.rss_mb)
            threads, fds = max(threads or 0, now.threads), max(fds or 0, now.fds)
    until(end)
    last, _ = counters()
    window = Window.between(first, last)
    window.rss_mb, window.threads, window.fds = peak, threads, fds
    return window


@dataclass
class Latency:
    """The window's throughput, latency and errors, from every load process's report."""
    duration_s: float
    requests: int
    rps: float
    p50_us: int
    p90_us: int
    p99_us: int
    p999_us: int
    p9999_us: int
    max_us: int
    mean_us: float
    errors: int
    errors_by_kind: dict[str, int]
    warmup_observed_s: float
    hdr: str


def _latency(parts: list[Part], start: float, end: float) -> Latency:
    merged = hdr.merge([part["hdr"] for part in parts])
    errors: dict[str, int] = {}
    for part in parts:
        for kind, count in part["errors"].items():
            errors[kind] = errors.get(kind, 0) + count
    # An engine that times its own window (wrk) says how long it was; else the harness's.
    duration = max(part.get("duration") or (end - start) for part in parts)
    requests = sum(part["requests"] for part in parts)
    pct = merged.get_value_at_percentile
    return Latency(round(duration, 3), requests, round(requests / duration, 1),
                   pct(50), pct(90), pct(99), pct(99.9), pct(99.99), merged.get_max_value(),
                   round(merged.get_mean_value(), 1), sum(errors.values()), errors,
                   round(start - min(p["first_request"] or start for p in parts), 2),
                   hdr.encode(merged))


@dataclass
class Cpu:
    """Both sides' CPU over the window, the server's peaks, and the flags they decide.
    None where a side ran on another host."""
    server_cpu_s: float | None = None
    loadgen_cpu_s: float | None = None
    server_cpu: float | None = None
    loadgen_cpu: float | None = None
    rps_per_cpu_s: float | None = None
    cpu_us_per_request: float | None = None
    rss_mb: float | None = None
    server_threads: int | None = None
    server_fds: int | None = None
    loadgen_cpus_busy: float | None = None
    other_cpu: float | None = None
    busy_machine: bool | None = None
    loadgen_bound: bool | None = None
    store_cpu: float | None = None


def _cpu(window: Window, rps: float, parallel: bool, server_cores: int | None,
         loadgen_cores: int | None) -> Cpu:
    """``parallel``: the strategy's declared trait (it can use every core it was given)."""
    wall = window.wall
    server_s, loadgen_s = window.server_s, window.loadgen_s
    found = Cpu(server_cpu_s=server_s, loadgen_cpu_s=loadgen_s, rss_mb=window.rss_mb,
                server_threads=window.threads, server_fds=window.fds)
    if window.store_s is not None and wall > 0:
        found.store_cpu = round(window.store_s / wall, 3)
    if server_s is not None:
        found.server_cpu_s, found.server_cpu = round(server_s, 3), round(server_s / wall, 3)
        found.rss_mb = round(window.rss_mb, 1) if window.rss_mb is not None else None
        # rates over rates: the engine's window and the CPU window may differ slightly
        found.rps_per_cpu_s = round(rps * wall / server_s, 1) if server_s else None
        found.cpu_us_per_request = round(server_s / wall / rps * 1e6, 1) if rps else None
    if loadgen_s is not None:
        found.loadgen_cpu_s, found.loadgen_cpu = round(loadgen_s, 3), round(loadgen_s / wall, 3)
    if server_s is not None and loadgen_s is not None and server_cores and loadgen_cores:
        # A strategy that cannot handle requests in parallel (one CPython process: the GIL)
        # runs on about one core whatever it is given; a parallel one can use every core it
        # was given. Its declared trait says which (the manifest's `strategies`).
        capacity = server_cores if parallel else 1
        loadgen_busy = window.loadgen_cpus_s / wall
        server_busy = window.server_cpus_s / wall
        found.loadgen_cpus_busy = round(loadgen_busy, 3)
        # CPU time on our CPUs that neither side used: another process was competing.
        found.other_cpu = round(max(0.0, window.all_cpus_s - server_s - loadgen_s) / wall, 3)
        found.busy_machine = found.other_cpu > OTHER_CPU
        # The load generator's CPUs were full (whoever filled them) while the server
        # could have done more: neither its own use nor its CPUs were at the limit.
        server_saturated = (round(server_s / wall, 3) >= BUSY * capacity
                            or server_busy >= BUSY * server_cores)
        found.loadgen_bound = loadgen_busy >= BUSY * loadgen_cores and not server_saturated
    return found


@dataclass
class OpenLoop:
    """An open-loop cell's uncorrected latency, its generator's own lag, and whether the
    generator kept its schedule."""
    p50_uncorrected_us: int
    p90_uncorrected_us: int
    p99_uncorrected_us: int
    p999_uncorrected_us: int
    send_lag_p99_us: int
    loadgen_lagging: bool
    hdr_uncorrected: str
    lag_hdr: str
    latency_timeline: dict | None


def open_loop(parts: list[Part], rps: float, offered: float, loadgen_cpus_busy: float | None,
              loadgen_cores: int | None) -> OpenLoop:
    """A lagging cell keeps its numbers in the record (they are what was observed) but
    the report never shows its latency as the server's."""
    missing = [part for part in parts if "hdr_uncorrected" not in part]
    if missing:
        raise LoadGenError(f"{len(missing)} of {len(parts)} load processes sent no open-loop "
                           "report (no user ran, or the locustfile is not open-loop aware)")
    uncorrected = hdr.merge([part["hdr_uncorrected"] for part in parts])
    lag = hdr.merge([part["lag_hdr"] for part in parts])
    pct = uncorrected.get_value_at_percentile
    lag_p99 = lag.get_value_at_percentile(99)
    # Below the offered rate with the generator's CPUs full: the generator could not send
    # faster. Below it with idle CPUs is the server's doing (its queue holds the users).
    short = rps < schema.ACHIEVED_SHARE * offered
    busy = (loadgen_cpus_busy or 0) >= BUSY * (loadgen_cores or 1)
    # No slot of the schedule ran inside the window: the generator never started offering
    # the load (seen in CI with Locust starved of CPU), so nothing measured is the server's.
    idle = sum(part.get("scheduled", 0) for part in parts) == 0
    return OpenLoop(pct(50), pct(90), pct(99), pct(99.9), lag_p99,
                    bool((short and busy) or lag_p99 > schema.LAG_P99_US or idle),
                    hdr.encode(uncorrected), hdr.encode(lag),
                    merge_timelines([part.get("timeline") for part in parts]))


def merge_timelines(timelines: list[dict | None]) -> dict | None:
    """Several load processes' per-bucket maxima as one: the max of each bucket. Every
    process shares the window's start (the master fixes it), so buckets line up."""
    found = [t for t in timelines if t]
    if not found:
        return None
    width = max(len(t["max_us"]) for t in found)
    merged = [max((t["max_us"][i] for t in found if i < len(t["max_us"])), default=0)
              for i in range(width)]
    return {"bucket_ms": found[0]["bucket_ms"], "start": min(t["start"] for t in found),
            "max_us": merged}


def _correctness(parts: list[Part], before: dict, after: dict, safety: str) -> Correctness:
    """Judged over this cell only (deltas of /stats, so a long-running remote target is
    judged fairly too)."""
    return correctness.verdict(sum(part["acked_incr"] for part in parts),
                               sum(part["uncertain_incr"] for part in parts),
                               after["sum"] - before["sum"],
                               after["incr_applied"] - before["incr_applied"], safety)
