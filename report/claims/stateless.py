"""Stateless handlers scale more easily than shared state: the stateless ceiling's
throughput against the safe strategies' of the same language and execution model (their
geometric mean: shared state as its disciplines hold it, with no best one picked after
the fact), at the most cores both were measured at. A ceiling in another model would
measure the model, not the state: a model with no ceiling of its own is not judged.

The workload with the most repeats decides (cells.deciding), the others are shown beside
it; one rule both ways: ahead beyond the band, supported; behind it, contradicted; inside
it, no difference; otherwise undecided.
"""
from __future__ import annotations

from ..analysis import Analysis
from . import stats
from .cells import at_cores, common_cores, deciding, identity, left_out, values
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
        out += [x for x in [left_out(top), *map(left_out, found)] if x is not None]
        clean = [r for r in found if left_out(r) is None]
        if left_out(top) is not None or not clean:
            continue
        planned.append((workload, top, clean))
    conditions = [Condition("same execution model", True, f"{ceiling} against {model} strategies"),
                  Condition("same core counts", True, "each workload at the most cores both ran"),
                  Condition("enough clean cells", bool(planned),
                            f"{len(planned)} workloads with clean cells on both sides")]
    if not planned:
        return not_judged(CLAIM, scope, "no workload with clean cells on both sides",
                          tuple(conditions), tuple(out))
    decider = deciding(an, [w for w, _, _ in planned], [ceiling, *rivals])
    compared = []
    for workload, top, clean in planned:
        terms: list[tuple[list[float], float]] = [(values(an, top), 1.0)]
        terms += [(values(an, r), -1.0 / len(clean)) for r in clean]
        names = ", ".join(str(r["strategy"]) for r in clean)
        compared.append(Compared(
            f"{ceiling} against {names} ({workload}, {int(top['cores'])} cores)",
            stats.contrast(terms, looks=looks), (identity(top), *map(identity, clean)),
            deciding=workload == decider))
    carrying = next(c for c in compared if c.deciding)
    e = carrying.estimate
    if e.differs:
        outcome = Outcome.SUPPORTED if e.above else Outcome.CONTRADICTED
        finding = f"{ceiling} {'ahead' if e.above else 'behind'}"
    elif e.decision is stats.Decision.SAME:
        outcome, finding = Outcome.NO_DIFFERENCE, "inside the band"
    else:
        outcome = Outcome.UNDECIDED
        finding = "one repeat a side: no interval" if e.interval is None else "the interval is too wide"
    return ClaimResult(CLAIM, scope, outcome, finding, carrying.what, e,
                       f"{e.effect:.2f}× the throughput", tuple(conditions), tuple(out),
                       tuple(compared))


def results(an: Analysis, looks: int = 1) -> list[ClaimResult]:
    if not any(an.safety.get(s) == "no-state" for s in an.order):
        return [not_judged(CLAIM, "", "no stateless strategy ran")]
    return [judge(an, language, model, looks) for language, model in _scopes(an)]


__all__ = ["CLAIM", "judge", "results"]
