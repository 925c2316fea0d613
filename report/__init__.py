"""The report stage: turns one run under results/ into report.html and report.md.

It reads only results/ (the contract is results/README.md) and never imports
the servers or the load tests. Public API:

    build_report(run_dir) -> Built          write report.html, report.md, claims.json, fig-*.png
    summarise(run_dir) -> list[str]         the terminal summary alone, nothing written
    compare_runs(a, b, threshold) -> Comparison
    render_comparison(comparison) -> str    the Markdown `sharebench compare` prints
    write_comparison(comparison, out_dir) -> list[Path]
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from results.atomic import write_bytes

from .analysis import analyse
from .claims import Claim, claims
from .compare import Comparison, compare_runs, write_comparison
from .compare import render as render_comparison
from .frames import Run, RunWarning, read_run
from .render import to_html, to_markdown
from .terminal import summary_lines

__all__ = ["Built", "Comparison", "Run", "RunWarning", "SECTION_IDS", "build_report", "compare_runs",
           "read_run", "render_comparison", "summarise", "write_comparison"]

FIGURE_GLOB = "fig-*.png"
CLAIMS_JSON = "claims.json"  # one object per claim and scope (results/README.md)


def claims_json(found: list[Claim]) -> str:
    """claims.json: every claim's results, for tools and `sharebench compare`."""
    return json.dumps([r.to_json() for c in found for r in c.results], indent=2, allow_nan=False) + "\n"


def __getattr__(name: str):
    # The drawing stack (sections -> plots -> matplotlib) loads only when asked for: the
    # numbers (report.analysis, findings, claims) must import without matplotlib.
    if name == "SECTION_IDS":
        from .sections import SECTION_IDS
        return SECTION_IDS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass
class Built:
    html: Path
    markdown: Path
    images: list[Path]
    summary: list[str]                                   # the terminal summary: alerts, two tables
    problems: list[str] = field(default_factory=list)    # what could not be read
    claims: list[Claim] = field(default_factory=list)    # the claims and their results


def build_report(run_dir: str | Path, out_dir: str | Path | None = None,
                 figures: bool = True) -> Built:
    """Build the report of one run from its stored records alone. Without ``figures``
    nothing is drawn: the text and tables only (every figure's caption stays)."""
    from .sections import document
    run = read_run(run_dir)
    analysis = analyse(run)
    found = claims(analysis)
    doc = document(analysis, found, figures)
    out = Path(out_dir) if out_dir is not None else Path(run_dir)
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob(FIGURE_GLOB):  # ours: a rebuild must not leave last build's figures
        stale.unlink()
    images = []
    for fig in doc.figures:
        if fig.png:
            write_bytes(out / fig.filename, fig.png)
            images.append(out / fig.filename)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    footer = (f"Built {stamp} by `sharebench report` from results/{run.run_id} "
              "(manifest.json, cells/, cells.csv) alone.")
    write_bytes(out / "report.md", to_markdown(doc, footer).encode())
    write_bytes(out / CLAIMS_JSON, claims_json(found).encode())
    write_bytes(out / "report.html", to_html(doc, footer.replace("`", "")).encode())
    return Built(out / "report.html", out / "report.md", images, summary_lines(analysis, found),
                 list(run.problems), found)


def summarise(run_dir: str | Path) -> list[str]:
    """The terminal summary of one run, from its numbers alone (no document, no figure)."""
    analysis = analyse(read_run(run_dir))
    return summary_lines(analysis, claims(analysis))
