"""global-lock — one lock guards the whole store.

Rust analogue: `Arc<Mutex<State>>` shared by every handler thread.
Rule: every request, read or write, holds the one lock for its whole visit to
the state, so requests never overlap inside it — on any number of cores.
"""
import threading
from contextlib import AbstractContextManager
from typing import Any

from servers import strategy
from servers.core.state import PlainState, Totals
from servers.core.work import Work


@strategy("global-lock", model="threads", analogue="Arc<Mutex<State>>",
          rule="one lock around the whole store")
class GlobalLock:
    _lock: AbstractContextManager[Any]  # a thread lock; global-lock-mp puts a process-shared one

    def __init__(self, keys: int, work: Work) -> None:
        self._state = PlainState(keys, work.hold)
        self._lock = threading.Lock()

    def get(self, key: int) -> int:
        with self._lock:
            return self._state.get(key)

    def incr(self, key: int, by: int) -> int:
        with self._lock:
            return self._state.incr(key, by)

    def transfer(self, src: int, dst: int, amount: int) -> tuple[int, int]:
        with self._lock:
            return self._state.transfer(src, dst, amount)

    def totals(self) -> Totals:
        with self._lock:
            return self._state.totals()
