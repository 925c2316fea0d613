"""The engines check each other: the same server, pinned alike, driven by wrk and by Locust.

On `cpu` neither engine saturates (the server's 300 µs per request is the
limit), so their req/s must agree: within AGREE, or one of them is measuring
itself. On `read-heavy` the ratio wrk/Locust is Locust's headroom: how far below
the server's real peak a Locust cell stays. Both are full cells (run_cell), so
both carry their flags and CPU figures.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path

from loadtests.planning import placement
from loadtests.planning.cells import Cell, Plan
from loadtests.planning.workloads import WORKLOADS, Workload
from loadtests.running import sweep
from loadtests.running.cell import Setup, run_cell
from loadtests.running.manifest import new_manifest
from results.record import CellRecord
from results.store import RunStore

CHECKED_WORKLOADS = ("cpu", "read-heavy")
AGREE = 0.10  # on `cpu`, wrk and Locust must agree within 10%


def target_run(results: Path, run: str | None, names: list[str], duration: float,
            argv: list[str]) -> tuple[RunStore, Setup]:
    """The run calibration.csv belongs to — the one given, else results/latest (so its
    report shows the agreement), else a new calibrate-only run — and how to measure."""
    latest = results / "latest"
    if run or latest.is_dir():
        store = RunStore(Path(run) if run else latest.resolve())
        manifest = store.manifest()
    else:
        cells = [Cell(n, w, 1, WORKLOADS[w].users, 0, e)
                 for w in CHECKED_WORKLOADS for n in names for e in ("wrk", "locust")]
        run_id = f"{time.strftime('%Y%m%d-%H%M%S')}-calibrate"
        store = RunStore.create(results, run_id)
        manifest = new_manifest(run_id, Plan("calibrate", "wrk beside Locust", 1.0,
                                                   duration, cells),
                                      placement.default(), {}, argv)
        manifest["status"] = "complete"
        store.write_manifest(manifest)
    setup = sweep.setup_from(manifest)
    setup.duration = duration
    # calibration always measures 1 server core, whatever core counts the run had
    setup.server_cpus.setdefault(1, placement.default().server(1))
    setup.target, setup.remote_workers = None, 0
    return store, setup


def _rps(record: CellRecord) -> float | None:
    return record.rps if record.status == "ok" else None


def crosscheck(strategies: list[str], workloads: dict[str, Workload], setup: Setup,
               store: RunStore, stop: threading.Event, log=print) -> list[dict]:
    """Each strategy under wrk and under Locust; calibration.csv rewritten after each."""
    rows: list[dict] = []
    for workload_name in CHECKED_WORKLOADS:
        workload = workloads[workload_name]
        for name in strategies:
            if stop.is_set():
                return rows
            wrk, locust = (run_cell(Cell(name, workload_name, 1, workload.users, 0, engine),
                                    workload, setup, stop) for engine in ("wrk", "locust"))
            wrk_rps, locust_rps = _rps(wrk), _rps(locust)
            ratio = round(wrk_rps / locust_rps, 3) if wrk_rps and locust_rps else None
            row = {"strategy": name, "workload": workload_name, "users": workload.users,
                   "wrk_rps": wrk_rps, "locust_rps": locust_rps, "headroom": ratio,
                   # the cross-check: only where the server, not an engine, is the limit
                   "agree": (abs(ratio - 1) <= AGREE if ratio and workload_name == "cpu" else None),
                   "wrk_loadgen_bound": wrk.loadgen_bound,
                   "locust_loadgen_bound": locust.loadgen_bound,
                   "wrk_server_cpu": wrk.server_cpu, "locust_server_cpu": locust.server_cpu,
                   "locust_loadgen_cpu": locust.loadgen_cpu,
                   "note": "; ".join(r.reason for r in (wrk, locust) if r.reason)}
            rows.append(row)
            log(f"crosscheck {name:<18} {workload_name:<10} wrk {wrk_rps or 0:>8.0f} req/s  "
                f"locust {locust_rps or 0:>8.0f} req/s  wrk/locust x{ratio}"
                + ("" if row["agree"] is None else "  agree" if row["agree"] else "  DISAGREE"))
            store.write_calibration(rows)
    return rows

