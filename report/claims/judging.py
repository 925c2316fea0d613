"""Every claim judged, in the claims' order: one list of results, for the report, claims.json,
`sharebench compare` and the adaptive-repeats runner alike."""
from __future__ import annotations

from ..analysis import Analysis, looks_of
from . import asyncs, discipline, gc, races, stateless
from .result import ClaimResult


def judge(an: Analysis, looks: int | None = None) -> list[ClaimResult]:
    """``looks``: how many looks the rule pays for (its correction for optional stopping,
    stats.py); by default the run's own bound (analysis.looks_of)."""
    looks = looks_of(an) if looks is None else looks
    return (discipline.results(an, looks) + races.results(an, looks) + asyncs.results(an, looks)
            + gc.results(an, looks) + stateless.results(an, looks))
