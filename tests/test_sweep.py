"""The load stage end to end: real servers, real Locust processes, real files."""
from __future__ import annotations

import csv
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from loadtests.machine.server import ServerProcess
from results import hdr

from .helpers import SHORT, by_id, read_latest, sharebench

pytestmark = pytest.mark.load  # runs load; make test-fast leaves it out


def test_quick_profile_end_to_end(tmp_path: Path) -> None:
    done = sharebench("run", "--profile", "quick", "--results", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "latest" / "report.html").is_file(), done.stdout  # run writes the report
    manifest, rows = read_latest(tmp_path)
    assert manifest["status"] == "complete" and manifest["ended"]
    assert {"cpu_model", "kernel", "python", "gc_thresholds", "packages", "git_commit"} \
        <= set(manifest["environment"])
    assert len(rows) == len(manifest["matrix"]) == 2
    assert re.search(r"^sharebench: 2 cells, estimated \d+m\d\ds", done.stderr, re.M)
    topology = manifest["placement"]["topology"]
    assert topology["cpus"] == len(os.sched_getaffinity(0)) and not topology["fallback"]
    assert manifest["placement"]["server_cpus"]["1"] == [min(os.sched_getaffinity(0))]
    for row in rows:
        assert row["status"] == "ok", row["reason"]
        assert float(row["rps"]) > 0 and int(row["requests"]) > 0
        pcts = [int(row[k]) for k in ("p50_us", "p90_us", "p99_us", "p999_us", "max_us")]
        assert pcts == sorted(pcts) and pcts[0] > 0, pcts
        assert float(row["server_cpu_s"]) > 0 and float(row["loadgen_cpu_s"]) > 0
        record = json.loads((tmp_path / "latest" / "cells" / f"{row['cell_id']}.json").read_text())
        assert hdr.merge([record["hdr"]]).get_total_count() == int(row["requests"])
    cells = {row["strategy"]: row for row in rows}
    assert cells["global-lock"]["correct"] == "True"
    assert cells["global-lock"]["lost_updates"] == "0"
    assert cells["unsafe"]["correct"] == "False", "the harness must catch unsafe's lost updates"
    assert int(cells["unsafe"]["lost_updates"]) > 0
    # the preemption stress check ran before measuring, and its verdict is kept
    races = manifest["races"]
    assert races["global-lock"]["races"] is False and not races["global-lock"]["error"]
    assert races["unsafe"]["races"] is True and races["unsafe"]["lost"] > 0
    for row in rows:  # the GC knobs and figures are in every cell (write-heavy: no garbage)
        assert row["gc_mode"] == "default" and row["garbage"] == "0", row
        record = json.loads((tmp_path / "latest" / "cells" / f"{row['cell_id']}.json").read_text())
        # A short cell's pauses all fit in the server's rings: its figures are the window's,
        # counted from the pauses that began inside it (none from start-up or warm-up).
        assert record["gc_scope"] == "window" and record["gc_pauses_dropped"] == 0, record
        start = record["window_start_unix_s"] * 1e6
        pauses = record["gc_pauses"]
        assert all(start <= p[0] <= start + (record["duration_s"] + 0.01) * 1e6 for p in pauses)
        assert record["gc_collections"] == len(pauses) == int(row["gc_collections"])
        assert record["gc_pause_total_ms"] == round(sum(p[1] for p in pauses) / 1000, 3)
    # the report builds from this real run's stored records alone, every section present
    from report import SECTION_IDS
    report = sharebench("report", str((tmp_path / "latest").resolve()))
    assert report.returncode == 0, report.stderr
    lines = report.stdout.splitlines()  # the summary: a claims table, then the report's path
    assert lines[0].startswith("claim") and all(len(line) <= 100 for line in lines[:-2])
    assert lines[-2].startswith("sharebench: report: ")
    html = ((tmp_path / "latest") / "report.html").read_text()
    assert "unsafe" in html and "global-lock" in html
    for section_id in SECTION_IDS:
        assert f'<section id="{section_id}">' in html
    images = list((tmp_path / "latest").glob("fig-*.png"))
    assert html.count("<img ") == len(images)


def test_validity_flags(tmp_path: Path) -> None:
    """A load generator starved by a fast server is flagged; a CPU-bound server is not;
    2 server cores on a 2-core machine share the load generator's CPU."""
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("needs 2 CPUs to place server and load generator apart")
    done = sharebench("run", "--no-report", "--profile", "quick", "--strategies", "stateless",
                      "--workloads", "read-heavy,cpu", "--cores", "1,2", "--users", "32",
                      *SHORT, "--results", str(tmp_path))
    assert done.returncode == 0, done.stderr
    _, rows = read_latest(tmp_path)
    cells = by_id(rows)
    fast, slow = cells["stateless.read-heavy.locust.c1.u32.r0"], cells["stateless.cpu.locust.c1.u32.r0"]
    # On a machine others are loading, both sides starve and busy_machine disqualifies the
    # cell instead (a hog on the server's CPU fills it: the server is then not shown idle).
    if fast["busy_machine"] == "False":
        assert fast["loadgen_bound"] == "True", (fast["loadgen_cpus_busy"], fast["server_cpu"])
    if slow["busy_machine"] == "False":
        assert slow["loadgen_bound"] == "False", (slow["loadgen_cpus_busy"], slow["server_cpu"])
        assert float(slow["server_cpu"]) > 0.8, "the cpu workload should saturate the server"
    for row in rows:
        assert row["shared_cpu"] == str(row["cores"] == "2"), row["cell_id"]


def _descendants(pid: int) -> set[int]:
    try:
        return {p.pid for p in psutil.Process(pid).children(recursive=True)}
    except psutil.NoSuchProcess:
        return set()


def test_interrupt_then_resume(tmp_path: Path) -> None:
    args = ["run", "--no-report", "--profile", "quick", "--strategies", "global-lock,stateless",
            "--cores", "1", "--repeats", "2", *SHORT, "--results", str(tmp_path)]
    proc = subprocess.Popen([sys.executable, "-m", "sharebench", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen: set[int] = set()
    cells_dir = None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # wait for one finished cell, watching the tree
        seen |= _descendants(proc.pid)
        latest = tmp_path / "latest"
        if latest.exists():
            cells_dir = latest.resolve() / "cells"
            if len(list(cells_dir.glob("*.json"))) >= 1 and len(_descendants(proc.pid)) >= 2:
                break
        time.sleep(0.1)
    assert cells_dir is not None, proc.communicate()
    seen |= _descendants(proc.pid)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)  # a second Ctrl-C must not leave anything behind either
    started = time.monotonic()
    _, err = proc.communicate(timeout=30)
    assert time.monotonic() - started < 10, "stopping took too long"
    assert proc.returncode != 0
    assert seen, "the run started no processes?"
    alive = [pid for pid in seen if psutil.pid_exists(pid)
             and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE]
    assert not alive, f"left behind: {alive}"
    manifest, rows = read_latest(tmp_path)
    assert manifest["status"] == "interrupted" and manifest["interrupted_by"] == "SIGINT"
    kept = len(rows)
    assert 1 <= kept < len(manifest["matrix"]), err
    assert all(row["status"] == "ok" for row in rows)

    resumed = sharebench("run", "--no-report", "--run", str((tmp_path / "latest").resolve()))
    assert resumed.returncode == 0, resumed.stderr
    assert f"{len(manifest['matrix']) - kept} of {len(manifest['matrix'])} cells" in resumed.stderr
    manifest, rows = read_latest(tmp_path)
    assert manifest["status"] == "complete"
    assert sorted(row["cell_id"] for row in rows) == sorted(c["cell_id"] for c in manifest["matrix"])


@pytest.mark.parametrize("args, named", [
    (["--strategies", "no-such"], "no-such"),
    (["--workloads", "nope"], "nope"),
    (["--profile", "gigantic"], "gigantic"),
    (["--duration", "10 parsecs"], "10 parsecs"),
    (["--cores", "1,64"], "64"),
    (["--users", "0"], "0"),
    (["--target", "http://127.0.0.1:9"], "http://127.0.0.1:9"),
])
def test_bad_configuration_is_rejected_before_anything_starts(tmp_path: Path, args, named) -> None:
    done = sharebench("run", "--no-report", "--profile", "quick", *args, "--results", str(tmp_path), timeout=30)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and named in lines[0], done.stderr
    assert not (tmp_path / "latest").exists(), "a rejected run must not create a results directory"


def test_profile_file_with_syntax_error_is_rejected(tmp_path: Path) -> None:
    bad = tmp_path / "profiles.toml"
    bad.write_text("[quick\nwarmup = 1s\n")
    done = sharebench("run", "--no-report", "--profile", "quick", "--profile-file", str(bad),
                      "--results", str(tmp_path), timeout=30)
    assert done.returncode == 2 and "syntax error" in done.stderr, done.stderr


def test_master_and_worker_over_loopback(tmp_path: Path) -> None:
    """The distributed path: a server someone else runs, a Locust worker that connects to
    the harness's master, all on 127.0.0.1."""
    master_port = _free_port()
    with ServerProcess("global-lock", ["--keys", "1024", "--hold-us", "20"]) as server:
        worker = subprocess.Popen(
            [sys.executable, "-m", "locust", "-f", "loadtests/engines/locustfile.py", "--worker",
             "--master-host", "127.0.0.1", "--master-port", str(master_port),
             "--loglevel", "WARNING"],
            cwd=Path(__file__).resolve().parent.parent, start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            done = sharebench("run", "--no-report", "--profile", "quick", "--target", server.url,
                              "--loadgen-workers", "1", "--master-port", str(master_port),
                              *SHORT, "--results", str(tmp_path))
        finally:
            from loadtests.machine.process_groups import stop_group
            stop_group(worker)
    assert done.returncode == 0, done.stderr
    manifest, rows = read_latest(tmp_path)
    assert manifest["target"] == server.url and manifest["loadgen_workers"] == 1
    assert len(rows) == 1 and rows[0]["strategy"] == "global-lock"
    row = rows[0]
    assert row["status"] == "ok", row["reason"]
    assert float(row["rps"]) > 0 and row["correct"] == "True"
    assert row["server_cpu"] == "" and row["loadgen_bound"] == "", "a remote side cannot be measured"


def _free_port() -> int:
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_calibrate_puts_wrk_beside_locust(tmp_path: Path) -> None:
    import shutil
    if not shutil.which("wrk"):
        pytest.fail("wrk is missing: `make test` installs it (Debian package wrk)")
    done = sharebench("calibrate", "--strategies", "stateless", "--duration", "1s",
                      "--results", str(tmp_path))
    with open((tmp_path / "latest").resolve() / "calibration.csv") as fh:
        rows = {row["workload"]: row for row in csv.DictReader(fh)}
    # exit 1 exactly when the engines disagree on cpu, and it says where
    agreed = rows["cpu"]["agree"] == "True"
    assert done.returncode == (0 if agreed else 1), done.stderr
    assert agreed or "disagree by more than 10% on stateless/cpu" in done.stderr, done.stderr
    assert set(rows) == {"read-heavy", "cpu"}
    for row in rows.values():
        assert float(row["wrk_rps"]) > 0 and float(row["locust_rps"]) > 0
        assert abs(float(row["headroom"]) - float(row["wrk_rps"]) / float(row["locust_rps"])) < 0.01
    # wrk (C) outruns Locust (Python) on a server with no work: the headroom the harness lacks
    assert float(rows["read-heavy"]["headroom"]) > 1.5, rows["read-heavy"]
    # the cross-check is judged on cpu only, where neither engine should be the limit
    assert rows["cpu"]["agree"] in ("True", "False") and rows["read-heavy"]["agree"] == ""
