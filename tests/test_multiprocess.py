"""The -mp strategies as process trees: global totals, worker death, and dying together.

The conformance and concurrency suites already run over these strategies (they
are parametrised over the registry); this file checks what only a process tree
can get wrong. Children are found by their names (``sb-worker-N``, ``sb-owner``,
set by servers/core/processes.py) among the leader's children.
"""
from __future__ import annotations

import http.client
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time

import psutil
import pytest

from loadtests.machine.client import Client
from loadtests.machine.server import ServerProcess
from servers.core.work import Work

from .helpers import STRATEGIES

pytestmark = pytest.mark.servers  # starts real servers; make test-fast leaves it out

MP = [name for name, spec in STRATEGIES.items() if spec.model == "processes"]
SAFE_MP = [name for name in MP if STRATEGIES[name].safe]  # an unsafe one loses updates on purpose
STATEFUL_MP = [name for name in SAFE_MP if STRATEGIES[name].stateful]  # a stateless one keeps none


def _helper_names(name: str) -> list[str]:
    return [helper.name for helper in STRATEGIES[name].factory(8, Work(), 1).helpers()]


KILLS = [(name, "worker-0") for name in SAFE_MP] + \
        [(name, helper) for name in SAFE_MP for helper in _helper_names(name)]


def children(server: ServerProcess) -> dict[str, psutil.Process]:
    return {child.name(): child for child in psutil.Process(server.proc.pid).children()}


def running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_for(condition, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


class Increments:
    """Client threads incrementing hot keys, without retries, until stopped.

    A request that got no 200 — an error status, a reset, a refused
    connection — is "in doubt": it may or may not have been applied. The
    server must apply every acknowledged increment and may apply in-doubt ones:
    acked <= incr_applied <= acked + doubt. (loadtests' Client retries once on a
    reset, which could apply an increment twice behind a single 200: not here.)
    """

    def __init__(self, server: ServerProcess, threads: int = 4) -> None:
        self.server = server
        self.acked = self.doubt = self.acked_after_mark = 0
        self.mark = float("inf")
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(seed,)) for seed in range(threads)]

    def __enter__(self) -> Increments:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(20)

    def _run(self, seed: int) -> None:
        rng = random.Random(seed)
        conn = None
        while not self._stop.is_set():
            by = rng.randint(1, 1000)
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(self.server.host, self.server.port, timeout=5)
                conn.request("POST", f"/kv/{rng.randrange(4)}/incr", json.dumps({"by": by}),
                             {"Content-Type": "application/json"})
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = None
                time.sleep(0.01)
            with self._lock:
                if ok:
                    self.acked += by
                    if time.monotonic() > self.mark:
                        self.acked_after_mark += by
                else:
                    self.doubt += by
        if conn is not None:
            conn.close()


@pytest.mark.parametrize("name,victim", KILLS)
def test_killing_a_child_never_loses_an_acknowledged_update(serve, name: str, victim: str) -> None:
    server = serve(name, "--workers", "2", "--keys", "64", "--hold-us", "50")
    target = children(server)[f"sb-{victim}"]
    with Increments(server) as load:
        time.sleep(0.3)
        target.kill()
        load.mark = time.monotonic() + 0.3  # requests that start after the dust settles
        time.sleep(0.8)
    respawns = victim.startswith("worker") and STRATEGIES[name].factory.respawn
    if respawns:  # it must keep serving, with every acknowledged update
        assert server.alive(), f"{name} died instead of respawning:\n{server.stderr_tail()}"
        assert "starting a new one" in server.stderr_tail(100_000), server.stderr_tail()
        assert wait_for(lambda: sum(n.startswith("sb-worker") for n in children(server)) == 2)
        assert load.acked_after_mark > 0, "no request succeeded after the respawn"
        status, stats = Client(server.host, server.port).get("/stats")
        assert status == 200, stats
        if STRATEGIES[name].stateful:  # a stateless one keeps no ledger to hold it to
            assert stats["sum"] == stats["incr_applied"], stats
            assert load.acked <= stats["incr_applied"] <= load.acked + load.doubt, \
                f"acked {load.acked}, in doubt {load.doubt}, server {stats}"
        else:
            assert stats.get("stateless") is True, stats
    else:  # it must fail loudly: non-zero exit, the reason on stderr, nobody left serving
        code = server.proc.wait(10)
        assert code != 0, f"{name} exited 0 after losing {victim}"
        stderr = server.stderr_tail(100_000)  # workers may log their failed requests after it
        assert f"{victim} (pid {target.pid}) was killed by SIGKILL" in stderr, stderr
        assert "stopping every process" in stderr, stderr
        assert wait_for(lambda: not group_alive(server.proc.pid)), "workers outlived the leader"


@pytest.mark.parametrize("name", MP)
def test_sigterm_to_the_leader_stops_every_process(serve, name: str) -> None:
    server = serve(name, "--workers", "2")
    tree = [child.pid for child in psutil.Process(server.proc.pid).children(recursive=True)]
    assert len(tree) >= 2, tree
    os.kill(server.proc.pid, signal.SIGTERM)  # the leader alone, not its group
    assert server.proc.wait(10) == 0, server.stderr_tail()
    assert not group_alive(server.proc.pid), "a process of the group outlived the leader"
    assert not [pid for pid in tree if running(pid)]


@pytest.mark.parametrize("name", MP)
def test_sigkill_of_the_leader_leaves_no_orphans(name: str) -> None:
    server = ServerProcess(name, ["--workers", "2"]).start()
    pgid = server.proc.pid
    try:
        tree = [child.pid for child in psutil.Process(pgid).children(recursive=True)]
        assert len(tree) >= 2, tree
        os.kill(pgid, signal.SIGKILL)  # no chance to clean up: the kernel must do it
        server.proc.wait(5)
        # An orphan is reaped by init some seconds later; until then it is a zombie,
        # which runs nothing and holds no port: that counts as gone.
        assert wait_for(lambda: not any(running(pid) for pid in tree), 5.0), \
            [psutil.Process(pid).name() for pid in tree if running(pid)]
    finally:
        if group_alive(pgid):
            os.killpg(pgid, signal.SIGKILL)
        server.proc.stdout.close()


@pytest.mark.parametrize("name", MP)
def test_health_and_stats_count_every_worker(serve, name: str) -> None:
    server = serve(name, "--workers", "2", "--keys", "64")
    worker_pids = {child.pid for n, child in children(server).items() if n.startswith("sb-worker")}
    seen, requests = set(), 0
    for key in range(24):  # a new connection each time: SO_REUSEPORT spreads them
        client = Client(server.host, server.port)
        status, health = client.get("/health")
        assert status == 200 and health["workers"] == 2, health
        seen.add(health["pid"])
        assert client.post(f"/kv/{key}/incr", {"by": 1})[0] == 200
        client.close()
        requests += 2
    assert seen == worker_pids, f"answered by {seen}, workers are {worker_pids}"
    status, stats = Client(server.host, server.port).get("/stats")
    assert stats["requests"] == requests + 1, stats  # every worker's requests, this one included
    if STRATEGIES[name].stateful:
        assert stats["sum"] == stats["incr_applied"] == 24, stats
    else:
        assert stats["sum"] == stats["incr_applied"] == 0 and stats.get("stateless") is True, stats


@pytest.mark.parametrize("name", STATEFUL_MP)
def test_every_stats_snapshot_is_consistent_during_transfers(serve, name: str) -> None:
    """A transfer is atomic: no /stats may see its amount in neither key or in both."""
    server = serve(name, "--workers", "2", "--keys", "8", "--hold-us", "200")
    stop = threading.Event()
    failures: list[str] = []

    def transfers(seed: int) -> None:
        rng, client = random.Random(seed), Client(server.host, server.port)
        while not stop.is_set():
            src, dst = rng.sample(range(8), 2)  # across shards and within them
            status, doc = client.post("/transfer", {"from": src, "to": dst, "amount": 7})
            if status != 200:
                failures.append(f"{status} {doc}")
        client.close()

    threads = [threading.Thread(target=transfers, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    client, snapshots = Client(server.host, server.port), []
    try:
        assert client.post("/kv/3/incr", {"by": 500})[0] == 200
        assert wait_for(lambda: client.get("/stats")[1]["transfers"] >= 10), "no transfers ran"
        deadline = time.monotonic() + 0.5  # a time window: a busy machine just yields fewer
        while time.monotonic() < deadline or len(snapshots) < 10:
            snapshots.append(client.get("/stats")[1])
    finally:
        stop.set()
        for thread in threads:
            thread.join(20)
    assert not failures, failures[:3]
    moved = snapshots[-1]["transfers"] - snapshots[0]["transfers"]
    assert moved >= 10, f"too few transfers overlapped the snapshots: {moved}"
    bad = [s for s in snapshots if s["sum"] != s["incr_applied"]]
    assert not bad, f"{len(bad)} torn snapshots, e.g. {bad[0]}"


@pytest.mark.parametrize("name", MP)
def test_workers_default_to_the_cores_given(serve, name: str) -> None:
    server = serve(name, cpus={0})
    assert server.workers == 1
    assert Client(server.host, server.port).get("/health")[1]["workers"] == 1
    assert sum(n.startswith("sb-worker") for n in children(server)) == 1


def test_a_taken_port_is_refused_not_shared(serve) -> None:
    """SO_REUSEPORT must not let a second server join the first one's port."""
    first = serve("global-lock-mp", "--workers", "1")
    second = subprocess.run([sys.executable, "-m", "sharebench", "serve", "ownership-mp",
                             "--port", str(first.port), "--workers", "1"],
                            capture_output=True, text=True, timeout=30)
    assert second.returncode == 2, second.stderr
    assert "Address already in use" in second.stderr, second.stderr
