"""Open-loop Locust end to end: real servers, real Locust, real files.

- A server that stalls once for 200 ms under a fixed offered rate: the corrected
  tail (from each request's slot) shows the stall for every request scheduled
  during it; the uncorrected tail (from the send) hides it.
- A rate Locust cannot keep on its CPU (busy loops share it) is flagged
  `loadgen_lagging`; a rate beyond what Locust offers at all is skipped.
- Bad rates, fractions without a capacity cell, connections above the
  descriptor limit: one line, exit 2, nothing started.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from results import hdr

from .helpers import by_id, copy_repo, read_latest, sharebench

pytestmark = pytest.mark.load  # runs load; make test-fast leaves it out


STALL_ONCE = '''"""stall-once (test only): global-lock that holds its lock for 200 ms, once, 2 s in."""
import threading
import time

from servers import strategy
from servers.core.state import LockedState, PlainState
from servers.core.work import Work


@strategy("stall-once", model="threads", analogue="-", rule="global lock; one 200 ms stall")
class StallOnce(LockedState):
    def __init__(self, keys: int, work: Work) -> None:
        super().__init__(PlainState(keys, work.hold), threading.Lock())
        self._first = 0.0
        self._stalled = False

    def _maybe_stall(self) -> None:
        now = time.monotonic()
        self._first = self._first or now
        if not self._stalled and now - self._first >= 2.0:
            self._stalled = True
            time.sleep(0.2)

    def get(self, key: int) -> int:
        with self._lock:
            self._maybe_stall()
            return self._state.get(key)

    def incr(self, key: int, by: int) -> int:
        with self._lock:
            self._maybe_stall()
            return self._state.incr(key, by)

'''


def profile(tmp: Path, body: str) -> Path:
    path = tmp / "profiles.toml"
    path.write_text(body)
    return path


def rows_of(results: Path) -> dict[str, dict]:
    return by_id(read_latest(results)[1])


def test_one_stall_shows_in_the_corrected_tail_only(tmp_path: Path) -> None:
    copy = copy_repo(tmp_path / "repo")
    (copy / "servers" / "stall_once.py").write_text(STALL_ONCE)
    # One connection at 500 req/s: the stall delays ~100 scheduled requests (corrected)
    # but only the one in flight (uncorrected), under 0.1% of the window's ~1500.
    toml = profile(tmp_path, """
[stall]
warmup = "1s"
duration = "3s"
[[stall.blocks]]
strategies = ["stall-once"]
workloads = ["read-heavy"]
cores = [1]
users = [1]
rates = [500]
""")
    done = sharebench("run", "--no-report", "--profile", "stall", "--profile-file", str(toml),
                      "--results", str(tmp_path / "results"), repo=copy)
    assert done.returncode == 0, done.stderr
    row = rows_of(tmp_path / "results")["stall-once.read-heavy.locust.c1.u1.o500.r0"]
    assert row["status"] == "ok", row["reason"]
    assert row["mode"] == "open" and float(row["offered_rps"]) == 500
    corrected, uncorrected = int(row["p999_us"]), int(row["p999_uncorrected_us"])
    assert corrected >= 100_000, (corrected, uncorrected)
    assert uncorrected * 5 < corrected, (corrected, uncorrected)
    assert row["loadgen_lagging"] == "False", row["send_lag_p99_us"]
    record = json.loads(((tmp_path / "results" / "latest").resolve() / "cells"
                         / f"{row['cell_id']}.json").read_text())
    both = hdr.merge([record["hdr"]]), hdr.merge([record["hdr_uncorrected"]])
    assert both[0].get_total_count() == both[1].get_total_count() == int(row["requests"])
    assert both[1].get_max_value() >= 150_000, "the request in flight saw the stall too"
    # The per-50 ms timeline says *when*: one short spike, quiet buckets around it.
    line = record["latency_timeline"]
    assert line["bucket_ms"] == 50 and line["start"] == pytest.approx(record["window_start_unix_s"])
    assert 55 <= len(line["max_us"]) <= 61, len(line["max_us"])
    assert max(line["max_us"]) == pytest.approx(int(row["max_us"]), rel=0.002)
    spiked = [i for i, v in enumerate(line["max_us"]) if v >= 100_000]
    assert 1 <= len(spiked) <= 4 and spiked[-1] - spiked[0] <= 3, spiked
    assert sorted(line["max_us"])[len(line["max_us"]) // 2] < 20_000, line["max_us"]


def test_a_rate_locust_cannot_keep_is_flagged_lagging(tmp_path: Path) -> None:
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("needs 2 CPUs: the server on one, Locust and a CPU hog on the other")
    loadgen_cpu = max(os.sched_getaffinity(0))
    toml = profile(tmp_path, """
[lag]
warmup = "1s"
duration = "2s"
[[lag.blocks]]
strategies = ["stateless"]
workloads = ["read-heavy"]
cores = [1]
users = [60]
rates = [4900]
""")
    # 4900 req/s is within what Locust offers on a core of its own (engines/locust.py, at
    # ~85% of that core), but it shares this one with three busy loops at its own priority.
    # Measured here (10 runs): 3.1k-3.6k req/s achieved, send lag p99 11-15 ms, so both
    # documented reasons hold with margin. (Higher-priority loops once starved it in CI
    # until no user started inside the window; tests/test_lagging.py pins that case without
    # depending on the scheduler.)
    def pinned() -> None:
        os.sched_setaffinity(0, {loadgen_cpu})

    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"], preexec_fn=pinned)
            for _ in range(3)]
    try:
        done = sharebench("run", "--no-report", "--profile", "lag", "--profile-file", str(toml),
                          "--loadgen-cpus", str(loadgen_cpu), "--results", str(tmp_path))
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    assert done.returncode == 0, done.stderr
    row = rows_of(tmp_path)["stateless.read-heavy.locust.c1.u60.o4900.r0"]
    assert row["status"] == "ok", row["reason"]
    why = (row["rps"], row["send_lag_p99_us"], row["loadgen_cpus_busy"])
    assert row["loadgen_lagging"] == "True", why
    # ... and for one of the documented reasons
    assert float(row["rps"]) < 0.95 * 4900 or float(row["send_lag_p99_us"]) > 5000, why


BLOCK = """
[p]
warmup = "1s"
duration = "1s"
[[p.blocks]]
strategies = ["global-lock"]
workloads = ["cpu"]
cores = [1]
users = [{users}]
rates = [{rates}]
"""


@pytest.mark.parametrize("rates, users, needle", [
    ("0", 8, "bad rate"), ("-5", 8, "bad rate"), ('"fast"', 8, "bad rate"),
    ('"nanx"', 8, "bad rate"), ('"0.5x"', 8, "no closed-loop cell"),
    ("500", 10 ** 6, "file-descriptor hard limit")])
def test_bad_open_loop_plans_fail_before_anything_starts(tmp_path: Path, rates: str, users: int,
                                                         needle: str) -> None:
    toml = profile(tmp_path, BLOCK.format(rates=rates, users=users))
    done = sharebench("run", "--no-report", "--profile", "p", "--profile-file", str(toml),
                      "--results", str(tmp_path / "results"), timeout=60)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().count("\n") == 0 and needle in done.stderr, done.stderr
    assert not (tmp_path / "results").exists(), "nothing may start on a bad plan"


@pytest.mark.parametrize("text", ["0", "-1", "abc", "1,,x"])
def test_bad_rates_override_fails_before_anything_starts(tmp_path: Path, text: str) -> None:
    toml = profile(tmp_path, BLOCK.format(rates=500, users=8))
    done = sharebench("run", "--no-report", "--profile", "p", "--profile-file", str(toml), "--rates", text,
                      "--results", str(tmp_path / "results"), timeout=60)
    assert done.returncode == 2 and "RATES" in done.stderr, done.stderr
    assert done.stderr.strip().count("\n") == 0
    assert not (tmp_path / "results").exists()


def test_a_rate_beyond_the_engine_is_skipped_with_the_reason(tmp_path: Path) -> None:
    toml = profile(tmp_path, BLOCK.format(rates=10 ** 6 - 1, users=8).replace("cpu", "read-heavy"))
    done = sharebench("run", "--no-report", "--profile", "p", "--profile-file", str(toml),
                      "--results", str(tmp_path))
    assert done.returncode == 0, done.stderr
    row = rows_of(tmp_path)["global-lock.read-heavy.locust.c1.u8.o999999.r0"]
    assert row["status"] == "skipped" and "more than locust can offer" in row["reason"], row
    assert row["rps"] == "" and row["p99_us"] == ""
