"""Extra repeats of planned cells, after the plan: appended to the run's matrix with new
repeat indices and the reason they were asked for, then measured into the same run folder.

A cell is named here by its group: its identity without the repeat (results/ids.py KEY,
plus ``workers`` and ``python`` where the cell sets them), as the report groups repeats.
Which groups get repeats, how many, and when to stop is the adaptive loop's decision
(sharebench/adapt.py); this module knows cells, what they cost by the plan's own estimator,
and the reserve they are paid from. An interrupted round's cells stay in the matrix, so
``--resume`` measures them as it measures any planned cell.
"""
from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from loadtests.planning.cells import Cell, Plan
from loadtests.planning.estimate import estimate
from loadtests.running import sweep
from results import ids
from results.record import CellRecord
from results.store import RunStore

Group = Mapping[str, object]
_DEFAULTS: dict[str, object] = {"live_objects": 0, "rate": "", "workers": 0, "python": ""}
_WHOLE = {"cores", "users", "live_objects", "workers"}
# Flags no repeat can cure, as the cell's own setting causes them (results/schema.py
# DISQUALIFYING, and an open-loop generator behind its schedule): a group carrying one gets
# no repeats. A busy machine is not among them: it is a moment, not the cell, and a repeat
# at a quiet one is its cure.
_FLAGS = {"loadgen_bound": lambda r: r.loadgen_bound is True,
          "errors": lambda r: bool(r.errors),
          "failed": lambda r: r.status == "failed",
          "loadgen_lagging": lambda r: r.loadgen_lagging is True}


@dataclass(frozen=True)
class Ask:
    """More repeats of each group of one comparison, and why."""
    reason: str
    groups: tuple[Group, ...]
    repeats: tuple[int, ...]   # how many more of each group


@dataclass(frozen=True)
class Round:
    """One round of extra cells: what it added, for which asks, what it cost."""
    number: int
    cells: list[str]
    asked: list[Ask]
    left_out: list[Ask]        # did not fit in the limit
    estimate_s: float
    spent_s: float
    complete: bool


def matches(row: Mapping[str, object], group: Group) -> bool:
    """Whether a matrix row (or a parsed cell id) is a cell of ``group``."""
    mine = plain({**row, "mode": ids.mode_of(str(row.get("rate") or ""))})
    return all(mine.get(key, _DEFAULTS.get(key)) == value for key, value in plain(group).items())


def plain(group: Mapping[str, object]) -> dict[str, object]:
    """A group's keys as JSON writes them (whole numbers as int, the rest as text); an
    unset workers, python, rate or live heap as a cell without one has it."""
    found: dict[str, object] = {}
    for key in (*ids.KEY, "workers", "python"):
        value = group.get(key)
        if value is None or value == "" or value != value:  # unset, or a NaN from a table
            value = _DEFAULTS.get(key)
            if value is None:
                continue
        found[key] = int(float(str(value))) if key in _WHOLE else str(value)
    return found


def label(group: Group) -> str:
    """A group as its cells' id without the repeat, e.g. global-lock.cpu.wrk.c1.u32."""
    g = plain(group)
    found = ids.cell_id(str(g.get("strategy")), str(g.get("workload")), str(g.get("engine")),
                        int(str(g.get("cores", 0))), int(str(g.get("users", 0))), 0,
                        str(g["python"]), str(g["rate"]), int(str(g["workers"])),
                        int(str(g["live_objects"])))
    return found.replace(".r0", "", 1)


def planned(manifest: Mapping, group: Group) -> list[dict]:
    """The matrix rows of ``group``: every repeat planned or added so far."""
    return [row for row in manifest["matrix"] if matches(row, group)]


def repeats(manifest: Mapping, group: Group) -> int:
    return len(planned(manifest, group))


def flags(records: Sequence[CellRecord], group: Group) -> list[str]:
    """The flags no repeat can cure, among the records of ``group``."""
    found = []
    for record in records:
        parsed = ids.parse_cell_id(record.cell_id or "")
        if parsed is not None and matches(parsed, group):
            found += [name for name, on in _FLAGS.items() if on(record) and name not in found]
    return found


def cells_for(manifest: Mapping, asks: Sequence[Ask]) -> list[tuple[Cell, Ask]]:
    """New cells for ``asks``: each group's next repeat indices, interleaved (every group
    once, then again) as the plan interleaves repeats; a group asked twice gets the larger
    count once; open-loop cells last (their capacity comes from closed-loop cells)."""
    wanted: dict[str, tuple[Cell, int, Ask]] = {}
    for ask in asks:
        for group, count in zip(ask.groups, ask.repeats):
            rows = planned(manifest, group)
            if not rows:
                continue
            last = max(rows, key=lambda row: int(row["repeat"]))
            template = sweep.cell_of(last)
            key = replace(template, repeat=0).id
            if key not in wanted or wanted[key][1] < count:
                wanted[key] = (template, count, wanted[key][2] if key in wanted else ask)
    found = [(replace(template, repeat=template.repeat + n), ask)
             for n in range(1, max((c for _, c, _ in wanted.values()), default=0) + 1)
             for template, count, ask in wanted.values() if n <= count]
    return sorted(found, key=lambda pair: bool(pair[0].rate))


def cost_s(manifest: Mapping, cells: Sequence[Cell]) -> float:
    """The plan's own estimate of measuring ``cells`` (their windows and overheads; the
    contract checks and the report are paid once, by the plan)."""
    if not cells:
        return 0.0
    timing = manifest.get("timing") or {}
    plan = Plan(str(manifest.get("profile", "")), "", float(timing.get("warmup_s") or 0.0),
                float(timing.get("duration_s") or 0.0), cells=list(cells))
    found = estimate(plan)
    return found.cells * found.per_cell_s


def run_extra(store: RunStore, asks: Sequence[Ask], limit_s: float, stop: threading.Event,
              out=sys.stderr, announce: Callable[[Round], None] | None = None) -> Round | None:
    """Add and measure the cells of ``asks``, in their order, as many whole asks as fit in
    ``limit_s`` by the plan's estimate; None when not one fits. The round is written to the
    manifest, charged its estimate, and given to ``announce`` before anything is measured
    (an interrupted round has spent it); once measured in one go it is charged the seconds
    it really took."""
    planned = add_round(store, asks, limit_s)
    if planned is None:
        return None
    if announce is not None:
        announce(planned)
    started = time.monotonic()
    sweep.run(store, stop, out, verify=False)
    return finish_round(store, None if stop.is_set() else time.monotonic() - started)


def add_round(store: RunStore, asks: Sequence[Ask], limit_s: float) -> Round | None:
    """Append the cells of as many whole asks as fit in ``limit_s`` to the matrix, and the
    round to the manifest, charged its estimate; None when not one fits."""
    manifest = store.manifest()
    taken: list[Ask] = []
    left_out: list[Ask] = []
    for ask in asks:
        if cost_s(manifest, [c for c, _ in cells_for(manifest, [*taken, ask])]) <= limit_s:
            taken.append(ask)
        else:
            left_out.append(ask)
    cells = cells_for(manifest, taken)
    if not cells:
        return None
    section = manifest["adapt"]
    number = len(section["rounds"]) + 1
    cost = cost_s(manifest, [c for c, _ in cells])
    manifest["matrix"] += [{"cell_id": cell.id, **vars(cell),
                            "added": {"round": number, "reason": ask.reason}}
                           for cell, ask in cells]
    section["rounds"].append({"round": number, "look": section["looks"],
                              "left_s": round(limit_s, 1), "estimate_s": round(cost, 1),
                              "spent_s": round(cost, 1), "complete": False,
                              "asked": [_ask_doc(ask) for ask in taken],
                              "left_out": [_ask_doc(ask) for ask in left_out],
                              "cells": [cell.id for cell, _ in cells]})
    section["spent_s"] = round(sum(r["spent_s"] for r in section["rounds"]), 1)
    store.write_manifest(manifest)
    return Round(number, [cell.id for cell, _ in cells], taken, left_out, cost, cost, False)


def finish_round(store: RunStore, took_s: float | None) -> Round:
    """The last round, charged ``took_s`` when it was measured in one go (None: it was
    interrupted, and stays charged its estimate)."""
    manifest = store.manifest()
    section = manifest["adapt"]
    entry = section["rounds"][-1]
    entry["complete"] = took_s is not None
    if took_s is not None:
        entry["spent_s"] = round(took_s, 1)
    section["spent_s"] = round(sum(r["spent_s"] for r in section["rounds"]), 1)
    store.write_manifest(manifest)
    return Round(entry["round"], entry["cells"], [], [], entry["estimate_s"], entry["spent_s"],
                 entry["complete"])


def _ask_doc(ask: Ask) -> dict:
    return {"reason": ask.reason,
            "groups": [plain(group) for group in ask.groups],
            "repeats": list(ask.repeats)}
