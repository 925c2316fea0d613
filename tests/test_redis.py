"""The Redis strategies with a real redis-server: where it runs, how it stops, what reaches
it, and what its failures cost. The contract, fuzz, slow-client, stress and -mp process
tests pick redis-mp and redis-racy up by discovery; these cover what only Redis has."""
from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import pytest

from loadtests.machine import measure
from loadtests.machine.client import Client, raw_exchange, status_of
from loadtests.machine.process_groups import group_alive
from loadtests.machine.server import ServerProcess
from servers.core import redis_store

from .helpers import read_latest, sharebench

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None,
                                reason="redis-server is not installed: run make redis")


def redis_of(server: ServerProcess) -> psutil.Process:
    found = [child for child in psutil.Process(server.proc.pid).children()
             if child.name() == redis_store.NAME]
    assert len(found) == 1, [child.name() for child in psutil.Process(server.proc.pid).children()]
    return found[0]


def socket_of(redis: psutil.Process) -> str:
    paths = [conn.laddr for conn in redis.net_connections(kind="unix") if conn.laddr]
    assert paths, "redis-server listens on no Unix socket"
    return paths[0]


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def wait_for(condition, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_list_shows_both_with_their_traits() -> None:
    listed = sharebench("list")
    assert listed.returncode == 0, listed.stderr
    rows = {line.split()[0]: line.split() for line in listed.stdout.splitlines()[1:]}
    # name model safety language parallel interp-lock collector discipline
    assert rows["redis-mp"][1:8] == ["processes", "safe", "python", "yes", "yes", "yes",
                                     "external-store"], rows["redis-mp"]
    assert rows["redis-racy"][1:3] == ["processes", "unsafe"], rows["redis-racy"]
    assert "none of the seeds' in-process disciplines" in listed.stdout


@pytest.mark.servers
def test_redis_runs_in_the_server_group_on_its_cores_and_stops_with_it(serve) -> None:
    server = serve("redis-mp", "--workers", "1", cpus={0})
    redis = redis_of(server)
    leader = server.proc.pid
    assert os.getpgid(redis.pid) == leader, "redis-server must be in the server's process group"
    assert redis.cpu_affinity() == [0], "it must run on the server's cores"
    assert redis.pid in {proc.pid for proc in measure.tree(leader)}, "sampled with the server"
    path = socket_of(redis)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700
    assert redis.net_connections(kind="inet") == [], "no TCP port: the Unix socket only"
    assert server.stop() == 0
    assert gone(redis.pid)
    assert not os.path.exists(os.path.dirname(path)), "its folder must go with the server"


@pytest.mark.servers
def test_health_reports_redis_cpu_and_a_server_without_a_store_reports_none(serve) -> None:
    """The cell's store_cpu comes from /health's store_cpu_s: redis-server's own CPU
    seconds, which grow as it serves; a strategy without an external store gives none."""
    server = serve("redis-mp", "--workers", "1", cpus={0})
    client = Client(server.host, server.port)
    first = client.get("/health")[1]["store_cpu_s"]
    for _ in range(3000):
        assert client.post("/kv/1/incr", {"by": 1})[0] == 200
    last = client.get("/health")[1]["store_cpu_s"]
    assert isinstance(first, float) and last > first, (first, last)
    own = redis_of(server).cpu_times()
    assert last == pytest.approx(own.user + own.system, abs=0.05), "not redis-server's CPU"
    plain = serve("global-lock-mp", "--workers", "1", cpus={0})
    assert "store_cpu_s" not in Client(plain.host, plain.port).get("/health")[1]


@pytest.mark.servers
def test_a_folder_left_by_a_killed_server_is_removed_by_the_next(serve) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()  # a pid that no longer runs
    left = Path(tempfile.gettempdir()) / f"{redis_store.FOLDER}{dead.pid}-0"
    left.mkdir()
    (left / "redis.sock").touch()
    serve("redis-mp", "--workers", "1")
    assert not left.exists()


@pytest.mark.servers
def test_ctrl_c_leaves_nothing(serve) -> None:
    server = serve("redis-mp", "--workers", "2")
    redis, pgid = redis_of(server), server.proc.pid
    folder = os.path.dirname(socket_of(redis))
    os.killpg(pgid, signal.SIGINT)  # what a terminal sends the foreground group
    assert server.proc.wait(10) == 0, server.stderr_tail()
    assert wait_for(lambda: not group_alive(pgid)), "a process of the group outlived ctrl-C"
    assert not os.path.exists(folder)


def _monitor(path: str, seen: list[str], stop: threading.Event) -> None:
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(path)
        sock.sendall(b"MONITOR\r\n")
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                data = sock.recv(65536)
            except TimeoutError:
                continue
            if not data:
                return
            seen.append(data.decode("utf-8", "replace"))


def _request(method: str, target: bytes, body: dict | None = None) -> bytes:
    data = json.dumps(body).encode() if body is not None else b""
    return (method.encode() + b" " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            b"Content-Length: %d\r\n\r\n" % len(data) + data)


# Each carries FLUSHALL where a key or a number should be: in the path (raw CR LF,
# percent-encoded, a space, non-ASCII digits) or in a JSON field.
HOSTILE = [_request("POST", b"/kv/1\r\nFLUSHALL\r\n/incr", {"by": 1}),
           _request("POST", b"/kv/1%0d%0aFLUSHALL/incr", {"by": 1}),
           _request("GET", b"/kv/FLUSHALL"), _request("GET", b"/kv/1 FLUSHALL"),
           _request("GET", "/kv/\u0661".encode()), _request("GET", b"/kv/-1"),
           _request("GET", b"/kv/99999999999999"),
           _request("POST", b"/kv/1/incr", {"by": "1\r\nFLUSHALL"}),
           _request("POST", b"/transfer", {"from": "0\r\nFLUSHALL", "to": 1, "amount": 1}),
           _request("POST", b"/transfer", {"from": 0, "to": "FLUSHALL", "amount": 1}),
           _request("POST", b"/transfer", {"from": 0, "to": 1, "amount": "FLUSHALL"})]


@pytest.mark.servers
def test_hostile_input_never_reaches_redis(serve) -> None:
    server = serve("redis-mp", "--workers", "1", "--keys", "64")
    path = socket_of(redis_of(server))
    client = Client(server.host, server.port)
    assert client.post("/kv/7/incr", {"by": 5}) == (200, {"key": 7, "value": 5})
    seen: list[str] = []
    stop = threading.Event()
    watcher = threading.Thread(target=_monitor, args=(path, seen, stop))
    watcher.start()
    time.sleep(0.2)
    try:
        for payload in HOSTILE:
            status = status_of(raw_exchange(server.host, server.port, payload, half_close=False))
            assert status is not None and 400 <= status < 500, f"{payload!r}: {status}"
        assert client.get("/kv/7") == (200, {"key": 7, "value": 5})
        time.sleep(0.2)
    finally:
        stop.set()
        watcher.join(5)
    text = "".join(seen)
    assert '"GET" "v:7"' in text, f"the monitor saw nothing: {text[:300]!r}"
    assert "flushall" not in text.lower(), text


@pytest.mark.servers
def test_a_stalled_redis_is_a_503_within_the_client_timeout(serve) -> None:
    server = serve("redis-mp", "--workers", "1")
    redis = redis_of(server)
    client = Client(server.host, server.port, timeout=redis_store.TIMEOUT_S + 5)
    assert client.post("/kv/1/incr", {"by": 1})[0] == 200
    redis.suspend()  # SIGSTOP: connected, silent
    try:
        start = time.monotonic()
        status, doc = client.post("/kv/1/incr", {"by": 1})
        waited = time.monotonic() - start
    finally:
        redis.resume()
    assert status == 503 and "redis-server" in doc["error"], (status, doc)
    assert waited < redis_store.TIMEOUT_S + 1, f"answered after {waited:.1f} s"
    assert client.get("/kv/2") == (200, {"key": 2, "value": 0}), "serving again once it answers"


@pytest.mark.servers
def test_killed_redis_fails_requests_at_once_and_stops_the_server(serve) -> None:
    server = serve("redis-mp", "--workers", "2")
    redis, pgid = redis_of(server), server.proc.pid
    outcomes: list[tuple[str, float]] = []
    stop = threading.Event()

    def load() -> None:
        while not stop.is_set():
            start = time.monotonic()
            try:
                conn = http.client.HTTPConnection(server.host, server.port, timeout=30)
                conn.request("POST", "/kv/3/incr", body=b'{"by": 1}')
                outcome = str(conn.getresponse().status)
                conn.close()
            except (OSError, http.client.HTTPException):  # the server stopping: refused, reset
                outcome = "closed"
            outcomes.append((outcome, time.monotonic() - start))

    threads = [threading.Thread(target=load) for _ in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(0.3)
    redis.kill()
    code = server.proc.wait(10)
    stop.set()
    for thread in threads:
        thread.join(40)
    assert code == 3, server.stderr_tail()
    stderr = server.stderr_tail(100_000)
    assert f"redis (pid {redis.pid}) was killed by SIGKILL, and it held the only copy of the " \
           "store" in stderr, stderr
    assert wait_for(lambda: not group_alive(pgid)), "a process outlived the server"
    assert any(outcome == "200" for outcome, _ in outcomes), "no load before the kill"
    slow = [(outcome, took) for outcome, took in outcomes if took > redis_store.TIMEOUT_S + 1]
    assert not slow, f"requests hung after Redis died: {slow[:3]}"
    assert {outcome for outcome, _ in outcomes} <= {"200", "503", "closed"}, outcomes[-5:]


def _path_without_redis(tmp_path: Path) -> str:
    """A PATH with every program of this one but redis-server."""
    bare = tmp_path / "bin"
    bare.mkdir()
    for folder in os.environ["PATH"].split(os.pathsep):
        if not os.path.isdir(folder):
            continue
        for name in os.listdir(folder):
            if name != "redis-server" and not (bare / name).exists():
                (bare / name).symlink_to(Path(folder) / name)
    return str(bare)


def test_missing_redis_is_one_line_and_the_run_skips_the_strategy(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": _path_without_redis(tmp_path)}
    served = subprocess.run([sys.executable, "-m", "sharebench", "serve", "redis-mp"],
                            capture_output=True, text=True, timeout=60, env=env)
    assert served.returncode == 2
    assert served.stderr == "sharebench: error: redis-server not found: run make redis\n"
    planned = subprocess.run([sys.executable, "-m", "sharebench", "run", "--dry-run",
                              "--profile", "quick", "--strategies", "redis-mp,global-lock"],
                             capture_output=True, text=True, timeout=60, env=env)
    assert "note: redis-server not found: run make redis" in planned.stdout + planned.stderr


@pytest.mark.load
def test_racy_loses_updates_across_processes(serve) -> None:
    """One connection to each of two workers, one request at a time on each: each worker
    has a single busy thread, so every lost update was lost between the two processes."""
    server = serve("redis-racy", "--workers", "2", "--keys", "4")
    conns: dict[int, http.client.HTTPConnection] = {}
    for _ in range(200):
        conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
        conn.request("GET", "/health")
        pid = json.loads(conn.getresponse().read())["pid"]
        if pid in conns:
            conn.close()
        else:
            conns[pid] = conn
        if len(conns) == 2:
            break
    assert len(conns) == 2, "SO_REUSEPORT never gave a connection to the second worker"
    acked = [0, 0]

    def hammer(index: int, conn: http.client.HTTPConnection) -> None:
        for _ in range(2000):
            conn.request("POST", "/kv/0/incr", body=b'{"by": 1}')
            response = conn.getresponse()
            response.read()
            acked[index] += response.status == 200

    threads = [threading.Thread(target=hammer, args=(i, conn))
               for i, conn in enumerate(conns.values())]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    value = Client(server.host, server.port).get("/kv/0")[1]["value"]
    assert sum(acked) == 4000
    assert value < sum(acked), f"no update lost across processes ({value} of {sum(acked)} kept)"


@pytest.mark.load
def test_redis_killed_mid_cell_fails_that_cell_only(tmp_path: Path) -> None:
    """The real run machinery: the cell whose Redis dies fails with the reason, the next
    cell is measured, and nothing of the dead server is left."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "sharebench", "run", "--profile", "quick", "--strategies",
         "redis-mp,global-lock", "--warmup", "0.5s", "--duration", "4s", "--repeats", "1",
         "--results", str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    victim = None
    deadline = time.monotonic() + 120
    while victim is None and time.monotonic() < deadline and proc.poll() is None:
        tree = psutil.Process(proc.pid).children(recursive=True)
        names = []
        for child in tree:
            try:
                names.append((child, child.name(), " ".join(child.cmdline()[:3])))
            except psutil.NoSuchProcess:
                pass
        loading = any("locust" in cmd for _, _, cmd in names)
        redis = [child for child, name, _ in names if name == redis_store.NAME]
        if loading and redis:
            victim = redis[0]
        time.sleep(0.1)
    assert victim is not None, "never saw a cell of redis-mp under load"
    leader = victim.ppid()
    time.sleep(1.0)  # inside the cell
    victim.kill()    # by pid: a grandchild of this test's own child
    _, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err
    _, rows = read_latest(tmp_path)
    cells = {row["strategy"]: row for row in rows}
    assert cells["redis-mp"]["status"] == "failed", cells["redis-mp"]
    reason = cells["redis-mp"]["reason"]
    assert f"redis (pid {victim.pid}) was killed by SIGKILL" in reason, reason
    assert cells["global-lock"]["status"] == "ok", "the other cell must still be measured"
    assert gone(victim.pid) and gone(leader)
    assert not group_alive(leader), "a process of the dead server's group is left"

