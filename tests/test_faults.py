"""Faults during a run, injected for real: each costs at most its own cell."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from .helpers import SHORT, copy_repo, read_latest, sharebench

pytestmark = pytest.mark.load  # runs load; make test-fast leaves it out


DIES_MIDWAY = '''"""dies-midway: a global lock that SIGKILLs its own server after 500 requests."""
import os
import signal
import threading

from servers import strategy
from servers.core.state import LockedState, PlainState


@strategy("dies-midway", model="threads", analogue="-", rule="crash after 500 requests")
class DiesMidway(LockedState):
    def __init__(self, keys, work):
        super().__init__(PlainState(keys, work.hold), threading.Lock())
        self._count = 0

    def _tick(self):
        self._count += 1
        if self._count == 500:
            os.kill(os.getpid(), signal.SIGKILL)

    def get(self, key):
        with self._lock:
            self._tick()
            return self._state.get(key)

    def incr(self, key, by):
        with self._lock:
            self._tick()
            return self._state.incr(key, by)

'''

EXITS_AT_START = '''"""exits-at-start: its store cannot be built."""
from servers import strategy


@strategy("exits-at-start", model="threads", analogue="-", rule="never starts")
class ExitsAtStart:
    def __init__(self, keys, work):
        raise RuntimeError("the store refuses to start: injected fault")
'''

BROKEN_IMPORT = '''"""broken-import: raises when imported."""
raise ImportError("injected: this strategy module cannot be imported")
'''


@pytest.fixture
def faulty_repo(tmp_path: Path) -> Path:
    copy = copy_repo(tmp_path / "repo")
    (copy / "servers" / "dies_midway.py").write_text(DIES_MIDWAY)
    (copy / "servers" / "exits_at_start.py").write_text(EXITS_AT_START)
    (copy / "servers" / "broken_import.py").write_text(BROKEN_IMPORT)
    return copy


def test_crashing_and_unstartable_servers_fail_their_cells_only(faulty_repo: Path,
                                                                tmp_path: Path) -> None:
    results = tmp_path / "results"
    done = sharebench("run", "--no-report", "--profile", "quick", "--strategies",
                      "dies-midway,exits-at-start,global-lock", *SHORT, "--results", str(results),
                      repo=faulty_repo)
    assert done.returncode == 0, done.stderr
    assert "broken_import.py failed to import" in done.stderr
    manifest, rows = read_latest(results)
    assert manifest["status"] == "complete"
    assert "broken_import" in manifest["broken_strategies"]
    cells = {row["strategy"]: row for row in rows}
    assert cells["global-lock"]["status"] == "ok"
    midway = cells["dies-midway"]
    assert midway["status"] == "failed" and "dies-midway" in midway["reason"], midway["reason"]
    unstartable = cells["exits-at-start"]
    assert unstartable["status"] == "failed" and "exited" in unstartable["reason"]
    record = json.loads((results / "latest" / "cells" /
                         f"{unstartable['cell_id']}.json").read_text())
    assert "injected fault" in record["detail"], "the server's stderr must say why"


def test_broken_module_does_not_break_listing_or_serving(faulty_repo: Path) -> None:
    listed = sharebench("list", repo=faulty_repo)
    assert listed.returncode == 0 and "global-lock" in listed.stdout
    assert "broken_import.py failed to import" in listed.stderr
    served = sharebench("run", "--no-report", "--profile", "quick", "--strategies", "broken-import", repo=faulty_repo)
    assert served.returncode == 2 and "injected: this strategy module" in served.stderr


def test_locust_killed_mid_cell_fails_that_cell_and_the_run_goes_on(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "sharebench", "run", "--no-report", "--profile", "quick", "--strategies",
         "global-lock,stateless", "--warmup", "0.5s", "--duration", "3s",
         "--results", str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    victim = None
    deadline = time.monotonic() + 60
    while victim is None and time.monotonic() < deadline:
        for child in psutil.Process(proc.pid).children(recursive=True):
            try:
                if "locust" in " ".join(child.cmdline()[:3]):
                    victim = child
                    break
            except psutil.NoSuchProcess:
                pass
        time.sleep(0.1)
    assert victim is not None, "never saw the Locust process"
    time.sleep(1.5)  # inside the measured window
    victim.kill()    # by pid: a process this test's own child started
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    _, rows = read_latest(tmp_path)
    cells = {row["strategy"]: row for row in rows}
    assert cells["global-lock"]["status"] == "failed"
    assert "locust" in cells["global-lock"]["reason"], cells["global-lock"]["reason"]
    assert cells["stateless"]["status"] == "ok", "the next cell must still be measured"
    assert not psutil.pid_exists(victim.pid) or victim.status() == psutil.STATUS_ZOMBIE


def test_resume_skips_a_corrupt_record_and_measures_that_cell_again(tmp_path: Path) -> None:
    first = subprocess.run([sys.executable, "-m", "sharebench", "run", "--no-report", "--profile", "quick",
                            *SHORT, "--results", str(tmp_path)], capture_output=True, text=True,
                           timeout=120)
    assert first.returncode == 0, first.stderr
    run = (tmp_path / "latest").resolve()
    victim = sorted((run / "cells").glob("*.json"))[0]
    victim.write_text('{"cell_id": "global-lock.write-he')  # a crash mid-write, long ago
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["status"] = "interrupted"
    (run / "manifest.json").write_text(json.dumps(manifest))
    resumed = subprocess.run([sys.executable, "-m", "sharebench", "run", "--no-report", "--run", str(run)],
                             capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert f"sharebench: warning: skipped {victim}: not readable JSON" in resumed.stderr
    assert "1 of 2 cells to measure" in resumed.stderr
    _, rows = read_latest(tmp_path)
    assert len(rows) == 2 and all(row["status"] == "ok" for row in rows)


def test_a_cpu_hog_on_our_cpus_is_flagged(tmp_path: Path) -> None:
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        pytest.skip("needs 2 CPUs")
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"], start_new_session=True,
                           preexec_fn=lambda: os.sched_setaffinity(0, {cpus[-1]}))
    try:
        done = subprocess.run([sys.executable, "-m", "sharebench", "run", "--no-report", "--profile", "quick",
                               "--strategies", "stateless", "--workloads", "read-heavy", *SHORT,
                               "--results", str(tmp_path)], capture_output=True, text=True,
                              timeout=120)
    finally:
        from loadtests.machine.process_groups import stop_group
        stop_group(hog)
    assert done.returncode == 0, done.stderr
    _, rows = read_latest(tmp_path)
    row = rows[0]
    assert row["busy_machine"] == "True", (row["other_cpu"], row)
    # Our hog can take one CPU at most; more "other" CPU means someone else was loading the
    # machine too and may have filled the server's CPU as well: then neither side is the limit.
    if float(row["other_cpu"]) <= 1.05:
        assert row["loadgen_bound"] == "True", ("a starved load generator is the limit",
                                                row["other_cpu"], row["loadgen_cpus_busy"])


def test_a_taken_locust_master_port_is_retried_on_another(tmp_path: Path, monkeypatch) -> None:
    """With several load-generator processes Locust's master binds a port we choose; if
    someone takes it between choice and bind, the cell retries on another port."""
    import socket
    import threading

    from loadtests.engines import locust as loadgen
    from loadtests.planning.cells import Cell
    from loadtests.planning.workloads import WORKLOADS
    from loadtests.running.cell import Setup, run_cell
    from servers import discover

    squatter = socket.socket()
    squatter.bind(("0.0.0.0", 0))  # Locust's master binds all interfaces
    squatter.listen()
    taken = squatter.getsockname()[1]
    real_free_port = loadgen.free_port
    ports = iter([taken])
    monkeypatch.setattr(loadgen, "free_port", lambda: next(ports, None) or real_free_port())
    cpus = sorted(os.sched_getaffinity(0))
    setup = Setup(warmup=0.5, duration=1.5, loadgen_cpus=set(cpus), server_cpus={1: {cpus[0]}},
                  scratch=tmp_path, spec={"global-lock": discover()["global-lock"].traits.to_dict()})
    try:
        record = run_cell(Cell("global-lock", "write-heavy", 1, 8, 0), WORKLOADS["write-heavy"],
                          setup, threading.Event())
    finally:
        squatter.close()
    assert record.status == "ok", record.detail
    assert (tmp_path / record.cell_id / "attempt-1" / "locust.log").read_text().count("in use")
    assert record.correct is True and record.rps > 0
