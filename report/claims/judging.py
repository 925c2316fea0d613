"""Every claim judged, in the claims' order: one list of results, for the report, claims.json,
`sharebench compare` and the adaptive-repeats runner alike."""
from __future__ import annotations

from ..analysis import Analysis
from . import asyncs, discipline, gc, races, stateless
from .result import ClaimResult


def judge(an: Analysis, looks: int = 1) -> list[ClaimResult]:
    """``looks``: how many times this run has been analysed as its repeats arrived (the
    rule's correction for optional stopping, stats.py)."""
    return (discipline.results(an, looks) + races.results(an, looks) + asyncs.results(an, looks)
            + gc.results(an, looks) + stateless.results(an, looks))
