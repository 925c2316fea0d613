"""The results store: results/<run-id>/ with a manifest, one record per cell, cells.csv.

A record is written to a temporary name and renamed, so a crash or Ctrl-C
loses at most the cell in flight. cells.csv is rebuilt from the records after
every cell; a record that does not parse is skipped with a warning naming it.
"""
from __future__ import annotations

import csv
import io
import json
import os
import statistics
import sys
from pathlib import Path

from results import schema
from results.atomic import write_json, write_text


class RunStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.cells_dir = path / "cells"

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

    def manifest(self) -> dict:
        """The manifest, brought to this format (a run resumed from an older one)."""
        doc = json.loads((self.path / "manifest.json").read_text())
        return schema.migrate_manifest(doc, schema.format_version(doc))

    def write_manifest(self, doc: dict) -> None:
        doc.setdefault("format_version", schema.FORMAT_VERSION)
        write_json(self.path / "manifest.json", doc)

    def write_cell(self, record: dict) -> None:
        write_json(self.cells_dir / f"{record['cell_id']}.json", record)
        self.write_csv()

    def records(self, warn=lambda msg: print(msg, file=sys.stderr)) -> list[dict]:
        found = []
        for path in sorted(self.cells_dir.glob("*.json")):
            try:
                record = json.loads(path.read_text())
                if not isinstance(record, dict) or "cell_id" not in record:
                    raise ValueError("not a cell record")
            except (ValueError, OSError) as exc:
                warn(f"sharebench: warning: skipping unreadable cell record {path}: {exc}")
                continue
            found.append(record)
        return found

    def done(self) -> set[str]:
        """Cells with a readable record: what --resume need not measure again."""
        return {record["cell_id"] for record in self.records()}

    def write_csv(self) -> None:
        records = self.records()
        mark_noisy(records)
        text = io.StringIO(newline="")
        writer = csv.DictWriter(text, schema.COLUMN_NAMES)
        writer.writeheader()
        for record in records:
            writer.writerow(schema.csv_row(record))
        write_text(self.path / "cells.csv", text.getvalue())


def mark_noisy(records: list[dict]) -> None:
    """Flag every repeat of a cell whose throughput varies by more than schema.NOISY_CV."""
    groups: dict[tuple, list[dict]] = {}
    for record in records:
        if record.get("status") == "ok":
            # the interpreter too: repeats under 3.11 and 3.13 are not repeats of one cell
            key = tuple(record.get(name) for name in schema.KEY) + (record.get("python") or "",)
            groups.setdefault(key, []).append(record)
    for group in groups.values():
        rates = [r["rps"] for r in group]
        noisy = (len(rates) > 1 and statistics.mean(rates) > 0
                 and statistics.stdev(rates) / statistics.mean(rates) > schema.NOISY_CV)
        for record in group:
            record["noisy"] = noisy
