"""results/ is the one definition of a run's files: ids, the record and its columns, the
histogram layout, versions and migration, reading and writing."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from report.frames import read_run
from results import hdr, ids, read, schema
from results.record import FIELDS, RECORD_ONLY, CellRecord
from results.store import RunStore

from .helpers import REPO

README = (REPO / "results" / "README.md").read_text()


def readme_names(section: str) -> list[str]:
    """The names in the first cell of each table row of one README section."""
    table = README.split(f"## {section}", 1)[1].split("\n## ", 1)[0]
    names: list[str] = []
    for line in table.splitlines():
        if line.startswith("| `"):
            names += re.findall(r"`([a-z0-9_]+)`", line.split("|")[1])
    return names


def test_readme_documents_exactly_the_schema_columns() -> None:
    documented = readme_names("cells.csv")
    assert sorted(documented) == sorted(schema.COLUMN_NAMES), (
        set(documented) ^ set(schema.COLUMN_NAMES))


def test_readme_documents_every_record_only_field_and_manifest_key() -> None:
    section = README.split("## cells/", 1)[1].split("\n## ", 1)[0]
    assert not [name for name in RECORD_ONLY if f"`{name}`" not in section]
    documented = readme_names("manifest.json")
    assert sorted(documented) == sorted(schema.MANIFEST_KEYS), (
        set(documented) ^ set(schema.MANIFEST_KEYS))
    soak = README.split("## soak-", 1)[1].split("\n## ", 1)[0]
    for columns in (schema.SOAK_SAMPLE_COLUMNS, schema.SOAK_SUMMARY_COLUMNS):
        assert not [name for name in columns if f"`{name}`" not in soak]
    documented = readme_names("calibration.csv")
    assert sorted(documented) == sorted(schema.CALIBRATION_COLUMNS), (
        set(documented) ^ set(schema.CALIBRATION_COLUMNS))


def test_columns_are_the_record_fields_with_their_one_definition() -> None:
    by_name = {item.name: item for item in FIELDS}
    assert schema.COLUMN_NAMES == tuple(n for n in by_name if n not in RECORD_ONLY)
    for column in schema.COLUMNS:
        assert column.kind in ("text", "int", "float", "bool"), column
        assert column.meaning == by_name[column.name].metadata["meaning"] and column.meaning
    assert {"rps", "connection_cap", "noisy"} <= set(schema.COLUMN_NAMES)
    assert {"hdr", "gc_pauses"} <= set(RECORD_ONLY) and not set(RECORD_ONLY) & set(schema.COLUMN_NAMES)
    assert schema.INT_COLUMNS == ("cores", "users", "live_objects", "repeat")


def test_cell_id_round_trips_and_reads_format_1() -> None:
    text = ids.cell_id("global-lock-mp", "hot-key", "wrk", 2, 32, 1)
    assert text == "global-lock-mp.hot-key.wrk.c2.u32.r1"
    assert ids.parse_cell_id(text) == {"cell_id": text, "strategy": "global-lock-mp",
                                       "workload": "hot-key", "engine": "wrk", "cores": 2,
                                       "users": 32, "repeat": 1, "rate": "", "mode": "closed",
                                       "live_objects": 0}
    old = ids.parse_cell_id("unsafe.cpu.c1.u32.r0")  # round 1: Locust, no engine part
    assert old is not None and old["engine"] == "locust" and old["cores"] == 1
    assert ids.parse_cell_id("not-a-cell") is None


@pytest.mark.parametrize("rate", ["2000", "0.85x", "12.5"])
def test_open_loop_ids_carry_their_rate(rate: str) -> None:
    text = ids.cell_id("async", "io", "locust", 1, 5000, 2, rate=rate)
    assert text == f"async.io.locust.c1.u5000.o{rate}.r2"
    found = ids.parse_cell_id(text)
    assert found is not None and found["rate"] == rate and found["mode"] == "open"
    assert found["users"] == 5000 and found["repeat"] == 2
    record = CellRecord(strategy="async", workload="io", engine="locust", cores=1, users=5000,
                        repeat=2, rate=rate)
    assert record.cell_id == text and record.mode == "open"


def test_a_new_record_has_every_column_and_its_id() -> None:
    record = CellRecord(strategy="a", workload="b", engine="wrk", cores=1, users=2, repeat=0)
    assert set(schema.COLUMN_NAMES) == set(record.columns())
    assert record.cell_id == "a.b.wrk.c1.u2.r0" and record.rps is None and record.mode == "closed"
    assert "noisy" not in record.to_json()  # decided over the repeats, never stored in one


def test_a_record_round_trips_through_json_and_csv() -> None:
    record = CellRecord(strategy="a", workload="b", engine="wrk", cores=2, users=8, repeat=1,
                        python="3.13", status="ok", rps=1234.5, requests=1234, correct=False,
                        lost_updates=3, connection_cap=1024, hdr="HISTFAAA", gc_pauses=[[1.0, 2.0, 0]])
    assert CellRecord.from_json(json.loads(json.dumps(record.to_json()))) == record
    row = {name: "" if value is None else str(value) for name, value in schema.csv_row(record).items()}
    back = CellRecord.from_json(schema.from_csv_row(row))
    assert back.columns() == record.columns()  # every column, typed again
    assert back.correct is False and back.requests == 1234 and back.python == "3.13"
    assert back.rps == 1234.5 and back.hdr is None  # a table row has no histogram


def test_a_part_with_a_field_the_record_lacks_is_refused() -> None:
    @dataclass
    class Typo:
        rsp: float = 1.0

    record = CellRecord(strategy="a", workload="b", engine="wrk", cores=1, users=2, repeat=0)
    with pytest.raises(TypeError, match="Typo.rsp is not a cell-record field"):
        record.fill(Typo())


def test_noisy_is_one_rule_for_the_store_and_the_report(tmp_path: Path) -> None:
    assert schema.is_noisy([100.0, 130.0, 70.0]) and not schema.is_noisy([100.0, 101.0, 99.0])
    assert not schema.is_noisy([100.0]) and schema.cv([100.0]) is None
    store = RunStore.create(tmp_path, "run")
    store.write_manifest({"run_id": "run", "matrix": []})
    for repeat, rps in enumerate([100.0, 130.0, 70.0]):
        store.write_cell(CellRecord(strategy="a", workload="b", engine="wrk", cores=1, users=2,
                                    repeat=repeat, status="ok", rps=rps))
    store.write_cell(CellRecord(strategy="a", workload="b", engine="wrk", cores=2, users=2,
                                repeat=0, status="ok", rps=100.0))
    table = (store.path / "cells.csv").read_text().splitlines()
    noisy = table[0].split(",").index("noisy")
    assert [line.split(",")[noisy] for line in table[1:]] == ["True", "True", "True", "False"]
    run = read_run(store.path)
    assert list(run.cells["noisy"]) == [True, True, True, False]


def test_the_histogram_layout_is_defined_in_results_only() -> None:
    """The layout (1 µs..60 s, 3 digits) is results/hdr.py's: elsewhere a histogram is made
    with hdr.new() and merged with hdr.merge(), never built from its own constants."""
    pattern = re.compile(r"HdrHistogram\s*\(|60_?000_?000|\b(LOWEST|HIGHEST)_US\b")
    offenders = [f"{path.relative_to(REPO)}:{n}"
                 for package in ("servers", "loadtests", "report", "sharebench", "tests", "benchmarks")
                 for path in sorted((REPO / package).rglob("*.py")) if "rust" not in path.parts
                 for n, line in enumerate(path.read_text().splitlines(), 1) if pattern.search(line)]
    assert not offenders, f"a histogram constant outside results/hdr.py: {offenders}"
    assert pattern.search((REPO / "results" / "hdr.py").read_text())  # the search can find one
    histogram = hdr.new()
    histogram.record_value(hdr.clamp_us(90_000_000), 1)  # beyond 60 s: clamped, still recorded
    assert hdr.merge([hdr.encode(histogram)]).get_total_count() == 1


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
    run = read_run(_format1_run(tmp_path))
    assert run.version == 1 and len(run.missing) == 0
    assert list(run.cells["engine"]) == ["locust"]
    assert list(run.planned["engine"]) == ["locust"]


@pytest.mark.parametrize("version", [2, 3])
def test_an_older_run_gets_its_thread_servers_cap(tmp_path: Path, version: int) -> None:
    """Formats 1 to 3 recorded no connection cap: a thread server then served at the default."""
    run = _format1_run(tmp_path)
    manifest = json.loads((run / "manifest.json").read_text())
    manifest.update(format_version=version, loops_per_us=41.7)  # an old key, read and ignored
    (run / "manifest.json").write_text(json.dumps(manifest))
    stored = read.read_run(run)
    assert stored.version == version
    assert stored.records[0].connection_cap == schema.FORMAT_3_THREAD_CAP
    assert stored.records[0].engine == "locust"  # as its id says
    manifest["format_version"] = schema.FORMAT_VERSION
    (run / "manifest.json").write_text(json.dumps(manifest))
    assert read.read_run(run).records[0].connection_cap is None  # this format says it, or not


def test_an_unknown_format_gets_a_clear_message(tmp_path: Path) -> None:
    run = _format1_run(tmp_path)
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["format_version"] = 99
    (run / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(schema.FormatError, match="result format 99"):
        read_run(run)
    proc = subprocess.run([sys.executable, "-m", "sharebench", "report", str(run)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "result format 99" in proc.stderr


def test_an_open_loop_id_under_another_interpreter_keeps_both_parts() -> None:
    text = ids.cell_id("async", "io", "locust", 1, 2000, 0, python="3.13t", rate="0.5x")
    assert text == "async.io.locust.c1.u2000.o0.5x.r0.py3.13t"
    found = ids.parse_cell_id(text)
    assert found is not None and (found["rate"], found["python"], found["repeat"]) == ("0.5x", "3.13t", 0)
