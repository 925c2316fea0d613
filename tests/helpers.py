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
