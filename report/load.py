"""Read one run directory (results/README.md is the contract) into a `Run`.

Nothing here crashes on a damaged run: a record that does not parse is skipped
with a warning naming the file, a missing manifest or table becomes a warning,
and every planned cell without a record is listed as missing. The report says
all of these out loud instead of silently dropping them.
"""
from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from results import schema
from results.schema import BOOL_COLUMNS, INT_COLUMNS, KEY, RECORD_ONLY, TEXT_COLUMNS, parse_cell_id

__all__ = ["KEY", "Run", "RunWarning", "load_run", "normalise", "parse_cell_id"]


class RunWarning(UserWarning):
    """Something in the run could not be read; the report shows the message too."""


@dataclass
class Run:
    """One run as the report sees it."""
    path: Path
    manifest: dict[str, Any]
    cells: pd.DataFrame                 # one row per closed-loop cell record (repeats separate)
    records: dict[str, dict[str, Any]]  # cell_id -> record-only fields (hdr, errors_by_kind, ...)
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


def _read_json(path: Path, run: Run) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        run.warn(f"skipped {path}: not readable JSON ({exc})")
        return None


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
        if column not in TEXT_COLUMNS + BOOL_COLUMNS + INT_COLUMNS + schema.RECORD_ONLY:
            cells[column] = pd.to_numeric(cells[column], errors="coerce")
    cells["status"] = cells["status"].replace("", "ok")
    return cells


def _read_records(run: Run) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    folder = run.path / "cells"
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        record = _read_json(path, run)
        if record is None:
            continue
        if not isinstance(record, dict) or not record.get("cell_id"):
            run.warn(f"skipped {path}: not a cell record (no cell_id)")
            continue
        schema.migrate_record(record, run.version)
        run.records[record["cell_id"]] = {k: record.get(k) for k in RECORD_ONLY}
        rows.append({k: v for k, v in record.items() if k not in RECORD_ONLY})
    return rows


def _read_table(run: Run, have: set[str]) -> list[dict[str, Any]]:
    """Every row of cells.csv. The store rebuilds it after each cell, so it carries what
    a record cannot know when written (`noisy`, judged over all repeats so far); a row
    whose record is missing still has its numbers, though not its histogram."""
    path = run.path / "cells.csv"
    if not path.exists():
        return []
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError) as exc:
        run.warn(f"skipped {path}: not readable CSV ({exc})")
        return []
    if "cell_id" not in table:
        run.warn(f"skipped {path}: no cell_id column")
        return []
    for cell_id in table.loc[~table["cell_id"].isin(have), "cell_id"]:
        run.warn(f"cell {cell_id}: in cells.csv but its record is missing or unreadable; "
                 "its numbers come from cells.csv and it has no latency histogram")
    return table.replace("", None).to_dict("records")


def _with_identity(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows as a normalised frame, identity columns filled from the id where they are absent."""
    for row in rows:
        for key, value in (parse_cell_id(str(row["cell_id"])) or {}).items():
            if row.get(key) in (None, ""):
                row[key] = value
    return normalise(pd.DataFrame(rows))


def _planned(manifest: dict[str, Any]) -> pd.DataFrame:
    matrix = manifest.get("matrix") or []
    rows = [row for row in matrix if isinstance(row, dict) and row.get("cell_id")]
    for row in rows:
        schema.migrate_record(row, schema.format_version(manifest))
    frame = pd.DataFrame(rows, columns=["cell_id", *schema.IDENTITY, "python", "live_objects"])
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


def load_run(path: str | Path) -> Run:
    """Read manifest.json, cells/*.json, cells.csv and microbench.json of one run."""
    path = Path(path)
    run = Run(path=path, manifest={}, cells=pd.DataFrame(), records={},
              planned=pd.DataFrame(), missing=pd.DataFrame(), microbench=None)
    if not path.is_dir():
        raise FileNotFoundError(f"{path}: no such run directory")
    manifest_path = path / "manifest.json"
    if manifest_path.exists():
        manifest = _read_json(manifest_path, run)
        run.manifest = manifest if isinstance(manifest, dict) else {}
        run.version = schema.check_readable(run.manifest, str(manifest_path))
        schema.migrate_manifest(run.manifest, run.version)
    else:
        run.warn(f"{manifest_path} is missing: no environment, placement or plan to report")
    records = _read_records(run)
    table = {row["cell_id"]: row for row in _read_table(run, {r["cell_id"] for r in records})}
    for record in records:
        # A field the record lacks comes from cells.csv; one it has (even null) stays its own.
        for key, value in table.pop(record["cell_id"], {}).items():
            record.setdefault(key, value)
    run.cells = _with_identity(records + list(table.values()))
    _one_interpreter(run)
    run.planned = _planned(run.manifest)
    every = run.cells if run.all_cells is None else run.all_cells
    have = set(every["cell_id"]) if len(every) else set()
    if len(run.cells):
        is_open = run.cells["mode"] == "open"
        run.open_cells = run.cells[is_open].reset_index(drop=True)
        run.cells = run.cells[~is_open].reset_index(drop=True)
    run.missing = run.planned[~run.planned["cell_id"].isin(have)].reset_index(drop=True)
    if (path / "calibration.csv").exists():
        try:
            run.calibration = pd.read_csv(path / "calibration.csv")
        except (OSError, ValueError) as exc:
            run.warn(f"skipped {path / 'calibration.csv'}: not readable CSV ({exc})")
    if (path / "microbench.json").exists():
        bench = _read_json(path / "microbench.json", run)
        run.microbench = bench if isinstance(bench, dict) else None
    return run
