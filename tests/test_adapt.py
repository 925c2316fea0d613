"""The adaptive rounds: their decisions on a run's files, and end to end with real servers,
real wrk and seconds-long cells, a judge plugged in where the claims' judge goes
(tests/adapt_judges.py)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from loadtests.planning.cells import Cell
from loadtests.running import extra
from loadtests.running.manifest import adaptive
from results import schema
from results.record import CellRecord
from results.store import RunStore
from sharebench.adapt import CAP, FIRST, LEVEL_LOOKS, OVERRUN, Rounds, order, overrun, step

from .adapt_judges import GROUPS, PROFILE, WANTED, Question
from .helpers import read_latest

TIMEOUT_S = 240


def _profile(tmp_path: Path, reserve: float) -> Path:
    path = tmp_path / "profiles.toml"
    path.write_text(PROFILE.format(reserve=reserve))
    return path


def _run(judge: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tests.adapt_judges", judge, "run", *args],
                          capture_output=True, text=True, timeout=TIMEOUT_S)


def _args(tmp_path: Path, reserve: float) -> list[str]:
    return ["--profile", "tiny", "--profile-file", str(_profile(tmp_path, reserve)),
            "--results", str(tmp_path / "results")]


def _records(run: Path) -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text()) for p in (run / "cells").glob("*.json")}


def _store(tmp_path: Path, repeats: dict[str, int], reserve_s: float = 60.0) -> RunStore:
    """A run whose planned cells are measured (records of a few of them), ready for rounds."""
    store = RunStore.create(tmp_path, "run")
    matrix = [{"cell_id": cell.id, **vars(cell)}
              for name, count in repeats.items() for r in range(count)
              for cell in [Cell(name, "cpu", 1, 8, r, "wrk", warmup=1.0, duration=1.0)]]
    store.write_manifest({"format_version": schema.FORMAT_VERSION, "run_id": "run",
                          "profile": "p", "matrix": matrix, "status": "complete",
                          "timing": {"warmup_s": 1.0, "duration_s": 1.0},
                          "budget": {"budget_s": None}, "adapt": adaptive(True, reserve_s)})
    return store


def _group(name: str) -> dict[str, object]:
    return {**GROUPS[0], "strategy": name}


def _question(what: str, *names: str, priority: int = 0) -> Question:
    return Question("test", "CPython", what, priority, tuple(_group(n) for n in names))


def test_questions_that_no_repeat_can_help_get_none_and_say_why(tmp_path: Path) -> None:
    store = _store(tmp_path, {"global-lock": CAP, "sharded": 2, "ownership": 1})
    store.write_cell(CellRecord(strategy="ownership", workload="cpu", engine="wrk", cores=1,
                                users=8, repeat=0, status="ok", rps=1000.0, loadgen_bound=True))
    asked = [_question("capped", "global-lock", "sharded"),
             _question("flagged", "sharded", "ownership", priority=1),
             _question("unplanned", "sharded", "rwlock")]
    manifest = Rounds(lambda run, looks: asked)(store, threading.Event())
    section = manifest["adapt"]
    assert section["stopped"] == "every open question is capped or flagged"
    assert section["looks"] == 1 and not section["rounds"]
    held = "\n".join(section["held"])
    assert f"capped: a side has {CAP} repeats, the cap" in held
    assert "flagged: flagged loadgen_bound; repeats cannot cure a flag" in held
    assert "unplanned: a side is not a planned cell" in held
    assert len(manifest["matrix"]) == CAP + 3  # nothing added


def test_no_round_starts_that_the_reserve_cannot_pay(tmp_path: Path) -> None:
    store = _store(tmp_path, {"global-lock": 1, "sharded": 1}, reserve_s=4.0)
    one = extra.cost_s(store.manifest(), [Cell("global-lock", "cpu", 1, 8, 1, "wrk",
                                               warmup=1.0, duration=1.0)])
    assert 0 < one <= 4.0 < 2 * one  # one cell fits, the two sides of the question do not
    manifest = Rounds(lambda run, looks: [_question("open", "global-lock", "sharded")])(
        store, threading.Event())
    assert manifest["adapt"]["stopped"].startswith("reserve spent: the next round does not fit")
    assert not manifest["adapt"]["rounds"] and len(manifest["matrix"]) == 2


def test_a_failing_or_missing_judge_keeps_the_run(tmp_path: Path) -> None:
    def broken(run: Path, looks: int) -> list[Question]:
        raise KeyError("no such claim")
    manifest = Rounds(broken)(_store(tmp_path / "a", {"global-lock": 1}), threading.Event())
    assert manifest["adapt"]["stopped"] == "the judge failed: KeyError: 'no such claim'"
    assert manifest["status"] == "complete"
    manifest = Rounds(None)(_store(tmp_path / "b", {"global-lock": 1}), threading.Event())
    assert manifest["adapt"]["stopped"].startswith("no judge in this build")


def test_extra_cells_continue_the_repeats_interleaved_once_per_group(tmp_path: Path) -> None:
    manifest = _store(tmp_path, {"global-lock": 2, "sharded": 1, "ownership": 3}).manifest()
    asks = [extra.Ask("first", (_group("global-lock"), _group("sharded")), (2, 1)),
            extra.Ask("second", (_group("sharded"), _group("ownership")), (1, 1))]
    cells = [(cell.id.split(".")[0], cell.repeat, ask.reason)
             for cell, ask in extra.cells_for(manifest, asks)]
    assert cells == [("global-lock", 2, "first"), ("sharded", 1, "first"),
                     ("ownership", 3, "second"), ("global-lock", 3, "first")]
    assert extra.label(_group("sharded")) == "sharded.cpu.wrk.c1.u8"
    assert not extra.matches(manifest["matrix"][0], {**_group("global-lock"), "workers": 1024})


def test_questions_go_claims_first_and_the_farthest_from_the_band_edge_first() -> None:
    asked = [_question(n, "global-lock", "sharded") for n in ("small", "large", "row", "edge")]
    asked = [replace(asked[0], effect=1.0), replace(asked[1], effect=0.5),
             replace(asked[2], priority=1, effect=3.0), replace(asked[3], effect=1.12)]
    # 1.0 is further inside the ±10% band than 1.12 is outside it: likelier decided
    assert [q.what for q in order(asked)] == ["large", "small", "edge", "row"]


def test_every_claim_gets_its_best_question_asked_before_any_claims_second() -> None:
    """One claim with many open comparisons must not take the whole reserve from the next."""
    many = [replace(_question(f"d{n}", "global-lock", "sharded"), claim="discipline",
                    effect=3.0 - n / 10) for n in range(5)]
    other = [replace(_question("s0", "global-lock", "sharded"), claim="stateless", effect=1.01),
             replace(_question("s1", "global-lock", "sharded"), claim="stateless", scope="Rust",
                     effect=1.02)]
    row = replace(_question("row", "global-lock", "sharded"), priority=1, effect=9.0)
    found = [q.what for q in order([row, *many, *other])]
    assert found[:3] == ["d0", "s0", "s1"]  # each claim and scope's best, the likeliest decided first
    assert found[3:] == ["d1", "d2", "d3", "d4", "row"]


def test_claims_keep_the_judges_order_and_a_covering_question_goes_first() -> None:
    """Two runs must cut a round at the same place: across claims the judge's order, not the
    data's margins; within one, a question whose cells include another's answers both."""
    pair = replace(_question("pair", "global-lock", "ownership"), claim="discipline", effect=3.0)
    models = replace(_question("models", "global-lock", "ownership", "global-lock-mp",
                               "ownership-mp"), claim="discipline", effect=1.2)
    apart = replace(_question("apart", "sharded", "rwlock"), claim="discipline", effect=5.0)
    far = replace(_question("far", "stateless", "sharded"), claim="stateless", effect=9.0)
    found = [q.what for q in order([pair, far, apart, models])]
    # models covers pair (not apart); the stateless claim's larger margin does not jump the queue
    assert found == ["models", "far", "apart", "pair"]


def test_a_side_grows_by_half_its_repeats_to_the_cap() -> None:
    assert [step(n) for n in range(1, CAP + 1)] == [2, 1, 1, 2, 1, 0]
    have, looks = 1, 1
    while step(have):
        have, looks = have + step(have), looks + 1
    assert have == CAP and looks < CAP


@pytest.mark.load
def test_rounds_add_repeats_where_the_judge_asks_and_no_adapt_keeps_the_plan(
        tmp_path: Path) -> None:
    done = _run("one-group", *_args(tmp_path, 0.1))
    assert done.returncode == 0, done.stderr[-3000:]
    manifest, rows = read_latest(tmp_path / "results")
    section = manifest["adapt"]
    assert section["enabled"] and section["stopped"].startswith("decided"), section
    assert manifest["budget"]["reserve_share"] == 0.1 and section["reserve_s"] == 24.0
    added = [row for row in manifest["matrix"] if "added" in row]
    # both sides, to FIRST repeats in one round, then one more, until the judge had WANTED
    assert sorted(row["cell_id"] for row in added) == sorted(
        f"{name}.cpu.wrk.c1.u8.r{r}" for name in ("global-lock", "sharded")
        for r in range(1, WANTED))
    assert all("global-lock vs sharded" in row["added"]["reason"] for row in added)
    assert [len(r["cells"]) for r in section["rounds"]] == [2 * (FIRST - 1), 2 * (WANTED - FIRST)]
    assert section["looks"] == 3  # judged after the plan and after each round
    assert all(r["complete"] and r["estimate_s"] <= r["left_s"] for r in section["rounds"])
    assert section["spent_s"] == pytest.approx(sum(r["spent_s"] for r in section["rounds"]), abs=0.2)
    records = _records((tmp_path / "results" / "latest").resolve())
    assert {row["cell_id"] for row in added} <= set(records)
    assert all(records[row["cell_id"]]["status"] == "ok" for row in added)
    assert len(rows) == len(manifest["matrix"]) == 3 + len(added)
    assert f"sharebench: adaptive round 1: {2 * (FIRST - 1)} cells" in done.stderr
    # every look is judged at the level for the most looks the cap allows, fixed beforehand
    assert section["level_looks"] == LEVEL_LOOKS == 4
    assert f"global-lock vs sharded, look {LEVEL_LOOKS}" in done.stderr

    fixed = _run("always", *_args(tmp_path, 0.1), "--no-adapt")
    assert fixed.returncode == 0, fixed.stderr[-3000:]
    manifest, rows = read_latest(tmp_path / "results")
    assert not manifest["adapt"]["enabled"] and not manifest["adapt"]["rounds"]
    assert manifest["budget"]["reserve_share"] == 0 and manifest["budget"]["reserve_s"] == 0
    assert len(manifest["matrix"]) == len(rows) == 3
    assert "adaptive round" not in fixed.stderr


@pytest.mark.load
def test_a_judge_that_always_asks_stops_when_the_reserve_is_spent(tmp_path: Path) -> None:
    done = _run("always", *_args(tmp_path, 0.06))
    assert done.returncode == 0, done.stderr[-3000:]
    manifest, _ = read_latest(tmp_path / "results")
    section = manifest["adapt"]
    assert section["stopped"].startswith("reserve spent"), section
    assert section["rounds"], "the reserve holds at least one round"
    spent = 0.0
    for entry in section["rounds"]:  # no round started that its estimate did not fit
        assert entry["estimate_s"] <= entry["left_s"] <= section["reserve_s"] - spent + 0.1
        spent += entry["spent_s"]
        # the comparison a verdict rests on first, whatever order the judge gave
        assert entry["asked"][0]["reason"].startswith("test (CPython): global-lock vs sharded")
    assert max(len([r for r in manifest["matrix"] if r["strategy"] == s])
               for s in ("global-lock", "sharded", "ownership")) < CAP
    # a question whose side is not in the plan gets nothing, and the manifest says why
    assert any("rwlock" in line and "not a planned cell" in line for line in section["held"])
    assert not [r for r in manifest["matrix"] if r["strategy"] == "rwlock"]


def _wait(what, timeout: float = 120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = what()
        if found:
            return found
        time.sleep(0.1)
    return None


@pytest.mark.load
def test_an_interrupted_round_resumes_with_resume(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "tests.adapt_judges", "one-group", "run",
                             *_args(tmp_path, 0.1)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)

    def in_round() -> Path | None:
        latest = tmp_path / "results" / "latest"
        try:
            manifest = json.loads((latest / "manifest.json").read_text())
        except (OSError, ValueError):
            return None
        first = manifest["adapt"]["rounds"][:1]
        return latest.resolve() if first and first[0]["cells"][0] in _records(latest) else None

    run = _wait(in_round)
    if run is None:
        os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail(f"no adaptive round began: {proc.communicate()[1][-3000:]}")
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C in a terminal: the whole process group
    _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0, err[-3000:]
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "interrupted"
    first = manifest["adapt"]["rounds"][0]
    assert not first["complete"] and first["spent_s"] == first["estimate_s"]
    assert manifest["adapt"]["stopped"] is None

    resumed = _run("one-group", "--resume", str(run))
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    manifest = json.loads((run / "manifest.json").read_text())
    section = manifest["adapt"]
    assert manifest["status"] == "complete" and section["stopped"].startswith("decided")
    assert len(section["rounds"]) == 2 and section["rounds"][-1]["complete"]
    records = _records(run)
    assert {row["cell_id"] for row in manifest["matrix"]} == set(records)
    assert all(record["status"] == "ok" for record in records.values()), records.keys()
    assert {f"{name}.cpu.wrk.c1.u8.r{r}" for name in ("global-lock", "sharded")
            for r in range(WANTED)} | {"ownership.cpu.wrk.c1.u8.r0"} == set(records)
    assert "sharebench: adaptive round 2:" in resumed.stderr


def test_a_round_is_planned_at_the_most_this_run_has_overrun() -> None:
    """The first round is planned at OVERRUN times its estimate; a round that took longer
    than that raises it for the next, and an interrupted one (charged its estimate) does not."""
    assert overrun({}) == OVERRUN > 1
    rounds = [{"estimate_s": 100.0, "spent_s": 180.0, "complete": True},
              {"estimate_s": 10.0, "spent_s": 90.0, "complete": False}]
    assert overrun({"rounds": rounds}) == pytest.approx(1.8)
    assert overrun({"rounds": [rounds[0] | {"spent_s": 90.0}]}) == OVERRUN
