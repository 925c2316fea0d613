"""Paced wrk (loadtests/engines/wrk_paced.py): connections held open, each at a fixed pace.

The pace is a property of the engine, checked on a quick cell: N connections at
interval T offer N/T requests/s. Its faults cost only their own cell, as for wrk:
wrk killed, the server dying; wrk missing stops the run before anything starts.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from loadtests.engines import wrk_script
from loadtests.engines.wrk_paced import threads_for
from loadtests.planning.cells import Cell
from loadtests.planning.workloads import WORKLOADS
from loadtests.running.cell import Setup, run_cell
from servers import discover

pytestmark = [pytest.mark.load,
              pytest.mark.skipif(not shutil.which("wrk"),
                                 reason="wrk is missing: `make test` installs it (Debian package wrk)")]


def _setup(tmp_path: Path, strategy: str, model: str, warmup: float = 1.0,
           duration: float = 2.0) -> Setup:
    cpus = sorted(os.sched_getaffinity(0))
    traits = discover()[strategy].traits.to_dict()  # as a manifest has it
    assert traits["model"] == model
    return Setup(warmup=warmup, duration=duration, loadgen_cpus={cpus[-1]},
                 server_cpus={1: {cpus[0]}}, scratch=tmp_path, spec={strategy: traits})


def test_n_connections_at_interval_t_offer_n_over_t(tmp_path: Path) -> None:
    """200 connections, each every 0.25 s: 800 req/s, answered (a server far from its limit)."""
    users, interval = 200, 0.25
    rate = users / interval
    record = run_cell(Cell("async-raw", "read-heavy", 1, users, 0, "wrk", rate=f"{rate:g}"),
                      WORKLOADS["read-heavy"], _setup(tmp_path, "async-raw", "async"),
                      threading.Event(), rate)
    assert record.status == "ok", record.reason
    if record.busy_machine:
        pytest.skip("the machine was busy: the pace cannot be judged (other_cpu "
                    f"{record.other_cpu} cores)")
    assert record.rps == pytest.approx(rate, rel=0.10), record
    assert record.server_fds >= users, "every connection held open through the window"
    assert record.errors == 0 and record.correct is True, record
    assert record.acked_incr > 0 and not record.loadgen_lagging, record
    assert 0 < record.p50_us <= record.p99_us <= record.max_us
    assert record.p99_uncorrected_us <= record.p99_us + 1000, "the slot comes before the send"


def _kill_paced_wrk(scratch: Path, stop: threading.Event) -> None:
    while not stop.is_set():
        if list(scratch.glob("*/attempt-1/wrk-paced.log")):
            time.sleep(1.0)  # inside the warm-up
            for child in psutil.Process().children(recursive=True):
                try:
                    if child.name() == "wrk" and child.status() != psutil.STATUS_ZOMBIE:
                        os.kill(child.pid, signal.SIGKILL)
                        return
                except psutil.Error:
                    continue
        time.sleep(0.02)


def test_paced_wrk_killed_mid_cell_fails_that_cell(tmp_path: Path) -> None:
    stop = threading.Event()
    killer = threading.Thread(target=_kill_paced_wrk, args=(tmp_path, stop), daemon=True)
    killer.start()
    record = run_cell(Cell("global-lock", "io", 1, 50, 0, "wrk", rate="500"), WORKLOADS["io"],
                      _setup(tmp_path, "global-lock", "threads"), threading.Event(), 500.0)
    stop.set()
    assert record.status == "failed", record
    assert "wrk exited with status -9" in record.reason, record.reason


def test_a_server_that_dies_under_paced_wrk_fails_that_cell(tmp_path: Path) -> None:
    def kill_server() -> None:
        deadline = time.time() + 30
        while time.time() < deadline:
            if list(tmp_path.glob("*/attempt-1/wrk-paced.log")):
                time.sleep(1.0)
                for child in psutil.Process().children(recursive=True):
                    try:
                        if "serve" in child.cmdline():
                            os.killpg(child.pid, signal.SIGKILL)  # it leads its own group
                            return
                    except psutil.Error:
                        continue
            time.sleep(0.05)

    killer = threading.Thread(target=kill_server, daemon=True)
    killer.start()
    record = run_cell(Cell("global-lock", "io", 1, 50, 0, "wrk", rate="500"), WORKLOADS["io"],
                      _setup(tmp_path, "global-lock", "threads"), threading.Event(), 500.0)
    killer.join(5)
    assert record.status == "failed", record
    assert record.reason.startswith("global-lock died during the cell"), record.reason


PACED = """
[p]
warmup = "1s"
duration = "1s"
[[p.blocks]]
engine = "wrk"
strategies = ["global-lock"]
workloads = ["io"]
cores = [1]
users = [{users}]
rates = [{rate}]
"""


def test_paced_wrk_missing_is_one_line_and_nothing_starts(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    path = tmp_path / "profiles.toml"
    path.write_text(PACED.format(users=100, rate=500))
    done = subprocess.run([sys.executable, "-m", "sharebench", "run", "--no-report", "--profile", "p",
                           "--profile-file", str(path), "--results", str(tmp_path / "results")],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PATH": str(empty)})
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "make wrk" in done.stderr, done.stderr
    assert not (tmp_path / "results").exists()


def test_the_paced_script_carries_the_schedule_and_the_window() -> None:
    text = wrk_script.paced_lua(WORKLOADS["io"], 5.0, 1000, (100.0, 103.0))
    assert "local interval, spacing = 5, 0.005" in text
    assert "local window_start, window_end = 100.000000, 103.000000" in text
    assert "function delay()" in text and "function response(" in text


def test_wrk_threads_divide_the_connections() -> None:
    assert threads_for(100) == 1 and threads_for(10_000) == 10 and threads_for(19_000) == 19
    assert threads_for(10_007) == 1  # a prime: wrk would drop the remainder otherwise
    for count in (2500, 5000, 12_345):
        assert count % threads_for(count) == 0
