"""The cost of sharing through an external store: one lead sentence, one table and what
was left out per workload (report/store_cost.py computes it, report/store_sentences.py
words it); nothing where no store strategy ran."""
from __future__ import annotations

from ..doc import Para, Table
from ..store_cost import StoreCost
from ..store_sentences import bound_sentence, cores, effect, lead, left_out_sentence, verdict
from ..style import num


def store_blocks(found: list[StoreCost], workload: str) -> list:
    """The workload's lead sentence, its table, and what was left out; [] without a store."""
    mine = [c for c in found if c.workload == workload]
    if not mine:
        return []
    blocks: list = []
    for store in dict.fromkeys(c.store for c in mine):
        theirs = [c for c in mine if c.store == store]
        blocks.append(Para(" ".join(filter(None, [lead(store, workload, theirs),
                                                  bound_sentence(theirs)]))))
        rows = [[cores(c.cores), c.rival, ", ".join(c.roles), effect(c.rps),
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
