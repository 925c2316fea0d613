"""The cyclic garbage collector, watched from inside each server process.

A monitor hangs on ``gc.callbacks``: at "start" it notes the time, at "stop"
it counts the collection (per generation), adds the pause to the total, the
max and a log2 histogram, and writes (start, duration, generation) into a
ring of the last RING pauses. Everything lives in one flat slot of int64s,
so a multi-process server gives each process a slot of shared memory
(processes.py) and /stats sums the slots, exactly as it sums request counts.

Why no lock: CPython runs one collection at a time (the collector is not
re-entrant; the callbacks run inside it), so only one writer touches a slot
at once. A /stats reader may see a collection half-recorded (the count one
ahead of the total); /stats is read at quiet moments, and a torn read costs
one pause at most. A lock here could deadlock: a reader holding it can
allocate, start a collection, and wait on itself in the callback.

Times: a pause's start is wall-clock microseconds since the epoch (so it can
be set against clients' timestamps), derived from the monotonic clock plus an
offset taken once, so the callback reads one clock per phase.
"""
from __future__ import annotations

import gc
import time
from collections.abc import Callable

MODES = ("default", "off", "freeze")
GENERATIONS = 3
BUCKETS = 24       # bucket b: pauses of [2^(b-1), 2^b) us; 0: under 1 us; the last: 2^22 us and over
RING = 16384       # the last RING pauses of each process, time-stamped (~5 s at 3000 collections/s)
_TOTAL, _MAX, _COUNT = GENERATIONS, GENERATIONS + 1, GENERATIONS + 2
_HIST = GENERATIONS + 3
_MAX_BY_GEN = _HIST + BUCKETS   # the longest pause of each generation
_RING = _MAX_BY_GEN + GENERATIONS
SLOT = _RING + 3 * RING   # int64s per process


def bucket_bounds_us() -> list[int]:
    """The upper bound of every histogram bucket but the last (open-ended), in us."""
    return [1 << b for b in range(BUCKETS - 1)]


def apply_mode(mode: str) -> None:
    """Called once a process has built everything it serves with, before it serves.

    freeze moves every object alive now into a permanent generation that the
    collector never scans again (the start-up heap stops costing pauses);
    collections of new objects go on as usual. Then one full collection of what
    is left (nothing: it costs well under a millisecond): CPython paces full
    collections by the objects that survived the last one, and that figure would
    otherwise still count the frozen heap, so the first full collection after the
    freeze would wait for a quarter of the frozen heap's worth of new survivors
    and free all the churn's garbage of that time in one long pause.
    """
    if mode == "off":
        gc.disable()
    elif mode == "freeze":
        gc.enable()
        gc.freeze()
        gc.collect()
    elif mode != "default":
        raise ValueError(f"--gc must be one of {', '.join(MODES)}, got {mode!r}")


class Monitor:
    """Records this process's collections into ``slot`` (SLOT int64s, zeroed or
    carried over from a predecessor in the same slot)."""

    def __init__(self, slot) -> None:
        self.slot = slot
        self._offset_ns = time.time_ns() - time.perf_counter_ns()
        self._started = 0
        self.callback = self._make_callback()

    def _make_callback(self) -> Callable[[str, dict], None]:
        slot, clock, offset = self.slot, time.perf_counter_ns, self._offset_ns
        top = BUCKETS - 1

        def on_gc(phase: str, info: dict) -> None:
            if phase == "start":
                self._started = clock()
                return
            end = clock()
            began = self._started
            pause = end - began
            generation = info["generation"]
            slot[generation] += 1
            slot[_TOTAL] += pause
            if pause > slot[_MAX]:
                slot[_MAX] = pause
            if pause > slot[_MAX_BY_GEN + generation]:
                slot[_MAX_BY_GEN + generation] = pause
            slot[_HIST + min((pause // 1000).bit_length(), top)] += 1
            count = slot[_COUNT]
            at = _RING + 3 * (count % RING)
            slot[at] = (began + offset) // 1000
            slot[at + 1] = pause
            slot[at + 2] = generation
            slot[_COUNT] = count + 1
        return on_gc

    def install(self) -> Monitor:
        gc.callbacks.append(self.callback)
        return self

    def uninstall(self) -> None:
        if self.callback in gc.callbacks:
            gc.callbacks.remove(self.callback)


def local_slot() -> memoryview:
    """A slot for a single-process server (no sharing needed)."""
    return memoryview(bytearray(8 * SLOT)).cast("q")


def summary(slots: list, mode: str) -> dict:
    """The ``gc`` object of /stats: every slot summed (max of maxima, pauses merged).

    Each slot's counters are copied in one C call, and this process's collector is
    held off meanwhile (building the pause list allocates), so this process's own
    figures agree with each other; another process's may be one collection apart.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        heads = [s[:_RING].tolist() for s in slots]
        rings = [_pauses(s, head[_COUNT]) for s, head in zip(slots, heads)]
    finally:
        if enabled:
            gc.enable()
    collections = [sum(head[g] for head in heads) for g in range(GENERATIONS)]
    pauses = sorted(p for ring in rings for p in ring)
    return {"mode": mode, "collections": collections,
            "collections_total": sum(collections),
            # per process (a -mp server: its workers, then its helpers): shows the sum is one
            "collections_by_process": [sum(head[:GENERATIONS]) for head in heads],
            "pause_total_us": round(sum(head[_TOTAL] for head in heads) / 1000, 3),
            "pause_max_us": round(max((head[_MAX] for head in heads), default=0) / 1000, 3),
            "pause_max_us_by_generation": [
                round(max((head[_MAX_BY_GEN + g] for head in heads), default=0) / 1000, 3)
                for g in range(GENERATIONS)],
            "histogram": {"upper_us": bucket_bounds_us(),
                          "counts": [sum(head[_HIST + b] for head in heads)
                                     for b in range(BUCKETS)]},
            "pauses": pauses,
            "pauses_dropped": sum(max(0, head[_COUNT] - RING) for head in heads)}


def _pauses(slot, count: int) -> list[list]:
    """The ring's pauses, oldest first: [start us since the epoch, pause us, generation]."""
    found = []
    for n in range(max(0, count - RING), count):
        at = _RING + 3 * (n % RING)
        found.append([slot[at], round(slot[at + 1] / 1000, 3), slot[at + 2]])
    return found
