"""How strategies look and how numbers are written, the same in every plot and table."""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import TypeGuard

# Numbers must not load matplotlib (report.analysis imports this module): colours are
# kept as slots in matplotlib's tab20 palette and resolved only when a plot draws them.
PALETTE = "tab20"
PROCESS_MODEL = "processes"


def colour_slots(discipline: dict[str, str]) -> dict[str, int]:
    """A fixed tab20 slot per strategy: one hue per sharing discipline (its declared family,
    e.g. global-lock, global-lock-mp and rust-global-lock), from the family's index among
    the sorted families.

    tab20 comes in pairs of one hue: the family's first form (by name) gets the dark shade
    and its other forms (a process variant, another language's) the light one, so a reader
    pairs the forms of one discipline at a glance; line styles tell the forms apart.
    """
    families = sorted(set(discipline.values()))
    first = {family: min(n for n, f in discipline.items() if f == family) for family in families}
    return {name: 2 * (families.index(family) % 10) + (name != first[family])
            for name, family in discipline.items()}


def line_style(safety: str, model: str) -> dict:
    """Line and marker: processes dashed squares, the unsafe dotted crosses, the rest solid dots."""
    if safety == "unsafe":
        return {"linestyle": ":", "marker": "X"}
    if model == PROCESS_MODEL:
        return {"linestyle": "--", "marker": "s"}
    if safety == "no-state":
        return {"linestyle": "-.", "marker": "D"}
    return {"linestyle": "-", "marker": "o"}


@dataclass(frozen=True)
class Series:
    """One strategy's line: its name, safety and model (for the line style) and colour slot."""
    strategy: str
    safety: str
    slot: int
    model: str = ""

    @property
    def colour(self) -> tuple:
        from matplotlib import colormaps  # only a plot asks for the colour itself
        return colormaps[PALETTE](self.slot)

    @property
    def style(self) -> dict:
        return line_style(self.safety, self.model)


def is_number(value: object) -> TypeGuard[float]:
    """A real number that is not NaN (numpy's scalars included; bool is not a number here)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    return not math.isnan(float(value))


def num(value: object, digits: int = 0) -> str:
    """1234.5 -> '1,234' (or with digits); NaN/None -> '—'."""
    if not is_number(value):
        return "—"
    return f"{value:,.{digits}f}"


def sig(value: object, figures: int = 3) -> str:
    """Three significant figures without scientific notation: 0.0123, 1.23, 123, 1,234."""
    if not is_number(value):
        return "—"
    if value == 0:
        return "0"
    decimals = max(0, figures - 1 - int(math.floor(math.log10(abs(value)))))
    return f"{value:,.{decimals}f}"


def ms(microseconds: object) -> str:
    """Latency in ms with three significant figures (every latency column uses ms)."""
    return sig(microseconds / 1000.0) if is_number(microseconds) else "—"


def spread(median: object, low: object, high: object, fmt=num) -> str:
    """'median (min–max)' when repeats differ, else just the median."""
    if not is_number(median):
        return "—"
    if is_number(low) and is_number(high) and fmt(low) != fmt(high):
        return f"{fmt(median)} ({fmt(low)}–{fmt(high)})"
    return fmt(median)


def ratio(value: object) -> str:
    return f"{value:.2f}×" if is_number(value) else "—"


def percent(value: object, digits: int = 0) -> str:
    return f"{100 * value:.{digits}f}%" if is_number(value) else "—"
