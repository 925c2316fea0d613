"""Many client threads on a few hot keys, counting the increments the server acknowledged.

The concurrency tests and the preemption stress check (stress.py) both use it:
increments and transfers on HOT_KEYS keys from THREADS threads, so that a
discipline that lets two read–modify–writes of one key overlap loses some.
Reader threads, when asked for, read /stats all the while: transfers conserve
the sum, so every consistent snapshot has sum == incr_applied, and one that
does not saw half a transfer (or half an increment). Bounded in count and,
optionally, in time: a stalled or dead server ends the run with errors, never
a hang.
"""
from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field

from loadtests.machine.client import Client

THREADS = 16
OPS_PER_THREAD = 60
HOT_KEYS = 4
CLIENT_TIMEOUT_S = 10.0


@dataclass
class Hammered:
    acked: int = 0                 # sum of `by` over the increments answered 200
    requests: int = 0              # answered requests, any status
    errors: list[str] = field(default_factory=list)
    unfinished: int = 0            # threads still running when the run gave up on them
    snapshots: int = 0             # /stats read by the readers while the writers ran
    torn: int = 0                  # of them, with sum != incr_applied: half an operation seen
    first_torn: dict = field(default_factory=dict)  # the first such /stats, to show


def hammer(host: str, port: int, seed: int, ops: int, deadline: float, out: Hammered,
           lock: threading.Lock) -> None:
    """One client thread: ``ops`` increments (70%) and transfers on the hot keys."""
    rng = random.Random(seed)
    client = Client(host, port, timeout=CLIENT_TIMEOUT_S)
    total = answered = 0
    errors: list[str] = []
    try:
        for _ in range(ops):
            if time.monotonic() > deadline:
                break
            key = rng.randrange(HOT_KEYS)
            if rng.random() < 0.7:
                by = rng.randint(1, 1000)
                status, doc = client.post(f"/kv/{key}/incr", {"by": by})
                if status == 200:
                    total += by
            else:
                dst = (key + rng.randrange(1, HOT_KEYS)) % HOT_KEYS
                status, doc = client.post("/transfer", {"from": key, "to": dst,
                                                        "amount": rng.randint(1, 1000)})
            answered += 1
            if status != 200:
                errors.append(f"{status} {doc}")
    except OSError as exc:  # refused, reset, timed out: the server is gone or stuck
        errors.append(f"connection: {exc}")
    finally:
        client.close()
        with lock:
            out.acked += total
            out.requests += answered
            out.errors += errors


def read_stats(host: str, port: int, writing: threading.Event, out: Hammered,
               lock: threading.Lock) -> None:
    """One reader: /stats over and over while the writers run, counting torn snapshots."""
    client = Client(host, port, timeout=CLIENT_TIMEOUT_S)
    seen = torn = 0
    first: dict = {}
    errors: list[str] = []
    try:
        while writing.is_set():
            status, doc = client.get("/stats")
            if status != 200:
                errors.append(f"/stats {status} {doc}")
                break
            seen += 1
            if doc["sum"] != doc["incr_applied"]:
                torn += 1
                first = first or doc
    except OSError as exc:
        errors.append(f"connection: {exc}")
    finally:
        client.close()
        with lock:
            out.snapshots += seen
            out.torn += torn
            out.first_torn = out.first_torn or first
            out.errors += errors


def run_clients(host: str, port: int, threads: int = THREADS, ops: int = OPS_PER_THREAD,
                seconds: float = 120.0, readers: int = 0) -> Hammered:
    """``threads`` clients, each of ``ops`` operations or until ``seconds`` have passed, and
    ``readers`` threads reading /stats until they are done."""
    out, lock = Hammered(), threading.Lock()
    deadline = time.monotonic() + seconds
    writing = threading.Event()
    writing.set()
    workers = [threading.Thread(target=hammer, args=(host, port, seed, ops, deadline, out, lock),
                                daemon=True)  # a thread stuck on a dead socket must not hold exit
               for seed in range(threads)]
    watchers = [threading.Thread(target=read_stats, args=(host, port, writing, out, lock),
                                 daemon=True) for _ in range(readers)]
    for thread in workers + watchers:
        thread.start()
    for worker in workers:
        worker.join(max(0.0, deadline - time.monotonic()) + CLIENT_TIMEOUT_S + 1)
    writing.clear()
    for watcher in watchers:
        watcher.join(CLIENT_TIMEOUT_S + 1)
    with lock:
        out.unfinished = sum(thread.is_alive() for thread in workers + watchers)
        return Hammered(out.acked, out.requests, list(out.errors), out.unfinished,
                        out.snapshots, out.torn, dict(out.first_torn))
