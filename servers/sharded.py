"""sharded — N stripes of the store, each behind its own lock.

Rust analogue: a sharded map (DashMap: N shards, each its own lock);
rust-sharded is the same with N `Mutex` shards.
Rule: key k lives in stripe hash(k) % STRIPES (an int hashes to itself, so
k % STRIPES); a request locks only its key's stripe. A transfer whose keys lie
in two stripes locks both in ascending stripe order, one global order, so two
transfers never each hold the stripe the other waits for. /stats locks every
stripe in that same order: a consistent snapshot.

Between global-lock (one stripe) and ownership (a lock per key): requests on
keys of different stripes never wait for each other, with STRIPES locks to
keep instead of one per key.
"""
import threading

from servers import strategy
from servers.core.state import PlainState, Totals
from servers.core.work import Work

STRIPES = 16  # DashMap's default is 4 x the cores, a power of two: 8 to 16 on small machines


@strategy("sharded", model="threads", analogue="a sharded map (DashMap: N shards, each locked)",
          rule=f"{STRIPES} stripes, each its own lock; a transfer locks two in stripe order")
class Sharded:
    def __init__(self, keys: int, work: Work) -> None:
        self._state = PlainState(keys, work.hold)
        self._locks = [threading.Lock() for _ in range(STRIPES)]

    @staticmethod
    def _stripe(key: int) -> int:
        return hash(key) % STRIPES

    def get(self, key: int) -> int:
        with self._locks[self._stripe(key)]:
            return self._state.get(key)

    def incr(self, key: int, by: int) -> int:
        with self._locks[self._stripe(key)]:
            return self._state.incr(key, by)

    def transfer(self, src: int, dst: int, amount: int) -> tuple[int, int]:
        first, second = self._order(src, dst)
        with self._locks[first]:
            if second is None:
                return self._state.transfer(src, dst, amount)
            with self._locks[second]:
                return self._state.transfer(src, dst, amount)

    def _order(self, src: int, dst: int) -> tuple[int, int | None]:
        """The stripes to lock, lower first; one (and None) when both keys share it."""
        a, b = self._stripe(src), self._stripe(dst)
        return (a, None) if a == b else (min(a, b), max(a, b))

    def totals(self) -> Totals:
        for lock in self._locks:  # ascending: the global order
            lock.acquire()
        try:
            return self._state.totals()
        finally:
            for lock in self._locks:
                lock.release()
