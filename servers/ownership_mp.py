"""ownership-mp — shared nothing: each worker process owns one shard of the keys.

Rust analogue: thread-per-core sharding (seastar/glommio style): a shard
belongs to one core, and the other cores reach it only by sending it messages.
Rule: only a key's owner process ever touches it. Key k belongs to worker
k % N (at index k // N there); a request that lands on another worker is
forwarded to the owner as a message and answered from the owner's reply.

Forwarding: every worker listens on a Unix socket of its own and keeps pooled
connections to the others (servers.core.ipc, 32-byte frames). In the owner, a
thread per peer connection runs the forwarded operations; they and the
owner's own HTTP threads take the same per-key locks, as in `ownership`,
because one process still has many threads.

A transfer between two shards is atomic by two-phase locking, and cannot
deadlock because every lock is taken in one global order, (owner, key)
ascending. The coordinator (the worker that got the request) LOCKs both
keys, each at its owner — a remote lock is held by the owner's thread for
that one connection — does the hold with both locked, then DEBITs one key and
CREDITs the other, each write releasing its lock. Every lock is taken before
any is released, so nobody can see the amount in neither key or in both.
/stats locks every key in the same order (all of shard 0, then shard 1, ...)
and so reads a consistent snapshot. A holder only ever waits for a lock later
in the order than all those it holds, so no cycle of waits can form. If a
connection drops, its owner releases whatever that connection held.

A worker's death is fatal: its shard lived only in that process's memory.
"""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator

from servers import strategy
from servers.core import ipc
from servers.core.ipc import GET, INCR, TRANSFER, Reply
from servers.core.processes import Helper
from servers.core.state import PlainState, Totals
from servers.core.work import Work

LOCK, DEBIT, CREDIT, LOCK_ALL, UNLOCK_ALL = 16, 17, 18, 19, 20


class Shard:
    """The keys one worker owns (key k at index k // workers) and one lock per key."""

    def __init__(self, keys: int, workers: int, index: int, hold: Callable[[], None]) -> None:
        size = len(range(index, keys, workers))
        self.workers = workers
        self.state = PlainState(size, hold)
        self.locks = [threading.Lock() for _ in range(size)]


class Session:
    """Operations on a shard for one caller, who may hold its locks across messages."""

    def __init__(self, shard: Shard) -> None:
        self.shard = shard
        self.held: set[int] = set()

    def call(self, op: int, a: int = 0, b: int = 0, c: int = 0) -> Reply:
        operation = self.OPS.get(op)
        if operation is None:
            raise ValueError(f"unknown op {op}")
        return operation(self, a // self.shard.workers, a, b, c)

    # Each op gets (i: the key's index in this shard, a: the key, b, c).
    def _get(self, i: int, a: int, b: int, c: int) -> Reply:
        with self.shard.locks[i]:
            return self.shard.state.get(i), 0, 0

    def _incr(self, i: int, a: int, b: int, c: int) -> Reply:
        with self.shard.locks[i]:
            return self.shard.state.incr(i, b), 0, 0

    def _transfer(self, i: int, a: int, b: int, c: int) -> Reply:  # both keys in this shard
        locks, j = self.shard.locks, b // self.shard.workers
        first, second = sorted((i, j))
        with locks[first], locks[second]:
            return (*self.shard.state.transfer(i, j, c), 0)

    def _lock(self, i: int, a: int, b: int, c: int) -> Reply:
        self.shard.locks[i].acquire()
        self.held.add(i)
        return self.shard.state.get(i), 0, 0

    def _write(self, half: Callable[[PlainState, int, int], int],
               i: int, a: int, b: int) -> Reply:
        if i not in self.held:
            raise ValueError(f"write to key {a} without its lock")
        value = half(self.shard.state, i, b)
        self.held.remove(i)
        self.shard.locks[i].release()
        return value, 0, 0

    def _debit(self, i: int, a: int, b: int, c: int) -> Reply:
        return self._write(PlainState.debit, i, a, b)

    def _credit(self, i: int, a: int, b: int, c: int) -> Reply:
        return self._write(PlainState.credit, i, a, b)

    def _lock_all(self, i: int, a: int, b: int, c: int) -> Reply:
        for index, lock in enumerate(self.shard.locks):  # ascending: the global order
            lock.acquire()
            self.held.add(index)
        totals = self.shard.state.totals()
        return totals.sum, totals.incr_applied, totals.transfers

    def _unlock_all(self, i: int, a: int, b: int, c: int) -> Reply:
        self.close()
        return 0, 0, 0

    OPS: dict[int, Callable[[Session, int, int, int, int], Reply]] = {
        GET: _get, INCR: _incr, TRANSFER: _transfer, LOCK: _lock, DEBIT: _debit,
        CREDIT: _credit, LOCK_ALL: _lock_all, UNLOCK_ALL: _unlock_all,
    }

    handle = call  # the name ipc.serve_sessions uses

    def close(self) -> None:
        for index in self.held:
            self.shard.locks[index].release()
        self.held.clear()


class ShardedStore:
    """The store interface in one worker: its own shard directly, the others by message."""

    def __init__(self, shard: Shard, index: int, peers: ipc.Peers,
                 hold: Callable[[], None]) -> None:
        self._shard, self._me, self._n = shard, index, shard.workers
        self._local = Session(shard)  # only for ops that hold no lock past the call
        self._peers, self._hold = peers, hold

    def _call(self, owner: int, op: int, a: int, b: int = 0, c: int = 0) -> Reply:
        if owner == self._me:
            return self._local.call(op, a, b, c)
        return self._peers.call(owner, op, a, b, c)

    @contextlib.contextmanager
    def _open(self, owner: int) -> Iterator:
        """A channel to one shard for several calls; on any error its locks are given back."""
        if owner == self._me:
            session = Session(self._shard)
            try:
                yield session
            finally:
                session.close()
        else:
            with self._peers.session(owner) as channel:  # closed on error: the owner releases
                yield channel

    def get(self, key: int) -> int:
        return self._call(key % self._n, GET, key)[0]

    def incr(self, key: int, by: int) -> int:
        return self._call(key % self._n, INCR, key, by)[0]

    def transfer(self, src: int, dst: int, amount: int) -> tuple[int, int]:
        if src % self._n == dst % self._n:
            return self._call(src % self._n, TRANSFER, src, dst, amount)[:2]
        first, second = sorted((src, dst), key=lambda key: (key % self._n, key))
        with self._open(first % self._n) as one, self._open(second % self._n) as two:
            channel = {first: one, second: two}
            channel[first].call(LOCK, first)
            channel[second].call(LOCK, second)
            self._hold()  # between read and write, both keys locked
            from_value = channel[src].call(DEBIT, src, amount)[0]
            to_value = channel[dst].call(CREDIT, dst, amount)[0]
        return from_value, to_value

    def totals(self) -> Totals:
        with contextlib.ExitStack() as stack:
            channels = [stack.enter_context(self._open(owner)) for owner in range(self._n)]
            parts = [channel.call(LOCK_ALL) for channel in channels]
            for channel in channels:
                channel.call(UNLOCK_ALL)
        return Totals(*(sum(column) for column in zip(*parts)))


@strategy("ownership-mp", discipline="ownership", model="processes",
          analogue="thread-per-core shards (shared nothing), messages between shards",
          rule="only a key's owner process touches it; other workers forward to the owner")
class OwnershipMP:
    http = "threads"
    respawn = False
    why = "its shard of the store lived only in that process"

    def __init__(self, keys: int, work: Work, workers: int) -> None:
        self._keys, self._workers, self._hold = keys, workers, work.hold
        self._addresses = [ipc.address("shard", index) for index in range(workers)]

    def helpers(self) -> list[Helper]:
        return []

    def attach(self, index: int) -> ShardedStore:
        shard = Shard(self._keys, self._workers, index, self._hold)
        listener = ipc.unix_listener(self._addresses[index])
        threading.Thread(target=ipc.serve_sessions, args=(listener, lambda: Session(shard)),
                         name="shard", daemon=True).start()
        return ShardedStore(shard, index, ipc.Peers(self._addresses), self._hold)
