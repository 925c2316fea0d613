"""Correctness under concurrency: 16 client threads on a few hot keys (loadtests/checks/hammer.py)."""
from __future__ import annotations

import pytest

from loadtests.checks.hammer import THREADS, run_clients
from loadtests.machine.client import Client

from .helpers import SAFE, UNSAFE

pytestmark = pytest.mark.load  # runs load; make test-fast leaves it out


def hammer_and_read(serve, name: str) -> tuple[int, dict]:
    """16 clients on hot keys with a 300 us hold; return (acknowledged total, /stats)."""
    server = serve(name, "--keys", "64", "--hold-us", "300")
    got = run_clients(server.host, server.port)
    assert not got.errors, got.errors[:5]
    assert not got.unfinished, f"{got.unfinished} of {THREADS} client threads did not finish"
    status, stats = Client(server.host, server.port).get("/stats")
    assert status == 200, stats
    return got.acked, stats


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
