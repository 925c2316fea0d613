"""The synthetic run (tests/report_run.py) kept honest against the contract itself."""
from __future__ import annotations

import json
from pathlib import Path

from results import hdr, read

from .report_run import CORRUPT, write_run


def test_fixture_reads_back_through_results_with_only_its_designed_damage(tmp_path: Path) -> None:
    run = write_run(tmp_path)
    problems: list[str] = []
    stored = read.read_run(run, warn=problems.append)
    assert len(problems) == 1 and f"{CORRUPT}.json" in problems[0]
    assert len(stored.records) == len(stored.matrix) - 1  # every planned cell but the corrupt one
    record = next(r for r in stored.records if r.cell_id == "async.cpu.locust.c1.u32.r0")
    assert hdr.decode(record.hdr).get_total_count() > 0


def test_report_reads_what_the_real_store_writes(tmp_path: Path) -> None:
    """Records written through results.store (its cells.csv, its noisy marks) load cleanly."""
    from report.frames import read_run
    from results.record import CellRecord
    from results.store import RunStore
    synthetic = write_run(tmp_path / "synthetic", damaged=False)
    store = RunStore.create(tmp_path / "results", synthetic.name)
    store.write_manifest(json.loads((synthetic / "manifest.json").read_text()))
    records = [CellRecord.from_json(json.loads(p.read_text()))
               for p in sorted((synthetic / "cells").glob("*.json"))]
    for record in records:
        store.write_cell(record)
    run = read_run(tmp_path / "results" / "latest")
    assert run.problems == [] and len(run.missing) == 0
    assert len(run.cells) == len(records) and set(run.records) == {r.cell_id for r in records}
    noisy = run.cells[run.cells["noisy"].fillna(False).astype(bool)]
    assert set(noisy["cell_id"].str.rsplit(".", n=1).str[0]) == {"message-passing.cpu.locust.c2.u32"}
