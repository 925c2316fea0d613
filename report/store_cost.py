"""What sharing through an external store costs, as typed results: for each workload and
core count where a store strategy ran, its req/s and p99 against the fastest in-process
process strategy there and against the global lock across processes, each an effect with
its interval by the one rule (report/claims/stats.py), and whether the store itself was
the limit.

Who is compared is read from declared traits, never from names: a store strategy declares
the discipline STORE (redis-mp); its rivals are the ranked strategies of its language and
execution model (processes) whose state lives in their own processes (stateful, any other
discipline), and the global lock is the one among them whose discipline is LOCK. The
fastest is chosen by its clean cells' median req/s at those cores.

Only clean cells enter a comparison: a cell flagged with a disqualifying flag (schema
DISQUALIFYING: load generator bound, errors, busy machine) or failed is left out and
counted, never read as no change. Bonferroni over every comparison stated (each workload,
core count and rival), for req/s and p99 alike, and over the run's looks.

The store runs its commands on one thread: when its own CPU over the window (`store_cpu`,
in cores) reaches STORE_BOUND, the store, not the workers, set the rate.
"""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

import numpy as np
import pandas as pd

from results.schema import DISQUALIFYING

from .analysis import Analysis, looks_of
from .claims import stats
from .claims.result import LeftOut

STORE = "external-store"   # the discipline a strategy sharing through Redis declares
LOCK = "global-lock"       # the global lock's discipline, in every model
STORE_BOUND = 0.9          # cores of store CPU: its one command thread is full
FASTEST, GLOBAL_LOCK = "fastest", "global lock"


@dataclass(frozen=True)
class StoreCost:
    """One store strategy against one rival at one workload and core count."""
    store: str
    workload: str
    cores: int
    rival: str
    roles: tuple[str, ...]      # FASTEST, GLOBAL_LOCK or both: why this rival was chosen
    rps: stats.Estimate         # store req/s / rival req/s: below 1, the store is slower
    p99: stats.Estimate         # store p99 / rival p99: above 1, its tail is longer
    repeats: tuple[int, int]    # clean cells compared: the store's, the rival's
    left_out: tuple[LeftOut, ...]
    store_cpu: float | None     # the store's own CPU, cores (median of its clean cells)
    store_bound: bool           # store_cpu ≥ STORE_BOUND: the store was the limit


def stores(an: Analysis) -> list[str]:
    return [s for s in an.order if an.discipline(s) == STORE and an.ranked(s)]


def rivals(an: Analysis, store: str) -> list[str]:
    return [s for s in an.order if an.ranked(s) and s != store
            and an.model.get(s) == an.model.get(store) and an.lang(s) == an.lang(store)
            and an.discipline(s) != STORE and an.traits.get(s, {}).get("stateful", True)]


@dataclass(frozen=True)
class _Side:
    strategy: str
    cells: pd.DataFrame          # the clean ok cells
    left_out: tuple[LeftOut, ...]

    def values(self, column: str) -> list[float]:
        if column not in self.cells:
            return []
        return [float(v) for v in pd.to_numeric(self.cells[column], errors="coerce").dropna()]

    @property
    def rate(self) -> float:
        found = self.values("rps")
        return statistics.median(found) if found else math.nan


def _true(value: object) -> bool:
    return isinstance(value, (bool, np.bool_)) and bool(value)


def _why(cell: pd.Series) -> str:
    """The disqualifying flags of one cell ('' when clean)."""
    errors = pd.to_numeric(pd.Series([cell.get("errors")]), errors="coerce").fillna(0).iloc[0]
    found = {"loadgen_bound": _true(cell.get("loadgen_bound")), "errors": errors > 0,
             "busy_machine": _true(cell.get("busy_machine"))}
    return ", ".join(name for name in DISQUALIFYING if found.get(name))


def _side(an: Analysis, row: pd.Series) -> _Side:
    cells = an.run.cells
    mine = cells[cells["cell_id"].isin(set(row.get("cell_ids") or []))
                 & (cells["status"] == "ok")]
    whys = [_why(cell) for _, cell in mine.iterrows()]
    out = [LeftOut(str(cell["cell_id"]), why) for (_, cell), why in zip(mine.iterrows(), whys)
           if why]
    failed = int(row.get("failed") or 0)
    if failed:
        out.append(LeftOut(f"{row['strategy']}, {row['workload']}, {int(row['cores'])} cores: "
                           f"{failed} cell{'s' if failed != 1 else ''}", "failed"))
    return _Side(str(row["strategy"]), mine[[not w for w in whys]], tuple(out))


def _sides(an: Analysis, workload: str, strategies: list[str]) -> dict[tuple[str, int], _Side]:
    rows = an.at_ref(workload)
    rows = rows[rows["strategy"].isin(strategies)]
    return {(str(r["strategy"]), int(r["cores"])): _side(an, r) for _, r in rows.iterrows()}


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 3) if values else None


def costs(an: Analysis, looks: int | None = None) -> list[StoreCost]:
    """Every comparison, by workload, store, core count and rival (the fastest first);
    none when no store strategy ran."""
    looks = looks_of(an) if looks is None else looks
    plans = []
    for workload in an.workloads:
        for store in stores(an):
            others = rivals(an, store)
            sides = _sides(an, workload, [store, *others])
            for (name, cores), mine in sorted(sides.items(), key=lambda kv: kv[0][1]):
                if name != store:
                    continue
                there = [sides[(s, cores)] for s in others if (s, cores) in sides]
                there = [s for s in there if len(s.cells)]
                if not there or not len(mine.cells):
                    continue
                fastest = max(there, key=lambda s: s.rate)
                locks = [s for s in there if an.discipline(s.strategy) == LOCK]
                chosen: list[tuple[_Side, tuple[str, ...]]] = [(fastest, (FASTEST,))]
                if locks:
                    lock = max(locks, key=lambda s: s.rate)
                    if lock is fastest:
                        chosen = [(fastest, (FASTEST, GLOBAL_LOCK))]
                    else:
                        chosen.append((lock, (GLOBAL_LOCK,)))
                plans += [(workload, store, cores, mine, rival, roles) for rival, roles in chosen]
    found = []
    for workload, store, cores, mine, rival, roles in plans:
        rule = {"comparisons": len(plans), "looks": looks}
        cpu = _median(mine.values("store_cpu"))
        found.append(StoreCost(
            store, workload, cores, rival.strategy, roles,
            stats.ratio(mine.values("rps"), rival.values("rps"), **rule),
            stats.ratio(mine.values("p99_us"), rival.values("p99_us"), **rule),
            (len(mine.cells), len(rival.cells)), mine.left_out + rival.left_out, cpu,
            cpu is not None and cpu >= STORE_BOUND))
    return found
