"""Helpers the end-to-end tests share: run the CLI, read back the run it wrote."""
from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

SHORT = ["--warmup", "0.5s", "--duration", "1.5s"]


def sharebench(*args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sharebench", *args], capture_output=True,
                          text=True, timeout=timeout)


def load_run(results: Path) -> tuple[dict, list[dict]]:
    run = (results / "latest").resolve()
    manifest = json.loads((run / "manifest.json").read_text())
    with open(run / "cells.csv") as fh:
        rows = list(csv.DictReader(fh))
    return manifest, rows


def by_id(rows: list[dict]) -> dict[str, dict]:
    return {row["cell_id"]: row for row in rows}


def report_sections(run: Path, *section_ids: str) -> tuple[str, list[str]]:
    """(HTML, terminal summary) of some sections of a run's report, built without drawing a
    figure: for tests that read those sections' numbers and words, not the figures (a whole
    report draws every figure, seconds a build)."""
    import warnings

    from report import RunWarning
    from report.analysis import analyse
    from report.claims import claims
    from report.doc import Document
    from report.load import load_run as read_run
    from report.render import to_html
    from report.sections.answers import answers
    from report.sections.context import claims_section
    from report.sections.summary import rankings
    from report.terminal import summary_lines
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RunWarning)
        an = analyse(read_run(run))
    found = claims(an)
    build = {"answers": lambda: answers(an, found), "claims": lambda: claims_section(an, found),
             "rankings": lambda: rankings(an)}
    document = Document("report", "", [build[name]() for name in section_ids])
    return to_html(document), summary_lines(an, found)
