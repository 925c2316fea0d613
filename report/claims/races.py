"""Data races are the cost of unsynchronised sharing; Rust rejects them at compile time:
judged per language from updates lost, an exact count. The strategies that can lose one
are those declared unsafe and those the preemption stress check caught racing; a language
none of whose cells could have lost an update is not judged.

Safe Rust rules out data races (undefined behaviour), not race conditions: a read, a hold
and a write back with no compare-and-swap loses updates without a data race. A Rust
strategy that loses updates shows the latter, and the sentence says so.

The share lost is of the increments acknowledged, over the cells that acknowledged any: a
cell that moves a conserved sum (transfer) and lets it drift has lost updates too, and
counts towards the verdict, but it acknowledged no increment, so its drift is stated beside
the share, never inside it.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

import pandas as pd

from ..analysis import PYTHON, Analysis, correctness, stress_races
from . import stats
from .discipline import scope_name
from .result import ClaimResult, Condition, LeftOut, Outcome, not_judged

CLAIM = "races"


def _stress(an: Analysis, language: str) -> dict[str, dict[str, Any]]:
    return {n: e for n, e in stress_races(an.run.manifest).items() if an.lang(n) == language}


def judge(an: Analysis, language: str) -> ClaimResult:
    scope = scope_name(language)
    table = correctness(an)
    mine = table[table["strategy"].map(an.lang) == language]
    unsafe = mine[mine["safety"] == "unsafe"]
    safe = mine[mine["safety"] == "safe"]
    stress = _stress(an, language)
    judged = {n: e for n, e in stress.items() if not e.get("error")}
    raced = {n: e for n, e in judged.items() if e.get("races") is True}
    cells = int(unsafe["checked"].sum())
    checks = cells + len(judged)
    out = tuple(LeftOut(f"{n}, stress check", str(e.get("error")).splitlines()[0][:120])
                for n, e in stress.items() if e.get("error"))
    if checks == 0:
        return not_judged(CLAIM, scope, "no cell could have lost an update (no unsafe strategy "
                          "checked, no stress check)",
                          (Condition("a cell that could lose an update", False, "none ran"),), out)
    lost, acked = float(unsafe["lost"].sum()), float(unsafe["acked"].sum())
    where = "in the benchmark cells"
    if lost == 0 and raced:
        lost = float(sum(e.get("lost") or 0 for e in raced.values()))
        acked = float(sum(e.get("acked") or 0 for e in raced.values()))
        where = "under the preemption stress check"
    estimate = stats.count(lost, acked, checks)
    number = f"lost {lost:,.0f} of {acked:,.0f}"
    if where == "in the benchmark cells":
        lost_incr, acked_incr = _increments(an, list(unsafe["strategy"]))
        drift = lost - lost_incr
        if drift > 0 and acked_incr > 0:
            share = lost_incr / acked_incr
            estimate = replace(estimate, effect=share, low=share, high=share)
            number = (f"lost {lost_incr:,.0f} of {acked_incr:,.0f} increments; a conserved sum "
                      f"drifted by {drift:,.0f} in cells that acknowledged none")
    conditions = (Condition("a cell that could lose an update", True,
                            f"{cells} checked cells of unsafe strategies, {len(judged)} stress checks"),)
    safe_lost = float(safe["lost"].sum())
    if lost > 0:
        finding = ("unsynchronised sharing lost updates" if language == PYTHON else
                   "updates lost to a race condition, which safe Rust allows: it rules out "
                   "data races, not lost updates" if language == "rust" else
                   "unsynchronised sharing lost updates")
        outcome = Outcome.SUPPORTED
    else:
        finding, outcome = "no update lost", Outcome.NO_DIFFERENCE
    return ClaimResult(CLAIM, scope, outcome, finding,
                       f"updates lost {where} ({cells} checked cells, {len(judged)} stress checks)",
                       estimate, number, conditions, out, (),
                       effect_name="share",
                       detail={"raced": sorted(raced), "safe_lost": safe_lost,
                               "unsafe": sorted(unsafe["strategy"]), "racy": sorted(an.racy)})


def _increments(an: Analysis, strategies: list[str]) -> tuple[float, float]:
    """(updates lost, increments acknowledged) over the cells of ``strategies`` that
    acknowledged any increment."""
    cells = an.run.cells
    mine = cells[cells["strategy"].isin(strategies) & (cells["status"] == "ok")]
    if "acked_incr" not in mine or "lost_updates" not in mine:
        return 0.0, 0.0
    acked = pd.to_numeric(mine["acked_incr"], errors="coerce").fillna(0)
    lost = pd.to_numeric(mine["lost_updates"], errors="coerce").fillna(0)
    return float(lost[acked > 0].sum()), float(acked[acked > 0].sum())


def results(an: Analysis, looks: int = 1) -> list[ClaimResult]:
    """One per language with a stateful strategy (an exact count: ``looks`` does not apply)."""
    table = correctness(an)
    languages = [lang for lang in an.languages()
                 if (table["strategy"].map(an.lang) == lang).any()]
    return [judge(an, lang) for lang in languages]
