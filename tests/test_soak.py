"""`sharebench soak`: a very short soak of two strategies, then one stopped by Ctrl-C."""
from __future__ import annotations

import csv
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from loadtests.checks.soak import SoakError, parse_duration
from loadtests.machine.process_groups import stop_group
from results.schema import SOAK_SAMPLE_COLUMNS, SOAK_SUMMARY_COLUMNS

pytestmark = pytest.mark.load  # runs load; make test-fast leaves it out

SOAKED = "global-lock,async-mp"  # one of each kind of process tree
RATE = 100


def soak(results: Path, duration: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "sharebench", "soak", "--strategies", SOAKED,
         "--duration", duration, "--rate", str(RATE), "--results", str(results)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)


@pytest.fixture
def stopped_after():
    """Every soak started is stopped by its process group, whatever the test did."""
    started: list[subprocess.Popen] = []
    yield started.append
    for proc in started:
        stop_group(proc)


def read(path: Path) -> tuple[list[str], list[dict]]:
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_a_short_soak_writes_samples_and_a_plausible_summary(tmp_path: Path, stopped_after) -> None:
    proc = soak(tmp_path, "4s")
    stopped_after(proc)
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, output
    (folder,) = tmp_path.glob("soak-*")
    columns, samples = read(folder / "soak.csv")
    assert columns == list(SOAK_SAMPLE_COLUMNS)
    columns, rows = read(folder / "summary.csv")
    assert columns == list(SOAK_SUMMARY_COLUMNS)
    assert [row["strategy"] for row in rows] == SOAKED.split(",")
    for row in rows:
        name = row["strategy"]
        mine = [s for s in samples if s["strategy"] == name]
        times = [float(s["t_s"]) for s in mine]
        assert len(mine) >= 8 and times == sorted(times) and times[-1] >= 3.9, times
        assert row["status"] == "ok" and row["correct"] == "True", row
        assert int(row["errors"]) == 0, row
        assert 0.7 * RATE <= float(row["achieved_rps"]) <= 1.1 * RATE, row
        assert int(row["server_requests"]) == int(row["requests"]) + 1, row  # + /stats itself
        assert int(row["acked_incr"]) == int(row["server_incr_applied"]) > 0, row
        start, end, peak = (float(row[k]) for k in ("start_rss_mib", "end_rss_mib",
                                                    "peak_rss_mib"))
        assert 5 < start <= peak and 5 < end <= peak < 2000, row
        assert abs(float(row["growth_mib"]) - (end - start)) < 0.01, row
        assert int(row["end_threads"]) >= 1 and int(row["end_fds"]) >= 3, row
        assert gone(int(row["server_pid"])), f"{name}'s server outlived the soak"
    assert "global-lock" in output and "soak written to" in output, output
    # it says where it is while it runs: its time and each server's RSS
    progress = re.findall(r"^sharebench: soak (\d+)/4 s: global-lock \d+ MiB, async-mp \d+ MiB$",
                          output, re.M)
    assert len(progress) >= 2 and progress == sorted(progress, key=int), output


def test_ctrl_c_stops_everything_and_keeps_what_was_sampled(tmp_path: Path,
                                                           stopped_after) -> None:
    proc = soak(tmp_path, "60s")
    stopped_after(proc)
    deadline = time.monotonic() + 30
    while not list(tmp_path.glob("soak-*/soak.csv")) or \
            len(read(next(tmp_path.glob("soak-*/soak.csv")))[1]) < 4:
        assert proc.poll() is None and time.monotonic() < deadline, proc.stdout.read()
        time.sleep(0.2)
    os.kill(proc.pid, signal.SIGINT)  # what Ctrl-C sends it: the servers have their own sessions
    output, _ = proc.communicate(timeout=20)
    assert proc.returncode == 130, output
    _, rows = read(next(tmp_path.glob("soak-*/summary.csv")))
    assert {row["status"] for row in rows} == {"interrupted"}, rows
    for row in rows:
        assert row["start_rss_mib"] and gone(int(row["server_pid"])), row


@pytest.mark.parametrize("text, seconds", [("20s", 20), ("10m", 600), ("1.5h", 5400), ("45", 45)])
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "0s", "10x", "-5s", "25h"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(SoakError):
        parse_duration(text)
