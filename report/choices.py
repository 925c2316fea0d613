"""What to use: for each workload and core count measured, each language's fastest safe
strategy, named a winner only when the rule (report/claims/stats.py) puts it ahead of
every other; otherwise a tie with those it could not be told from.

Only ranked strategies compete (declared safe, not caught racing under preemption, never
the stateless ceiling or an unsafe one), and never one that lost an update anywhere in the
run. A group flagged with errors, a failure or a busy machine is left out; one flagged
load-generator bound (L) measured the load generator's limit, so its figure is a lower
bound: it may rank first, but it is never ranked below a figure it may exceed (it ties it).
Bonferroni over the rivals the leader is set against.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from .aggregate import marks
from .analysis import Analysis, looks_of
from .claims import stats
from .claims.cells import identity, values, why_flagged


@dataclass(frozen=True)
class Entry:
    strategy: str
    rps: float                  # median over its ok repeats
    repeats: int
    marks: str
    bound: bool                 # the load generator was the limit: a lower bound
    identity: dict[str, object] = field(hash=False, compare=False)
    values: tuple[float, ...] = ()


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
    ties: list[str] = field(default_factory=list)   # not told apart from the leader
    runner_up: str = ""                             # the fastest one the rule puts below
    margin: float = math.nan                        # leader / runner_up (geometric means)
    interval: tuple[float, float] | None = None     # the margin's interval
    repeats: int = 0                                # the leader's ok repeats
    fewest: int = 0                                 # the fewest repeats of any compared
    bound: bool = False                             # the leader's figure is a lower bound
    identity: dict[str, object] = field(default_factory=dict)
    undecided: list[Entry] = field(default_factory=list)  # ties more repeats could decide
    excluded: list[str] = field(default_factory=list)     # lost an update in this run

    @property
    def decided(self) -> bool:
        """A winner: every rival is measurably below it."""
        return not self.ties


def lost_anywhere(an: Analysis) -> set[str]:
    cells = an.run.cells
    if cells.empty or "lost_updates" not in cells:
        return set()
    lost = pd.to_numeric(cells["lost_updates"], errors="coerce").fillna(0) > 0
    return set(cells.loc[lost, "strategy"])


def choices(an: Analysis, looks: int | None = None) -> list[Choice]:
    """One Choice per (workload, cores, language) with two or more ranked strategies measured
    (one alone is no choice: a workload measured for a claim's sake, say)."""
    looks = looks_of(an) if looks is None else looks
    out = []
    lost = lost_anywhere(an)
    for workload in an.workloads:
        rows = an.at_ref(workload)
        rows = rows[rows["rps"].notna() & rows["strategy"].map(an.ranked)]
        for cores in sorted(int(c) for c in rows["cores"].unique()):
            here = rows[rows["cores"] == cores]
            for language in an.languages():
                mine = here[here["strategy"].map(an.lang) == language]
                if mine["strategy"].nunique() > 1:
                    choice = _choose(an, workload, cores, language, mine, lost, looks)
                    if choice is not None:
                        out.append(choice)
    return out


def _entry(an: Analysis, row: pd.Series) -> Entry:
    return Entry(str(row["strategy"]), float(row["rps"]), int(row["ok"]), marks(row),
                 bool(row.get("loadgen_bound")), identity(row), tuple(values(an, row)))


def _choose(an: Analysis, workload: str, cores: int, language: str, rows: pd.DataFrame,
            lost: set[str], looks: int) -> Choice | None:
    excluded = sorted(set(rows["strategy"]) & lost)
    usable = [r for _, r in rows.iterrows() if r["strategy"] not in lost
              and why_flagged(r) in ("", "loadgen_bound (L)")]
    entries = sorted((_entry(an, r) for r in usable), key=lambda e: -e.rps)
    if not entries:
        return None
    top, rivals = entries[0], entries[1:]
    choice = Choice(workload, cores, language, an.ref_users.get(workload),
                    an.ref_engine.get(workload, ""), top.strategy, top.rps, top.marks,
                    repeats=top.repeats, fewest=min(e.repeats for e in entries), bound=top.bound,
                    identity=top.identity, excluded=excluded)
    below = []
    for rival in rivals:
        est = stats.ratio(top.values, rival.values, comparisons=len(rivals), looks=looks)
        if est.differs and est.above and not rival.bound:
            below.append((rival, est))
        else:
            choice.ties.append(rival.strategy)
            if est.decision is stats.Decision.UNDECIDED and not (rival.bound or top.bound):
                choice.undecided.append(rival)  # repeats could decide it; never a flag
    if below:
        rival, est = below[0]
        choice.runner_up, choice.margin, choice.interval = rival.strategy, est.effect, est.interval
    return choice
