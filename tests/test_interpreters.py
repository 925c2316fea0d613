"""The interpreter matrix: names resolve through pyenv or paths, bad ones are one-line
errors before anything starts, servers run under the interpreter asked for and say so."""
from __future__ import annotations

import json
import stat

import pytest

from loadtests.machine.client import Client
from loadtests.planning import PlanError, interpreters
from loadtests.running import venvs
from results.ids import parse_cell_id
from sharebench.cli import main

pytestmark = pytest.mark.servers  # starts real servers; make test-fast leaves it out

PYENV_313 = sorted(interpreters.PYENV.glob("3.13*/bin/python"))


def _fake_python(tmp_path, **info) -> str:
    """An executable that answers the probe as the given build would (no such build here)."""
    doc = {"version": "3.13.0", "version_info": [3, 13], "executable": "x",
           "implementation": "cpython", "gil_disabled": False} | info
    path = tmp_path / "python"
    path.write_text(f"#!/bin/sh\necho '{json.dumps(doc)}'\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_a_free_threaded_build_is_recognised_and_labelled(tmp_path) -> None:
    found = interpreters.resolve(_fake_python(tmp_path, gil_disabled=True))
    assert found.label == "3.13t" and found.gil_disabled


def test_too_old_is_refused(tmp_path) -> None:
    with pytest.raises(PlanError, match=r"is 3\.10\.1: the servers need 3\.11\+"):
        interpreters.resolve(_fake_python(tmp_path, version="3.10.1", version_info=[3, 10]))


@pytest.mark.parametrize("name, message", [
    ("2.99", "not found"), ("/nonexistent/python", "not an executable file"), (" , ", "bad PYTHONS")])
def test_missing_interpreters_are_one_line_errors_exit_2(capsys, tmp_path, name, message) -> None:
    code = main(["run", "--no-report", "--profile", "quick", "--pythons", name, "--results", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r").exists()


def test_the_same_interpreter_twice_is_refused(tmp_path) -> None:
    path = _fake_python(tmp_path)
    with pytest.raises(PlanError, match="same interpreter"):
        interpreters.resolve_all(f"{path},{path}")


def test_cell_ids_carry_the_interpreter() -> None:
    assert parse_cell_id("global-lock.cpu.locust.c2.u32.r1.py3.13t")["python"] == "3.13t"
    assert "python" not in parse_cell_id("global-lock.cpu.locust.c2.u32.r1")


@pytest.mark.skipif(not PYENV_313, reason="no pyenv 3.13 on this machine")
def test_plan_multiplies_cells_by_interpreters(capsys) -> None:
    assert main(["run", "--dry-run", "--profile", "quick", "--pythons", "3.13",
                 "--strategies", "async"]) == 0
    out = capsys.readouterr().out
    assert "  async.write-heavy.locust.c1.u16.r0.py3.13" in out and "python 3.13: " in out


@pytest.mark.skipif(not PYENV_313, reason="no pyenv 3.13 on this machine")
def test_a_server_runs_under_the_interpreter_asked_for(serve, tmp_path) -> None:
    interp = venvs.ensure(interpreters.resolve("3.13"), log=lambda _: None)
    server = serve("global-lock", python=interp.python)
    status, health = Client(server.host, server.port).get("/health")
    assert status == 200 and health["python"] == interp.version
    assert health["gil_enabled"] is (not interp.gil_disabled)


def _write_run(root, rates: dict[tuple[str, str], list[float]]):
    """A run over 3.11 and 3.13: rates per (strategy, python), one record per repeat."""
    from results import ids, schema
    from results.atomic import write_json
    from results.record import CellRecord
    (root / "cells").mkdir(parents=True)
    matrix = []
    for (strategy, python), values in rates.items():
        for repeat, rps in enumerate(values):
            record = CellRecord(strategy=strategy, workload="cpu", engine="locust", cores=1,
                                users=32, repeat=repeat, python=python, model="threads",
                                safety="safe", status="ok", rps=rps, requests=int(rps),
                                gil_enabled=True, duration_s=1.0)
            write_json(root / "cells" / f"{record.cell_id}.json", record.to_json())
            matrix.append({k: getattr(record, k) for k in ("cell_id", *ids.IDENTITY, "python")})
    write_json(root / "manifest.json", {
        "format_version": schema.FORMAT_VERSION, "run_id": "py", "matrix": matrix,
        "pythons": {"3.11": {"version": "3.11.7"}, "3.13": {"version": "3.13.0"}},
        "strategies": {"a": {"model": "threads", "safety": "safe"},
                       "b": {"model": "threads", "safety": "safe"}}})
    return root


def test_report_compares_interpreters_cell_by_cell(tmp_path) -> None:
    from report.frames import read_run
    from report.interpreters import compare_pythons
    run = read_run(_write_run(tmp_path / "run", {
        ("a", "3.11"): [1000, 1010, 990, 1005, 995], ("a", "3.13"): [1200, 1210, 1190, 1205, 1195],
        ("b", "3.11"): [1000, 1100, 900, 1050, 950], ("b", "3.13"): [1020, 1080, 920, 1060, 940]}))
    assert set(run.cells["python"]) == {"3.11"} and len(run.all_cells) == 20  # sections: 3.11
    rows = compare_pythons(run).set_index("strategy")
    assert rows.loc["a", "verdict"].startswith("faster under 3.13")
    assert rows.loc["a", "ratio"] == pytest.approx(1.2, rel=0.01)
    assert rows.loc["b", "verdict"] == "no measurable difference"
