"""The sharing discipline (ownership, locks, message passing) decides how a server uses
multiple cores: judged per language from speedups at the core counts every compared
strategy shares.

Comparisons named beforehand: in each execution model (under an interpreter lock, one
process's disciplines share it; a process variant is another model), the speedup of the
claim's two ends (ENDS: the global lock against ownership, by the disciplines the
strategies declare) where both ran, and, where both ran, the process variants' pooled
speedup against the in-process ones' (over the two ends' strategies where both models have
them, so all three rest on the same cells), each over every workload both ran (the mean of the
log ratios of speedups; each workload's own is shown beside it and decides nothing). Every
other pair of disciplines is shown beside them and decides nothing; with no pair of the two
ends in any model, every pair decides. The deciding ones count towards the Bonferroni
correction. Any deciding pair that
differs: supported (the discipline decides). Else a model comparison that differs:
contradicted (the execution model decides, not the discipline). All inside the band: no
difference. Otherwise undecided.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import combinations

import pandas as pd

from ..analysis import PYTHON, Analysis
from . import stats
from .cells import at_cores, contention, cpu_allows, identity, left_out, rows_of, values
from .result import ClaimResult, Compared, Condition, LeftOut, Outcome, not_judged

CLAIM = "discipline"
# The claim's two ends, by the discipline each strategy declares: everything behind one lock
# (the seeds' Arc<Mutex>) against nothing shared (each request owns its data).
ENDS = ("global-lock", "ownership")


@dataclass(frozen=True)
class Speedup:
    strategy: str
    workload: str
    family: str          # in-process | processes | one process (no interpreter lock)
    low: pd.Series
    high: pd.Series
    low_values: tuple[float, ...]
    high_values: tuple[float, ...]
    estimate: stats.Estimate


def family(an: Analysis, strategy: str) -> str:
    if not an.locked(strategy):
        return "one process"
    return "processes" if an.model.get(strategy) == "processes" else "in-process"


def scope_name(language: str) -> str:
    return "CPython" if language == PYTHON else language.capitalize()


def members(an: Analysis, language: str) -> list[str]:
    return [s for s in an.order if an.lang(s) == language and an.ranked(s)]


def speedups(an: Analysis, strategies: list[str], looks: int = 1
             ) -> tuple[dict[str, list[Speedup]], list[LeftOut], list[Condition]]:
    """Per workload, each strategy's speedup from the fewest cores to the most that two or
    more of them reached; what was left out, and the conditions checked."""
    found: dict[str, list[Speedup]] = {}
    out: list[LeftOut] = []
    conditions: list[Condition] = []
    for workload in an.workloads:
        measured = {s: {int(c) for c in rows_of(an, workload, s)["cores"]} for s in strategies}
        measured = {s: c for s, c in measured.items() if len(c) >= 2}
        counts: dict[int, int] = {}
        for cores in measured.values():
            for c in cores:
                counts[c] = counts.get(c, 0) + 1
        shared = sorted(c for c, n in counts.items() if n >= 2)
        if len(shared) < 2:
            continue
        # The pair of core counts the most strategies share (then the widest): on a large
        # machine the process variants reach many cores and the in-process ones two, and
        # every speedup compared must span the same cores.
        low_c = shared[0]
        high_c = max(shared[1:], key=lambda c: (sum(low_c in m and c in m
                                                    for m in measured.values()), c))
        conditions.append(Condition("same core counts", True,
                                    f"{workload}: every speedup from {low_c} to {high_c} cores"))
        for strategy, cores in measured.items():
            if low_c not in cores or high_c not in cores:
                out.append(LeftOut(f"{strategy}, {workload}",
                                   f"not measured at both {low_c} and {high_c} cores"))
                continue
            low, high = at_cores(an, workload, strategy, low_c), at_cores(an, workload, strategy, high_c)
            assert low is not None and high is not None
            flagged = [x for x in (left_out(low), left_out(high)) if x is not None]
            if flagged:
                out += flagged
                continue
            ok, detail = cpu_allows(low, high)
            if not ok:
                conditions.append(Condition("speedup within the server CPU used", False,
                                            f"{strategy}, {workload}: {detail}"))
                out.append(LeftOut(f"{strategy}, {workload}", "speedup beyond the server CPU it "
                                   f"used ({detail})"))
                continue
            lv, hv = tuple(values(an, low)), tuple(values(an, high))
            found.setdefault(workload, []).append(
                Speedup(strategy, workload, family(an, strategy), low, high, lv, hv,
                        stats.speedup(lv, hv, looks=looks)))
    return found, out, conditions


def _pairs(found: dict[str, list[Speedup]]) -> list[tuple[str, Speedup, Speedup]]:
    out = []
    for workload, entries in found.items():
        for fam in sorted({e.family for e in entries}):
            mine = [e for e in entries if e.family == fam]
            out += [(workload, a, b) for a, b in combinations(mine, 2)]
    return out


def _models(found: dict[str, list[Speedup]], ends: set[str]
            ) -> list[tuple[str, list[Speedup], list[Speedup]]]:
    """Per workload, the process variants against the in-process disciplines: the claim's
    two ends on each side where both sides have them (``ends``: those strategies), so the
    models are compared on the cells the pairs are, else every strategy of each side."""
    out = []
    for workload, entries in found.items():
        procs = [e for e in entries if e.family == "processes"]
        inproc = [e for e in entries if e.family == "in-process"]
        if not procs or not inproc:
            continue
        if any(e.strategy in ends for e in procs) and any(e.strategy in ends for e in inproc):
            procs = [e for e in procs if e.strategy in ends]
            inproc = [e for e in inproc if e.strategy in ends]
        out.append((workload, procs, inproc))
    return out


Terms = list[tuple[tuple[float, ...], float]]


def _pooled(procs: list[Speedup], inproc: list[Speedup]) -> Terms:
    """The process variants' mean log speedup minus the in-process disciplines'."""
    terms: Terms = []
    for side, sign in ((procs, 1.0), (inproc, -1.0)):
        w = sign / len(side)
        for e in side:
            terms += [(e.high_values, w), (e.low_values, -w)]
    return terms


def _pair(hi: Speedup, lo: Speedup) -> Terms:
    """hi's speedup over lo's."""
    return [(hi.high_values, 1.0), (hi.low_values, -1.0), (lo.high_values, -1.0),
            (lo.low_values, 1.0)]


def _gap(c: Compared) -> float:
    e = c.estimate.effect
    return abs(math.log(e)) if e and e == e and e > 0 else -1.0


def judge(an: Analysis, language: str, looks: int = 1) -> ClaimResult:
    scope = scope_name(language)
    found, out, conditions = speedups(an, members(an, language), looks)
    # One comparison per pair of disciplines (and one of the models), over every workload
    # both ran: the mean of its log ratios of speedups across workloads decides, each
    # workload's own is shown beside it.
    plans: dict[tuple[str, ...], list[tuple[str, Terms, tuple[pd.Series, ...]]]] = {}
    names: dict[tuple[str, ...], tuple[str, str]] = {}
    for workload, a, b in _pairs(found):
        first, second = sorted((a, b), key=lambda e: e.strategy)
        key: tuple[str, ...] = (first.family, first.strategy, second.strategy)
        names[key] = (first.strategy, second.strategy)
        plans.setdefault(key, []).append((workload, _pair(first, second),
                                          (first.low, first.high, second.low, second.high)))
    named = {k for k in names if {an.discipline(s) for s in names[k]} == set(ENDS)}
    for workload, procs, inproc in _models(found, {s for k in named for s in names[k]}):
        plans.setdefault(("models",), []).append(
            (workload, _pooled(procs, inproc), tuple(r for e in procs + inproc for r in (e.low, e.high))))
    if not plans:
        why = ("every strategy was measured at one core count only" if not conditions
               else "fewer than two clean speedups to compare at the same core counts")
        return not_judged(CLAIM, scope, why, tuple(conditions)
                          + (Condition("enough clean cells", False, why),), tuple(out))

    def repeated(terms: Terms) -> bool:
        return min(len(v) for v, _ in terms) >= 2

    def pooled(parts: list[tuple[str, Terms, tuple[pd.Series, ...]]], sign: float) -> Terms:
        usable = [p for p in parts if repeated(p[1])] or parts
        return [(v, sign * w / len(usable)) for _, terms, _ in usable for v, w in terms]
    # Named before any is made: the pair of the claim's two ends in each model, where both
    # ran (and the models' comparison); every other pair is shown beside them and decides
    # nothing. With no such pair in any model, every pair decides (corrected for them all).
    deciders = {k for k in plans if k in named or k == ("models",)} if named else set(plans)
    counted = max(1, sum(1 for k, parts in plans.items()
                         if k in deciders and repeated(pooled(parts, 1.0))))
    # The workloads each deciding comparison ran on: an unrepeated one asks the workload the
    # most deciders share (so one round's cells feed them all, and every run asks the same),
    # then the one that holds the shared state longest.
    reach = [{w for w, _, _ in plans[k]} for k in plans if k in deciders]
    conditions.append(Condition("enough clean cells", True,
                                f"{counted} comparisons with 2+ repeats a group decide"))
    within: list[Compared] = []
    across: list[Compared] = []
    shown: list[Compared] = []
    for key, parts in plans.items():
        sign = 1.0
        est = stats.contrast(pooled(parts, 1.0), comparisons=counted, looks=looks)
        if est.effect == est.effect and est.effect < 1:  # stated as the larger over the smaller
            sign = -1.0
            est = stats.contrast(pooled(parts, -1.0), comparisons=counted, looks=looks)
        where = ", ".join(w for w, terms, _ in parts if repeated(terms)) or ", ".join(
            w for w, _, _ in parts)
        if key == ("models",):
            what = (f"the process variants' speedup over the in-process disciplines' ({where})"
                    if sign > 0 else
                    f"the in-process disciplines' speedup over the process variants' ({where})")
        else:
            hi, lo = names[key] if sign > 0 else names[key][::-1]
            what = f"{hi}'s speedup over {lo}'s ({key[0]}; {where})"
        # The cells more repeats would decide it on: the workloads already repeated (the
        # comparison rests on those), else one named before any is made: the one the most
        # deciders ran, then where the shared state is held longest (a discipline shows under
        # contention; cells.contention reads the workload's definition), so a round repeats
        # one workload's cells.
        asked = [p for p in parts if repeated(p[1])]
        if not asked:
            decider = max((w for w, _, _ in parts),
                          key=lambda w: (sum(w in ws for ws in reach), contention(an, w), w))
            asked = [p for p in parts if p[0] == decider]
        groups = tuple(identity(r) for _, _, rows in asked for r in rows)
        if key not in deciders:
            shown.append(Compared(what, est, groups, deciding=False))
            continue
        (across if key == ("models",) else within).append(Compared(what, est, groups))
        for workload, terms, rows in parts:
            shown.append(Compared(f"{what.split(' (')[0]} on {workload}",
                                  stats.contrast([(v, sign * w) for v, w in terms], looks=looks),
                                  tuple(identity(r) for r in rows), deciding=False))
    every = within + across + shown
    out += [LeftOut(c.what, "one repeat in a group: no interval") for c in within + across
            if c.estimate.repeats < 2]
    decidable = [c for c in within + across if c.estimate.repeats >= 2]
    differs_within = [c for c in within if c.estimate.differs]
    differs_across = [c for c in across if c.estimate.differs]
    if differs_within:
        outcome, finding, pool = Outcome.SUPPORTED, "the discipline decides", differs_within
    elif differs_across:
        outcome, finding, pool = (Outcome.CONTRADICTED, "the execution model decides, not the "
                                  "discipline", differs_across)
    elif decidable and all(c.estimate.decision is stats.Decision.SAME for c in decidable):
        outcome, finding, pool = Outcome.NO_DIFFERENCE, "no discipline gains differently", decidable
    else:
        undecided = [c for c in decidable if c.estimate.decision is stats.Decision.UNDECIDED]
        outcome = Outcome.UNDECIDED
        finding = ("the intervals are too wide" if undecided else
                   "one repeat a group: no interval")
        pool = undecided or within + across
    if outcome is Outcome.NO_DIFFERENCE:
        carrying = max(pool, key=lambda c: c.estimate.high / c.estimate.low)  # the widest
    else:
        carrying = max(pool, key=lambda c: (stats.STRENGTHS[::-1].index(c.estimate.strength),
                                            _gap(c)))
    return ClaimResult(CLAIM, scope, outcome, finding, carrying.what, carrying.estimate,
                       f"speedups {carrying.estimate.effect:.2f}× apart",
                       tuple(conditions), tuple(out), tuple(every),
                       detail={"speedups": {w: [(e.strategy, e.estimate) for e in v]
                                            for w, v in found.items()}})


def results(an: Analysis, looks: int = 1) -> list[ClaimResult]:
    """One result per language with a strategy ranked."""
    return [judge(an, language, looks) for language in an.languages()
            if members(an, language)]


def evidence(result: ClaimResult) -> list[str]:
    lines = []
    for workload, found in (result.detail.get("speedups") or {}).items():
        for strategy, est in found:
            span = (f" [{est.low:.2f}–{est.high:.2f}]" if est.interval else " (one repeat)")
            lines.append(f"{result.scope}, {workload}: {strategy} speedup {est.effect:.2f}×{span}")
    return lines + [f"{result.scope}: left out {x.what}: {x.why}" for x in result.left_out]


__all__ = ["CLAIM", "evidence", "judge", "results"]
