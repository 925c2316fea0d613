"""Judgements for the GC and async claims, read beside their bodies rather than from inside
them: those bodies (claims.claim_gc, claims.claim_async) are being rewritten on their own
(a live-heap axis; a 10,000-connection sweep), so each gets a thin adapter here that takes
its verdict as given and finds the comparison that carries it in the same numbers.
"""
from __future__ import annotations

import math
from typing import Any

import pandas as pd

from . import gc, openloop
from .analysis import PYTHON, Analysis
from .judgement import Judgement, not_judged, relative_range, widest
from .style import ms, num, ratio


def _not_measured(verdict: str) -> bool:
    return verdict.startswith("not measured")


def gc_judgement(an: Analysis, verdict: str) -> Judgement:
    """The tail (p99.9) with the collector on against off (else frozen), same strategy,
    workload and offered rate; the pair with the widest measurable gap carries it."""
    what = "p99.9 with the collector on against off"
    if _not_measured(verdict):
        return not_judged(verdict, what)
    frame = gc.cells(an.run)
    sets = gc.mode_sets(gc.groups(frame))
    pairs = [(found, other) for other in ("off", "freeze") for found in sets
             if "default" in found.by_mode and other in found.by_mode]
    if not pairs:
        return not_judged(verdict, what)
    preferred = [p for p in pairs if p[1] == "off"] or pairs

    def gap(pair) -> tuple[bool, float]:
        on, other = pair[0].by_mode["default"], pair[0].by_mode[pair[1]]
        apart = gc.apart(on, other, "p999_us") or gc.apart(on, other, "max_us")
        return apart, abs(math.log(on["p999_us"] / other["p999_us"])) if other["p999_us"] else 0.0
    found, other = max(preferred, key=gap)
    on, row = found.by_mode["default"], found.by_mode[other]
    spread = widest(relative_range(r["p999_us_min"], r["p999_us_max"], r["p999_us"], r["repeats"])
                    for r in (on, row))
    return Judgement(verdict, f"p99.9 with the collector on against {gc.MODE_TEXT[other]} "
                     f"({found.strategy}, {found.rate} req/s offered)",
                     f"p99.9 {ms(on['p999_us'])} ms on vs {ms(row['p999_us'])} ms {gc.MODE_TEXT[other]}",
                     on["p999_us"] / row["p999_us"] if row["p999_us"] else math.nan, spread,
                     int(min(on["repeats"], row["repeats"])), gap((found, other))[0],
                     int(frame.attrs.get("left_out", 0)))


def _open_spread(an: Analysis, row: pd.Series) -> float:
    """The relative range of one open-loop group's answered rate over its usable repeats."""
    cells = an.run.open_cells
    mine = cells[cells["cell_id"].isin(row["cell_ids"])]["rps"].dropna()
    if len(mine) < 2:
        return math.nan
    return relative_range(mine.min(), mine.max(), mine.median(), len(mine))


def async_judgement(an: Analysis, verdict: str) -> Judgement:
    """Async against the best thread strategy: answered rate at the most connections of the
    connection sweep where Locust kept up for async, else throughput on the I/O workload."""
    what = "async against the best thread strategy"
    if _not_measured(verdict):
        return not_judged(verdict, what)
    asyncs = [s for s in an.order if an.model.get(s) == "async" and an.ranked(s) and an.lang(s) == PYTHON]
    threads = [s for s in an.order if an.model.get(s) == "threads" and an.ranked(s)
               and an.lang(s) == PYTHON]
    sweep = openloop.sweep_rows(openloop.groups(an.run))
    if not sweep.empty and asyncs and threads:
        usable = sweep[sweep["usable"] > 0]
        mine = usable[usable["strategy"] == asyncs[0]]
        if not mine.empty:
            most = int(mine["users"].max())
            a = mine[mine["users"] == most].iloc[0]
            rivals = usable[(usable["users"] == most) & usable["strategy"].isin(threads)]
            if not rivals.empty:
                t = rivals.loc[rivals["rps"].idxmax()]
                return Judgement(
                    verdict, f"answered rate at {num(most)} connections, open loop at "
                    f"{a['rate']} req/s ({a['strategy']} against {t['strategy']})",
                    f"{num(a['rps'])} vs {num(t['rps'])} req/s answered, p99 {ms(a['p99_us'])} vs "
                    f"{ms(t['p99_us'])} ms", a["rps"] / t["rps"] if t["rps"] else math.nan,
                    widest(_open_spread(an, r) for r in (a, t)), int(min(a["usable"], t["usable"])),
                    not verdict.startswith("no measurable"), int(a["lagging"] + t["lagging"]))
    return _closed_async(an, verdict, asyncs, threads)


def _closed_async(an: Analysis, verdict: str, asyncs: list[str], threads: list[str]) -> Judgement:
    """The closed-loop fallback: the I/O workload at its most users, fewest cores."""
    from .claims import io_workload  # claims imports this module: the helper is read late
    workload = io_workload(an)
    what = "async against the best thread strategy"
    if workload is None or not asyncs or not threads:
        return not_judged(verdict, what)
    g = an.groups[(an.groups["workload"] == workload) & an.groups["rps"].notna()]
    at = g[g["users"] == g["users"].max()]
    at = at[at["cores"] == at["cores"].min()]
    sides: list[Any] = [at[at["strategy"].isin(names)].sort_values("rps").tail(1) for names in (asyncs, threads)]
    if any(side.empty for side in sides):
        return not_judged(verdict, what)
    a, t = sides[0].iloc[0], sides[1].iloc[0]
    return Judgement(verdict, f"throughput on {workload} at {num(a['users'])} users ({a['strategy']} "
                     f"against {t['strategy']})", f"{ratio(a['rps'] / t['rps'])} the throughput, "
                     f"{ratio(a['rss_mb'] / t['rss_mb'])} the memory", a["rps"] / t["rps"],
                     widest(relative_range(r["rps_min"], r["rps_max"], r["rps"], r["ok"]) for r in (a, t)),
                     int(min(a["ok"], t["ok"])), not verdict.startswith("no measurable"))
