"""rwlock — many readers at once, or one writer alone.

Rust analogue: `Arc<RwLock<State>>` (rust-rwlock is that, in Rust).
Rule: a read (get, /stats) shares the store with other reads; a
read–modify–write (incr, transfer) has it alone. The lock is
servers/core/rwlock.py, writer-preferring as Rust's is on Linux.
/stats is a read: no writer is inside while it sums, so its snapshot is consistent.
"""
from servers import strategy
from servers.core.rwlock import ReadWriteLock
from servers.core.state import PlainState, Totals
from servers.core.work import Work


@strategy("rwlock", model="threads", analogue="Arc<RwLock<State>>",
          rule="reads share the store; a read-modify-write has it alone (writer-preferring)")
class RwLock:
    def __init__(self, keys: int, work: Work) -> None:
        self._state = PlainState(keys, work.hold)
        self._lock = ReadWriteLock()

    def get(self, key: int) -> int:
        with self._lock.read():
            return self._state.get(key)

    def incr(self, key: int, by: int) -> int:
        with self._lock.write():
            return self._state.incr(key, by)

    def transfer(self, src: int, dst: int, amount: int) -> tuple[int, int]:
        with self._lock.write():
            return self._state.transfer(src, dst, amount)

    def totals(self) -> Totals:
        with self._lock.read():
            return self._state.totals()
