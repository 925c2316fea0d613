"""Detail below, not in the way: after a section is built, its long lists, long tables and
long explanations are folded (doc.Fold: collapsed in HTML, written out in Markdown), so the
unfolded report is the answers, the figures and short tables. One rule for every section,
so a section added later folds the same way."""
from __future__ import annotations

import re

from ..doc import Bullets, Figure, Fold, Para, Section, Table

MOST_ROWS = 4        # a longer table folds
MOST_TABLE_TEXT = 900  # characters in its cells: a wordier table folds too
# Figures of detail: each shows again, cell by cell, what a figure left unfolded shows
# (efficiency beside throughput, closed-loop latency at saturation beside open-loop
# latency, what coordinated omission hides, one cell's timeline).
DETAIL_FIGURES = ("fig-efficiency-", "fig-latency-", "fig-users-", "fig-omission-", "fig-gc-timeline-")
LONG_NOTE = 320      # characters: a longer note folds, behind its first sentence
LONG_TEXT = 700      # characters: a longer paragraph folds
KEEP = {"alert", "warn", "ok", "lead"}  # never folded: they change how the rest is read


def _first_sentence(text: str, most: int = 110) -> str:
    found = re.split(r"(?<=[.:;])\s", text.strip(), maxsplit=1)[0].rstrip(".:;")
    return found if len(found) <= most else found[: most - 1].rsplit(" ", 1)[0] + "…"


def _table_title(table: Table) -> str:
    """What the table holds: its caption's first sentence when that says something (five
    words or more), else its first columns."""
    sentence = re.split(r"(?<=\.)\s", table.caption.strip(), maxsplit=1)[0].rstrip(".")
    if len(sentence.split()) >= 5 and len(sentence) <= 110:
        return sentence
    shown = table.columns[:5]
    return ", ".join(shown) + (", …" if len(table.columns) > len(shown) else "")


def _folded(block) -> Fold | None:
    if isinstance(block, Bullets) and block.items:
        n = len(block.items)
        return Fold(f"{n} line{'s' if n != 1 else ''} of detail", [block])
    if isinstance(block, Figure) and block.filename.startswith(DETAIL_FIGURES):
        return Fold(f"Figure: {block.title}", [block])
    if isinstance(block, Table) and (len(block.rows) > MOST_ROWS or _text(block) > MOST_TABLE_TEXT):
        return Fold(f"Table: {_table_title(block)} ({len(block.rows)} rows)", [block])
    if isinstance(block, Para) and block.kind not in KEEP:
        limit = LONG_NOTE if block.kind == "note" else LONG_TEXT
        if len(block.text) > limit:
            return Fold(_first_sentence(block.text) + " …", [block])
    return None


def _text(table: Table) -> int:
    return sum(len(getattr(cell, "text", str(cell))) for row in table.rows for cell in row)


def fold_detail(section: Section) -> Section:
    """Fold the section's long blocks in place; blocks already folded stay as they are."""
    section.blocks = [_folded(b) or b for b in section.blocks]
    return section
