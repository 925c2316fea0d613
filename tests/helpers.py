"""What the tests share: the repository's root, the registered strategies, and how the
end-to-end tests run the CLI and read back the run it wrote. (Fixtures live in
conftest.py; everything a test module imports comes from here.)"""
from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from servers import discover

REPO = Path(__file__).resolve().parent.parent
STRATEGIES = discover()
STATEFUL = [name for name, spec in STRATEGIES.items() if spec.stateful]
SAFE = [name for name in STATEFUL if STRATEGIES[name].safe]
UNSAFE = [name for name in STATEFUL if not STRATEGIES[name].safe]

PACKAGES = ("servers", "loadtests", "results", "report", "sharebench")

SHORT = ["--warmup", "0.5s", "--duration", "1.5s"]


def copy_repo(dest: Path) -> Path:
    """The project's packages copied to ``dest``: a test adds strategies there without
    touching the real registry (run it with ``in_copy`` or ``sharebench(..., repo=)``)."""
    for package in PACKAGES:
        shutil.copytree(REPO / package, dest / package, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def in_copy(copy: Path) -> dict:
    """How to start a process in ``copy``: its packages shadow the installed ones."""
    return {"env": {**os.environ, "PYTHONPATH": str(copy)}, "cwd": str(copy)}


def sharebench(*args: str, timeout: float = 240, repo: Path | None = None) -> subprocess.CompletedProcess:
    """The CLI in a subprocess: of this checkout, or of a ``copy_repo`` copy."""
    return subprocess.run([sys.executable, "-m", "sharebench", *args], capture_output=True,
                          text=True, timeout=timeout, **(in_copy(repo) if repo else {}))


def read_latest(results: Path) -> tuple[dict, list[dict]]:
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
    from report.claims import claims
    from report.doc import Document
    from report.render import to_html
    from report.sections.answers import answers
    from report.sections.context import claims_section
    from report.sections.summary import rankings
    from report.terminal import summary_lines

    from .report_run import analysis_of
    an = analysis_of(run)
    found = claims(an)
    build = {"answers": lambda: answers(an, found), "claims": lambda: claims_section(an, found),
             "rankings": lambda: rankings(an)}
    document = Document("report", "", [build[name]() for name in section_ids])
    return to_html(document), summary_lines(an, found)
