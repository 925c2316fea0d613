"""results/schema.py is the one definition of a run's files: ids, columns, versions."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from report.load import load_run
from results import schema

REPO = Path(__file__).resolve().parent.parent


def readme_columns() -> list[str]:
    """The cells.csv columns named in results/README.md (the first cell of each table row)."""
    table = (REPO / "results" / "README.md").read_text().split("## cells.csv", 1)[1]
    names: list[str] = []
    for line in table.splitlines():
        if line.startswith("| `"):
            names += re.findall(r"`([a-z0-9_]+)`", line.split("|")[1])
    return names


def test_readme_documents_exactly_the_schema_columns() -> None:
    documented = readme_columns()
    assert sorted(documented) == sorted(schema.COLUMN_NAMES), (
        set(documented) ^ set(schema.COLUMN_NAMES))


def test_cell_id_round_trips_and_reads_format_1() -> None:
    text = schema.cell_id("global-lock-mp", "hot-key", "wrk", 2, 32, 1)
    assert text == "global-lock-mp.hot-key.wrk.c2.u32.r1"
    assert schema.parse_cell_id(text) == {"cell_id": text, "strategy": "global-lock-mp",
                                          "workload": "hot-key", "engine": "wrk", "cores": 2,
                                          "users": 32, "repeat": 1, "rate": "",
                                          "mode": "closed", "live_objects": 0}
    old = schema.parse_cell_id("unsafe.cpu.c1.u32.r0")  # round 1: Locust, no engine part
    assert old is not None and old["engine"] == "locust" and old["cores"] == 1
    assert schema.parse_cell_id("not-a-cell") is None


@pytest.mark.parametrize("rate", ["2000", "0.85x", "12.5"])
def test_open_loop_ids_carry_their_rate(rate: str) -> None:
    text = schema.cell_id("async", "io", "locust", 1, 5000, 2, rate=rate)
    assert text == f"async.io.locust.c1.u5000.o{rate}.r2"
    found = schema.parse_cell_id(text)
    assert found is not None and found["rate"] == rate and found["mode"] == "open"
    assert found["users"] == 5000 and found["repeat"] == 2
    record = schema.blank_record(strategy="async", workload="io", engine="locust", cores=1,
                                 users=5000, repeat=2, rate=rate)
    assert record["cell_id"] == text and record["mode"] == "open"


def test_blank_record_has_every_column_and_its_id() -> None:
    record = schema.blank_record(strategy="a", workload="b", engine="wrk", cores=1, users=2, repeat=0)
    assert set(schema.COLUMN_NAMES) <= set(record)
    assert record["cell_id"] == "a.b.wrk.c1.u2.r0" and record["rps"] is None


def _format1_run(root: Path) -> Path:
    """A run as round 1 wrote it: no format_version, ids and records without an engine."""
    run = root / "20250101-000000-old"
    (run / "cells").mkdir(parents=True)
    cell_id = "global-lock.cpu.c1.u32.r0"
    manifest = {"run_id": run.name, "matrix": [{"cell_id": cell_id, "strategy": "global-lock",
                                                "workload": "cpu", "cores": 1, "users": 32,
                                                "repeat": 0}],
                "strategies": {"global-lock": {"model": "threads", "safety": "safe"}}}
    (run / "manifest.json").write_text(json.dumps(manifest))
    record = {"cell_id": cell_id, "strategy": "global-lock", "model": "threads", "safety": "safe",
              "workload": "cpu", "cores": 1, "users": 32, "repeat": 0, "status": "ok",
              "rps": 2900.0, "requests": 8700, "duration_s": 3.0}
    (run / "cells" / f"{cell_id}.json").write_text(json.dumps(record))
    return run


def test_a_format_1_run_is_migrated(tmp_path: Path) -> None:
    run = load_run(_format1_run(tmp_path))
    assert run.version == 1 and len(run.missing) == 0
    assert list(run.cells["engine"]) == ["locust"]
    assert list(run.planned["engine"]) == ["locust"]


def test_an_unknown_format_gets_a_clear_message(tmp_path: Path) -> None:
    run = _format1_run(tmp_path)
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["format_version"] = 99
    (run / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(schema.FormatError, match="result format 99"):
        load_run(run)
    proc = subprocess.run([sys.executable, "-m", "sharebench", "report", str(run)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "result format 99" in proc.stderr


def test_an_open_loop_id_under_another_interpreter_keeps_both_parts() -> None:
    text = schema.cell_id("async", "io", "locust", 1, 2000, 0, python="3.13t", rate="0.5x")
    assert text == "async.io.locust.c1.u2000.o0.5x.r0.py3.13t"
    found = schema.parse_cell_id(text)
    assert found is not None and (found["rate"], found["python"], found["repeat"]) == ("0.5x", "3.13t", 0)
