"""--live-objects and --churn: a live heap that the cyclic collector has to walk.

What a full (generation 2) collection costs depends on how many tracked
container objects the process holds: it walks every one. A server's own state
here is a few thousand integers, so its full collections walk little more than
the interpreter; real servers hold caches, sessions and ORM identity maps of
hundreds of thousands to millions of objects. This module gives a server such
a heap, built before the ready line, and makes requests use it:

Shape: a per-key cache, one list of ``live_objects // 2`` entries, each entry a
small dict (its key, a version) holding a list: two tracked containers per
entry, so the heap holds ``live_objects`` objects (rounded down to even) plus
the list. Entries are plain (no cycle among them), so a replaced entry is freed
at once by reference counting, as a cache's evicted entries usually are.

Requests: every state request (get, incr, transfer) reads one entry, anywhere
in the cache (a lookup). A ``churn`` share of them then loads a page of
CHURN_BATCH new entries over old ones (misses filled from a database). Loading
leaves each row it came in behind as a reference cycle (a row and its result
referring to each other, as parsers and drivers leave them): garbage only the
collector frees, and what makes it run. Replacements fall in the first
1/CHURN_PART of the cache; the rest stays as built: a cache's hot part
(sessions, recent rows) turns over while its bulk lives as long as the process.

What the collector then does: the young garbage dies in generation-0
collections; every new entry is alive when they run, so it survives into the
oldest generation, and CPython runs a full collection once the objects promoted
there since the last one exceed a quarter of those that survived it. So full
collections come at the rate the churn promotes objects (rarer as the heap
grows), and each walks the whole heap (longer as it grows). ``--gc freeze``
freezes the built heap (gcstats.apply_mode runs after this is built): its full
collections walk only the hot part's new entries.

Who holds it: the process that answers requests. A single-process server
holds one; every worker of an ``-mp`` server builds its own after the fork (a
per-process cache, as a pre-fork server's workers each hold), and helpers such
as an owner process hold none. The Rust servers hold the same number of heap
allocations and churn alike (servers/rust/src/heap.rs): the same memory and
work, with no collector.
"""
from __future__ import annotations

import gc
import itertools
import random

MAX_LIVE_OBJECTS = 10_000_000  # 10 M objects: ~1.6 GB in one process; beyond is a typo
CHURN_BATCH = 64       # entries a churning request replaces
CHURN_PART = 64        # replacements fall in the first 1/CHURN_PART of the cache
DEFAULT_CHURN = 1 / 16  # share of state requests that churn: four entries per request on average
OBJECTS_PER_ENTRY = 2
# What waiting for a heap to be built allows per object: building takes about 1 us per
# object on one core (README: "The live heap"), three times that on a busy machine.
BUILD_S_PER_OBJECT = 3e-6


def check(live_objects: object, churn: object) -> None:
    """ValueError, in one line, for a value out of range (before anything is built)."""
    if isinstance(live_objects, bool) or not isinstance(live_objects, int) \
            or not 0 <= live_objects <= MAX_LIVE_OBJECTS:
        raise ValueError(f"--live-objects must be an integer in 0..{MAX_LIVE_OBJECTS}, "
                         f"got {live_objects}")
    if isinstance(churn, bool) or not isinstance(churn, (int, float)) or not 0 <= churn <= 1:
        shown = f"{churn:g}" if isinstance(churn, float) else repr(churn)
        raise ValueError(f"--churn must be a share of requests in 0..1, got {shown}")


def _entry(key: int, version: int) -> dict:
    return {"key": key, "version": version, "refs": [key]}


def _load(key: int, version: int) -> dict:
    """A new entry as a churning request loads it: the row it came in is left behind
    as a reference cycle (the row and its result refer to each other)."""
    fresh = _entry(key, version)
    row: list = [fresh]
    row.append(row)
    return fresh


class Heap:
    """The process's live heap: built here, touched by every state request (touch)."""

    def __init__(self, live_objects: int = 0, churn: float = DEFAULT_CHURN,
                 seed: int | None = None) -> None:
        check(live_objects, churn)
        self.live_objects, self.churn = live_objects, float(churn)
        self.entries = live_objects // OBJECTS_PER_ENTRY
        self._cache = [_entry(key, 0) for key in range(self.entries)]
        self._part = max(1, self.entries // CHURN_PART)
        self._random = random.Random(seed).random  # one C call per draw
        self._versions = itertools.count(1)        # next() is atomic under the GIL
        # What the heap holds, and what a full collection walks now: every object the
        # collector tracks in this process (the interpreter's own included), counted
        # once here, at start-up, before --gc freeze moves them out of its sight.
        self.objects = OBJECTS_PER_ENTRY * self.entries + (1 if self.entries else 0)
        self.tracked = len(gc.get_objects())

    def touch(self) -> int:
        """One state request's use of the heap: read an entry (its version is returned);
        for a churning share, replace a batch of entries (their predecessors become
        cyclic garbage)."""
        if not self.entries:
            return 0
        draw = self._random
        version = self._cache[int(draw() * self.entries)]["version"]
        if self.churn and draw() < self.churn:
            cache, part, new = self._cache, self._part, next(self._versions)
            for _ in range(CHURN_BATCH):
                key = int(draw() * part)
                cache[key] = _load(key, new)  # one store: atomic under the GIL
        return version

    def describe(self) -> dict:
        """For /health: what was asked, what was built, what the collector tracked."""
        return {"live_objects": self.live_objects, "heap_objects": self.objects,
                "tracked_objects": self.tracked, "churn": self.churn}
