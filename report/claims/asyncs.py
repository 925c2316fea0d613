"""Async/await serves thousands of concurrent connections without the overhead of OS
threads: judged on the connection sweep (open loop, many connections held open, one modest
total rate) when the run has one, else on the I/O workload's closed loop.

On the sweep, at each connection count: which lines (async, threads) held the rate within
the SLO, their memory and threads per connection, and the count where each first failed.
The verdict rests on a count where both models have a clean line (not flagged): the most
connections with repeats on both sides, else, before any count is repeated, the fewest of
the article's thousands (``_carrying``), and says so: a flagged cell says nothing either
way, and one left out must not decide the claim. A thread line
held by a cap we set (its --workers below the connection count) is not a thread server
failing: such a side is left out, and with no uncapped thread line there the claim is not
judged. Where both held, memory decides (RSS over the repeats); where one held, the
answered rate does.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .. import connections, openloop
from ..analysis import PYTHON, Analysis
from ..findings import is_io
from . import stats
from .cells import identity, left_out, values
from .result import ClaimResult, Compared, Condition, LeftOut, Outcome, not_judged

CLAIM = "async"
SCOPE = "CPython"
# The fewest connections the article's "thousands" speaks of.
THOUSANDS = 1000


@dataclass(frozen=True)
class Line:
    """One sweep line at one connection count, as the sentence states it."""
    label: str
    model: str
    users: int
    held: bool
    capped: bool
    rps: float
    offered: float
    rss_mb: float
    threads: float
    why: str

    @property
    def kib_per_connection(self) -> float:
        return self.rss_mb * 1024 / self.users if self.users else math.nan

    @property
    def threads_per_connection(self) -> float:
        return self.threads / self.users if self.users else math.nan


def _open_values(an: Analysis, row: pd.Series | dict, column: str) -> list[float]:
    cells = an.run.open_cells
    mine = cells[cells["cell_id"].isin(set(row.get("cell_ids") or []))]
    return [float(v) for v in pd.to_numeric(mine[column], errors="coerce").dropna()]


def _python(an: Analysis, model: str) -> list[str]:
    return [s for s in an.order if an.ranked(s) and an.lang(s) == PYTHON and an.model.get(s) == model]


def _sweep(an: Analysis, looks: int) -> ClaimResult | None:
    sweep = openloop.sweep_rows(openloop.groups(an.run))
    if sweep.empty:
        return None
    present = set(sweep["strategy"])
    asyncs = [s for s in _python(an, "async") if s in present]
    threads = [s for s in _python(an, "threads") if s in present]
    slo = openloop.slo_ms(an.run, str(sweep["workload"].iloc[0]))
    found = connections.judge(sweep, slo, asyncs, threads)
    if found is None:
        return None
    sweep = sweep.assign(label=sweep.apply(connections.label, axis=1))
    lines: list[Line] = []
    out: list[LeftOut] = []
    flagged: set[tuple[str, int]] = set()
    for _, r in sweep[sweep["label"].isin(found.asyncs + found.threads)].iterrows():
        users = int(r["users"])
        if not r["usable"]:
            flagged.add(("async" if r["label"] in found.asyncs else "threads", users))
            out.append(LeftOut(f"{r['label']} at {users:,} connections",
                               connections.why_not(r, slo * 1000)))
            continue
        ok = connections.held(r, slo * 1000)
        lines.append(Line(str(r["label"]), "async" if r["label"] in found.asyncs else "threads",
                          users, ok, openloop.capped(r), float(r["rps"]), float(r["offered_rps"]),
                          float(r["rss_mb"]), float(r["server_threads"]),
                          "" if ok else connections.why_not(r, slo * 1000)))
    top = _judged_at(lines, flagged, found.decisive)
    repeats = {(str(r["label"]), int(r["users"])): len(_open_values(an, r, "rps"))
               for _, r in sweep.iterrows()}
    # Only our own cap holds the thread line at the top: judged (not judged) there, never below.
    held_by_cap = not any(x.users == top and x.model == "threads" and not x.capped for x in lines)
    at = top if held_by_cap else _carrying(lines, repeats, top)
    here = [x for x in lines if x.users == at]
    capped = [x for x in here if x.model == "threads" and x.capped]
    out += [LeftOut(f"{x.label} at {at:,} connections", "held by a thread cap we set, below "
                    "the connection count") for x in capped]
    sides = {m: [x for x in here if x.model == m and not x.capped] for m in ("async", "threads")}
    fair = Condition("no side held by a cap below the connection count", not capped or
                     bool(sides["threads"]),
                     ", ".join(f"{x.label} capped at {at:,}" for x in capped) or "none capped")
    detail: dict[str, Any] = {"lines": lines, "decisive": at, "workload": found.workload,
                              "rate": found.rate, "slo_ms": slo, "first_failed": _first_failed(lines)}
    if not sides["threads"] or not sides["async"]:
        why = ("every thread line at the most connections was held by a cap we set"
               if capped else "no line of one model was measured at the most connections")
        return ClaimResult(CLAIM, SCOPE, Outcome.NOT_JUDGED, why, conditions=(fair,),
                           left_out=tuple(out), detail=detail)
    rows = {str(r["label"]): r for _, r in sweep[sweep["users"] == at].iterrows()}
    a = _pick(sides["async"])
    t = _pick(sides["threads"])
    ra, rt = rows[a.label], rows[t.label]
    if a.held and t.held:  # memory decides
        est = stats.ratio(_open_values(an, ra, "rss_mb"), _open_values(an, rt, "rss_mb"), looks=looks)
        what = f"server memory at {at:,} connections, both holding ({a.label} against {t.label})"
        number = f"{a.kib_per_connection:.1f} vs {t.kib_per_connection:.1f} KiB per connection"
        if est.differs:
            outcome = Outcome.SUPPORTED if not est.above else Outcome.CONTRADICTED
        else:
            outcome = (Outcome.NO_DIFFERENCE if est.decision is stats.Decision.SAME
                       else Outcome.UNDECIDED)
        finding = {Outcome.SUPPORTED: "both held; async at less memory",
                   Outcome.CONTRADICTED: "both held; async at more memory",
                   Outcome.NO_DIFFERENCE: "both held, at the same memory",
                   Outcome.UNDECIDED: "both held; memory undecided"}[outcome]
    else:
        est = stats.ratio(_open_values(an, ra, "rps"), _open_values(an, rt, "rps"), looks=looks)
        what = f"the answered rate at {at:,} connections ({a.label} against {t.label})"
        number = f"{a.rps:,.0f} vs {t.rps:,.0f} of {a.offered:,.0f} req/s"
        if a.held != t.held:
            outcome = Outcome.SUPPORTED if a.held else Outcome.CONTRADICTED
            finding = f"{a.label if a.held else t.label} held where {t.label if a.held else a.label} did not"
        else:
            outcome, finding = Outcome.UNDECIDED, "neither held"
    compared = Compared(what, est, (identity(ra), identity(rt)))
    most = int(sweep["users"].max())
    how = ("the most connections both models ran clean with 2+ repeats a side"
           if min(repeats.get((a.label, at), 0), repeats.get((t.label, at), 0)) >= 2 else
           "no clean count repeated yet: the fewest of the article's thousands both ran clean"
           if at >= THOUSANDS else "the most connections both models ran clean")
    above = ("" if at == most else f"; at {most:,}: a side was left out, see below" if top < most
             else f"; {most:,} and any count between are shown, with fewer repeats")
    where = Condition("judged at a connection count named beforehand", True,
                      f"{at:,}: {how}{above}")
    return ClaimResult(CLAIM, SCOPE, outcome, finding, what, est, number,
                       (fair, where, Condition("same offered load", True,
                                               f"{found.rate} req/s in total")),
                       tuple(out), (compared,), detail=detail)


def _judged_at(lines: list[Line], flagged: set[tuple[str, int]], most: int) -> int:
    """The most connections at which each model has a clean, uncapped line, stepping down
    only past counts where a model's line was flagged (``flagged``: model and count): a
    flagged cell says nothing either way. A count where a cap we set holds the thread line
    is where the claim stops (not judged): stepping below it would hide our own cap."""
    for users in sorted({x.users for x in lines} | {u for _, u in flagged}, reverse=True):
        if users > most:
            continue
        missing = [m for m in ("async", "threads")
                   if not any(x.users == users and x.model == m and not x.capped for x in lines)]
        if not missing:
            return users
        if not all((m, users) in flagged for m in missing):
            return users
    return most


def _carrying(lines: list[Line], repeats: dict[tuple[str, int], int], top: int) -> int:
    """The count that carries the verdict, up to ``top`` and among those where each model
    has a clean, uncapped line: the most connections with 2+ repeats on both carrying lines
    (a count with one repeat a side decides nothing), else one named before any data, the
    fewest of the article's thousands (its cells are the cheapest to repeat), else ``top``.
    So two runs judge at the same count whether or not their top count came out clean."""
    both: dict[int, int] = {}
    for users in sorted({x.users for x in lines if x.users <= top}):
        sides = [[x for x in lines if x.users == users and x.model == m and not x.capped]
                 for m in ("async", "threads")]
        if all(sides):
            both[users] = min(repeats.get((_pick(side).label, users), 0) for side in sides)
    repeated = [u for u, n in both.items() if n >= 2]
    named = [u for u in both if u >= THOUSANDS]
    return max(repeated) if repeated else min(named) if named else top


def _pick(side: list[Line]) -> Line:
    """The line that carries a side: one that held (the lightest), else the fastest."""
    held = [x for x in side if x.held]
    return min(held, key=lambda x: x.rss_mb) if held else max(side, key=lambda x: x.rps)


def _first_failed(lines: list[Line]) -> dict[str, int | None]:
    found: dict[str, int | None] = {}
    for x in sorted(lines, key=lambda x: x.users):
        found.setdefault(x.label, None)
        if not x.held and found[x.label] is None and not x.capped:
            found[x.label] = x.users
    return found


def _closed(an: Analysis, looks: int) -> ClaimResult:
    candidates = [w for w in an.workloads if is_io(an, w)]
    asyncs, threads = _python(an, "async"), _python(an, "threads")
    if not candidates or not asyncs or not threads:
        return not_judged(CLAIM, SCOPE, "no I/O workload with both an async and a thread strategy")
    workload = "io" if "io" in candidates else candidates[0]
    g = an.groups[(an.groups["workload"] == workload) & an.groups["rps"].notna()]
    users = int(g["users"].max())
    at = g[g["users"] == users]
    out: list[LeftOut] = []
    conditions: list[Condition] = []
    for cores in sorted(int(c) for c in at["cores"].unique()):
        here = at[at["cores"] == cores]
        sides = []
        for names in (asyncs, threads):
            mine = here[here["strategy"].isin(names)]
            dirty = [x for x in map(left_out, (r for _, r in mine.iterrows())) if x is not None]
            out += dirty
            clean = mine[[left_out(r) is None for _, r in mine.iterrows()]]
            sides.append(clean.sort_values("rps").tail(1))
        if any(s.empty for s in sides):
            continue
        a, t = sides[0].iloc[0], sides[1].iloc[0]
        caps = values(an, t, "connection_cap")  # as its cells recorded their server's cap
        cap = min(caps) if caps else None
        if cap is not None and cap < users:
            conditions.append(Condition("no side held by a cap below the connection count", False,
                                        f"{t['strategy']} serves {int(cap)} of {users} connections"))
            out.append(LeftOut(f"{t['strategy']}, {workload}, {cores} cores", "thread cap below "
                               "the connection count"))
            continue
        est = stats.ratio(values(an, a), values(an, t), looks=looks)
        outcome = (Outcome.SUPPORTED if est.differs and est.above else
                   Outcome.CONTRADICTED if est.differs else
                   Outcome.NO_DIFFERENCE if est.decision is stats.Decision.SAME else Outcome.UNDECIDED)
        what = f"throughput on {workload} at {users} users, {cores} cores ({a['strategy']} against {t['strategy']})"
        return ClaimResult(CLAIM, SCOPE, outcome, f"async at {est.effect:.2f}× the throughput",
                           what, est, f"{a['rps']:,.0f} vs {t['rps']:,.0f} req/s, "
                           f"{a['rss_mb']:.0f} vs {t['rss_mb']:.0f} MiB",
                           tuple(conditions) + (Condition("same offered load", True,
                                                          f"{users} users, closed loop"),),
                           tuple(out), (Compared(what, est, (identity(a), identity(t))),))
    return not_judged(CLAIM, SCOPE, "no core count with clean, uncapped cells on both sides",
                      tuple(conditions), tuple(out))


def results(an: Analysis, looks: int = 1) -> list[ClaimResult]:
    return [_sweep(an, looks) or _closed(an, looks)]
