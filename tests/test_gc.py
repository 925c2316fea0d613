"""The garbage collector seen from /stats: the monitor, --garbage, --gc modes, -mp sums."""
from __future__ import annotations

import gc
import subprocess
import sys

import pytest

from loadtests.machine.client import Client
from loadtests.running.gcwindow import window_gc
from servers.core import gcstats

from .helpers import REPO

pytestmark = pytest.mark.servers  # starts real servers; make test-fast leaves it out



def _increments(client: Client, count: int) -> None:
    for _ in range(count):
        status, doc = client.post("/kv/1/incr", {"by": 1})
        assert status == 200, doc


def _gc(client: Client) -> dict:
    status, doc = client.get("/stats")
    assert status == 200, doc
    assert doc["sum"] == doc["incr_applied"], doc  # the existing invariant is untouched
    return doc["gc"]


def test_monitor_counts_pauses_and_wraps_its_ring() -> None:
    slot = gcstats.local_slot()
    enabled = gc.isenabled()
    gc.disable()  # only the three collections below, none of the automatic ones
    monitor = gcstats.Monitor(slot).install()
    try:
        for _ in range(3):
            gc.collect(2)
    finally:
        monitor.uninstall()
        if enabled:
            gc.enable()
    doc = gcstats.summary([slot], "default")
    assert doc["collections"][2] == 3 and doc["collections_total"] == 3, doc
    assert len(doc["pauses"]) == 3 and doc["pauses_dropped"] == 0
    assert sum(doc["histogram"]["counts"]) == 3
    assert doc["pause_max_us"] == max(p[1] for p in doc["pauses"]) > 0
    assert doc["pause_total_us"] == pytest.approx(sum(p[1] for p in doc["pauses"]), abs=0.01)
    # Drive the callback past the ring: the oldest pauses go, the count does not.
    for n in range(gcstats.RING + 5):
        monitor.callback("start", {})
        monitor.callback("stop", {"generation": n % 2})
    doc = gcstats.summary([slot], "default")
    assert doc["collections_total"] == gcstats.RING + 8
    assert len(doc["pauses"]) == gcstats.RING and doc["pauses_dropped"] == 8
    assert [p[0] for p in doc["pauses"]] == sorted(p[0] for p in doc["pauses"])


@pytest.mark.parametrize("name", ["global-lock", "async"])
def test_garbage_drives_collections(serve, name: str) -> None:
    server = serve(name, "--garbage", "500")
    client = Client(server.host, server.port)
    before = _gc(client)
    assert before["mode"] == "default"
    _increments(client, 100)  # 50,000 objects in cycles: dozens of gen-0 collections
    after = _gc(client)
    assert after["collections_total"] - before["collections_total"] >= 10, (before, after)
    assert after["pause_total_us"] > before["pause_total_us"]
    assert len(after["pauses"]) == after["collections_total"] <= gcstats.RING
    assert sum(after["histogram"]["counts"]) == after["collections_total"]


def test_gc_off_means_no_cyclic_collection(serve) -> None:
    server = serve("global-lock", "--garbage", "500", "--gc", "off")
    client = Client(server.host, server.port)
    _increments(client, 100)
    doc = _gc(client)
    assert doc["mode"] == "off"
    assert doc["collections_total"] == 0 and doc["pauses"] == [], doc


def test_gc_freeze_is_accepted_and_still_collects(serve) -> None:
    server = serve("ownership", "--garbage", "500", "--gc", "freeze")
    client = Client(server.host, server.port)
    _increments(client, 100)
    doc = _gc(client)
    assert doc["mode"] == "freeze"
    assert doc["collections_total"] >= 10, doc


def test_multiprocess_stats_sum_every_worker(serve) -> None:
    """Two workers each litter on their own connection; /stats covers both processes."""
    server = serve("ownership-mp", "--workers", "2", "--garbage", "500")
    by_pid: dict[int, Client] = {}
    for _ in range(200):  # SO_REUSEPORT spreads new connections; keep one per worker
        client = Client(server.host, server.port)
        pid = client.get("/health")[1]["pid"]
        if pid in by_pid:
            client.close()
        else:
            by_pid[pid] = client
        if len(by_pid) == 2:
            break
    assert len(by_pid) == 2, "the kernel sent 200 new connections to one worker"
    first = _gc(next(iter(by_pid.values())))
    for client in by_pid.values():
        _increments(client, 100)
    docs = [_gc(client) for client in by_pid.values()]  # either worker answers for all
    for doc in docs:
        per = doc["collections_by_process"]
        assert len(per) == 2, doc  # ownership-mp: two workers, no helper
        assert all(n >= 10 for n in per), per
        assert sum(per) == doc["collections_total"]
    assert docs[1]["collections_total"] >= docs[0]["collections_total"] > first["collections_total"]


@pytest.mark.parametrize("args", [["--garbage", "-1"], ["--garbage", "100001"],
                                  ["--garbage", "lots"], ["--gc", "sometimes"],
                                  ["--switch-interval", "0"]])
def test_bad_gc_knobs_are_one_line_and_exit_2(args: list[str]) -> None:
    result = subprocess.run([sys.executable, "-m", "sharebench", "serve", "global-lock",
                             "--port", "0", *args], cwd=REPO, capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == 2, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sharebench: error: --"), result.stderr
    assert result.stdout == ""  # nothing started


def test_window_keeps_only_its_pauses_and_accepts_no_gc() -> None:
    def stats(pauses: list, dropped: int = 0, total: float = 0.0, top: float = 0.0) -> dict:
        return {"gc": {"mode": "default", "pauses": pauses, "pauses_dropped": dropped,
                       "collections_total": len(pauses) + dropped, "pause_total_us": total,
                       "pause_max_us": top}}
    pauses = [[9_000_000, 50.0, 0], [10_500_000, 700.0, 2], [11_000_000, 30.0, 0],
              [13_000_000, 90.0, 1]]
    doc = window_gc(stats([]), stats(pauses), 10.0, 12.0)
    assert doc.gc_scope == "window" and doc.gc_collections == 2
    assert doc.gc_pause_total_ms == 0.73 and doc.gc_pause_max_ms == 0.7
    assert doc.gc_pauses == pauses[1:3]
    spilled = window_gc(stats([], 0, 100.0, 40.0), stats(pauses, 6, 5000.0, 4000.0), 10.0, 12.0)
    assert spilled.gc_scope == "cell" and spilled.gc_collections == 10 and spilled.gc_pauses_dropped == 6
    assert spilled.gc_pause_total_ms == 4.9 and spilled.gc_pause_max_ms == 4.0
    # A server with no collector to report (a future Rust strategy): empty, not an error.
    none = window_gc({"sum": 0}, {"sum": 0}, 10.0, 12.0)
    assert none.gc_collections is None and none.gc_pauses == []
