"""Write a run: results/<run-id>/ with a manifest, one record per cell, cells.csv.

A record is written to a temporary name and renamed, so a crash or Ctrl-C
loses at most the cell in flight. cells.csv is rebuilt from the records after
every cell (read back through results/read.py, so a record that does not parse
is skipped with a warning naming it, as the report does).
"""
from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Any

from results import read, schema
from results.atomic import write_json, write_text
from results.record import CellRecord


class RunStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.cells_dir = path / read.CELLS

    @classmethod
    def create(cls, root: Path, run_id: str) -> RunStore:
        store = cls(root / run_id)
        store.cells_dir.mkdir(parents=True, exist_ok=False)
        latest = root / "latest"
        tmp = root / f".latest-{os.getpid()}"
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(run_id)
        tmp.replace(latest)
        return store

    def manifest(self) -> dict[str, Any]:
        """The manifest, brought to this format (a run resumed from an older one)."""
        return read.read_manifest(self.path)[0]

    def version(self) -> int:
        return read.read_manifest(self.path)[1]

    def write_manifest(self, doc: dict[str, Any]) -> None:
        doc.setdefault("format_version", schema.FORMAT_VERSION)
        write_json(self.path / read.MANIFEST, doc)

    def write_cell(self, record: CellRecord) -> None:
        write_json(self.cells_dir / f"{record.cell_id}.json", record.to_json())
        self.write_csv()

    def records(self, warn: read.Warn = read.to_stderr) -> list[CellRecord]:
        """Every readable record of the run, migrated to this format."""
        return read.read_records(self.path, self.version(), warn)

    def done(self) -> set[str]:
        """Cells with a readable record: what --resume need not measure again."""
        return {record.cell_id for record in self.records()}

    def write_calibration(self, rows: list[dict[str, Any]]) -> None:
        """calibration.csv: every row so far (schema.CALIBRATION_COLUMNS), rewritten whole."""
        text = io.StringIO(newline="")
        writer = csv.DictWriter(text, schema.CALIBRATION_COLUMNS)
        writer.writeheader()
        writer.writerows({name: "" if row.get(name) is None else row[name]
                          for name in schema.CALIBRATION_COLUMNS} for row in rows)
        write_text(self.path / read.CALIBRATION, text.getvalue())

    def write_csv(self) -> None:
        records = self.records()
        schema.mark_noisy(records)
        text = io.StringIO(newline="")
        writer = csv.DictWriter(text, schema.COLUMN_NAMES)
        writer.writeheader()
        for record in records:
            writer.writerow(schema.csv_row(record))
        write_text(self.path / read.TABLE, text.getvalue())
