"""What crossing a process boundary costs one request, next to staying in-process.

Round trips are one ``incr`` from a caller to the store and back, over each
path a strategy uses:
  in-process       global-lock's store: a call under a threading.Lock
  thread handoff   message-passing's store: to an owner thread and back
  process (owner)  message-passing-mp: a 32-byte frame to the owner process
  process (shard)  ownership-mp's forwarding: a frame to a thread of the owning shard
  process (async)  async-mp: awaited frames on one pipelined stream, 100 a round,
                   one at a time and all in flight together
Locks are one acquire/release pair: threading.Lock, the cross-process lock of
global-lock-mp (uncontended, and contended by one other process), and
global-lock-mp's whole incr against global-lock's. Framing compares the
struct frames of servers.core.ipc with pickle for the same message.

The far side is a forked process running the same code the servers run.
"""
from __future__ import annotations

import asyncio
import multiprocessing
import os
import pickle
import signal
import threading

import pytest

from servers import discover
from servers.core import ipc
from servers.core.state import PlainState
from servers.core.work import Work
from servers.ownership_mp import Session, Shard

KEYS = 1024
BATCH = 100
FORK = multiprocessing.get_context("fork")


def _own(addr: str) -> None:
    ipc.serve_owner(ipc.unix_listener(addr), ipc.store_handler(PlainState(KEYS, Work().hold)))


def _shard(addr: str) -> None:
    shard = Shard(KEYS, 1, 0, Work().hold)
    ipc.serve_sessions(ipc.unix_listener(addr), lambda: Session(shard))


def _far_side(target, tag: str):
    addr = ipc.address(f"bench-{tag}")
    proc = FORK.Process(target=target, args=(addr,), daemon=True)
    proc.start()
    ipc.unix_connect(addr).close()  # waits until it listens
    return addr, proc


@pytest.fixture(scope="module")
def owner():
    addr, proc = _far_side(_own, "owner")
    yield addr
    proc.kill()
    proc.join()


@pytest.fixture(scope="module")
def shard():
    addr, proc = _far_side(_shard, "shard")
    yield addr
    proc.kill()
    proc.join()


def _in_process(name: str):
    return discover()[name].factory(KEYS, Work.create())


def test_round_trip_in_process(benchmark) -> None:
    benchmark.group = "round trip: one incr"
    benchmark(_in_process("global-lock").incr, 7, 1)


def test_round_trip_thread_handoff(benchmark) -> None:
    benchmark.group = "round trip: one incr"
    benchmark(_in_process("message-passing").incr, 7, 1)


def test_round_trip_process_owner(benchmark, owner: str) -> None:
    benchmark.group = "round trip: one incr"
    store = ipc.StoreClient(owner)
    before = store.get(7)
    benchmark(store.incr, 7, 1)
    assert store.get(7) > before


def test_round_trip_process_shard(benchmark, shard: str) -> None:
    benchmark.group = "round trip: one incr"
    peers = ipc.Peers([shard])
    benchmark(peers.call, 0, ipc.INCR, 7, 1)


@pytest.mark.parametrize("mode", ["sequential", "pipelined"])
def test_round_trip_process_async(benchmark, owner: str, mode: str) -> None:
    """BATCH incrs a round: divide the round time by BATCH for one call."""
    benchmark.group = f"round trip: {BATCH} incrs over one asyncio stream"
    benchmark.extra_info["ops_per_round"] = BATCH  # the report divides by it
    loop = asyncio.new_event_loop()
    store = ipc.AsyncStoreClient(owner)

    async def sequential() -> None:
        for _ in range(BATCH):
            await store.incr(7, 1)

    async def pipelined() -> None:
        await asyncio.gather(*(store.incr(7, 1) for _ in range(BATCH)))

    batch = sequential if mode == "sequential" else pipelined
    try:
        benchmark(lambda: loop.run_until_complete(batch()))
    finally:
        loop.close()


def _pair(lock) -> None:
    lock.acquire()
    lock.release()


def test_lock_thread(benchmark) -> None:
    benchmark.group = "lock: one acquire/release"
    benchmark(_pair, threading.Lock())


def test_lock_process_uncontended(benchmark) -> None:
    benchmark.group = "lock: one acquire/release"
    benchmark(_pair, FORK.Lock())


def _contend(lock, stop) -> None:
    while not stop.is_set():
        with lock:
            pass


def test_lock_process_contended(benchmark) -> None:
    """The same pair while one other process takes and gives the lock in a loop."""
    benchmark.group = "lock: one acquire/release"
    lock, stop = FORK.Lock(), FORK.Event()
    other = FORK.Process(target=_contend, args=(lock, stop), daemon=True)
    other.start()
    try:
        benchmark.pedantic(_pair, args=(lock,), rounds=20_000, iterations=1)
    finally:
        stop.set()
        other.join(5)
        if other.is_alive():
            os.kill(other.pid, signal.SIGKILL)
            other.join()


@pytest.mark.parametrize("name", ["global-lock", "global-lock-mp"])
def test_store_incr_under_its_lock(benchmark, name: str) -> None:
    """global-lock's list + threading.Lock against global-lock-mp's shared memory + process lock."""
    benchmark.group = "incr under the one lock, no contention"
    spec = discover()[name]
    store = (spec.factory(KEYS, Work.create(), 1).attach(0) if spec.model == "processes"
             else spec.factory(KEYS, Work.create()))
    benchmark(store.incr, 7, 1)
    assert store.get(7) > 0


@pytest.mark.parametrize("codec", ["struct", "pickle"])
def test_framing(benchmark, codec: str) -> None:
    benchmark.group = "framing: encode + decode one request"
    if codec == "struct":
        benchmark(lambda: ipc.FRAME.unpack(ipc.FRAME.pack(ipc.INCR, 7, 1, 0)))
    else:
        benchmark(lambda: pickle.loads(pickle.dumps(("incr", (7, 1)))))
