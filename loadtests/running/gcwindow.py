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

from results.schema import GC_COLUMNS

# The cell-record fields this module fills (results/schema.py, results/README.md).
FIELDS = ("gc_scope", *(column.name for column in GC_COLUMNS))


def empty() -> dict:
    return {**dict.fromkeys(FIELDS), "gc_pauses": []}


def window_gc(before: dict, after: dict, start: float, end: float) -> dict:
    """``start``/``end``: the measured window, seconds since the epoch. (The mode is
    the cell's knob, recorded by cell.py; /stats's ``gc.mode`` confirms it.)"""
    doc = empty()
    first, last = before.get("gc"), after.get("gc")
    if not isinstance(first, dict) or not isinstance(last, dict):
        return doc
    lo, hi = start * 1e6, end * 1e6
    # [start us since the epoch, pause us, generation], as /stats gives them
    inside = [p for p in last.get("pauses", []) if lo <= p[0] <= hi]
    doc["gc_pauses"] = inside
    doc["gc_pauses_dropped"] = last.get("pauses_dropped", 0)
    if doc["gc_pauses_dropped"] == 0:
        doc["gc_scope"] = "window"
        doc["gc_collections"] = len(inside)
        doc["gc_pause_total_ms"] = round(sum(p[1] for p in inside) / 1000, 3)
        doc["gc_pause_max_ms"] = round(max((p[1] for p in inside), default=0.0) / 1000, 3)
        return doc
    doc["gc_scope"] = "cell"
    doc["gc_collections"] = last["collections_total"] - first["collections_total"]
    doc["gc_pause_total_ms"] = round((last["pause_total_us"] - first["pause_total_us"]) / 1000, 3)
    # The largest pause seen in the window's rings; a new lifetime maximum set during
    # the cell is larger still (and, with rings overflowing, may predate the window).
    seen = max((p[1] for p in inside), default=0.0)
    if last["pause_max_us"] > first["pause_max_us"]:
        seen = max(seen, last["pause_max_us"])
    doc["gc_pause_max_ms"] = round(seen / 1000, 3)
    return doc
