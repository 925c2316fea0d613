"""unsafe — threads and a shared store with no synchronisation at all.

Rust analogue: what `unsafe` with a `static mut` would allow — and what the
borrow checker refuses to compile: a data race on the read-modify-write.
Rule: none. It exists so the harness can prove it catches lost updates; it is
marked unsafe and never ranked.

How the race is exposed, deliberately: CPython's GIL switches threads only
every 5 ms (sys.getswitchinterval), so an unlocked read-hold-write whose hold
is pure-Python work is almost never interrupted (README, "Measured here": no
update lost from 16 clients with a 300 us hold). Real critical sections are
rarely pure computation: a log line, a cache lookup or any I/O releases the
GIL. So this strategy's hold ends with ``os.sched_yield()``, one GIL release,
as any I/O inside the critical section would. With that yield, 16 clients on a
few hot keys lose updates reliably (about 60% of the increment volume in
tests/test_concurrency.py's set-up). ``os.sched_yield`` costs well under a
microsecond; ``time.sleep(0)`` would release the GIL too but costs about a
hundred times more (the kernel's timer slack; both in README, "Measured here"),
which would make `unsafe` look slow for a reason unrelated to sharing. The ledgers
(incr_applied) are as unsynchronised as the values, so the harness judges lost
updates from the client-side count of acknowledged increments, not from them.

Why the yield stays now that the preemption stress check exists
(loadtests/checks/stress.py, a 1 us switch interval): that check would catch this
strategy without the yield, but it runs before measurement, on its own
servers. The benchmark's cells and the concurrency test run at CPython's
default interval, and there `unsafe` must lose updates, or its cells would
show ``lost_updates`` 0 and the harness's correctness column would never be
seen to work on measured traffic. The two answer different questions, and the
report gives both: races at the default switch interval (a critical section
that releases the GIL, like this one) and races under preemption (a critical
section of pure computation, which only a forced switch exposes; the stress
test's read-outside-the-lock strategy is that case).
"""
import os

from servers import strategy
from servers.core.state import PlainState, Totals
from servers.core.work import Work


@strategy("unsafe", discipline="unsynchronised", model="threads",
          analogue="static mut / UnsafeCell shared across threads",
          rule="no synchronisation; the hold yields the GIL like any I/O would", safe=False)
class Unsafe:
    def __init__(self, keys: int, work: Work) -> None:
        hold = work.hold

        def hold_then_yield() -> None:
            hold()
            os.sched_yield()  # release the GIL inside the critical section

        self._state = PlainState(keys, hold_then_yield)

    def get(self, key: int) -> int:
        return self._state.get(key)

    def incr(self, key: int, by: int) -> int:
        return self._state.incr(key, by)

    def transfer(self, src: int, dst: int, amount: int) -> tuple[int, int]:
        return self._state.transfer(src, dst, amount)

    def totals(self) -> Totals:
        return self._state.totals()
