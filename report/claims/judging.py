"""Every claim judged, in the claims' order: one list of results, for the report, claims.json,
`sharebench compare` and the adaptive-repeats runner alike."""
from __future__ import annotations

from dataclasses import replace

from ..analysis import Analysis, looks_of
from . import asyncs, discipline, gc, races, stateless
from .cells import shared_cpu
from .result import ClaimResult, Outcome

# What an undecided row says when the cells it rests on share a CPU with the load generator.
SHARED = "S: its cells share a CPU with the load generator on this machine, a flag no repeat cures"


def judge(an: Analysis, looks: int | None = None) -> list[ClaimResult]:
    """``looks``: how many looks the rule pays for (its correction for optional stopping,
    stats.py); by default the run's own bound (analysis.looks_of)."""
    looks = looks_of(an) if looks is None else looks
    found = (discipline.results(an, looks) + races.results(an, looks) + asyncs.results(an, looks)
             + gc.results(an, looks) + stateless.results(an, looks))
    return [_uncured(an, r) for r in found]


def _uncured(an: Analysis, result: ClaimResult) -> ClaimResult:
    """An undecided result names the flag its carrying comparison's cells carry that no
    repeat cures (a flagged cell that repeats could cure is left out before any comparison)."""
    if result.outcome is not Outcome.UNDECIDED:
        return result
    carrying = [c for c in result.comparisons if c.what == result.compared]
    if carrying and shared_cpu(an, carrying[0].groups):
        return replace(result, uncured=SHARED)
    return result
