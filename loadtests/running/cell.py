"""Measure one cell: start the server, load it, sample CPU, check correctness, stop."""
from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from loadtests import engines
from loadtests.checks import correctness
from loadtests.engines import LoadGenError, LoadRun, LoadSpec, Part, Stopped, hdr
from loadtests.engines import locust as locust_engine
from loadtests.machine import measure
from loadtests.machine.client import Client
from loadtests.machine.groups import Survivors
from loadtests.machine.server import ServerError, ServerProcess
from loadtests.planning.cells import Cell
from loadtests.planning.workloads import Workload
from loadtests.running import gcwindow
from results import schema
from results.schema import BUSY, OTHER_CPU
from servers.core.heap import BUILD_S_PER_OBJECT


@dataclass
class Setup:
    """How every cell of a run is measured."""
    warmup: float
    duration: float
    loadgen_cpus: set[int]
    server_cpus: dict[int, set[int]]   # cores -> the CPU set the server is pinned to
    loops_per_us: float
    scratch: Path                      # Locust's working files, per cell
    spec: dict                         # strategy name -> its manifest entry (declared traits)
    target: str | None = None          # a server someone else runs (distributed mode)
    remote_workers: int = 0            # Locust workers on other hosts; 0: local processes
    master_port: int = 5557            # where the Locust master listens for them
    pythons: dict[str, str] = field(default_factory=dict)  # label -> the venv python serving it
    arrivals: str = "constant"         # open-loop schedule: constant or poisson


class RemoteServer:
    """A server on another host (``TARGET=``): not ours to start, stop or measure."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        hostport = self.url.split("://", 1)[-1]
        self.host, _, port = hostport.rpartition(":")
        self.port = int(port)
        self.proc = None

    def start(self) -> RemoteServer:
        return self

    def alive(self) -> bool:
        try:
            return Client(self.host, self.port, timeout=5).get("/health")[0] == 200
        except OSError:
            return False

    def stderr_tail(self) -> str:
        return ""

    def stop(self) -> None:
        pass


def run_cell(cell: Cell, workload: Workload, setup: Setup, stop: threading.Event,
             offered: float = 0.0) -> dict:
    """Measure ``cell`` (open loop at ``offered`` req/s when it has a rate); always returns
    a record (status ok or failed), never raises except Stopped when ``stop`` is set."""
    spec = setup.spec[cell.strategy]
    server_cpus, loadgen_cpus = setup.server_cpus.get(cell.cores, set()), setup.loadgen_cpus
    record = schema.blank_record(**vars(cell))
    record.update({"model": spec["model"], "safety": spec["safety"], "status": "failed", "reason": "",
              "server_cores": len(server_cpus) if not setup.target else None,
              "loadgen_cores": len(loadgen_cpus) if not setup.remote_workers else None,
              "shared_cpu": bool(server_cpus & loadgen_cpus) if not setup.target else None,
              "cpu_us": workload.server.get("cpu_us", 0), "hold_us": workload.server.get("hold_us", 0),
              "io_ms": workload.server.get("io_ms", 0),
              "garbage": workload.server.get("garbage", 0),
              "gc_mode": workload.server.get("gc", "default"),
              "offered_rps": round(offered, 1) if cell.rate else None})
    flags = workload.server_flags() + ["--loops-per-us", f"{setup.loops_per_us:.4f}"]
    if cell.live_objects:
        flags += ["--live-objects", str(cell.live_objects)]
    python = setup.pythons.get(cell.python)
    # A live heap is built before the ready line, by each worker of an -mp server in turn.
    start_timeout = 20.0 + BUILD_S_PER_OBJECT * cell.live_objects * max(1, cell.cores)
    server = (RemoteServer(setup.target) if setup.target
              else ServerProcess(cell.strategy, flags, cpus=server_cpus, python=python,
                                 start_timeout=start_timeout))
    loadgen = None
    try:
        server.start()
        record.update(_interpreter(server, cell))
        before = _stats(server)
        loadgen, (start, end) = _start_loadgen(server.url, cell, workload, setup, stop, offered)
        samples = _sample_window(server, loadgen, start, end, stop)
        parts = loadgen.reports(stop, end)
        loadgen.stop()
        if not server.alive():
            raise ServerError(f"{cell.strategy} died during the cell")
        after = _stats(server)
        record.update(_latency(parts, start, end))
        record.update(_cpu(samples, record, bool(spec["parallel"])))
        if cell.rate:
            record.update(_open_loop(parts, record, offered))
        record.update(_correctness(parts, before, after, spec["safety"]))
        record.update(gcwindow.window_gc(before, after, start, end))
        record["window_start_unix_s"] = round(start, 6)  # places gc_pauses on the window
        record["status"] = "ok"
    except (ServerError, LoadGenError, Survivors, OSError) as exc:
        cause = _blame(exc, server, cell)
        record["reason"] = str(cause).splitlines()[0][:300]
        record["detail"] = str(cause)[-4000:]
        if server.proc is not None:
            record["server_stderr_tail"] = server.stderr_tail()
        if loadgen is not None:
            record["loadgen_detail"] = loadgen.log_tail()
    finally:
        if loadgen is not None:
            loadgen.stop()
        server.stop()
    return record


def _blame(exc: Exception, server, cell: Cell) -> Exception:
    """A load generator that failed because our server died (wrk cannot connect to a dead
    port and exits 1) names the server as the cause, keeping the generator's own words."""
    if isinstance(exc, LoadGenError) and server.proc is not None and not server.alive():
        return ServerError(f"{cell.strategy} died during the cell; the load generator then "
                           f"failed:\n{exc}")
    return exc


def _interpreter(server, cell: Cell) -> dict:
    """From the server itself: the serving interpreter's label, whether its GIL is on, and
    the live heap it built (what it holds, what its collector tracked at start-up)."""
    status, doc = Client(server.host, server.port, timeout=5).get("/health")
    version = str(doc.get("python", "")) if status == 200 else ""
    gil = doc.get("gil_enabled") if status == 200 else None
    label = cell.python or ".".join(version.split(".")[:2]) + ("t" if gil is False else "")
    found = doc.get("heap") if status == 200 else None
    heap: dict = found if isinstance(found, dict) else {}
    return {"python": label if version else cell.python or None, "gil_enabled": gil,
            "heap_objects": heap.get("heap_objects"), "tracked_objects": heap.get("tracked_objects"),
            "churn": heap.get("churn")}


BIND_ATTEMPTS = 3


def _start_loadgen(url: str, cell: Cell, workload: Workload, setup: Setup,
                   stop: threading.Event, offered: float) -> tuple[LoadRun, tuple[float, float]]:
    """Start the cell's engine and wait for its window. Local multi-process Locust needs
    a port for its master: chosen free, and chosen again if someone takes it first."""
    for attempt in range(1, BIND_ATTEMPTS + 1):
        remote = bool(setup.remote_workers) and cell.engine == "locust"
        load = LoadSpec(url, workload, cell.users, cell.warmup or setup.warmup,
                    cell.duration or setup.duration,
                    setup.scratch / cell.id / f"attempt-{attempt}", cpus=setup.loadgen_cpus,
                    processes=setup.remote_workers if remote else len(setup.loadgen_cpus),
                    remote=remote, master_port=setup.master_port if remote else locust_engine.free_port(),
                    rate=offered if cell.rate else 0.0, arrivals=setup.arrivals)
        loadgen = engines.load_run(cell.engine, load)
        loadgen.start()
        try:
            return loadgen, loadgen.window(stop)
        except LoadGenError:
            loadgen.stop()
            if remote or not loadgen.bind_failed() or attempt == BIND_ATTEMPTS:
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


def _sample_window(server, loadgen: LoadRun, start: float, end: float,
                   stop: threading.Event) -> dict:
    """CPU seconds of both process trees at the window's edges; peak server RSS inside it.
    A remote server (or remote Locust workers) cannot be sampled from here: None."""
    server_pid = server.proc.pid if server.proc else None
    loadgen_pid = None if loadgen.remote else loadgen.pid
    ours = (loadgen.cpus or set()) | (server.cpus if server_pid else set())

    def until(moment: float) -> None:
        if stop.wait(max(0.0, moment - time.time())):
            raise Stopped()

    def cpu() -> tuple:
        return (time.time(), server_pid and measure.cpu_seconds(server_pid),
                loadgen_pid and measure.cpu_seconds(loadgen_pid),
                measure.cpus_busy_seconds(loadgen.cpus or set()),
                measure.cpus_busy_seconds(ours),
                measure.cpus_busy_seconds(server.cpus if server_pid else set()))

    until(start)
    first = cpu()
    peak: float | None = None
    threads: int | None = None
    fds: int | None = None
    if server_pid:
        peak = measure.rss_mb(server_pid)
        threads, fds = measure.threads_and_fds(server_pid)
        while time.time() < end - 0.25:
            until(min(end, time.time() + 0.25))
            peak = max(peak, measure.rss_mb(server_pid))
            now_threads, now_fds = measure.threads_and_fds(server_pid)
            threads, fds = max(threads, now_threads), max(fds, now_fds)
    until(end)
    last = cpu()
    return {"wall": last[0] - first[0],
            "server": last[1] - first[1] if server_pid else None,
            "loadgen": last[2] - first[2] if loadgen_pid else None, "rss_mb": peak,
            "server_threads": threads, "server_fds": fds,
            "loadgen_cpus_busy": last[3] - first[3], "all_cpus_busy": last[4] - first[4],
            "server_cpus_busy": last[5] - first[5]}


def _latency(parts: list[Part], start: float, end: float) -> dict:
    merged = hdr.merge([part["hdr"] for part in parts])
    errors: dict[str, int] = {}
    for part in parts:
        for kind, count in part["errors"].items():
            errors[kind] = errors.get(kind, 0) + count
    # An engine that times its own window (wrk) says how long it was; else the harness's.
    duration = max(part.get("duration") or (end - start) for part in parts)
    requests = sum(part["requests"] for part in parts)
    pct = merged.get_value_at_percentile
    return {"duration_s": round(duration, 3), "requests": requests,
            "rps": round(requests / duration, 1),
            "p50_us": pct(50), "p90_us": pct(90), "p99_us": pct(99), "p999_us": pct(99.9),
            "p9999_us": pct(99.99),
            "max_us": merged.get_max_value(), "mean_us": round(merged.get_mean_value(), 1),
            "errors": sum(errors.values()), "errors_by_kind": errors,
            "warmup_observed_s": round(start - min(p["first_request"] or start for p in parts), 2),
            "hdr": merged.encode().decode("ascii")}


def _cpu(samples: dict, record: dict, parallel: bool) -> dict:
    wall = samples["wall"]
    server_s, loadgen_s = samples["server"], samples["loadgen"]
    doc = {"server_cpu_s": server_s, "loadgen_cpu_s": loadgen_s, "server_cpu": None,
           "loadgen_cpu": None, "rps_per_cpu_s": None, "rss_mb": samples["rss_mb"],
           "loadgen_bound": None, "server_threads": samples["server_threads"],
           "server_fds": samples["server_fds"]}
    if server_s is not None:
        doc.update(server_cpu_s=round(server_s, 3), server_cpu=round(server_s / wall, 3),
                   rss_mb=round(samples["rss_mb"], 1),
                   # rates over rates: the engine's window and the CPU window may differ slightly
                   rps_per_cpu_s=round(record["rps"] * wall / server_s, 1) if server_s else None,
                   cpu_us_per_request=(round(server_s / wall / record["rps"] * 1e6, 1)
                                       if record["rps"] else None))
    if loadgen_s is not None:
        doc.update(loadgen_cpu_s=round(loadgen_s, 3), loadgen_cpu=round(loadgen_s / wall, 3))
    if server_s is not None and loadgen_s is not None:
        # A strategy that cannot handle requests in parallel (one CPython process: the GIL)
        # runs on about one core whatever it is given; a parallel one can use every core it
        # was given. Its declared trait says which (the manifest's `strategies`).
        capacity = record["server_cores"] if parallel else 1
        loadgen_busy = samples["loadgen_cpus_busy"] / wall
        server_busy = samples["server_cpus_busy"] / wall
        doc["loadgen_cpus_busy"] = round(loadgen_busy, 3)
        # CPU time on our CPUs that neither side used: another process was competing.
        doc["other_cpu"] = round(max(0.0, samples["all_cpus_busy"] - server_s - loadgen_s) / wall, 3)
        doc["busy_machine"] = doc["other_cpu"] > OTHER_CPU
        # The load generator's CPUs were full (whoever filled them) while the server
        # could have done more: neither its own use nor its CPUs were at the limit.
        server_saturated = (doc["server_cpu"] >= BUSY * capacity
                            or server_busy >= BUSY * record["server_cores"])
        doc["loadgen_bound"] = loadgen_busy >= BUSY * record["loadgen_cores"] and not server_saturated
    return doc


def _open_loop(parts: list[Part], record: dict, offered: float) -> dict:
    """The uncorrected percentiles, the generator's own send lag, and whether it kept its
    schedule. A lagging cell keeps its numbers in the record (they are what was observed)
    but the report never shows its latency as the server's."""
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
    short = record["rps"] < schema.ACHIEVED_SHARE * offered
    busy = (record.get("loadgen_cpus_busy") or 0) >= BUSY * (record.get("loadgen_cores") or 1)
    # No slot of the schedule ran inside the window: the generator never started offering
    # the load (seen in CI with Locust starved of CPU), so nothing measured is the server's.
    idle = sum(part.get("scheduled", 0) for part in parts) == 0
    return {"p50_uncorrected_us": pct(50), "p90_uncorrected_us": pct(90),
            "p99_uncorrected_us": pct(99), "p999_uncorrected_us": pct(99.9),
            "send_lag_p99_us": lag_p99,
            "loadgen_lagging": bool((short and busy) or lag_p99 > schema.LAG_P99_US or idle),
            "hdr_uncorrected": uncorrected.encode().decode("ascii"),
            "lag_hdr": lag.encode().decode("ascii"),
            "latency_timeline": merge_timelines([part.get("timeline") for part in parts])}


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


def _correctness(parts: list[Part], before: dict, after: dict, safety: str) -> dict:
    """Judged over this cell only (deltas of /stats, so a long-running remote target is
    judged fairly too)."""
    return correctness.verdict(sum(part["acked_incr"] for part in parts),
                               sum(part["uncertain_incr"] for part in parts),
                               after["sum"] - before["sum"],
                               after["incr_applied"] - before["incr_applied"], safety)
