"""What more repeats could decide: the comparisons the rule left undecided whose deciding
would change a claim's outcome or strength (priority 0), or a what-to-use row (priority 1).
A comparison built from flagged cells is never here: those cells are left out before any
comparison, and repeats cannot cure a flag. For the adaptive-repeats runner: each group is
one side's cells without the repeat (results/ids.py KEY, plus workers and python where
set), so it can plan more repeats of exactly those cells."""
from __future__ import annotations

import math
from dataclasses import dataclass

from ..analysis import Analysis
from ..choices import choices
from . import stats
from .judging import judge
from .result import ClaimResult, Outcome


@dataclass(frozen=True)
class OpenQuestion:
    claim: str                              # a claim's id, or "what-to-use"
    scope: str
    what: str                               # the comparison in words
    priority: int                           # 0: a claim rests on it; 1: a what-to-use row
    groups: tuple[dict[str, object], ...]
    effect: float = math.nan                # the comparison's effect so far (a ratio)
    band: float = stats.BAND                # its equivalence band


def _matters(result: ClaimResult) -> bool:
    """Could an undecided comparison of this result, decided, change its outcome or strength?
    Not when the result is not judged (a failed condition, not too few repeats), nor when
    the discipline claim is supported already (one pair apart is enough, and more cannot
    change it)."""
    if result.outcome is Outcome.NOT_JUDGED:
        return False
    return not (result.claim == "discipline" and result.outcome is Outcome.SUPPORTED)


def open_questions(an: Analysis, results: list[ClaimResult] | None = None,
                   looks: int | None = None) -> list[OpenQuestion]:
    """The open comparisons, claims first (priority 0), then what-to-use rows (1)."""
    if results is None:
        results = judge(an, looks)
    found: list[OpenQuestion] = []
    for r in results:
        if not _matters(r):
            continue
        for c in r.comparisons:
            if c.estimate.decision is stats.Decision.UNDECIDED and c.groups and c.deciding:
                found.append(OpenQuestion(r.claim, r.scope, c.what, 0, c.groups,
                                          c.estimate.effect, c.estimate.band))
    for choice in choices(an, looks):
        for rival in choice.undecided:
            found.append(OpenQuestion("what-to-use", choice.language,
                                      f"{choice.leader} against {rival.strategy} "
                                      f"({choice.workload}, {choice.cores} cores)", 1,
                                      (choice.identity, rival.identity),
                                      choice.rps / rival.rps if rival.rps else math.nan))
    return found
