"""The synthetic run (tests/report_run.py) kept honest against the contract itself."""
from __future__ import annotations

import json
from pathlib import Path

from hdrh.histogram import HdrHistogram

from .report_run import contract_columns, write_run


def test_fixture_has_every_contract_column(tmp_path: Path) -> None:
    run = write_run(tmp_path)
    header = (run / "cells.csv").read_text().splitlines()[0].split(",")
    assert set(contract_columns()) <= set(header), set(contract_columns()) - set(header)


def test_fixture_records_decode(tmp_path: Path) -> None:
    run = write_run(tmp_path)
    record = json.loads((run / "cells" / "async.cpu.locust.c1.u32.r0.json").read_text())
    assert HdrHistogram.decode(record["hdr"]).get_total_count() > 0


def test_report_reads_what_the_real_store_writes(tmp_path: Path) -> None:
    """Records written through results.store (its cells.csv, its noisy marks) load cleanly."""
    from report.load import load_run
    from results.store import RunStore
    synthetic = write_run(tmp_path / "synthetic", damaged=False)
    store = RunStore.create(tmp_path / "results", synthetic.name)
    store.write_manifest(json.loads((synthetic / "manifest.json").read_text()))
    records = [json.loads(p.read_text()) for p in sorted((synthetic / "cells").glob("*.json"))]
    for record in records:
        record.pop("noisy")  # the store decides noisy over the repeats it has
        store.write_cell(record)
    run = load_run(tmp_path / "results" / "latest")
    assert run.problems == [] and len(run.missing) == 0
    assert len(run.cells) == len(records) and set(run.records) == {r["cell_id"] for r in records}
    noisy = run.cells[run.cells["noisy"].fillna(False).astype(bool)]
    assert set(noisy["cell_id"].str.rsplit(".", n=1).str[0]) == {"message-passing.cpu.locust.c2.u32"}
