"""Stateless handlers scale more easily than shared state: the stateless ceiling's
throughput against the best safe strategy's, within one language and execution model
(a threaded ceiling against thread strategies, a process one against process variants),
at the most cores both were measured at, per workload. A ceiling in another model would
measure the model, not the state: a model with no ceiling of its own is not judged.

One rule both ways, over every workload (Bonferroni over every rival looked at): ahead
beyond the band somewhere and behind nowhere, supported; behind somewhere and ahead
nowhere, contradicted; inside the band everywhere, no difference; otherwise undecided.
"""
from __future__ import annotations

from ..analysis import Analysis
from . import stats
from .cells import at_cores, common_cores, identity, left_out, values
from .discipline import scope_name
from .result import ClaimResult, Compared, Condition, LeftOut, Outcome, not_judged

CLAIM = "stateless"


def _scopes(an: Analysis) -> list[tuple[str, str]]:
    found = []
    for s in an.order:
        if an.ranked(s) or an.safety.get(s) == "no-state":
            key = (an.lang(s), an.model.get(s, ""))
            if key not in found:
                found.append(key)
    return found


def judge(an: Analysis, language: str, model: str, looks: int = 1) -> ClaimResult:
    scope = f"{scope_name(language)} {model}"
    same = [s for s in an.order if an.lang(s) == language and an.model.get(s) == model]
    ceilings = [s for s in same if an.safety.get(s) == "no-state"]
    rivals = [s for s in same if an.ranked(s)]
    if not ceilings:
        return not_judged(CLAIM, scope, "no stateless ceiling ran in this execution model",
                          (Condition("same execution model", False,
                                     f"no {model} stateless strategy in {scope_name(language)}"),))
    if not rivals:
        return not_judged(CLAIM, scope, "no safe strategy in this execution model to compare",
                          (Condition("same execution model", False, "no rival"),))
    ceiling = ceilings[0]
    out: list[LeftOut] = []
    planned = []
    for workload in an.workloads:
        cores = [c for c in common_cores(an, workload, [ceiling])
                 if any(at_cores(an, workload, r, c) is not None for r in rivals)]
        if not cores:
            continue
        top = at_cores(an, workload, ceiling, cores[-1])
        assert top is not None
        found = [row for r in rivals if (row := at_cores(an, workload, r, cores[-1])) is not None]
        flagged = [x for x in [left_out(top), *map(left_out, found)] if x is not None]
        out += flagged
        clean = [r for r in found if left_out(r) is None]
        if left_out(top) is not None or not clean:
            continue
        planned.append((workload, top, max(clean, key=lambda r: r["rps"]), len(clean)))
    total = sum(n for *_, n in planned)
    conditions = [Condition("same execution model", True, f"{ceiling} against {model} strategies"),
                  Condition("same core counts", True, "each workload at the most cores both ran"),
                  Condition("enough clean cells", bool(planned),
                            f"{len(planned)} workloads with clean cells on both sides")]
    if not planned:
        return not_judged(CLAIM, scope, "no workload with clean cells on both sides",
                          tuple(conditions), tuple(out))
    compared = tuple(
        Compared(f"{ceiling} against {best['strategy']} ({workload}, {int(best['cores'])} cores)",
                 stats.ratio(values(an, top), values(an, best), comparisons=total, looks=looks),
                 (identity(top), identity(best)))
        for workload, top, best, _ in planned)
    ahead = [c for c in compared if c.estimate.differs and c.estimate.above]
    behind = [c for c in compared if c.estimate.differs and not c.estimate.above]
    if ahead and not behind:
        outcome, finding, pool = Outcome.SUPPORTED, f"{ceiling} ahead", ahead
    elif behind and not ahead:
        outcome, finding, pool = Outcome.CONTRADICTED, f"{ceiling} behind", behind
    elif all(c.estimate.decision is stats.Decision.SAME for c in compared):
        outcome, finding, pool = Outcome.NO_DIFFERENCE, "within the band everywhere", list(compared)
    else:
        outcome = Outcome.UNDECIDED
        finding = "ahead on one workload, behind on another" if ahead else "the intervals are too wide"
        pool = [c for c in compared if not c.estimate.differs] or list(compared)
    carrying = min(pool, key=lambda c: c.estimate.effect)  # the smallest lead carries it
    return ClaimResult(CLAIM, scope, outcome, finding, carrying.what, carrying.estimate,
                       f"{carrying.estimate.effect:.2f}× the throughput", tuple(conditions),
                       tuple(out), compared)


def results(an: Analysis, looks: int = 1) -> list[ClaimResult]:
    if not any(an.safety.get(s) == "no-state" for s in an.order):
        return [not_judged(CLAIM, "", "no stateless strategy ran")]
    return [judge(an, language, model, looks) for language, model in _scopes(an)]


__all__ = ["CLAIM", "judge", "results"]
