"""The work knobs (--cpu-us, --hold-us, --io-ms, --garbage), with one meaning everywhere.

CPU work is a pure-Python loop that holds the GIL the whole time, like real
request handling would, and runs until this thread's own CPU clock
(CLOCK_THREAD_CPUTIME_ID) has advanced by the knob: ``--cpu-us 300`` costs 300 µs
of CPU whether the thread is descheduled halfway, waits for the GIL, or runs on
a slower or busier core. (A counted loop timed once at start-up did not: the same
count cost noticeably different CPU from one run to the next.) The loop's speed,
measured by each server at start-up when a CPU knob is set, only sizes the chunk
spun between two looks at the clock.

``--garbage N`` leaves N objects per request in reference cycles (each a list
that contains itself): reference counting never frees them, only the cyclic
collector does, so they drive its collections the way a request that builds
cyclic structures (parsers, ORMs, closures over themselves) would.
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

_TIMED_LOOPS = 200_000
CHUNK_US = 2.0   # spun between two looks at the clock (a look's own cost: clock_read_us)
MAX_GARBAGE = 100_000  # objects per request: ~10 MB of cycles per request already; beyond is a typo


def spin(loops: int) -> None:
    for _ in range(loops):
        pass


def burn(us: float, chunk: int, overshoot_ns: int) -> None:
    """Use ``us`` microseconds of this thread's CPU. The last chunk crosses the
    deadline by half a chunk and a clock read on average: stop that much early."""
    clock = time.thread_time_ns
    end = clock() + int(us * 1000) - overshoot_ns
    while clock() < end:
        spin(chunk)


def loop_speed(rounds: int = 5) -> float:
    """Iterations of ``spin``'s loop per microsecond on this CPU (best of ``rounds``):
    the round least disturbed by other processes."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        spin(_TIMED_LOOPS)
        best = min(best, time.perf_counter() - start)
    return _TIMED_LOOPS / (best * 1e6)


def clock_read_us(reads: int = 2000) -> float:
    """What one look at the thread's CPU clock costs (a system call on some machines)."""
    clock = time.thread_time_ns
    start = time.perf_counter()
    for _ in range(reads):
        clock()
    return (time.perf_counter() - start) / reads * 1e6


@dataclass(frozen=True)
class Work:
    cpu_us: float = 0.0
    hold_us: float = 0.0
    io_ms: float = 0.0
    chunk: int = 1          # derived once in create(): the request path only reads them
    overshoot_ns: int = 0
    garbage: int = 0

    @classmethod
    def create(cls, cpu_us: float = 0, hold_us: float = 0, io_ms: float = 0,
               garbage: int = 0, measure: bool = True) -> Work:
        """Validate the knobs; time the loop (``loop_speed``) only when CPU work is asked
        for and ``measure`` (a caller that only checks the knobs passes False)."""
        for name, value in (("cpu-us", cpu_us), ("hold-us", hold_us), ("io-ms", io_ms)):
            if not 0 <= value <= 1_000_000:
                raise ValueError(f"--{name} must be in 0..1000000, got {value}")
        if isinstance(garbage, bool) or not isinstance(garbage, int) \
                or not 0 <= garbage <= MAX_GARBAGE:
            raise ValueError(f"--garbage must be an integer in 0..{MAX_GARBAGE}, got {garbage}")
        speed = loop_speed() if (cpu_us or hold_us) and measure else 0.0
        chunk = max(1, int(CHUNK_US * speed))
        overshoot = int((chunk / speed / 2 + clock_read_us()) * 1000) if speed else 0
        return cls(cpu_us, hold_us, io_ms, chunk, overshoot, garbage)

    def cpu(self) -> None:
        """Work outside the shared state."""
        if self.cpu_us:
            burn(self.cpu_us, self.chunk, self.overshoot_ns)

    def hold(self) -> None:
        """Work done while holding the state (between read and write)."""
        if self.hold_us:
            burn(self.hold_us, self.chunk, self.overshoot_ns)

    def litter(self) -> None:
        """Leave ``garbage`` objects that only the cyclic collector can free."""
        for _ in range(self.garbage):
            cycle: list = []
            cycle.append(cycle)

    def io(self) -> None:
        """A blocking wait outside the state (thread strategies)."""
        if self.io_ms:
            time.sleep(self.io_ms / 1000)

    async def aio(self) -> None:
        """An awaited wait outside the state (async strategies)."""
        if self.io_ms:
            await asyncio.sleep(self.io_ms / 1000)

    def describe(self) -> dict:
        return {"cpu_us": self.cpu_us, "hold_us": self.hold_us, "io_ms": self.io_ms,
                "garbage": self.garbage}
