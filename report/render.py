"""Render a Document as one self-contained HTML file and as Markdown with PNGs beside it."""
from __future__ import annotations

import base64
import html
import re

from results.schema import FLAG_NAMES

from .doc import Bullets, Code, Document, Figure, Fold, Heading, Para, Table, TableCell

CSS = """
:root { --ink: #1d2127; --muted: #5b6470; --line: #d6dae0; --flag: #fff4d6; --alert: #b3261e; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
       max-width: 1180px; margin: 0 auto; padding: 14px 28px 64px; }
h1 { font-size: 1.45em; margin: 0 0 2px; } h2 { font-size: 1.35em; margin: 36px 0 10px;
  padding-bottom: 4px; border-bottom: 2px solid var(--line); } h3 { font-size: 1.08em; margin: 22px 0 8px; }
.subtitle { color: var(--muted); margin: 0 0 6px; font-size: 14px; }
#answers h2 { font-size: 1.12em; margin: 10px 0 4px; padding: 0; border: none; }
#answers .table-wrap { margin: 2px 0 4px; } #answers table { font-size: 12.5px; width: 100%; }
#answers td, #answers th { padding: 2px 7px; line-height: 1.3; } #answers p { margin: 4px 0; }
#answers p.alert, #answers p.warn { padding: 4px 10px; }
nav { border-top: 1px solid var(--line); border-bottom: 1px solid var(--line); padding: 6px 0;
  margin: 8px 0 0; font-size: 13.5px; color: var(--muted); }
p.note { color: var(--muted); font-size: 0.93em; }
p.alert { border-left: 4px solid var(--alert); background: #fdeceb; padding: 8px 12px; font-weight: 600; }
p.warn { border-left: 4px solid #b26a00; background: #fff4e0; padding: 8px 12px; }
p.ok { border-left: 4px solid #2e7d32; background: #edf7ee; padding: 8px 12px; }
details { margin: 6px 0 12px; } details > summary { cursor: pointer; color: #2a5a9a; }
details[open] > summary { margin-bottom: 6px; }
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
  #answers h2 { break-before: auto; }
  figure, table, p.alert { break-inside: avoid; } .table-wrap { overflow: visible; }
  a { color: inherit; text-decoration: none; }
}
"""


LINK = re.compile(r"\[([^\]]+)\]\((#[\w-]+)\)")  # [text](#anchor): a link within the report


def _inline(text: str) -> str:
    """Escape, then turn `code` spans into <code> and [text](#anchor) into links."""
    escaped = re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))
    return LINK.sub(r'<a href="\2">\1</a>', escaped)


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


def _figure_html(block: Figure) -> str:
    """A figure with its anchor (the answers link to it); built without figures, its caption."""
    anchor, name = html.escape(block.filename.removesuffix(".png")), html.escape(block.filename)
    caption = f"<figcaption>{_inline(block.caption)}</figcaption>"
    if not block.png:
        return f'<figure id="{anchor}" data-file="{name}">{caption}</figure>'
    data = base64.b64encode(block.png).decode()
    return (f'<figure id="{anchor}"><img src="data:image/png;base64,{data}" '
            f'alt="{html.escape(block.title)}" data-file="{name}">{caption}</figure>')


def _block_html(block) -> str:
    if isinstance(block, Heading):
        anchor = f' id="{html.escape(block.id)}"' if block.id else ""
        return f"<h3{anchor}>{_inline(block.text)}</h3>"
    if isinstance(block, Fold):
        return (f"<details><summary>{_inline(block.summary)}</summary>"
                + "".join(_block_html(b) for b in block.blocks) + "</details>")
    if isinstance(block, Para):
        return f'<p class="{block.kind}">{_inline(block.text)}</p>'
    if isinstance(block, Bullets):
        return "<ul>" + "".join(f"<li>{_inline(item)}</li>" for item in block.items) + "</ul>"
    if isinstance(block, Code):
        return f"<pre><code>{html.escape(block.text)}</code></pre>"
    if isinstance(block, Table):
        return _table_html(block)
    if isinstance(block, Figure):
        return _figure_html(block)
    raise TypeError(f"unknown block {type(block).__name__}")


def _section_html(section) -> str:
    return (f'<section id="{section.id}"><h2>{html.escape(section.title)}</h2>'
            + "".join(_block_html(b) for b in section.blocks) + "</section>")


def to_html(doc: Document, footer: str = "") -> str:
    """One file: CSS inline, every image a data: URI, no script, nothing fetched. The first
    section (the answers) comes before the contents: it is the first screen."""
    nav = " · ".join(f'<a href="#{s.id}">{html.escape(s.title)}</a>' for s in doc.sections[1:])
    first, rest = doc.sections[:1], doc.sections[1:]
    body = ("".join(_section_html(s) for s in first) + f"<nav>Contents: {nav}</nav>"
            + "".join(_section_html(s) for s in rest))
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(doc.title)}</title><style>{CSS}</style></head><body>"
            f'<header><h1>{html.escape(doc.title)}</h1><p class="subtitle">{_inline(doc.subtitle)}</p>'
            f"</header>{body}"
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
        return (f'<a id="{block.id}"></a>\n\n' if block.id else "") + f"### {block.text}"
    if isinstance(block, Fold):
        return "\n\n".join([f"**{block.summary}**"] + [_block_md(b) for b in block.blocks])
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
    parts = [f"# {doc.title}", f"*{doc.subtitle}*" if doc.subtitle else ""]
    for i, section in enumerate(doc.sections):
        if i == 1:  # the contents after the answers, as in the HTML
            parts.append("\n".join(f"- [{s.title}](#{_anchor(s.title)})" for s in doc.sections[1:]))
        parts.append(f'<a id="{section.id}"></a>\n\n## {section.title}')
        parts.extend(_block_md(block) for block in section.blocks)
    if footer:
        parts.append(f"---\n*{footer}*")
    return "\n\n".join(p for p in parts if p) + "\n"
