"""One run as the report sees it: its stored records (read and migrated by results/read.py)
turned into pandas frames.

Nothing here crashes on a damaged run: every warning the reader gives is kept in
``Run.problems`` (the Validity section lists them) and raised as a RunWarning, and
every planned cell without a record is listed as missing.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from results import ids, read, schema
from results.ids import KEY
from results.record import CellRecord
from results.schema import BOOL_COLUMNS, INT_COLUMNS, TEXT_COLUMNS

__all__ = ["KEY", "Run", "RunWarning", "read_run", "normalise"]


class RunWarning(UserWarning):
    """Something in the run could not be read; the report shows the message too."""


@dataclass
class Run:
    """One run as the report sees it."""
    path: Path
    manifest: dict[str, Any]
    cells: pd.DataFrame                 # one row per closed-loop cell record (repeats separate)
    records: dict[str, CellRecord]      # cell_id -> the whole record (histograms, pauses, ...)
    planned: pd.DataFrame               # manifest matrix: one row per planned cell
    missing: pd.DataFrame               # planned cells without a readable record
    microbench: dict[str, Any] | None
    calibration: pd.DataFrame | None = None  # calibration.csv: wrk beside Locust, when present
    problems: list[str] = field(default_factory=list)  # every warning, for the Validity section
    # Open-loop cells (mode open): latency under offered load, reported on their own so that
    # no closed-loop table or fit mixes them in.
    open_cells: pd.DataFrame = field(default_factory=pd.DataFrame)
    version: int = schema.FORMAT_VERSION                # the result format it was written in
    # A run over several interpreters (--pythons): `cells` holds the reference one's
    # (the first named), so every section reads one interpreter; `all_cells` holds all.
    all_cells: pd.DataFrame | None = None
    reference_python: str = ""

    @property
    def run_id(self) -> str:
        return str(self.manifest.get("run_id") or self.path.resolve().name)

    def warn(self, message: str) -> None:
        self.problems.append(message)
        warnings.warn(message, RunWarning, stacklevel=2)


def _to_bool(value: Any) -> Any:
    """True/False/'True'/'False'/1/0 -> bool; empty or unknown -> NA (not applicable)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return {"true": True, "false": False}.get(value.strip().lower(), pd.NA)
    if isinstance(value, (int, float)) and not (isinstance(value, float) and math.isnan(value)):
        return bool(value)
    return pd.NA


def normalise(cells: pd.DataFrame) -> pd.DataFrame:
    """Give every contract column one dtype, whichever file the rows came from."""
    cells = cells.copy()
    for column in TEXT_COLUMNS:
        if column not in cells:
            cells[column] = ""
        cells[column] = cells[column].astype(object).where(cells[column].notna(), "").astype(str)
    for column in BOOL_COLUMNS:
        if column not in cells:
            cells[column] = pd.NA
        cells[column] = cells[column].map(_to_bool).astype("boolean")
    for column in INT_COLUMNS:
        if column not in cells:
            cells[column] = pd.NA
        cells[column] = pd.to_numeric(cells[column], errors="coerce").astype("Int64")
    for column in cells.columns:
        if column not in TEXT_COLUMNS + BOOL_COLUMNS + INT_COLUMNS:
            cells[column] = pd.to_numeric(cells[column], errors="coerce")
    cells["status"] = cells["status"].replace("", "ok")
    return cells


def _frame(records: list[CellRecord]) -> pd.DataFrame:
    """The records' columns as one normalised frame (repeats separate)."""
    return normalise(pd.DataFrame([record.columns() for record in records],
                                  columns=list(schema.COLUMN_NAMES)))


def _planned(matrix: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(matrix, columns=["cell_id", *ids.IDENTITY, "python", "live_objects"])
    for column in INT_COLUMNS:
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("Int64")
    return frame


def _one_interpreter(run: Run) -> None:
    """Several interpreters: the sections read the first named; `all_cells` keeps every one."""
    found = set(run.cells["python"]) - {""} if len(run.cells) else set()
    named = [p for p in (run.manifest.get("pythons") or {}) if p in found]
    labels = named + sorted(found - set(named))
    if len(labels) > 1:
        run.all_cells, run.reference_python = run.cells, labels[0]
        run.cells = run.cells[run.cells["python"] == labels[0]].reset_index(drop=True)


def read_run(path: str | Path) -> Run:
    """Read one run (results/read.py) and turn it into the report's frames."""
    path = Path(path)
    run = Run(path=path, manifest={}, cells=pd.DataFrame(), records={},
              planned=pd.DataFrame(), missing=pd.DataFrame(), microbench=None)
    stored = read.read_run(path, warn=run.warn)
    run.manifest, run.version, run.microbench = stored.manifest, stored.version, stored.microbench
    run.records = {record.cell_id: record for record in stored.records}
    run.cells = _frame(stored.records)
    _one_interpreter(run)
    run.planned = _planned(stored.matrix)
    every = run.cells if run.all_cells is None else run.all_cells
    have = set(every["cell_id"]) if len(every) else set()
    is_open = run.cells["mode"] == "open"
    run.open_cells = run.cells[is_open].reset_index(drop=True)
    run.cells = run.cells[~is_open].reset_index(drop=True)
    run.missing = run.planned[~run.planned["cell_id"].isin(have)].reset_index(drop=True)
    if stored.calibration is not None:
        run.calibration = pd.DataFrame(stored.calibration)
    return run
