"""global-lock — one lock guards the whole store.

Rust analogue: `Arc<Mutex<State>>` shared by every handler thread.
Rule: every request, read or write, holds the one lock for its whole visit to
the state, so requests never overlap inside it — on any number of cores.
"""
import threading

from servers import strategy
from servers.core.state import LockedState, PlainState
from servers.core.work import Work


@strategy("global-lock", model="threads", analogue="Arc<Mutex<State>>",
          rule="one lock around the whole store")
class GlobalLock(LockedState):
    def __init__(self, keys: int, work: Work) -> None:
        super().__init__(PlainState(keys, work.hold), threading.Lock())
