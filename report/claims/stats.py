"""The one statistical rule every claim and every what-to-use row is decided by.

An effect is a ratio of geometric means (the exponential of a difference of mean log
values: req/s, latency, MiB), or a contrast of several such groups (a speedup's ratio, a
ratio of two speedups: each group's log mean enters with its sign). Its interval is
Welch's t interval on the log scale: the variance sums the groups' (s² / n), the degrees
of freedom are Welch–Satterthwaite's. A group with one repeat has no spread, so a
comparison that rests on one has no interval and is undecided.

The level is 1 − ALPHA / (comparisons × looks): a claim that looks at several comparisons
(workloads, pairs of strategies) divides ALPHA by how many it looked at (Bonferroni), and
a run that is analysed again as repeats arrive (`looks`, interim analyses) divides it by
the number of looks, so that stopping when a comparison decides stays honest.

Against an equivalence band (±BAND unless a claim states its own): the effect **differs**
when its interval lies wholly outside [1/(1+band), 1+band], there is **no difference**
when it lies wholly inside, and it is **undecided** otherwise. A decision is **firm** when
it holds at the stricter level 1 − ALPHA / (10 × comparisons × looks) with 3+ repeats in
every group, **moderate** when it holds at the level alone; an undecided comparison is
**weak**. An exact count (updates lost) has no sampling noise: one lost update is a
difference (firm); none lost is no difference, firm after 3+ checks.
"""
from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from scipy import stats as sp

ALPHA = 0.05            # two-sided, per claim, before the corrections
BAND = 0.10             # the equivalence band, unless a claim states its own
FIRM_REPEATS = 3        # repeats in every group for a firm decision
FIRM_FACTOR = 10        # a firm decision also holds at ALPHA / FIRM_FACTOR
STRENGTHS = ("firm", "moderate", "weak", "not judged")

RULE = (
    "Every comparison is a ratio of geometric means over its repeats (a speedup, or a ratio "
    "of two speedups, combines its groups' log means), with Welch's t interval on the log "
    f"scale at level 1 − {ALPHA:g} / (comparisons × looks): a claim that looked at several "
    "comparisons, or a run analysed again as repeats arrived, widens its intervals for it "
    "(Bonferroni). It differs when the interval lies wholly outside the equivalence band "
    f"(±{BAND:.0%} unless the claim states its own), there is no difference when it lies "
    "wholly inside, and it is undecided otherwise; one repeat on a side gives no interval, "
    f"so undecided. Firm: the decision holds at {ALPHA:g} / {FIRM_FACTOR} too, with "
    f"{FIRM_REPEATS}+ repeats in every group; moderate: at the level alone; an undecided "
    "comparison is weak. Lost updates are an exact count: one is a difference (firm), none "
    f"is no difference, firm after {FIRM_REPEATS}+ checks. Flagged cells are left out, never "
    "counted as no change.")


class Decision(Enum):
    DIFFERS = "differs"
    SAME = "no difference"
    UNDECIDED = "undecided"


@dataclass(frozen=True)
class Estimate:
    """One comparison decided by the rule: the effect (a ratio, or an exact count's share),
    its interval, and what the rule made of it."""
    effect: float
    low: float                  # NaN: no interval (a group of one repeat)
    high: float
    repeats: int                # the fewest repeats (or checks) in a group
    decision: Decision
    strength: str
    band: float = BAND
    level: float = 1 - ALPHA
    comparisons: int = 1
    looks: int = 1
    exact: bool = False         # an exact count: the interval is the count itself

    @property
    def interval(self) -> tuple[float, float] | None:
        return None if math.isnan(self.low) else (self.low, self.high)

    @property
    def differs(self) -> bool:
        return self.decision is Decision.DIFFERS

    @property
    def above(self) -> bool:
        """The effect is above 1 (a ratio) or above 0 (a share)."""
        return self.effect > (0 if self.exact else 1)


def _levels(comparisons: int, looks: int) -> tuple[float, float]:
    alpha = ALPHA / max(1, comparisons) / max(1, looks)
    return 1 - alpha, 1 - alpha / FIRM_FACTOR


def _logs(values: Sequence[float]) -> list[float]:
    return [math.log(v) for v in values if v is not None and v == v and v > 0]


def _decide(low: float, high: float, band: float) -> Decision:
    top, bottom = 1 + band, 1 / (1 + band)
    if low > top or high < bottom:
        return Decision.DIFFERS
    if bottom <= low and high <= top:
        return Decision.SAME
    return Decision.UNDECIDED


def contrast(terms: Sequence[tuple[Sequence[float], float]], *, band: float = BAND,
             comparisons: int = 1, looks: int = 1) -> Estimate:
    """exp(Σ weight × mean log values) with its interval: ``terms`` is (a group's repeats,
    its weight), e.g. [(b, 1), (a, -1)] for the ratio b/a."""
    groups = [(_logs(values), weight) for values, weight in terms]
    level, firm_level = _levels(comparisons, looks)
    nan = math.nan
    if not groups or any(not logs for logs, _ in groups):
        return Estimate(nan, nan, nan, 0, Decision.UNDECIDED, "not judged", band, level,
                        comparisons, looks)
    centre = sum(w * statistics.fmean(logs) for logs, w in groups)
    repeats = min(len(logs) for logs, _ in groups)
    if repeats < 2:
        return Estimate(math.exp(centre), nan, nan, repeats, Decision.UNDECIDED, "weak", band,
                        level, comparisons, looks)
    parts = [(w * w * statistics.variance(logs) / len(logs), len(logs) - 1) for logs, w in groups]
    variance = sum(v for v, _ in parts)

    def interval(at: float) -> tuple[float, float]:
        if variance == 0:
            return math.exp(centre), math.exp(centre)
        df = variance ** 2 / sum(v * v / d for v, d in parts if v > 0)
        half = float(sp.t.ppf(1 - (1 - at) / 2, df)) * math.sqrt(variance)
        return math.exp(centre - half), math.exp(centre + half)
    low, high = interval(level)
    decision = _decide(low, high, band)
    strength = "weak"
    if decision is not Decision.UNDECIDED:
        strict = _decide(*interval(firm_level), band) is decision
        strength = "firm" if strict and repeats >= FIRM_REPEATS else "moderate"
    return Estimate(math.exp(centre), low, high, repeats, decision, strength, band, level,
                    comparisons, looks)


def ratio(b: Sequence[float], a: Sequence[float], **rule) -> Estimate:
    """b / a."""
    return contrast([(b, 1.0), (a, -1.0)], **rule)


def speedup(low: Sequence[float], high: Sequence[float], **rule) -> Estimate:
    """high / low: one strategy's gain from more cores."""
    return contrast([(high, 1.0), (low, -1.0)], **rule)


def speedup_ratio(b_low: Sequence[float], b_high: Sequence[float], a_low: Sequence[float],
                  a_high: Sequence[float], **rule) -> Estimate:
    """B's speedup over A's: (b_high / b_low) / (a_high / a_low)."""
    return contrast([(b_high, 1.0), (b_low, -1.0), (a_high, -1.0), (a_low, 1.0)], **rule)


def count(lost: float, of: float, checks: int) -> Estimate:
    """An exact count (updates lost of those acknowledged, over ``checks`` checks)."""
    if checks <= 0:
        return Estimate(math.nan, math.nan, math.nan, 0, Decision.UNDECIDED, "not judged",
                        exact=True)
    share = lost / of if of else 0.0
    if lost > 0:
        return Estimate(share, share, share, checks, Decision.DIFFERS, "firm", exact=True)
    strength = "firm" if checks >= FIRM_REPEATS else "moderate" if checks >= 2 else "weak"
    return Estimate(share, share, share, checks, Decision.SAME, strength, exact=True)


def weakest(strengths: Sequence[str]) -> str:
    return max(strengths or ["not judged"], key=STRENGTHS.index)
