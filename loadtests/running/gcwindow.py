"""A cell's garbage-collector figures, from the server's /stats before and after it.

The server's ``gc`` object (servers/core/gcstats.py) counts collections and
pauses since it started, and keeps the last few thousand pauses per process
time-stamped. When no pause was dropped from those rings, the pauses that
began inside the measured window are exact and every figure is the window's
(``gc_scope`` "window"); otherwise the counts are the /stats deltas over the
whole cell, warm-up included (``gc_scope`` "cell"), and ``gc_pauses`` holds
only the pauses still in the rings. A server with no collector to report
(no ``gc`` in /stats) leaves every figure empty.

Full (generation 2) collections are counted apart, with the longest pause of
each generation: a live heap makes the full ones long and rare, and a window
holding none says nothing about them (``gc_full_collections`` 0).
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class GcWindow:
    """The cell-record fields this module fills (results/record.py)."""
    gc_scope: str | None = None
    gc_collections: int | None = None
    gc_pause_total_ms: float | None = None
    gc_pause_max_ms: float | None = None
    gc_pauses_dropped: int | None = None
    gc_full_collections: int | None = None
    gc_pause_max_gen0_ms: float | None = None
    gc_pause_max_gen1_ms: float | None = None
    gc_pause_max_gen2_ms: float | None = None
    gc_paused_share: float | None = None
    gc_pauses: list[list[float]] = field(default_factory=list)


def window_gc(before: dict, after: dict, start: float, end: float) -> GcWindow:
    """``start``/``end``: the measured window, seconds since the epoch. (The mode is
    the cell's knob, recorded by cell.py; /stats's ``gc.mode`` confirms it.)"""
    first, last = before.get("gc"), after.get("gc")
    if not isinstance(first, dict) or not isinstance(last, dict):
        return GcWindow()
    lo, hi = start * 1e6, end * 1e6
    # [start us since the epoch, pause us, generation], as /stats gives them
    inside = [p for p in last.get("pauses", []) if lo <= p[0] <= hi]
    dropped = last.get("pauses_dropped", 0)
    if dropped == 0:
        total = round(sum(p[1] for p in inside) / 1000, 3)
        longest = [round(max((p[1] for p in inside if p[2] == g), default=0.0) / 1000, 3)
                   for g in range(3)]
        return GcWindow("window", len(inside), total,
                        round(max((p[1] for p in inside), default=0.0) / 1000, 3), 0,
                        gc_full_collections=sum(1 for p in inside if p[2] == 2),
                        gc_pause_max_gen0_ms=longest[0], gc_pause_max_gen1_ms=longest[1],
                        gc_pause_max_gen2_ms=longest[2],
                        gc_paused_share=_share(total, start, end), gc_pauses=inside)
    # The largest pause seen in the window's rings; a new lifetime maximum set during
    # the cell is larger still (and, with rings overflowing, may predate the window).
    seen = max((p[1] for p in inside), default=0.0)
    if last["pause_max_us"] > first["pause_max_us"]:
        seen = max(seen, last["pause_max_us"])
    counts = (first.get("collections") or [0, 0, 0], last.get("collections") or [0, 0, 0])
    lifetime = (first.get("pause_max_us_by_generation"), last.get("pause_max_us_by_generation"))
    longest = []
    for g in range(3):  # the same rule per generation as for the longest pause above
        seen_g = max((p[1] for p in inside if p[2] == g), default=0.0)
        if lifetime[0] and lifetime[1] and lifetime[1][g] > lifetime[0][g]:
            seen_g = max(seen_g, lifetime[1][g])
        longest.append(round(seen_g / 1000, 3))
    total = round((last["pause_total_us"] - first["pause_total_us"]) / 1000, 3)
    return GcWindow("cell", last["collections_total"] - first["collections_total"], total,
                    round(seen / 1000, 3), dropped,
                    gc_full_collections=counts[1][2] - counts[0][2],
                    gc_pause_max_gen0_ms=longest[0], gc_pause_max_gen1_ms=longest[1],
                    gc_pause_max_gen2_ms=longest[2],
                    gc_paused_share=_share(total, start, end),  # the warm-up's pauses too
                    gc_pauses=inside)


def _share(total_ms: float, start: float, end: float) -> float | None:
    return round(total_ms / 1000 / (end - start), 6) if end > start else None
