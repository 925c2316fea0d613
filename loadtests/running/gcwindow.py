"""A cell's garbage-collector figures, from the server's /stats before and after it.

The server's ``gc`` object (servers/core/gcstats.py) counts collections and
pauses since it started, and keeps the last few thousand pauses per process
time-stamped. When no pause was dropped from those rings, the pauses that
began inside the measured window are exact and every figure is the window's
(``gc_scope`` "window"); otherwise the counts are the /stats deltas over the
whole cell, warm-up included (``gc_scope`` "cell"), and ``gc_pauses`` holds
only the pauses still in the rings. A server with no collector to report
(no ``gc`` in /stats) leaves every figure empty.
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
        return GcWindow("window", len(inside), round(sum(p[1] for p in inside) / 1000, 3),
                        round(max((p[1] for p in inside), default=0.0) / 1000, 3), 0, inside)
    # The largest pause seen in the window's rings; a new lifetime maximum set during
    # the cell is larger still (and, with rings overflowing, may predate the window).
    seen = max((p[1] for p in inside), default=0.0)
    if last["pause_max_us"] > first["pause_max_us"]:
        seen = max(seen, last["pause_max_us"])
    return GcWindow("cell", last["collections_total"] - first["collections_total"],
                    round((last["pause_total_us"] - first["pause_total_us"]) / 1000, 3),
                    round(seen / 1000, 3), dropped, inside)
