"""ownership — a request owns exactly the keys it touches, then gives them back.

Rust analogue: per-key `Mutex` (a sharded map / `DashMap`), the borrow of one
entry for the duration of one request.
Rule: take only your keys; requests on different keys never wait for one
another. A transfer takes its two keys in ascending key order — one global
order — so two transfers can never each hold the key the other waits for.
/stats takes every key in that same order, which gives a consistent snapshot.
"""
import threading

from servers import strategy
from servers.core.state import PlainState, Totals
from servers.core.work import Work


@strategy("ownership", model="threads", analogue="per-key Mutex (DashMap-style ownership)",
          rule="lock only the keys a request touches, in ascending order")
class Ownership:
    def __init__(self, keys: int, work: Work) -> None:
        self._state = PlainState(keys, work.hold)
        self._locks = [threading.Lock() for _ in range(keys)]

    def get(self, key: int) -> int:
        with self._locks[key]:
            return self._state.get(key)

    def incr(self, key: int, by: int) -> int:
        with self._locks[key]:
            return self._state.incr(key, by)

    def transfer(self, src: int, dst: int, amount: int) -> tuple[int, int]:
        first, second = (src, dst) if src < dst else (dst, src)
        with self._locks[first], self._locks[second]:
            return self._state.transfer(src, dst, amount)

    def totals(self) -> Totals:
        for lock in self._locks:
            lock.acquire()
        try:
            return self._state.totals()
        finally:
            for lock in self._locks:
                lock.release()
