"""A real Redis for one server: Debian's redis-server, started and stopped with it, and
the store interface its workers call through redis-py (hiredis parsing the replies).

Where redis-server runs: it is a helper of the -mp layout (processes.py), so the
leader forks it like the owner of message-passing-mp, and the forked child
execs redis-server. It is therefore the leader's child, in the server's process
group, pinned to the server's cores, counted in the server's CPU, RSS and
threads (the harness samples the leader's process tree), and killed with the
server: SIGKILL when the leader stops its helpers, and on the leader's death
(PR_SET_PDEATHSIG survives the exec). It is exec'd through a symlink named
``sb-redis`` so that ps and the tests know it as the server's other children.
A helper's death is fatal to the server: the store lived only in Redis.

Nothing is persisted (no RDB, no AOF) and it listens only on a Unix socket
(mode 700) in a folder of its own, removed when the leader exits. The helper
reports ready once it has forked; each worker then waits until Redis answers
PING before it reports ready, so the ready line comes after Redis serves.

Keys: the contract's integer keys, already validated (contract.py), are
formatted as ``v:<int>`` here and nowhere else; no text from a request ever
reaches Redis. The ledgers are two more keys, ``applied`` and ``transfers``.
A Redis that fails or stops answering within ``TIMEOUT_S`` makes the request
a 503 at once: no retry, no reconnection loop.
"""
from __future__ import annotations

import itertools
import os
import shutil
import sys
import tempfile
import time
import weakref
from collections.abc import Callable
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from .contract import HttpError
from .processes import Helper, Ready
from .state import Totals

PROGRAM = "redis-server"
NAME = "sb-redis"          # the process name of the exec'd server (ps, tests)
TIMEOUT_S = 2.0            # a Redis that does not answer within this fails the request
START_TIMEOUT_S = 10.0     # a worker waits this long for Redis to answer its first PING
UNAVAILABLE = 503
APPLIED, TRANSFERS = b"applied", b"transfers"
MGET_CHUNK = 4096          # keys per MGET when /stats reads every value
FOLDER = "sharebench-redis-"  # + the leader's pid + "-" + a count
_folders = itertools.count()


def missing() -> str:
    """'' if redis-server can be started; else one line saying what to run."""
    return "" if shutil.which(PROGRAM) else f"{PROGRAM} not found: run make redis"


def key(k: int) -> bytes:
    """The Redis key of contract key ``k``: built from an int only, never from request text."""
    if type(k) is not int or k < 0:
        raise ValueError(f"not a contract key: {k!r}")
    return b"v:%d" % k


class Unavailable(HttpError):
    """Redis failed or did not answer: the request gets a 503, the worker goes on."""

    def __init__(self, exc: Exception) -> None:
        super().__init__(UNAVAILABLE, f"the store (redis-server) is unavailable: "
                                      f"{type(exc).__name__}: {exc}")


class RedisServer:
    """The paths of one server's redis-server, and the helper that runs it.

    Built in the leader before any fork; it creates nothing until the helper runs,
    so that building a layout (as the tests do to list its helpers) leaves nothing."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.gettempdir()) / f"{FOLDER}{os.getpid()}-{next(_folders)}"
        self.socket = str(self.folder / "redis.sock")
        # In the leader only: the forked children leave by os._exit, which skips it.
        weakref.finalize(self, shutil.rmtree, self.folder, True)

    def helper(self) -> Helper:
        return Helper("redis", self._run, "it held the only copy of the store")

    def _run(self, ready: Ready) -> None:  # in the helper process, after fork
        program = shutil.which(PROGRAM)
        if program is None:
            raise SystemExit(f"sharebench: {missing()}")
        remove_orphans(self.folder.parent)
        self.folder.mkdir(mode=0o700)
        alias = self.folder / NAME
        alias.symlink_to(os.path.realpath(program))
        os.dup2(2, 1)  # its log goes to stderr: stdout carries the server's ready line
        ready()
        os.execv(alias, [PROGRAM, "--port", "0", "--unixsocket", self.socket,
                         "--unixsocketperm", "700", "--save", "", "--appendonly", "no",
                         "--dir", str(self.folder), "--daemonize", "no",
                         "--loglevel", "warning", "--logfile", ""])

    def client(self) -> redis.Redis:
        """A worker's client (a pool of connections, one per thread at a time), once
        Redis answers."""
        client = redis.Redis(unix_socket_path=self.socket, socket_timeout=TIMEOUT_S,
                             socket_connect_timeout=TIMEOUT_S, retry=Retry(NoBackoff(), 0))
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                client.ping()
                return client
            except redis.RedisError as exc:
                if time.monotonic() > deadline:
                    print(f"sharebench: {PROGRAM} did not answer on {self.socket} within "
                          f"{START_TIMEOUT_S:g} s: {exc}", file=sys.stderr, flush=True)
                    raise SystemExit(1) from None
                time.sleep(0.01)


def remove_orphans(parent: Path) -> None:
    """Remove the folders of servers whose leader no longer runs (killed by SIGKILL)."""
    for folder in parent.glob(f"{FOLDER}*-*"):
        pid = folder.name[len(FOLDER):].split("-")[0]
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except PermissionError:
            pass  # alive, another user's


class RedisStore:
    """What every Redis strategy shares: reads, /stats, and errors turned into 503s."""

    def __init__(self, client: redis.Redis, keys: int, hold: Callable[[], None]) -> None:
        self._redis, self._keys, self._hold = client, keys, hold
        self._names = [key(k) for k in range(keys)]

    def _call(self, fn: Callable, *args):
        try:
            return fn(*args)
        except redis.RedisError as exc:
            raise Unavailable(exc) from None

    def get(self, k: int) -> int:
        return int(self._call(self._redis.get, key(k)) or 0)

    def cpu_seconds(self) -> float | None:
        """redis-server's own CPU seconds since it started (INFO cpu: system + user); None
        when it does not answer (/health stays up: the next state request says why)."""
        try:
            info = self._redis.info("cpu")
            return round(float(info["used_cpu_sys"]) + float(info["used_cpu_user"]), 6)
        except (redis.RedisError, KeyError, TypeError, ValueError):
            return None

    def totals(self) -> Totals:
        """Every value and both ledgers in one MULTI/EXEC: one round trip, one snapshot."""
        pipe = self._redis.pipeline(transaction=True)
        for start in range(0, self._keys, MGET_CHUNK):
            pipe.mget(self._names[start:start + MGET_CHUNK])
        pipe.get(APPLIED)
        pipe.get(TRANSFERS)
        *chunks, applied, transfers = self._call(pipe.execute)
        total = sum(int(v) for chunk in chunks for v in chunk if v is not None)
        return Totals(total, int(applied or 0), int(transfers or 0))
