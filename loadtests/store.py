"""The results store: results/<run-id>/ with a manifest, one record per cell, cells.csv.

A record is written to a temporary name and renamed, so a crash or Ctrl-C
loses at most the cell in flight. cells.csv is rebuilt from the records after
every cell; a record that does not parse is skipped with a warning naming it.
"""
from __future__ import annotations

import csv
import json
import os
import statistics
import sys
from pathlib import Path

COLUMNS = ["cell_id", "strategy", "model", "safety", "workload", "cores", "users", "repeat",
           "python", "gil_enabled",
           "status", "reason", "duration_s", "requests", "rps", "p50_us", "p90_us", "p99_us",
           "p999_us", "max_us", "mean_us", "errors", "server_cpu_s", "loadgen_cpu_s",
           "server_cpu", "loadgen_cpu", "server_cores", "loadgen_cores", "rps_per_cpu_s",
           "rss_mb", "loadgen_cpus_busy", "other_cpu", "busy_machine", "loadgen_bound", "shared_cpu", "noisy", "correct", "lost_updates",
           "acked_incr", "uncertain_incr", "server_sum", "server_incr_applied",
           "warmup_observed_s", "cpu_us", "hold_us", "io_ms"]
NOISY_CV = 0.10


def write_json(path: Path, doc: dict) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w") as fh:
        json.dump(doc, fh, indent=1)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)


class RunStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.cells_dir = path / "cells"

    @classmethod
    def create(cls, root: Path, run_id: str) -> "RunStore":
        store = cls(root / run_id)
        store.cells_dir.mkdir(parents=True, exist_ok=False)
        latest = root / "latest"
        tmp = root / f".latest-{os.getpid()}"
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(run_id)
        tmp.replace(latest)
        return store

    def manifest(self) -> dict:
        return json.loads((self.path / "manifest.json").read_text())

    def write_manifest(self, doc: dict) -> None:
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
        tmp = self.path / ".cells.csv.tmp"
        with open(tmp, "w", newline="") as fh:
            writer = csv.DictWriter(fh, COLUMNS, extrasaction="ignore")
            writer.writeheader()
            for record in records:
                writer.writerow({k: ("" if record.get(k) is None else record.get(k)) for k in COLUMNS})
        tmp.replace(self.path / "cells.csv")


def mark_noisy(records: list[dict]) -> None:
    """Flag every repeat of a cell whose throughput varies by more than NOISY_CV."""
    groups: dict[tuple, list[dict]] = {}
    for record in records:
        if record.get("status") == "ok":
            key = (record["strategy"], record["workload"], record["cores"], record["users"],
                   record.get("python") if record.get("python") is not None else "")
            groups.setdefault(key, []).append(record)
    for group in groups.values():
        rates = [r["rps"] for r in group]
        noisy = (len(rates) > 1 and statistics.mean(rates) > 0
                 and statistics.stdev(rates) / statistics.mean(rates) > NOISY_CV)
        for record in group:
            record["noisy"] = noisy
