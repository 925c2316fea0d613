"""The report as data: sections of paragraphs, tables and figures.

The sections are built once and rendered twice (HTML and Markdown), so both
files carry the same tables and the same words.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class TableCell:
    """A table cell with validity marks (letters from aggregate.FLAGS)."""
    text: str
    marks: str = ""


@dataclass
class Heading:
    text: str
    id: str = ""


@dataclass
class Para:
    text: str
    kind: str = "p"  # p | note | alert | ok


@dataclass
class Bullets:
    items: list[str]


@dataclass
class Code:
    text: str


@dataclass
class Table:
    columns: list[str]
    rows: Sequence[Sequence[str | TableCell]]  # read-only: a table of plain strings is one too
    caption: str = ""
    numeric: set[int] = field(default_factory=set)  # column indexes to right-align


@dataclass
class Fold:
    """Detail a reader opens when they want it: collapsed in HTML (<details>), written out
    in Markdown in the same place, so Markdown keeps everything in the same order."""
    summary: str
    blocks: list = field(default_factory=list)


@dataclass
class Figure:
    filename: str   # PNG beside report.md
    title: str
    caption: str
    png: bytes


@dataclass
class Section:
    id: str
    title: str
    blocks: list = field(default_factory=list)

    def add(self, *blocks) -> Section:
        self.blocks.extend(blocks)
        return self


@dataclass
class Document:
    title: str
    subtitle: str
    sections: list[Section]

    @property
    def figures(self) -> list[Figure]:
        return [block for section in self.sections for block in flat(section.blocks)
                if isinstance(block, Figure)]


def flat(blocks: list) -> list:
    """Blocks with every Fold opened, in reading order."""
    out = []
    for block in blocks:
        out.extend(flat(block.blocks) if isinstance(block, Fold) else [block])
    return out
