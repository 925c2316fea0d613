"""The work knobs (--cpu-us, --hold-us, --io-ms, --garbage), with one meaning everywhere.

CPU work is a counted pure-Python loop, not a clock-watching one: a counted
loop costs the same CPU whether or not the thread is descheduled halfway, and
it holds the GIL the whole time, like real request handling would. The loop is
calibrated once at start-up so that ``--cpu-us 100`` costs about 100 us here.

``--garbage N`` leaves N objects per request in reference cycles (each a list
that contains itself): reference counting never frees them, only the cyclic
collector does, so they drive its collections the way a request that builds
cyclic structures (parsers, ORMs, closures over themselves) would.
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

_CALIBRATION_LOOPS = 200_000
MAX_GARBAGE = 100_000  # objects per request: ~10 MB of cycles per request already; beyond is a typo


def spin(loops: int) -> None:
    for _ in range(loops):
        pass


def calibrate(rounds: int = 5) -> float:
    """Loop iterations per microsecond on this machine (best of ``rounds``).

    The best round is the one least disturbed by other processes, which is
    the cost the knobs promise.
    """
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        spin(_CALIBRATION_LOOPS)
        best = min(best, time.perf_counter() - start)
    return _CALIBRATION_LOOPS / (best * 1e6)


@dataclass(frozen=True)
class Work:
    cpu_us: float = 0.0
    hold_us: float = 0.0
    io_ms: float = 0.0
    loops_per_us: float = 0.0
    cpu_loops: int = 0   # derived once in create(): the request path only reads them
    hold_loops: int = 0
    garbage: int = 0

    @classmethod
    def create(cls, cpu_us: float = 0, hold_us: float = 0, io_ms: float = 0,
               loops_per_us: float | None = None, garbage: int = 0) -> "Work":
        """Validate the knobs and calibrate the loop only when CPU work is asked for."""
        for name, value in (("cpu-us", cpu_us), ("hold-us", hold_us), ("io-ms", io_ms)):
            if not 0 <= value <= 1_000_000:
                raise ValueError(f"--{name} must be in 0..1000000, got {value}")
        if isinstance(garbage, bool) or not isinstance(garbage, int) \
                or not 0 <= garbage <= MAX_GARBAGE:
            raise ValueError(f"--garbage must be an integer in 0..{MAX_GARBAGE}, got {garbage}")
        if loops_per_us is None:
            loops_per_us = calibrate() if (cpu_us or hold_us) else 0.0
        return cls(cpu_us, hold_us, io_ms, loops_per_us,
                   int(cpu_us * loops_per_us), int(hold_us * loops_per_us), garbage)

    def cpu(self) -> None:
        """Work outside the shared state."""
        if self.cpu_loops:
            spin(self.cpu_loops)

    def hold(self) -> None:
        """Work done while holding the state (between read and write)."""
        if self.hold_loops:
            spin(self.hold_loops)

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
                "garbage": self.garbage, "loops_per_us": round(self.loops_per_us, 3)}
