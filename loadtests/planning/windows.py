"""How long an open-loop cell on a live heap measures: long enough to hold a few full
collections, computed from the full-collection interval the run measured, and bounded.

A full (generation 2) collection is what a live heap costs the tail, and how often one
comes depends on the heap and the churn: at a million live objects, every few thousand
requests. A window too short to hold one measures a server that happened not to collect.
So a block gives ``full_collections`` (how many a window should hold) and
``max_duration`` (its bound), and each cell's window is resolved at run time, as a
fraction of capacity is: from the full collections per request of its capacity cells
(rates.capacity_cells: the same strategy, cores and heap, with the collector on — so
the collector's three modes measure equal windows at one offered rate), at the rate
the cell offers. The block's ``duration`` is the floor. Where the capacity cells saw
no full collection (a server with no collector, no live heap, or one too large for
their window), the interval is unknown: the window is the floor for a server without
a collector or without a heap, and the bound otherwise, and the record says which.
"""
from __future__ import annotations

from loadtests.planning.cells import Cell
from loadtests.planning.rates import capacity_cells
from results.record import CellRecord


def full_per_request(records: list[CellRecord]) -> tuple[float | None, str]:
    """Full collections per request over these capacity cells (None: none seen, or no
    collector reported), and the ids they come from."""
    with_gc = [r for r in records if r.gc_scope == "window"
               and r.gc_full_collections is not None and r.requests]
    ids = ", ".join(sorted(r.cell_id for r in with_gc))
    full = sum(r.gc_full_collections or 0 for r in with_gc)
    requests = sum(r.requests or 0 for r in with_gc)
    return (full / requests if full else None), ids


def resolve(cell: Cell, records: list[CellRecord], offered: float, floor: float) -> tuple[float, str]:
    """(window in s, how it was chosen) for an open-loop cell offering ``offered`` req/s;
    ``floor``: its planned window (the block's duration)."""
    if not cell.full_collections or not offered:
        return floor, ""
    most = max(floor, cell.max_duration)
    found = capacity_cells(cell, records)
    per_request, ids = full_per_request(found)
    if per_request is None:
        reported = any(r.gc_scope for r in found)
        if not reported or not cell.live_objects:
            why = "no collector reported" if not reported else "no live heap"
            return floor, f"{why}: the planned {floor:g} s"
        return most, (f"no full collection in the capacity cells ({ids}): the bound, "
                      f"{most:g} s")
    interval = 1 / (per_request * offered)
    wanted = cell.full_collections * interval
    window = min(most, max(floor, wanted))
    said = "the bound" if window == most < wanted else "the floor" if window == floor > wanted else ""
    return window, (f"{cell.full_collections} full collections at one per {interval:.2f} s "
                    f"(1 per {1 / per_request:,.0f} requests in {ids}, at {offered:,.0f} req/s): "
                    f"{wanted:.1f} s" + (f", {said} {window:g} s" if said else ""))


def planned(cell: Cell, floor: float) -> float:
    """What a plan estimates for the cell's window before anything is measured: its
    bound where it has one (the estimate is then an upper bound)."""
    return max(floor, cell.max_duration) if cell.full_collections and cell.live_objects else floor
