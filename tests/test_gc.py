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
                                  ["--switch-interval", "0"], ["--live-objects", "-1"],
                                  ["--live-objects", "10000001"], ["--live-objects", "1e6"],
                                  ["--churn", "1.5"], ["--churn", "some"]])
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
    assert doc.gc_full_collections == 1 and doc.gc_paused_share == pytest.approx(0.73 / 2000)
    assert [getattr(doc, f"gc_pause_max_gen{g}_ms") for g in range(3)] == [0.03, 0.0, 0.7]
    first, last = stats([], 0, 100.0, 40.0), stats(pauses, 6, 5000.0, 4000.0)
    first["gc"] |= {"collections": [5, 1, 0], "pause_max_us_by_generation": [40.0, 0.0, 0.0]}
    last["gc"] |= {"collections": [9, 2, 3], "pause_max_us_by_generation": [50.0, 90.0, 4000.0]}
    spilled = window_gc(first, last, 10.0, 12.0)
    assert spilled.gc_scope == "cell" and spilled.gc_collections == 10
    assert spilled.gc_pause_total_ms == 4.9 and spilled.gc_pause_max_ms == 4.0
    # Counts are the deltas; a generation's longest is a new lifetime maximum or the window's.
    assert spilled.gc_full_collections == 3
    assert [getattr(spilled, f"gc_pause_max_gen{g}_ms") for g in range(3)] == [0.05, 0.09, 4.0]
    # A server with no collector to report (a future Rust strategy): empty, not an error.
    none = window_gc({"sum": 0}, {"sum": 0}, 10.0, 12.0)
    assert none.gc_collections is None and none.gc_pauses == []


def _health_heap(client: Client) -> dict:
    status, doc = client.get("/health")
    assert status == 200, doc
    return doc["heap"] | {"pid": doc["pid"]}


@pytest.mark.parametrize("name", ["global-lock", "async", "rust-global-lock"])
def test_the_live_heap_is_built_before_ready_and_counted(serve, name: str) -> None:
    server = serve(name, "--live-objects", "50001", "--churn", "1")
    client = Client(server.host, server.port)
    heap = _health_heap(client)
    assert heap["live_objects"] == 50001 and heap["heap_objects"] == 50001  # 25,000 entries + list
    assert heap["churn"] == 1
    if name.startswith("rust-"):
        assert heap["tracked_objects"] is None  # no collector to track anything
    else:
        assert heap["tracked_objects"] >= 50001
    _increments(client, 50)  # every request churns a page; the store is untouched by it
    status, doc = client.get("/stats")
    assert status == 200 and doc["sum"] == doc["incr_applied"] == 50, doc
    assert _health_heap(client)["heap_objects"] == 50001  # replaced, not grown


def test_each_worker_of_an_mp_server_holds_its_own_heap(serve) -> None:
    server = serve("global-lock-mp", "--workers", "2", "--live-objects", "20000")
    by_pid: dict[int, dict] = {}
    for _ in range(200):  # SO_REUSEPORT spreads new connections over the workers
        client = Client(server.host, server.port)
        heap = _health_heap(client)
        client.close()
        by_pid[heap["pid"]] = heap
        if len(by_pid) == 2:
            break
    assert len(by_pid) == 2, "the kernel sent 200 new connections to one worker"
    assert all(h["heap_objects"] == 20001 and h["tracked_objects"] >= 20001 for h in by_pid.values())


def _full_pauses(client: Client) -> list[float]:
    status, doc = client.get("/stats")
    assert status == 200, doc
    return [p[1] for p in doc["gc"]["pauses"] if p[2] == 2]


@pytest.mark.load
@pytest.mark.slow
def test_freeze_keeps_full_collections_off_the_built_heap(serve, tmp_path) -> None:
    """A million live objects, every request churning a page: unfrozen, each full
    collection walks the whole heap; frozen, only what the churn made since. Compared by
    the median full pause of each (a preempted collection on a busy machine moves a
    maximum, hardly a median), with a wide margin: 5x; here it is 50x or more."""
    import shutil

    from loadtests.engines.wrk_script import lua
    from loadtests.planning.workloads import WORKLOADS
    wrk = shutil.which("wrk")
    if wrk is None:
        pytest.skip("wrk is not installed (make wrk)")
    script = tmp_path / "mix.lua"
    script.write_text(lua(WORKLOADS["write-heavy"]))  # 50% reads, 50% increments
    medians = {}
    for mode in ("default", "freeze"):
        server = serve("global-lock", "--live-objects", "1000000", "--churn", "1", "--gc", mode,
                       start_timeout=60)
        client = Client(server.host, server.port)
        pauses: list[float] = []
        for _ in range(10):  # 3 s of load at a time until a few full collections ran
            subprocess.run([wrk, "-t1", "-c8", "-d3s", "-s", str(script), server.url],
                           capture_output=True, timeout=60, check=True)
            pauses = _full_pauses(client)
            if len(pauses) >= 3:
                break
        assert len(pauses) >= 3, f"{mode}: only {len(pauses)} full collections in 30 s of load"
        medians[mode] = sorted(pauses)[len(pauses) // 2]
    assert medians["freeze"] * 5 < medians["default"], medians
