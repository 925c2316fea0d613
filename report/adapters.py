"""Judgements for the GC and async claims, read beside their bodies rather than from inside
them. The async claim keeps its own record of the connection sweep (claims.Claim.sweep, a
connections.SweepJudgement: which lines held at each count, costs per connection); this turns
it into the report's judgement (the comparison that carries the verdict, its effect and
spread). The GC claim's body is being rewritten on its own (a live-heap axis), so it gets
a thin adapter that takes its verdict as given and finds the comparison that carries it in
the same numbers.
"""
from __future__ import annotations

import math
from typing import Any

import pandas as pd

from . import connections, openloop
from .analysis import PYTHON, Analysis
from .judgement import Judgement, not_judged, relative_range, widest
from .style import ms, num, ratio


def _not_measured(verdict: str) -> bool:
    return verdict.startswith("not measured")


def gc_judgement(claim: Any) -> Judgement:
    """The tail (p99.9) with the collector on against the tail without one, from the claim's
    comparisons per live heap (claim.tails, report/gc_judgement.py): where the pauses exceed
    the tail, the smallest heap at which they do; otherwise the largest heap judged."""
    what = "p99.9 with the collector on against the tail without one"
    tails = claim.tails
    if _not_measured(claim.verdict) or not tails:
        return not_judged(claim.verdict, what)
    on = [c for c in tails["comparisons"] if c["at"].get("collector") == "on" and c["judged"]]
    if not on:
        return not_judged(claim.verdict, what)
    if tails["finding"] == "exceeds" and tails.get("at"):
        heap = tails["at"].get("live_objects")
        carrying = next((c for c in on if c["at"].get("live_objects") == heap), on[-1])
    else:
        carrying = max(on, key=lambda c: c["at"].get("live_objects") or 0)
    a, b = carrying["a"], carrying["b"]
    spread = widest(relative_range(side["low"], side["high"], side["median"], side["repeats"])
                    for side in (a, b))
    heap = carrying["at"].get("live_objects") or 0
    return Judgement(claim.verdict, f"{what} ({a['label']} against {b['label']}, "
                     f"{num(heap)} live objects)",
                     f"p99.9 {ms(a['median'])} ms on vs {ms(b['median'])} ms without",
                     a["median"] / b["median"] if b["median"] else math.nan, spread,
                     int(min(a["repeats"], b["repeats"])), bool(carrying["exceeds"]),
                     len(tails.get("left_out") or []))


def _open_spread(an: Analysis, row: pd.Series) -> float:
    """The relative range of one open-loop group's answered rate over its usable repeats."""
    cells = an.run.open_cells
    mine = cells[cells["cell_id"].isin(row["cell_ids"])]["rps"].dropna()
    if len(mine) < 2:
        return math.nan
    return relative_range(mine.min(), mine.max(), mine.median(), len(mine))


def async_judgement(an: Analysis, claim: Any) -> Judgement:
    """Async against the thread strategies: from the connection sweep's own judgement
    (claim.sweep, report/connections.py) when the claim was judged there, else throughput
    on the I/O workload."""
    what = "async against the best thread strategy"
    if _not_measured(claim.verdict):
        return not_judged(claim.verdict, what)
    if isinstance(claim.sweep, connections.SweepJudgement):
        return _from_sweep(an, claim.sweep)
    asyncs = [s for s in an.order if an.model.get(s) == "async" and an.ranked(s) and an.lang(s) == PYTHON]
    threads = [s for s in an.order if an.model.get(s) == "threads" and an.ranked(s)
               and an.lang(s) == PYTHON]
    return _closed_async(an, claim.verdict, asyncs, threads)


def _from_sweep(an: Analysis, found: connections.SweepJudgement) -> Judgement:
    """At the decisive connection count: where async and a thread line both held, memory per
    connection decided (their fitted KiB, a slope: no spread over repeats); otherwise one held
    and the other did not, and the answered rate (or, rate kept, the p99) carries it."""
    sweep = openloop.sweep_rows(openloop.groups(an.run))
    sweep = sweep.assign(label=sweep.apply(connections.label, axis=1))
    rows = {r["label"]: r for _, r in sweep[(sweep["users"] == found.decisive)
                                            & (sweep["usable"] > 0)].iterrows()}
    held = found.held.get(found.decisive, [])
    cost = {c.label: c.kib_per_connection for c in found.costs}

    def pick(lines: list[str]) -> str | None:
        """The line that carries a side: one that held (the lightest), else the fastest."""
        ok = [n for n in lines if n in held] or [n for n in lines if n in rows]
        if not ok:
            return None
        return min(ok, key=lambda n: cost.get(n, math.inf) if n in held else -rows[n]["rps"])
    a, t = pick(found.asyncs), pick(found.threads)
    where = (f"{num(found.decisive)} connections held open ({found.workload}, {found.rate} req/s "
             f"in total, paced by {found.engine}, p99 SLO {found.slo_ms:g} ms)")
    if a is None or t is None:
        return Judgement(found.verdict, f"async and thread strategies at {where}", found.why,
                         math.nan, math.nan, found.repeats, False, len(found.left_out))
    ra, rt = rows[a], rows[t]
    if a in held and t in held:  # memory per connection decided
        ka, kt = cost.get(a, math.nan), cost.get(t, math.nan)
        return Judgement(found.verdict, f"memory per open connection, both holding at {where}",
                         f"{ka:.1f} vs {kt:.1f} KiB per connection ({a} vs {t})",
                         ka / kt if kt else math.nan, math.nan, found.repeats,
                         found.verdict == "supported", len(found.left_out))
    kept = [r["rps"] >= openloop.SUSTAINED * r["offered_rps"] for r in (ra, rt)]
    if all(kept):  # both answered the rate: the SLO (p99) told them apart
        effect = ra["p99_us"] / rt["p99_us"] if rt["p99_us"] else math.nan
        spread = widest(relative_range(r["p99_min"], r["p99_max"], r["p99_us"], r["usable"])
                        for r in (ra, rt))
    else:
        effect = ra["rps"] / rt["rps"] if rt["rps"] else math.nan
        spread = widest(_open_spread(an, r) for r in (ra, rt))
    said = {n: "held" if n in held else "did not" for n in (a, t)}
    return Judgement(found.verdict, f"which held the rate within the SLO at {where}",
                     f"{a} {said[a]}, {t} {said[t]}: {num(ra['rps'])} vs {num(rt['rps'])} of "
                     f"{num(ra['offered_rps'])} req/s, p99 {ms(ra['p99_us'])} vs {ms(rt['p99_us'])} ms",
                     effect, spread, found.repeats, (a in held) != (t in held), len(found.left_out))


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
