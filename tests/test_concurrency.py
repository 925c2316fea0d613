"""Correctness under concurrency: 16 client threads on a few hot keys."""
from __future__ import annotations

import random
import threading

import pytest

from loadtests.client import Client

from .conftest import SAFE, UNSAFE

THREADS = 16
OPS_PER_THREAD = 60
HOT_KEYS = 4


def hammer(host: str, port: int, seed: int, acked: list[int], errors: list[str]) -> None:
    """Increments and transfers on hot keys; record the increments the server acknowledged."""
    rng = random.Random(seed)
    client = Client(host, port)
    total = 0
    try:
        for _ in range(OPS_PER_THREAD):
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
            if status != 200:
                errors.append(f"{status} {doc}")
    finally:
        client.close()
        acked.append(total)


def run_clients(host: str, port: int) -> int:
    acked: list[int] = []
    errors: list[str] = []
    threads = [threading.Thread(target=hammer, args=(host, port, seed, acked, errors))
               for seed in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors[:5]
    assert len(acked) == THREADS, "a client thread did not finish"
    return sum(acked)


def hammer_and_read(serve, name: str) -> tuple[int, dict]:
    """16 clients on hot keys with a 300 us hold; return (acknowledged total, /stats)."""
    server = serve(name, "--keys", "64", "--hold-us", "300")
    acked = run_clients(server.host, server.port)
    status, stats = Client(server.host, server.port).get("/stats")
    assert status == 200, stats
    return acked, stats


@pytest.mark.parametrize("name", SAFE)
def test_safe_strategy_keeps_every_update(serve, name: str) -> None:
    acked, stats = hammer_and_read(serve, name)
    assert stats["sum"] == stats["incr_applied"], stats
    assert stats["incr_applied"] == acked, f"acknowledged {acked}, applied {stats}"


@pytest.mark.parametrize("name", UNSAFE)
def test_unsafe_strategy_loses_updates(serve, name: str) -> None:
    acked, stats = hammer_and_read(serve, name)
    assert stats["sum"] < acked, f"no lost update detected: acked {acked}, server {stats}"


def test_registry_has_an_unsafe_strategy_to_prove_the_check() -> None:
    assert UNSAFE, "the concurrency check is only proven by a strategy that fails it"
