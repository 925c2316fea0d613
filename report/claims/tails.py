"""The GC claim's comparisons of tails, as data: what was compared, the effect with its
interval (stats.py, the one rule, with the claim's own band: a tail varies more between
repeats than a rate), the repeats and the cells left out, per live-heap size and collector
mode. The claim's result and sentence are written from it (gc.py).
"""
from __future__ import annotations

import math
import statistics
from dataclasses import asdict, dataclass, field

from . import stats

# A p99.9 moves more between repeats than a rate: the GC claim's equivalence band.
TAIL_BAND = 0.25


@dataclass
class Side:
    label: str                 # e.g. "global-lock, collector on"
    cell_ids: list[str]
    values: list[float]        # the metric, one per repeat (the cells' own figures)

    @property
    def repeats(self) -> int:
        return len(self.values)

    @property
    def median(self) -> float:
        return statistics.median(self.values) if self.values else math.nan

    @property
    def low(self) -> float:
        return min(self.values) if self.values else math.nan

    @property
    def high(self) -> float:
        return max(self.values) if self.values else math.nan

    @property
    def spread(self) -> float:
        return self.high - self.low if self.values else math.nan

    def to_dict(self) -> dict:
        return {**asdict(self), "repeats": self.repeats, "median": self.median,
                "low": self.low, "high": self.high, "spread": self.spread}


@dataclass
class TailComparison:
    at: dict                   # what both sides share, e.g. {"live_objects": 1000000}
    metric: str                # a column, e.g. "p999_us"
    a: Side
    b: Side
    why_not: str = ""          # set when the comparison cannot judge (then `exceeds` is False)
    beside: dict = field(default_factory=dict)  # figures shown beside it, e.g. side A's pauses

    comparisons: int = 1       # how many the claim looked at (the rule's correction)
    looks: int = 1

    @property
    def estimate(self) -> stats.Estimate:
        """A's tail over B's, decided by the one rule (stats.py) with TAIL_BAND."""
        return stats.ratio(self.a.values, self.b.values, band=TAIL_BAND,
                           comparisons=self.comparisons, looks=self.looks)

    @property
    def effect(self) -> float:
        return self.estimate.effect

    @property
    def judged(self) -> bool:
        return not self.why_not

    @property
    def exceeds(self) -> bool:
        """A above B beyond the band, by the rule."""
        return self.judged and self.estimate.differs and self.estimate.above

    @property
    def below(self) -> bool:
        """A below B beyond the band, by the rule (the reverse of what the claim says)."""
        return self.judged and self.estimate.differs and not self.estimate.above

    def to_dict(self) -> dict:
        return {"at": self.at, "metric": self.metric, "a": self.a.to_dict(),
                "b": self.b.to_dict(), "effect": self.effect, "interval": self.estimate.interval,
                "judged": self.judged, "exceeds": self.exceeds, "why_not": self.why_not,
                "beside": {k: v.to_dict() if isinstance(v, Side) else v
                           for k, v in self.beside.items()}}


def compare_tails(at: dict, metric: str, a: Side, b: Side, why_not: str = "",
                  beside: dict | None = None) -> TailComparison:
    """A comparison, with the reason it cannot judge when the data say so."""
    return TailComparison(at, metric, a, b, why_not, beside or {})


@dataclass
class TailJudgement:
    claim: str                 # the claim's id
    compared: str              # one line: what against what, under which load
    metric: str
    comparisons: list[TailComparison] = field(default_factory=list)
    left_out: list[tuple[str, str]] = field(default_factory=list)  # (cell id, why)
    finding: str = "not measured"  # exceeds | reversed | no difference | undecided | not measured
    at: dict | None = None     # where the finding holds (e.g. the smallest heap)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"claim": self.claim, "compared": self.compared, "metric": self.metric,
                "comparisons": [c.to_dict() for c in self.comparisons],
                "left_out": [list(pair) for pair in self.left_out], "finding": self.finding,
                "at": self.at, "notes": self.notes}
