"""Render a Document as one self-contained HTML file and as Markdown with PNGs beside it."""
from __future__ import annotations

import base64
import html
import re

from results.schema import FLAG_NAMES

from .doc import Bullets, Code, Document, Figure, Heading, Para, Table, TableCell

CSS = """
:root { --ink: #1d2127; --muted: #5b6470; --line: #d6dae0; --flag: #fff4d6; --alert: #b3261e; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
       max-width: 1180px; margin: 0 auto; padding: 24px 28px 64px; }
h1 { font-size: 1.7em; margin: 0 0 4px; } h2 { font-size: 1.35em; margin: 40px 0 10px;
  padding-bottom: 4px; border-bottom: 2px solid var(--line); } h3 { font-size: 1.08em; margin: 24px 0 8px; }
.subtitle { color: var(--muted); margin: 0 0 16px; }
nav ul { columns: 3; margin: 0; padding-left: 0; list-style: none; } nav { border: 1px solid var(--line);
  border-radius: 6px; padding: 10px 14px; margin-bottom: 10px; }
p.note { color: var(--muted); font-size: 0.93em; }
p.alert { border-left: 4px solid var(--alert); background: #fdeceb; padding: 8px 12px; font-weight: 600; }
p.ok { border-left: 4px solid #2e7d32; background: #edf7ee; padding: 8px 12px; }
.table-wrap { overflow-x: auto; margin: 8px 0 16px; }
table { border-collapse: collapse; font-size: 13px; min-width: 50%; }
caption { caption-side: bottom; text-align: left; color: var(--muted); font-size: 12px; padding-top: 4px; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 9px; text-align: left; vertical-align: top; }
th { background: #f3f5f7; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.flagged { background: var(--flag); } td.nw { white-space: nowrap; }
sup.mark { color: #8a5a00; font-weight: 700; margin-left: 2px; cursor: help; }
figure { margin: 12px 0 20px; } figure img { max-width: 100%; height: auto; border: 1px solid var(--line); }
figcaption { color: var(--muted); font-size: 12.5px; }
pre { background: #f3f5f7; padding: 10px 12px; overflow-x: auto; border-radius: 4px; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; font-size: 0.92em; }
footer { margin-top: 48px; color: var(--muted); font-size: 12px; }
@media print {
  body { max-width: none; padding: 0; font-size: 11pt; } nav { display: none; }
  h2 { break-before: page; } section:first-of-type h2 { break-before: auto; }
  figure, table, p.alert { break-inside: avoid; } .table-wrap { overflow: visible; }
  a { color: inherit; text-decoration: none; }
}
"""


def _inline(text: str) -> str:
    """Escape, then turn `code` spans into <code>."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


def _cell_html(value: str | TableCell, numeric: bool) -> str:
    cell = value if isinstance(value, TableCell) else TableCell(str(value))
    short = len(cell.text) <= 24  # names and numbers: never broken across lines
    classes = [c for c in ("num" if numeric else "", "flagged" if cell.marks else "",
                           "nw" if short else "") if c]
    attr = f' class="{" ".join(classes)}"' if classes else ""
    mark = ""
    if cell.marks:
        title = ", ".join(FLAG_NAMES.get(m, m) for m in cell.marks)
        mark = f'<sup class="mark" title="{html.escape(title)}">{html.escape(cell.marks)}</sup>'
    return f"<td{attr}>{_inline(cell.text)}{mark}</td>"


def _table_html(table: Table) -> str:
    num_attr = ' class="num"'
    head = "".join(f"<th{num_attr if i in table.numeric else ''}>{html.escape(c)}</th>"
                   for i, c in enumerate(table.columns))
    body = "".join("<tr>" + "".join(_cell_html(v, i in table.numeric) for i, v in enumerate(row)) + "</tr>"
                   for row in table.rows)
    caption = f"<caption>{_inline(table.caption)}</caption>" if table.caption else ""
    return (f'<div class="table-wrap"><table>{caption}<thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>")


def _block_html(block) -> str:
    if isinstance(block, Heading):
        return f"<h3>{_inline(block.text)}</h3>"
    if isinstance(block, Para):
        return f'<p class="{block.kind}">{_inline(block.text)}</p>'
    if isinstance(block, Bullets):
        return "<ul>" + "".join(f"<li>{_inline(item)}</li>" for item in block.items) + "</ul>"
    if isinstance(block, Code):
        return f"<pre><code>{html.escape(block.text)}</code></pre>"
    if isinstance(block, Table):
        return _table_html(block)
    if isinstance(block, Figure) and not block.png:  # built without figures
        return (f'<figure data-file="{html.escape(block.filename)}"><figcaption>'
                f"{_inline(block.caption)}</figcaption></figure>")
    if isinstance(block, Figure):
        data = base64.b64encode(block.png).decode()
        return (f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(block.title)}" '
                f'data-file="{html.escape(block.filename)}"><figcaption>{_inline(block.caption)}'
                "</figcaption></figure>")
    raise TypeError(f"unknown block {type(block).__name__}")


def to_html(doc: Document, footer: str = "") -> str:
    """One file: CSS inline, every image a data: URI, no script, nothing fetched."""
    nav = "".join(f'<li><a href="#{s.id}">{html.escape(s.title)}</a></li>' for s in doc.sections)
    body = "".join(f'<section id="{s.id}"><h2>{html.escape(s.title)}</h2>'
                   + "".join(_block_html(b) for b in s.blocks) + "</section>" for s in doc.sections)
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(doc.title)}</title><style>{CSS}</style></head><body>"
            f'<header><h1>{html.escape(doc.title)}</h1><p class="subtitle">{html.escape(doc.subtitle)}</p>'
            f"<nav><ul>{nav}</ul></nav></header>{body}"
            f"<footer>{html.escape(footer)}</footer></body></html>\n")


def _md_cell(value: str | TableCell) -> str:
    cell = value if isinstance(value, TableCell) else TableCell(str(value))
    text = cell.text + (f" [{cell.marks}]" if cell.marks else "")
    return text.replace("|", "\\|").replace("\n", " ") or " "


def _anchor(title: str) -> str:
    """GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")


def _block_md(block) -> str:
    if isinstance(block, Heading):
        return f"### {block.text}"
    if isinstance(block, Para):
        return {"alert": f"> **⚠ {block.text}**", "note": f"> {block.text}",
                "ok": f"> ✓ {block.text}"}.get(block.kind, block.text)
    if isinstance(block, Bullets):
        return "\n".join(f"- {item}" for item in block.items)
    if isinstance(block, Code):
        return f"```\n{block.text}\n```"
    if isinstance(block, Table):
        align = ["---:" if i in block.numeric else "---" for i in range(len(block.columns))]
        lines = ["| " + " | ".join(_md_cell(c) for c in block.columns) + " |",
                 "| " + " | ".join(align) + " |"]
        lines += ["| " + " | ".join(_md_cell(v) for v in row) + " |" for row in block.rows]
        return "\n".join(lines) + (f"\n\n*{block.caption}*" if block.caption else "")
    if isinstance(block, Figure):
        return f"![{block.title}]({block.filename})\n\n*{block.caption}*"
    raise TypeError(f"unknown block {type(block).__name__}")


def to_markdown(doc: Document, footer: str = "") -> str:
    """The same sections and tables; figures link to the PNG files written beside it."""
    parts = [f"# {doc.title}", f"*{doc.subtitle}*" if doc.subtitle else "",
             "\n".join(f"- [{s.title}](#{_anchor(s.title)})" for s in doc.sections)]
    for section in doc.sections:
        parts.append(f"## {section.title}")
        parts.extend(_block_md(block) for block in section.blocks)
    if footer:
        parts.append(f"---\n*{footer}*")
    return "\n\n".join(p for p in parts if p) + "\n"
