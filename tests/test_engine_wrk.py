"""The wrk engine end to end: a real wrk against real servers, and its faults.

Each fault costs only its own cell: wrk missing stops the run before anything
starts; wrk killed, a script that fails and a server that dies under load are
failed cells with their detail.
"""
from __future__ import annotations

import os
import shutil
import signal
import threading
import time
from pathlib import Path

import psutil
import pytest

from loadtests.engines import wrk_script
from loadtests.planning.cells import Cell
from loadtests.planning.workloads import WORKLOADS
from loadtests.running.cell import Setup, run_cell
from servers import discover

from .helpers import SHORT, read_latest, sharebench

pytestmark = [pytest.mark.load,  # runs load; make test-fast leaves it out
              pytest.mark.skipif(not shutil.which("wrk"),
                                 reason="wrk is missing: `make test` installs it (Debian package wrk)")]


def _setup(tmp_path: Path, strategy: str = "global-lock") -> Setup:
    cpus = sorted(os.sched_getaffinity(0))
    return Setup(warmup=1.0, duration=2.0, loadgen_cpus={cpus[-1]}, server_cpus={1: {cpus[0]}},
                 scratch=tmp_path,
                 spec={strategy: discover()[strategy].traits.to_dict()})  # as a manifest has it


def test_quick_profile_with_wrk_counts_and_finds_lost_updates(tmp_path: Path) -> None:
    done = sharebench("run", "--no-report", "--profile", "quick", "--engine", "wrk", *SHORT,
                      "--results", str(tmp_path))
    assert done.returncode == 0, done.stderr
    manifest, rows = read_latest(tmp_path)
    assert {m["engine"] for m in manifest["matrix"]} == {"wrk"}
    cells = {row["strategy"]: row for row in rows}
    for row in cells.values():
        assert row["status"] == "ok" and row["engine"] == "wrk", row
        assert row["cell_id"].split(".")[2] == "wrk"
        assert float(row["rps"]) > 0 and int(row["requests"]) > 0 and row["errors"] == "0"
        assert 0 < float(row["p50_us"]) <= float(row["p99_us"]) <= float(row["p9999_us"]) <= float(row["max_us"])
        assert int(row["acked_incr"]) > 0 and float(row["server_cpu"]) > 0
        assert row["loadgen_bound"] in ("True", "False")
    safe, racy = cells["global-lock"], cells["unsafe"]
    assert (safe["correct"], safe["lost_updates"]) == ("True", "0"), safe
    # the server applied every acknowledged increment, and no more than were sent
    assert int(safe["acked_incr"]) <= int(safe["server_sum"]) <= int(safe["acked_incr"]) + int(safe["uncertain_incr"])
    assert racy["correct"] == "False" and int(racy["lost_updates"]) > 0, racy


def test_wrk_missing_is_one_line_and_nothing_starts(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    import subprocess
    import sys
    done = subprocess.run([sys.executable, "-m", "sharebench", "run", "--no-report", "--profile", "quick",
                           "--engine", "wrk", "--results", str(tmp_path / "results")],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PATH": str(empty)})
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "make wrk" in done.stderr, done.stderr
    assert not (tmp_path / "results").exists()


def _children_running(name_part: str) -> list[psutil.Process]:
    """Our live descendants whose command line has ``name_part`` (zombies and the gone skipped)."""
    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            if name_part in child.cmdline():
                found.append(child)
        except psutil.Error:
            continue
    return found


def _kill_measuring_wrk(scratch: Path, stop: threading.Event) -> None:
    """SIGKILL the measured wrk run (its log appears when it starts), by its pid."""
    while not stop.is_set():
        if list(scratch.glob("*/attempt-1/wrk-measure.log")):
            for child in psutil.Process().children(recursive=True):
                try:
                    if child.name() == "wrk" and child.status() != psutil.STATUS_ZOMBIE:
                        time.sleep(0.3)
                        os.kill(child.pid, signal.SIGKILL)
                        return
                except psutil.Error:
                    continue
        time.sleep(0.02)


def test_wrk_killed_mid_cell_fails_that_cell(tmp_path: Path) -> None:
    stop = threading.Event()
    killer = threading.Thread(target=_kill_measuring_wrk, args=(tmp_path, stop), daemon=True)
    killer.start()
    record = run_cell(Cell("global-lock", "write-heavy", 1, 8, 0, "wrk"),
                      WORKLOADS["write-heavy"], _setup(tmp_path), threading.Event())
    stop.set()
    assert record.status == "failed", record
    assert "wrk exited with status -9" in record.reason, record.reason


def test_a_failing_wrk_script_fails_that_cell(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("loadtests.engines.wrk.lua",
                        lambda workload: "function request( return nil end -- broken\n")
    record = run_cell(Cell("global-lock", "write-heavy", 1, 8, 0, "wrk"),
                      WORKLOADS["write-heavy"], _setup(tmp_path), threading.Event())
    assert record.status == "failed" and "no report" in record.reason, record
    assert "workload.lua" in record.detail, record.detail  # wrk said what failed


# Killed in the warm-up, the server is dead before the measured wrk starts: wrk cannot
# connect and exits 1 (what CI's timing hit once); killed in the measured run, wrk ends
# normally and the harness finds the server gone. Either way the server is named.
@pytest.mark.parametrize("phase", ["warmup", "measure"])
def test_a_server_that_dies_under_wrk_fails_that_cell(tmp_path: Path, phase: str) -> None:
    def kill_server() -> None:
        deadline = time.time() + 30
        while time.time() < deadline:
            if list(tmp_path.glob(f"*/attempt-1/wrk-{phase}.log")):
                for child in _children_running("serve"):
                    os.killpg(child.pid, signal.SIGKILL)  # the server leads its own group
                    return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_server, daemon=True)
    killer.start()
    record = run_cell(Cell("global-lock", "write-heavy", 1, 8, 0, "wrk"),
                      WORKLOADS["write-heavy"], _setup(tmp_path), threading.Event())
    killer.join(5)
    assert record.status == "failed", record
    assert record.reason.startswith("global-lock died during the cell"), record.reason


def test_the_script_carries_the_workload_mix_and_skew() -> None:
    text = wrk_script.lua(WORKLOADS["hot-key"])
    assert "local p_get, p_incr = 0.2, 1" in text  # 20% reads, 80% increments, no transfers
    assert "local key_cum = {" in text and "key_cum = nil" not in text
    uniform = wrk_script.lua(WORKLOADS["transfer"])
    assert "local key_cum = nil" in uniform and "/transfer" in uniform
