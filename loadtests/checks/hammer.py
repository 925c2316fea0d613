"""Many client threads on a few hot keys, counting the increments the server acknowledged.

The concurrency tests and the preemption stress check (stress.py) both use it:
increments and transfers on HOT_KEYS keys from THREADS threads, so that a
discipline that lets two read–modify–writes of one key overlap loses some.
Bounded in count and, optionally, in time: a stalled or dead server ends the
run with errors, never a hang.
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


def run_clients(host: str, port: int, threads: int = THREADS, ops: int = OPS_PER_THREAD,
                seconds: float = 120.0) -> Hammered:
    """``threads`` clients, each of ``ops`` operations or until ``seconds`` have passed."""
    out, lock = Hammered(), threading.Lock()
    deadline = time.monotonic() + seconds
    workers = [threading.Thread(target=hammer, args=(host, port, seed, ops, deadline, out, lock),
                                daemon=True)  # a thread stuck on a dead socket must not hold exit
               for seed in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(max(0.0, deadline - time.monotonic()) + CLIENT_TIMEOUT_S + 1)
    with lock:
        out.unfinished = sum(worker.is_alive() for worker in workers)
        return Hammered(out.acked, out.requests, list(out.errors), out.unfinished)
