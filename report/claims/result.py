"""What a claim's judging returns, as data: one ClaimResult per claim and scope (CPython,
Rust, ...). Its outcome is one of Outcome; the sentence is written from it afterwards
(sentences.py), and claims.json, `sharebench compare` and the first screen read it."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from .stats import Estimate


class Outcome(Enum):
    SUPPORTED = "supported"          # the run bears the claim out
    CONTRADICTED = "contradicted"    # the run finds against it
    REVERSED = "reversed"            # the effect the claim names, the other way round (gc)
    NO_DIFFERENCE = "no difference"  # the effect lies inside the equivalence band
    UNDECIDED = "undecided"          # the intervals are too wide to say
    NOT_JUDGED = "not judged"        # not measured, or the fight was not fair


@dataclass(frozen=True)
class Condition:
    """One condition that makes the comparison fair, and whether it held."""
    name: str
    passed: bool
    detail: str = ""


@dataclass(frozen=True)
class LeftOut:
    """A cell (or group of cells) left out of the comparison, and why."""
    what: str
    why: str


@dataclass(frozen=True)
class Compared:
    """One comparison a claim looked at: the groups behind each side (their identity
    without the repeat: results/ids.py KEY, plus workers and python where set)."""
    what: str
    estimate: Estimate
    groups: tuple[dict[str, Any], ...] = ()
    deciding: bool = True   # False: shown beside the deciding comparisons, decides nothing


@dataclass(frozen=True)
class ClaimResult:
    claim: str                          # the claim's id: discipline, races, async, gc, stateless
    scope: str                          # CPython, Rust, "CPython threads", ...
    outcome: Outcome
    finding: str                        # the outcome in the claim's own words
    compared: str = ""                  # the comparison that carries it, in words
    estimate: Estimate | None = None    # its effect, interval and strength
    number: str = "—"                   # the carrying number as printed
    conditions: tuple[Condition, ...] = ()
    left_out: tuple[LeftOut, ...] = ()
    comparisons: tuple[Compared, ...] = ()  # every comparison looked at
    effect_name: str = "ratio"          # what `effect` is: ratio, or share (an exact count)
    uncured: str = ""                   # undecided: the flag on its cells no repeat cures
    detail: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def effect(self) -> float | None:
        e = self.estimate
        return e.effect if e is not None and not math.isnan(e.effect) else None

    @property
    def interval(self) -> tuple[float, float] | None:
        return self.estimate.interval if self.estimate is not None else None

    @property
    def strength(self) -> str:
        if self.outcome is Outcome.NOT_JUDGED or self.estimate is None:
            return "not judged"
        if self.outcome is Outcome.UNDECIDED:
            return "weak"
        return self.estimate.strength

    @property
    def measured(self) -> bool:
        return self.outcome is not Outcome.NOT_JUDGED

    @property
    def label(self) -> str:
        return self.scope

    @property
    def verdict(self) -> str:
        """'supported: the execution model decides'."""
        word = self.outcome.value
        return f"{word}: {self.finding}" if self.finding and self.finding != word else word

    def effect_text(self) -> str:
        """'1.69× [1.52–1.88]', '0.3% lost (exact count)', or '—'."""
        if self.effect is None:
            return "—"
        if self.effect_name == "share":
            return f"{self.effect:.2%} lost (exact count)"
        interval = self.interval
        span = f" [{interval[0]:.2f}–{interval[1]:.2f}]" if interval else " (no interval)"
        return f"{self.effect:.2f}×{span}"

    def basis(self) -> str:
        e = self.estimate
        if e is None or math.isnan(e.effect):
            return "nothing to compare"
        what = "checks" if e.exact else "repeats"
        parts = [f"{e.repeats} {what[:-1] if e.repeats == 1 else what}"]
        if not e.exact:
            parts.append(f"{e.level:.1%} interval over {e.comparisons} comparison"
                         f"{'s' if e.comparisons != 1 else ''}, band ±{e.band:.0%}")
        if self.left_out:
            parts.append(f"{len(self.left_out)} left out")
        failed = [c.name for c in self.conditions if not c.passed]
        if failed:
            parts.append("failed: " + ", ".join(failed))
        if self.uncured:
            parts.append(self.uncured)
        return "; ".join(parts)

    def short_basis(self) -> str:
        """'3 repeats, 5 compared': for the first screen."""
        e = self.estimate
        if e is None or math.isnan(e.effect):
            return "nothing compared"
        if e.exact:
            return f"{e.repeats} check{'s' if e.repeats != 1 else ''}, exact"
        return (f"{e.repeats} repeat{'s' if e.repeats != 1 else ''}, {e.comparisons} compared"
                + (f", {len(self.left_out)} left out" if self.left_out else "")
                + (f"; {self.uncured}" if self.uncured else ""))

    def firmness(self) -> str:
        return f"{self.strength} ({self.basis()})"

    def text(self) -> str:
        head = f"{self.scope}: " if self.scope else ""
        return (f"{head}{self.verdict} — {self.compared or 'nothing compared'}: {self.number}, "
                f"effect {self.effect_text()}; {self.firmness()}")

    def to_json(self) -> dict[str, Any]:
        """One object of claims.json (results/README.md)."""
        e = self.estimate
        return {"claim": self.claim, "scope": self.scope, "outcome": self.outcome.value,
                "finding": self.finding, "compared": self.compared,
                "effect_kind": self.effect_name, "effect": self.effect,
                "interval": list(self.interval) if self.interval else None,
                "level": e.level if e is not None and not e.exact else None,
                "band": e.band if e is not None and not e.exact else None,
                "repeats": e.repeats if e is not None else 0,
                "strength": self.strength,
                "uncured": self.uncured or None,
                "conditions": [{"name": c.name, "passed": c.passed, "detail": c.detail}
                               for c in self.conditions],
                "left_out": [{"what": x.what, "why": x.why} for x in self.left_out]}


def not_judged(claim: str, scope: str, why: str, conditions: tuple[Condition, ...] = (),
               left_out: tuple[LeftOut, ...] = ()) -> ClaimResult:
    return ClaimResult(claim, scope, Outcome.NOT_JUDGED, why, conditions=conditions,
                       left_out=left_out)


@dataclass
class Claim:
    """A claim as the report shows it: its statement, the results per scope, and the
    sentence and evidence written from them."""
    id: str
    claim: str
    source: str
    results: list[ClaimResult] = field(default_factory=list)
    answer: str = ""
    evidence: list[str] = field(default_factory=list)
    section: str = ""
    figure: str = ""

    @property
    def judgements(self) -> list[ClaimResult]:
        return self.results

    @property
    def verdict(self) -> str:
        if len(self.results) == 1:
            return self.results[0].verdict
        return "; ".join(f"{r.scope}: {r.verdict}" for r in self.results)

    @property
    def strength(self) -> str:
        return max((r.strength for r in self.results), default="not judged",
                   key=("firm", "moderate", "weak", "not judged").index)
