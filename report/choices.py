"""What to use: for each workload and core count measured, each language's fastest safe
strategy, those with no measurable difference from it, and its margin over the next.

Only ranked strategies compete (declared safe and not caught racing; never the stateless
ceiling or an unsafe one). Clean groups rank before flagged ones, as in the rankings; a
strategy ties the leader when their repeats overlap (analysis.overlap), and the margin is
the leader's throughput over the fastest strategy that does not tie it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from .aggregate import marks
from .analysis import Analysis, clean, overlap


@dataclass
class Choice:
    workload: str
    cores: int
    language: str
    users: int | None
    engine: str
    leader: str
    rps: float
    marks: str                                      # the leader's validity marks
    ties: list[str] = field(default_factory=list)   # no measurable difference from the leader
    runner_up: str = ""                             # the fastest that is measurably slower
    margin: float = math.nan                        # leader / runner_up throughput
    repeats: int = 0                                # the leader's ok repeats


def choices(an: Analysis) -> list[Choice]:
    """One Choice per (workload, cores, language) with two or more ranked strategies measured
    (one alone is no choice: a workload measured for a claim's sake, say)."""
    out = []
    for workload in an.workloads:
        rows = an.at_ref(workload)
        rows = rows[rows["rps"].notna() & rows["strategy"].map(an.ranked)]
        for cores in sorted(int(c) for c in rows["cores"].unique()):
            here = rows[rows["cores"] == cores]
            for language in an.languages():
                mine = here[here["strategy"].map(an.lang) == language]
                if mine["strategy"].nunique() > 1:
                    out.append(_choose(an, workload, cores, language, mine))
    return out


def _choose(an: Analysis, workload: str, cores: int, language: str, rows: pd.DataFrame) -> Choice:
    ordered = sorted((r for _, r in rows.iterrows()), key=lambda r: (not clean(r), -r["rps"]))
    top = ordered[0]
    ties = [r for r in ordered[1:] if clean(r) == clean(top) and overlap(top, r)]
    # The margin is over the next strategy as clean as the leader: a faster one whose cells
    # are disqualified (flagged) ranks after it, and a ratio against it would mislead.
    rest = [r for r in ordered[1:] if clean(r) == clean(top)
            and all(r["strategy"] != t["strategy"] for t in ties)]
    choice = Choice(workload, cores, language, an.ref_users.get(workload),
                    an.ref_engine.get(workload, ""), str(top["strategy"]), float(top["rps"]),
                    marks(top), [str(r["strategy"]) for r in ties], repeats=int(top["ok"]))
    if rest:
        choice.runner_up = str(rest[0]["strategy"])
        choice.margin = float(top["rps"] / rest[0]["rps"]) if rest[0]["rps"] > 0 else math.nan
    return choice
