"""The cost of sharing through an external store in words, written from
report/store_cost.py's results: the sentences the report's block and the terminal summary
share (no plotting import: the terminal summary loads no figure code)."""
from __future__ import annotations

from collections import Counter

from .claims import stats
from .store_cost import FASTEST, GLOBAL_LOCK, STORE_BOUND, StoreCost

ROLE = {FASTEST: "the fastest in-process process strategy there",
        GLOBAL_LOCK: "the global lock across processes"}


def effect(e: stats.Estimate) -> str:
    """'0.52× [0.47–0.58]', '0.95× (one repeat: no interval)'."""
    if e.effect != e.effect:
        return "—"
    span = f" [{e.low:.2f}–{e.high:.2f}]" if e.interval else " (one repeat: no interval)"
    return f"{e.effect:.2f}×{span}"


def verdict(e: stats.Estimate, above: str, below: str) -> str:
    """What the rule made of a ratio: ``above`` or ``below`` 1 when it differs."""
    if e.differs:
        return above if e.above else below
    return e.decision.value


def cores(n: int) -> str:
    return f"{n} core{'s' if n != 1 else ''}"


def sentence(c: StoreCost) -> str:
    """'at 2 cores, 0.52× [0.47–0.58] the req/s of ownership-mp, slower; p99 1.80× […], longer'."""
    return (f"at {cores(c.cores)}, {effect(c.rps)} the req/s of {c.rival}, "
            f"{verdict(c.rps, 'faster', 'slower')}; p99 {effect(c.p99)}, "
            f"{verdict(c.p99, 'longer', 'shorter')}")


def lead(store: str, workload: str, found: list[StoreCost]) -> str:
    """Against the fastest rival at each core count, then against the global lock where it
    is another strategy."""
    fastest = [c for c in found if FASTEST in c.roles]
    lock = [c for c in found if c.roles == (GLOBAL_LOCK,)]
    text = (f"Sharing through Redis ({store}) on {workload}, clean cells only, against "
            f"{ROLE[FASTEST]}: " + "; ".join(sentence(c) for c in fastest) + ".")
    both = [c for c in fastest if GLOBAL_LOCK in c.roles]
    if both:
        text += (f" {', '.join(sorted({c.rival for c in both}))} is also the global lock "
                 "across processes there.")
    if lock:
        text += (f" Against {ROLE[GLOBAL_LOCK]}: " + "; ".join(sentence(c) for c in lock) + ".")
    return text


def bound_sentence(found: list[StoreCost]) -> str:
    where = sorted({(c.store, c.workload, c.cores, c.store_cpu) for c in found if c.store_bound})
    if not where:
        return ""
    return ("The Redis server itself was the bottleneck (its own CPU at "
            f"{STORE_BOUND:g} core or more: it runs commands on one thread) for "
            + "; ".join(f"{s} on {w} at {cores(n)} ({cpu:.2f} core)" for s, w, n, cpu in where)
            + ".")


def left_out_sentence(found: list[StoreCost]) -> str:
    seen = {(x.what, x.why) for c in found for x in c.left_out}
    if not seen:
        return ""
    kinds = Counter(why for _, why in seen)
    return (f"Left out as flagged: {len(seen)} group{'s' if len(seen) != 1 else ''} of cells "
            "or cells (" + ", ".join(f"{why} {n}" for why, n in sorted(kinds.items())) + ").")


def summary_line(found: list[StoreCost]) -> str:
    """One line of the terminal summary: req/s against the fastest rival, per workload and
    core count, and where Redis was the limit; '' without a store strategy."""
    fastest = [c for c in found if FASTEST in c.roles]
    if not fastest:
        return ""
    parts = [f"{c.workload} {c.cores}c vs {c.rival} {effect(c.rps)} "
             f"{verdict(c.rps, 'faster', 'slower')}" + (" (Redis the limit)" if c.store_bound
                                                        else "") for c in fastest]
    return f"Through Redis ({fastest[0].store}), req/s against the fastest in-process: " + "; ".join(parts)
