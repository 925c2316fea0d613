"""Pieces every section uses: marked cells, the marks legend, figures, load-generator captions."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import pandas as pd
from matplotlib.figure import Figure as MplFigure

from ..aggregate import FLAGS, marks
from ..doc import Figure, Para, TableCell
from ..findings import cores_text
from ..plots import png
from ..style import slug  # noqa: F401  (the sections import it from here)

MARK_LEGEND = ("Marks: " + " · ".join(f"{f.mark} = {f.name}" for f in FLAGS)
               + " (explained under Validity). Numbers are medians over the ok repeats, "
                 "with (min–max) when the repeats differ.")


def legend() -> Para:
    return Para(MARK_LEGEND, "note")


def marked(text: str, row: pd.Series | dict) -> TableCell:
    """A table cell carrying the group's validity marks."""
    return TableCell(text, marks(row))


KEY = "fig-key.png"

# Off while a document is built without figures (its text, tables and captions only).
_DRAWING: ContextVar[bool] = ContextVar("drawing", default=True)


@contextmanager
def drawing(on: bool) -> Iterator[None]:
    token = _DRAWING.set(on)
    try:
        yield
    finally:
        _DRAWING.reset(token)


def figure(draw: Callable[[], MplFigure], filename: str, title: str, caption: str,
           strategies: bool = True) -> Figure:
    """A figure of the report; ``draw`` runs only when figures are drawn. One that draws
    ``strategies`` points to the key (drawn once, under Scaling): declared, not read from
    the drawing, so a build without figures keeps the same caption."""
    note = (f" Strategies: see the key, [{KEY}](#{KEY.removesuffix('.png')})."
            if strategies and filename != KEY else "")
    return Figure(filename=filename, title=title, caption=caption + note,
                  png=png(draw()) if _DRAWING.get() else b"")


def cores_label(n: object) -> str:
    return cores_text(n)


def loadgen_caption(rows: pd.DataFrame) -> str:
    """Says, for the cells a figure or table shows, whether the load generator was the limit."""
    if rows.empty:
        return "No cell shown."
    unknown = rows[rows["loadgen_unknown"].fillna(False).astype(bool)]
    note = (f" Whether it was the limit is unknown for {len(unknown)} cell(s): the load generator "
            "or the server ran on another host, where the harness cannot measure CPU."
            if len(unknown) else "")
    bound = rows[rows["loadgen_bound"].astype(bool)]
    if bound.empty:
        return ("The load generator was not the limit in any cell shown." if not len(unknown)
                else "The load generator was not found to be the limit in any cell shown." + note)
    where = ", ".join(f"{r.strategy} at {cores_label(r.cores)}/{r.users} users"
                      for r in bound.itertuples())
    return (f"The load generator was the limit (L) for {where}: those throughputs are floors, "
            "not the server's capacity." + note)
