"""stateless — the ceiling: the contract's shape, no shared state at all.

Rust analogue: a handler that returns a constant (no `Arc`, no `Mutex`).
Rule: touch nothing shared. It still does the work knobs, so it is the ceiling
for the same workload; its values are always 0 and its /stats says
``"stateless": true``, so the correctness checks leave it out.
"""
from servers import strategy
from servers.core.state import Totals
from servers.core.work import Work


@strategy("stateless", model="threads", analogue="no shared state (a constant handler)",
          rule="touch nothing shared: the throughput ceiling", stateful=False)
class Stateless:
    def __init__(self, keys: int, work: Work) -> None:
        self._hold = work.hold

    def get(self, key: int) -> int:
        return 0

    def incr(self, key: int, by: int) -> int:
        self._hold()
        return 0

    def transfer(self, src: int, dst: int, amount: int) -> tuple[int, int]:
        self._hold()
        return 0, 0

    def totals(self) -> Totals:
        return Totals(0, 0, 0)
