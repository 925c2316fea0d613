"""How strategies look and how numbers are written, the same in every plot and table."""
from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass
from typing import TypeGuard

# Numbers must not load matplotlib (report.analysis imports this module): colours are
# kept as slots in matplotlib's tab20 palette and resolved only when a plot draws them.
PALETTE = "tab20"
# One line style or marker per model and language, the same in every figure: the marker
# says the execution model, the line the language. A colour says the discipline.
MARKERS = {"threads": "o", "async": "^", "processes": "s"}
OTHER_MARKER = "D"
LINES = {"python": "-", "rust": "--"}
OTHER_LINE = ":"
SPARE_MARKERS = ("v", "P", "X", "*", "h", "<", ">", "p")  # when two strategies would look alike
MODEL_ORDER = ("threads", "async", "processes")
MOST_SERIES = 8  # a panel holding more is split into small multiples (facets)


def colour_slots(discipline: dict[str, str]) -> dict[str, int]:
    """A fixed tab20 slot per strategy: one colour per sharing discipline (its declared
    family, e.g. global-lock, global-lock-mp and rust-global-lock), from the family's index
    among the sorted families. The first ten families get tab20's ten dark hues (tab10's
    colours), the next ten their light shades; the forms of one family share its colour and
    differ by marker (model) and line (language)."""
    families = sorted(set(discipline.values()))
    slot = {family: 2 * (i % 10) + (i // 10) % 2 for i, family in enumerate(families)}
    return {name: slot[family] for name, family in discipline.items()}


@dataclass(frozen=True)
class Series:
    """One strategy as every plot draws it: colour slot (its discipline), marker (its model),
    line (its language)."""
    strategy: str
    safety: str
    slot: int
    model: str = ""
    language: str = "python"
    marker: str = "o"
    linestyle: str = "-"

    @property
    def colour(self) -> tuple:
        from matplotlib import colormaps  # only a plot asks for the colour itself
        return colormaps[PALETTE](self.slot)

    @property
    def style(self) -> dict:
        return {"linestyle": self.linestyle, "marker": self.marker}


def make_series(order: list[str], safety: dict[str, str], model: dict[str, str],
                language: dict[str, str], discipline: dict[str, str]) -> list[Series]:
    """Every strategy's look, fixed once per report. Two strategies with one discipline, model
    and language would look alike: the later (by name) takes a spare marker."""
    slots = colour_slots({s: discipline.get(s) or s for s in order})
    taken: set[tuple[int, str, str]] = set()
    out = {}
    for name in sorted(order):
        kind, lang = model.get(name, ""), language.get(name) or "python"
        line = LINES.get(lang, OTHER_LINE)
        candidates = [MARKERS.get(kind, OTHER_MARKER), *SPARE_MARKERS]
        marker = next((m for m in candidates if (slots[name], m, line) not in taken), candidates[0])
        taken.add((slots[name], marker, line))
        out[name] = Series(name, safety.get(name, ""), slots[name], kind, lang, marker, line)
    return [out[name] for name in order]


@dataclass(frozen=True)
class Facet:
    """One panel's share of the strategies: its title names what they have in common."""
    title: str
    series: list[Series]


def facets(series: list[Series], most: int = MOST_SERIES) -> list[Facet]:
    """Small multiples: all in one panel when they fit, else one panel per language, and a
    language with more than `most` split by model (consecutive models merged while they
    fit), so no panel holds more than `most` series."""
    if len(series) <= most:
        return [Facet("", list(series))]
    languages = sorted({s.language for s in series}, key=lambda lang: (lang != "python", lang))
    out = []
    for lang in languages:
        mine = [s for s in series if s.language == lang]
        name = lang.capitalize()
        if len(mine) <= most:
            out.append(Facet(name, mine))
            continue
        models = sorted({s.model for s in mine}, key=lambda m: (
            MODEL_ORDER.index(m) if m in MODEL_ORDER else len(MODEL_ORDER), m))
        current: list[Series] = []
        kinds: list[str] = []
        for kind in models:
            group = [s for s in mine if s.model == kind]
            if current and len(current) + len(group) > most:
                out.append(Facet(f"{name}: {', '.join(kinds)}", current))
                current, kinds = [], []
            for start in range(0, len(group), most):  # one model alone may still be too many
                chunk = group[start:start + most]
                if current and len(current) + len(chunk) > most:
                    out.append(Facet(f"{name}: {', '.join(kinds)}", current))
                    current, kinds = [], []
                current += chunk
                if kind not in kinds:
                    kinds.append(kind or "other")
        if current:
            out.append(Facet(f"{name}: {', '.join(kinds)}", current))
    return out


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


def slug(text: str) -> str:
    """A file-name part: 'hot-key' -> 'hot-key', 'A b/c' -> 'a-b-c'."""
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-") or "x"
