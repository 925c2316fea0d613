"""What the tests share: the repository's root, the registered strategies, and how the
end-to-end tests run the CLI and read back the run it wrote. (Fixtures live in
conftest.py; everything a test module imports comes from here.)"""
from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

from servers import discover

REPO = Path(__file__).resolve().parent.parent
STRATEGIES = discover()
STATEFUL = [name for name, spec in STRATEGIES.items() if spec.stateful]
SAFE = [name for name in STATEFUL if STRATEGIES[name].safe]
UNSAFE = [name for name in STATEFUL if not STRATEGIES[name].safe]

SHORT = ["--warmup", "0.5s", "--duration", "1.5s"]


def sharebench(*args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sharebench", *args], capture_output=True,
                          text=True, timeout=timeout)


def read_latest(results: Path) -> tuple[dict, list[dict]]:
    run = (results / "latest").resolve()
    manifest = json.loads((run / "manifest.json").read_text())
    with open(run / "cells.csv") as fh:
        rows = list(csv.DictReader(fh))
    return manifest, rows


def by_id(rows: list[dict]) -> dict[str, dict]:
    return {row["cell_id"]: row for row in rows}
