"""Calibration against a reference load generator: wrk (C, epoll) beside Locust.

For each strategy and workload, the same server (same pinning, same knobs) is
driven once by wrk and once by the harness's own Locust cell. wrk's figure is
close to the server's real peak; the ratio wrk/Locust is the harness's
headroom: ~1.0 means Locust measured the server, >1 means Locust was the limit.
"""
from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from . import placement, sweep
from .cell import Cell, Setup, run_cell
from .procs import stop_group
from .profiles import Plan
from .server import ServerProcess
from .store import RunStore
from .workloads import WORKLOADS as ALL_WORKLOADS
from .workloads import Workload

WORKLOADS = ("read-heavy", "cpu")
_RATE = re.compile(r"Requests/sec:\s+([\d.]+)")


class CalibrationError(RuntimeError):
    pass


def lua_script(workload: Workload) -> str:
    """A wrk script that sends the workload's mix over uniform keys."""
    total = sum(workload.mix.values())
    get = workload.mix.get("get", 0) / total
    incr = get + workload.mix.get("incr", 0) / total
    return f"""
local keys = {workload.keys}
local json = {{["Content-Type"] = "application/json"}}
request = function()
  local r = math.random()
  local k = math.random(0, keys - 1)
  if r < {get} then
    return wrk.format("GET", "/kv/" .. k)
  elseif r < {incr} then
    return wrk.format("POST", "/kv/" .. k .. "/incr", json, '{{"by":1}}')
  end
  local d = (k + math.random(1, keys - 1)) % keys
  return wrk.format("POST", "/transfer", json,
    '{{"from":' .. k .. ',"to":' .. d .. ',"amount":1}}')
end
"""


def wrk_rps(url: str, workload: Workload, connections: int, seconds: float,
            cpus: set[int]) -> float:
    if not shutil.which("wrk"):
        raise CalibrationError("wrk is not installed: `make calibrate` installs Debian's wrk")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua_script(workload))
    cmd = ["wrk", f"-t{len(cpus)}", f"-c{connections}", f"-d{max(1, round(seconds))}s",
           "-s", script.name, url]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True, text=True,
                            preexec_fn=lambda: os.sched_setaffinity(0, cpus))
    try:
        out, _ = proc.communicate(timeout=seconds + 30)
    except subprocess.TimeoutExpired:
        stop_group(proc)
        raise CalibrationError(f"wrk hung against {url}") from None
    finally:
        Path(script.name).unlink(missing_ok=True)
    match = _RATE.search(out)
    if proc.returncode != 0 or not match:
        raise CalibrationError(f"wrk failed ({proc.returncode}): {out.strip()[-300:]}")
    return float(match[1])


def prepare(results: Path, run: str | None, names: list[str], duration: float,
            argv: list[str]) -> tuple[RunStore, Setup]:
    """The run calibration.csv belongs to — the one given, else results/latest (so its
    report shows the headroom), else a new calibrate-only run — and how to measure."""
    latest = results / "latest"
    if run or latest.is_dir():
        store = RunStore(Path(run) if run else latest.resolve())
        manifest = store.manifest()
    else:
        cells = [Cell(n, w, 1, ALL_WORKLOADS[w].users, 0) for w in WORKLOADS for n in names]
        run_id = f"{time.strftime('%Y%m%d-%H%M%S')}-calibrate"
        store = RunStore.create(results, run_id)
        manifest = sweep.new_manifest(run_id, Plan("calibrate", "wrk beside Locust", 1.0,
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


def calibrate(strategies: list[str], workloads: dict[str, Workload], setup: Setup,
              out: Path, stop: threading.Event, log=print) -> list[dict]:
    rows = []
    for workload_name in WORKLOADS:
        workload = workloads[workload_name]
        for name in strategies:
            if stop.is_set():
                return rows
            flags = workload.server_flags() + ["--loops-per-us", f"{setup.loops_per_us:.4f}"]
            with ServerProcess(name, flags, cpus=setup.server_cpus[1]) as server:
                wrk = wrk_rps(server.url, workload, workload.users,
                              setup.warmup + setup.duration, setup.loadgen_cpus)
            record = run_cell(Cell(name, workload_name, 1, workload.users, 0), workload, setup, stop)
            locust = record.get("rps") if record["status"] == "ok" else None
            row = {"strategy": name, "workload": workload_name, "users": workload.users,
                   "wrk_rps": round(wrk, 1), "locust_rps": locust,
                   "headroom": round(wrk / locust, 2) if locust else None,
                   "locust_loadgen_cpu": record.get("loadgen_cpu"),
                   "locust_server_cpu": record.get("server_cpu"),
                   "locust_flagged_loadgen_bound": record.get("loadgen_bound"),
                   "note": record.get("reason", "")}
            rows.append(row)
            log(f"calibrate {name:<18} {workload_name:<10} wrk {wrk:>8.0f} req/s  "
                f"locust {locust or 0:>8.0f} req/s  headroom x{row['headroom']}")
            _write(out, rows)
    return rows


def _write(path: Path, rows: list[dict]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", newline="") as fh:
        writer = csv.DictWriter(fh, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(path)
