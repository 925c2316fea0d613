"""Each strategy's state core without HTTP: one operation, and under contention.

`make microbench` runs this with pytest-benchmark and saves the JSON under
results/. Only the in-process models are here (threads, async); the cost of a
process boundary has its own benchmark file.
"""
from __future__ import annotations

import threading

import pytest

from servers import discover
from servers.core.work import Work

# Stores built in this process only: a strategy served by its own program (strategy.toml)
# has no state core to call from here (it is measured through HTTP like every strategy).
IN_PROCESS = [name for name, spec in discover().items()
              if spec.model in ("threads", "async") and spec.factory is not None]
THREADS = 4
OPS_PER_THREAD = 2_000
KEYS = 1024
HOT_KEYS = 4


def _drive(coro):
    """Run a coroutine that never really awaits, without an event loop's overhead."""
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value
    raise RuntimeError("the state core awaited: it is not a pure in-loop operation")


def _store(name: str):
    spec = discover()[name]
    store = spec.factory(KEYS, Work.create())
    if spec.model == "async":
        return lambda op, *args: _drive(getattr(store, op)(*args))
    return lambda op, *args: getattr(store, op)(*args)


@pytest.mark.parametrize("name", IN_PROCESS)
def test_incr(benchmark, name: str) -> None:
    call = _store(name)
    benchmark.group = "incr, one thread"
    benchmark(call, "incr", 7, 1)
    if discover()[name].stateful:
        assert call("get", 7) > 0


@pytest.mark.parametrize("name", IN_PROCESS)
def test_transfer(benchmark, name: str) -> None:
    call = _store(name)
    benchmark.group = "transfer, one thread"
    benchmark(call, "transfer", 3, 9, 1)


@pytest.mark.parametrize("name", [n for n in IN_PROCESS if discover()[n].model == "threads"])
def test_incr_contended(benchmark, name: str) -> None:
    """THREADS threads x OPS_PER_THREAD increments on HOT_KEYS keys; time per round."""
    call = _store(name)
    benchmark.group = f"incr, {THREADS} threads x {OPS_PER_THREAD} on {HOT_KEYS} keys"
    benchmark.extra_info["ops_per_round"] = THREADS * OPS_PER_THREAD

    def worker(offset: int) -> None:
        for i in range(OPS_PER_THREAD):
            call("incr", (i + offset) % HOT_KEYS, 1)

    rounds = []

    def round_() -> None:
        rounds.append(1)
        threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    benchmark.pedantic(round_, rounds=5, iterations=1, warmup_rounds=1)
    totals = call("totals")
    if discover()[name].stateful and discover()[name].safe:
        assert totals.sum == totals.incr_applied == len(rounds) * THREADS * OPS_PER_THREAD
