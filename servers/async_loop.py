"""async — one event loop; the store is a plain list of counters with no lock.

Rust analogue: a single-threaded tokio runtime (`current_thread`) with state in
an `Rc<RefCell<_>>`: safe because only one task runs at a time.
Rule: touch the state only between awaits. Each operation (LoopState, in
servers/core/state.py) reads, holds and writes with no await in between, so no
other task can interleave; an `await` inside would reopen the race that `unsafe`
shows.
"""
from servers import strategy
from servers.core.state import LoopState, PlainState
from servers.core.work import Work


@strategy("async", discipline="event-loop", model="async",
          analogue="tokio current_thread runtime, Rc<RefCell<State>>",
          rule="no lock: touch state only between awaits")
class AsyncLoop(LoopState):
    def __init__(self, keys: int, work: Work) -> None:
        super().__init__(PlainState(keys, work.hold))
