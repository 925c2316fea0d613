"""What a claim's verdict rests on, as data: the sentence is written from it, the report
prints its strength, and `sharebench compare` sets two runs' judgements side by side.

A judgement names what was compared, the one number that carries it (`effect`, a ratio
B/A or an exact count's share), the repeats' spread, how many repeats stand behind the
fewest-measured side, and how many flagged cells were left out. Its strength is defined
here and nowhere else (STRENGTH_RULE is what the report prints):

- a difference (`differs`): **firm** when every side has 3+ repeats and the effect is at
  least 3 times the repeats' spread; **moderate** when every side has 2+ repeats and the
  effect exceeds the spread; **weak** otherwise (one repeat has no spread to judge by).
- no measurable difference (`differs` False): **firm** when every side has 3+ repeats and
  their spread is within 10% (a 10% difference would have shown); **moderate** with 2+
  repeats; **weak** with one.
- an exact count (lost updates, `exact`) needs no repeats to prove a difference: one
  lost update is one; its absence is firm after 3+ checks.

The effect is a relative difference: for a ratio r, max(r, 1/r) − 1 (1.5× and 0.67× are
both 50%); the spread is the widest relative min–max range ((max − min) / median) of the
repeats among the groups compared, NaN where a group has a single repeat; an exact count
(`exact`) has none.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from .style import is_number, percent

FIRM_REPEATS = 3          # repeats per side for a firm judgement
FIRM_SEPARATION = 3.0     # effect over spread for a firm difference
QUIET_SPREAD = 0.10       # a no-difference judgement is firm only if the repeats agree this well
STRENGTHS = ("firm", "moderate", "weak", "not judged")

STRENGTH_RULE = (
    "How firm a verdict is comes from its judgement: the repeats behind the fewest-measured "
    "side compared, and the effect (the relative difference, e.g. 1.5× or 0.67× are both 50%) "
    "against the repeats' spread (the widest (max − min) / median among the groups compared). "
    f"A difference is firm with {FIRM_REPEATS}+ repeats a side and an effect at least "
    f"{FIRM_SEPARATION:g}× the spread, moderate with 2+ repeats and an effect beyond the spread, "
    "weak otherwise (one repeat has no spread to judge by). No measurable difference is firm "
    f"with {FIRM_REPEATS}+ repeats a side whose spread is within {QUIET_SPREAD:.0%}, moderate "
    "with 2+, weak with one. An exact count (lost updates) proves a difference with one lost "
    f"update; its absence is firm after {FIRM_REPEATS}+ checks. Flagged cells left out of a "
    "judgement are counted in it.")


@dataclass(frozen=True)
class Judgement:
    """One comparison a verdict rests on. `label` names the part of a claim it judges
    (e.g. "CPython", "Rust") when a claim has more than one."""
    verdict: str              # the verdict this comparison gives, as the claim states it
    compared: str             # what was compared with what, where
    number: str               # the carrying number as printed, e.g. "speedup 1.69× vs 1.03×"
    effect: float             # ratio B/A, or an exact count's share (NaN: nothing measured)
    spread: float             # widest relative min–max range of the repeats; 0 exact; NaN unknown
    repeats: int              # ok repeats (or checks) behind the fewest-measured side
    differs: bool             # the verdict asserts a difference (False: no measurable one)
    left_out: int = 0         # flagged cells left out of the comparison
    label: str = ""
    ratio: bool = True        # effect is a ratio (else a share, e.g. of updates lost)
    exact: bool = False       # an exact count (lost updates): no noise, spread 0

    @property
    def measured(self) -> bool:
        return is_number(self.effect)

    @property
    def gap(self) -> float:
        """The effect as a relative difference: max(r, 1/r) − 1 for a ratio, the share itself."""
        if not self.measured:
            return math.nan
        if not self.ratio:
            return abs(self.effect)
        r = abs(self.effect)
        return max(r, 1 / r) - 1 if r > 0 else math.inf

    @property
    def separation(self) -> float:
        """Effect over spread: inf for an exact count, NaN when the spread is unknown."""
        if not self.measured:
            return math.nan
        if self.exact:
            return math.inf
        if not is_number(self.spread):
            return math.nan
        return math.inf if self.spread == 0 else self.gap / self.spread

    @property
    def strength(self) -> str:
        if not self.measured:
            return "not judged"
        if self.differs:
            if self.exact:
                return "firm" if self.gap > 0 else "weak"
            if self.repeats < 2 or not is_number(self.separation):
                return "weak"
            if self.repeats >= FIRM_REPEATS and self.separation >= FIRM_SEPARATION:
                return "firm"
            return "moderate" if self.separation > 1 else "weak"
        if self.exact:
            return "firm" if self.repeats >= FIRM_REPEATS else "moderate" if self.repeats >= 2 else "weak"
        if self.repeats < 2:
            return "weak"
        quiet = is_number(self.spread) and self.spread <= QUIET_SPREAD
        return "firm" if self.repeats >= FIRM_REPEATS and quiet else "moderate"

    def basis(self) -> str:
        """'3 repeats; effect 64% vs spread 4%': what the strength was judged from."""
        if not self.measured:
            return "nothing to compare"
        what = "checks" if self.exact else "repeats"
        parts = [f"{self.repeats} {what[:-1] if self.repeats == 1 else what}"]
        if self.exact:
            parts.append("an exact count")
        elif is_number(self.spread):
            parts.append(f"effect {percent(self.gap)} vs spread {percent(self.spread)}")
        else:
            parts.append(f"effect {percent(self.gap)}, spread unknown (one repeat)")
        if self.left_out:
            parts.append(f"{self.left_out} flagged cell{'s' if self.left_out != 1 else ''} left out")
        return "; ".join(parts)

    def firmness(self) -> str:
        """'firm (3 repeats; effect 64% vs spread 4%)'."""
        return f"{self.strength} ({self.basis()})"

    def text(self) -> str:
        """One line with everything: for `sharebench compare` and the Markdown report."""
        head = f"{self.label}: " if self.label else ""
        return f"{head}{self.verdict} — {self.compared}: {self.number}; {self.firmness()}"


def not_judged(verdict: str, compared: str, label: str = "") -> Judgement:
    """A claim this run cannot answer: nothing compared, strength 'not judged'."""
    return Judgement(verdict, compared, "—", math.nan, math.nan, 0, False, label=label)


def relative_range(low: object, high: object, mid: object, repeats: object) -> float:
    """(max − min) / median of one group's repeats; NaN when unknown or one repeat."""
    if not (is_number(low) and is_number(high) and is_number(mid)) or mid == 0:
        return math.nan
    if not is_number(repeats) or repeats < 2:
        return math.nan
    return (float(high) - float(low)) / abs(float(mid))


def widest(ranges: Iterable[float]) -> float:
    """The widest of the groups' relative ranges; NaN if any group's is unknown."""
    values = list(ranges)
    if not values or any(not is_number(v) for v in values):
        return math.nan
    return max(values)


def weakest(judgements: list[Judgement]) -> str:
    """The strength of a claim resting on several judgements: that of its weakest."""
    found = [j.strength for j in judgements] or ["not judged"]
    return max(found, key=STRENGTHS.index)
