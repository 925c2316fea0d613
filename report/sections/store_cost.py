"""The cost of sharing through an external store, in words and one table per workload,
written from report/store_cost.py's results; nothing where no store strategy ran."""
from __future__ import annotations

from collections import Counter

from ..claims import stats
from ..doc import Para, Table
from ..store_cost import FASTEST, GLOBAL_LOCK, STORE_BOUND, StoreCost
from ..style import num

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


def _cores(n: int) -> str:
    return f"{n} core{'s' if n != 1 else ''}"


def sentence(c: StoreCost) -> str:
    """'at 2 cores, 0.52× [0.47–0.58] the req/s of ownership-mp (the fastest …): slower'."""
    return (f"at {_cores(c.cores)}, {effect(c.rps)} the req/s of {c.rival} "
            f"({' and '.join(ROLE[r] for r in c.roles)}): "
            f"{verdict(c.rps, 'faster', 'slower')}; p99 {effect(c.p99)}, "
            f"{verdict(c.p99, 'longer', 'shorter')}")


def bound_sentence(found: list[StoreCost]) -> str:
    where = sorted({(c.store, c.workload, c.cores, c.store_cpu) for c in found if c.store_bound})
    if not where:
        return ""
    return ("The Redis server itself was the bottleneck (its own CPU at "
            f"{STORE_BOUND:g} core or more: it runs commands on one thread) for "
            + "; ".join(f"{s} on {w} at {_cores(n)} ({cpu:.2f} core)" for s, w, n, cpu in where)
            + ".")


def left_out_sentence(found: list[StoreCost]) -> str:
    seen = {(x.what, x.why) for c in found for x in c.left_out}
    if not seen:
        return ""
    kinds = Counter(why for _, why in seen)
    return (f"Left out as flagged: {len(seen)} group{'s' if len(seen) != 1 else ''} of cells "
            "or cells (" + ", ".join(f"{why} {n}" for why, n in sorted(kinds.items())) + ").")


def store_blocks(found: list[StoreCost], workload: str) -> list:
    """The workload's lead sentence, its table, and what was left out; [] without a store."""
    mine = [c for c in found if c.workload == workload]
    if not mine:
        return []
    blocks: list = []
    for store in dict.fromkeys(c.store for c in mine):
        theirs = [c for c in mine if c.store == store]
        lead = (f"Sharing through Redis ({store}, its state in an external store) on {workload}, "
                "clean cells only: " + "; ".join(sentence(c) for c in theirs) + ".")
        blocks.append(Para(" ".join(filter(None, [lead, bound_sentence(theirs)]))))
        rows = [[_cores(c.cores), c.rival, ", ".join(c.roles), effect(c.rps),
                 verdict(c.rps, "faster", "slower"), effect(c.p99),
                 verdict(c.p99, "longer", "shorter"), f"{c.repeats[0]} / {c.repeats[1]}",
                 num(c.store_cpu, 2) + (" (the limit)" if c.store_bound else "")]
                for c in theirs]
        level = theirs[0].rps
        blocks.append(Table(
            ["cores", "against", "chosen as", "req/s ratio", "req/s", "p99 ratio", "p99",
             "repeats", "Redis CPU (cores)"], rows,
            caption=f"{store} over each rival at the same cores: ratios of geometric means with "
                    f"their {level.level:.1%} intervals over {level.comparisons} comparisons "
                    f"(band ±{level.band:.0%}; the one rule: see How firm). Redis CPU: the "
                    "Redis server's own, inside the server CPU.", numeric={3, 5, 8}))
        left = left_out_sentence(theirs)
        if left:
            blocks.append(Para(left, "note"))
    return blocks


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
