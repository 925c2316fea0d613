"""The GC claim's comparisons of tails, as data: what was compared, the effect, the spread,
the repeats and the cells left out, per live-heap size and collector mode. The claim's
sentence is written from it (Claim.tails), and report/adapters.py reads it into the
claim's judgement (report/judgement.py), which grades how firm the verdict is.

One rule decides whether side A exceeds side B: every repeat of A lies above every
repeat of B, and the difference of their medians is larger than the wider of the two
sides' spreads (max − min over repeats). A side of one repeat has no spread, so it never
exceeds anything: a tail from one run says nothing measurable.
"""
from __future__ import annotations

import math
import statistics
from dataclasses import asdict, dataclass, field


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
class Comparison:
    at: dict                   # what both sides share, e.g. {"live_objects": 1000000}
    metric: str                # a column, e.g. "p999_us"
    a: Side
    b: Side
    why_not: str = ""          # set when the comparison cannot judge (then `exceeds` is False)
    beside: dict = field(default_factory=dict)  # figures shown beside it, e.g. side A's pauses

    @property
    def effect(self) -> float:
        return self.a.median - self.b.median

    @property
    def spread(self) -> float:
        return max(self.a.spread, self.b.spread)

    @property
    def judged(self) -> bool:
        return not self.why_not

    @property
    def exceeds(self) -> bool:
        """A above B beyond noise: repeats apart, and the effect wider than either spread."""
        return self.judged and self.a.low > self.b.high and self.effect > self.spread

    def to_dict(self) -> dict:
        return {"at": self.at, "metric": self.metric, "a": self.a.to_dict(),
                "b": self.b.to_dict(), "effect": self.effect, "spread": self.spread,
                "judged": self.judged, "exceeds": self.exceeds, "why_not": self.why_not,
                "beside": {k: v.to_dict() if isinstance(v, Side) else v
                           for k, v in self.beside.items()}}


def compare_tails(at: dict, metric: str, a: Side, b: Side, why_not: str = "",
          beside: dict | None = None) -> Comparison:
    """A comparison, with the reason it cannot judge when the data say so."""
    if not why_not and min(a.repeats, b.repeats) < 2:
        why_not = "one repeat on a side: no spread to judge by"
    return Comparison(at, metric, a, b, why_not, beside or {})


@dataclass
class TailJudgement:
    claim: str                 # the claim's id
    compared: str              # one line: what against what, under which load
    metric: str
    comparisons: list[Comparison] = field(default_factory=list)
    left_out: list[tuple[str, str]] = field(default_factory=list)  # (cell id, why)
    finding: str = "not measured"  # exceeds | no measurable difference | not measured
    at: dict | None = None     # where the finding holds (e.g. the smallest heap)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"claim": self.claim, "compared": self.compared, "metric": self.metric,
                "comparisons": [c.to_dict() for c in self.comparisons],
                "left_out": [list(pair) for pair in self.left_out], "finding": self.finding,
                "at": self.at, "notes": self.notes}
