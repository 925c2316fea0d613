"""Read one run directory back (results/README.md is the contract), migrated to this format.

Nothing here crashes on a damaged run: a record that does not parse is skipped
with a warning naming the file, a missing manifest or table becomes a warning,
and a row of cells.csv whose record is missing still gives its numbers. Every
warning goes to ``warn``, so a caller can say all of them out loud (the report
lists them under Validity) instead of silently dropping anything. A run written
in a format this version cannot read raises schema.FormatError.
"""
from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from results import ids, schema
from results.record import CellRecord

Warn = Callable[[str], None]

MANIFEST = "manifest.json"
CELLS = "cells"
TABLE = "cells.csv"
CALIBRATION = "calibration.csv"
MICROBENCH = "microbench.json"


def to_stderr(message: str) -> None:
    print(f"sharebench: warning: {message}", file=sys.stderr)


@dataclass
class StoredRun:
    """One run as its files hold it, in this version's format."""
    path: Path
    manifest: dict[str, Any]             # {} when missing or unreadable
    version: int                         # the format it was written in
    records: list[CellRecord]            # every readable record, then cells.csv rows without one
    matrix: list[dict[str, Any]]         # the planned cells' identities
    calibration: list[dict[str, Any]] | None = None  # calibration.csv rows, when present
    microbench: dict[str, Any] | None = None


def read_json(path: Path, warn: Warn) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        warn(f"skipped {path}: not readable JSON ({exc})")
        return None


def read_manifest(path: Path, warn: Warn = to_stderr) -> tuple[dict[str, Any], int]:
    """A run's manifest and the format it was written in; ({}, current) when it is missing."""
    found = path / MANIFEST
    if not found.exists():
        warn(f"{found} is missing: no environment, placement or plan to report")
        return {}, schema.FORMAT_VERSION
    manifest = read_json(found, warn)
    manifest = manifest if isinstance(manifest, dict) else {}
    version = schema.check_readable(manifest, str(found))
    return schema.migrate_manifest(manifest, version), version


def _with_identity(doc: dict[str, Any]) -> dict[str, Any]:
    """Identity fields a stored row lacks, filled from its id."""
    for key, value in (ids.parse_cell_id(str(doc.get("cell_id"))) or {}).items():
        if doc.get(key) in (None, ""):
            doc[key] = value
    return doc


def _record(doc: dict[str, Any], version: int, where: Path, warn: Warn) -> CellRecord | None:
    try:
        return CellRecord.from_json(schema.migrate_record(_with_identity(doc), version))
    except TypeError:
        warn(f"skipped {where}: not a cell record (its id names no cell: {doc.get('cell_id')!r})")
        return None


def read_records(path: Path, version: int, warn: Warn = to_stderr,
                 table: dict[str, dict[str, Any]] | None = None) -> list[CellRecord]:
    """Every readable cells/*.json of a run, by id order. A field a record lacks (an older
    record) comes from its row in ``table`` when there is one."""
    found: list[CellRecord] = []
    folder = path / CELLS
    for item in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        doc = read_json(item, warn)
        if doc is None:
            continue
        if not isinstance(doc, dict) or not doc.get("cell_id"):
            warn(f"skipped {item}: not a cell record (no cell_id)")
            continue
        for key, value in (table or {}).get(doc["cell_id"], {}).items():
            doc.setdefault(key, value)
        record = _record(doc, version, item, warn)
        if record is not None:
            found.append(record)
    return found


def read_table(path: Path, warn: Warn = to_stderr) -> dict[str, dict[str, Any]]:
    """cells.csv, by cell id: every row's fields, typed by their column."""
    found = path / TABLE
    if not found.exists():
        return {}
    try:
        with open(found, newline="") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, ValueError, csv.Error) as exc:
        warn(f"skipped {found}: not readable CSV ({exc})")
        return {}
    if rows and "cell_id" not in rows[0]:
        warn(f"skipped {found}: no cell_id column")
        return {}
    return {row["cell_id"]: schema.from_csv_row(row) for row in rows if row.get("cell_id")}


def _value(text: str) -> Any:
    """A calibration.csv field: empty -> None, True/False -> bool, a number -> a number."""
    if text == "":
        return None
    if text in ("True", "False"):
        return text == "True"
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number.is_integer() and "." not in text else number


def read_calibration(path: Path, warn: Warn = to_stderr) -> list[dict[str, Any]] | None:
    found = path / CALIBRATION
    if not found.exists():
        return None
    try:
        with open(found, newline="") as handle:
            return [{k: _value(v or "") for k, v in row.items()} for row in csv.DictReader(handle)]
    except (OSError, ValueError, csv.Error) as exc:
        warn(f"skipped {found}: not readable CSV ({exc})")
        return None


def read_run(path: str | Path, warn: Warn = to_stderr) -> StoredRun:
    """Read manifest.json, cells/*.json, cells.csv, calibration.csv and microbench.json."""
    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"{path}: no such run directory")
    manifest, version = read_manifest(path, warn)
    table = read_table(path, warn)
    records = read_records(path, version, warn, table)
    have = {record.cell_id for record in records}
    for cell_id, row in table.items():
        if cell_id in have:
            continue
        warn(f"cell {cell_id}: in cells.csv but its record is missing or unreadable; "
             "its numbers come from cells.csv and it has no latency histogram")
        record = _record(row, version, path / TABLE, warn)
        if record is not None:
            records.append(record)
    schema.mark_noisy(records)
    matrix = [schema.migrate_identity(_with_identity(dict(row)), version)
              for row in manifest.get("matrix") or [] if isinstance(row, dict) and row.get("cell_id")]
    bench = read_json(path / MICROBENCH, warn) if (path / MICROBENCH).exists() else None
    return StoredRun(path, manifest, version, records, matrix, read_calibration(path, warn),
                     bench if isinstance(bench, dict) else None)
