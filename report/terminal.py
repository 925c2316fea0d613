"""The summary `make bench` and `sharebench report` print: what changes a verdict (a race, a
run cut short) in a few wrapped lines, then two compact tables, the claims and the fastest
safe strategy per workload, each line at most WIDTH columns. The same judgements and
choices the report's first screen shows."""
from __future__ import annotations

import textwrap
from collections.abc import Sequence

from .analysis import Analysis
from .choices import choices
from .claims.result import ClaimResult
from .findings import correctness_headline
from .store_cost import costs
from .store_sentences import summary_line
from .style import num, ratio

WIDTH = 100


def table(columns: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[int]) -> list[str]:
    """A plain-text table: each cell wrapped to its column, columns two spaces apart."""
    def lines(cells: Sequence[str]) -> list[str]:
        wrapped = [textwrap.wrap(str(c), w, break_on_hyphens=False) or [""]
                   for c, w in zip(cells, widths)]
        return ["  ".join(f"{(col[i] if i < len(col) else ''):<{w}}" for col, w in zip(wrapped, widths)).rstrip()
                for i in range(max(len(col) for col in wrapped))]
    out = lines(columns)
    out.append("  ".join("-" * w for w in widths))
    for row in rows:
        out += lines(row)
    return out


def _claim_rows(found: list) -> list[list[str]]:
    rows = []
    for claim in found:
        judgements: list[ClaimResult] = claim.judgements
        for j in judgements:
            name = claim.id + (f" ({j.label})" if j.label and len(judgements) > 1 else "")
            rows.append([name, j.verdict, j.effect_text(), j.strength])
    return rows


def summary_lines(an: Analysis, found: list) -> list[str]:
    """The terminal summary, every line at most WIDTH columns."""
    out = []
    kind, headline = correctness_headline(an)
    if kind == "alert":
        out += textwrap.wrap(headline, WIDTH)
    status = an.run.manifest.get("status")
    if status not in (None, "complete"):
        out.append(f"The run is {status}: the verdicts rest on the cells that finished.")
    out += table(["claim", "verdict", "effect [interval]", "firmness"], _claim_rows(found),
                 [16, 38, 30, 10])
    leaders = [[c.workload, str(c.cores), c.language,
                c.leader + (f" [{c.marks}]" if c.marks else "") + ("" if c.decided else " (tie)"),
                ("≥ " if c.bound else "") + num(c.rps) + f" ×{c.repeats}", ", ".join(c.ties) or "-",
                f"{ratio(c.margin)}" if c.runner_up else "-"] for c in choices(an)]
    if leaders:
        out.append("")
        out += table(["workload", "cores", "lang", "fastest safe", "req/s ×reps", "not told apart",
                      "margin"], leaders, [11, 5, 6, 20, 11, 27, 6])
    through_store = summary_line(costs(an))
    if through_store:
        out += [""] + textwrap.wrap(through_store, WIDTH)
    return out
