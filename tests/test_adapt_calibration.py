"""The adaptive rounds on simulated runs: the loop itself (sharebench/adapt.py and the
reserve's bookkeeping in loadtests/running/extra.py), its cells drawn from a distribution
instead of measured, judged by a stand-in for the claims' rule (a ratio with an interval at
level alpha / looks against a ±10% band). A/A: with no true difference, "differs" stays
rare however many looks the loop takes; a true effect near the band's edge is decided more
often with the rounds than by the fixed plan. The claims' own calibration through the loop
swaps `judge` for theirs (docs/adaptive.md)."""
from __future__ import annotations

import io
import math
import random
import statistics
import threading
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from scipy import stats

from loadtests.planning.cells import Cell
from loadtests.running.manifest import adaptive
from results import ids, schema
from results.atomic import write_json
from results.record import CellRecord
from results.store import RunStore
from sharebench.adapt import CAP, Rounds

from .simulated_rounds import simulated

ALPHA = 0.05
BAND = 0.10
CV = 0.04        # a cell's run-to-run spread (wrk cpu cells here: a few per cent)
PLANNED = 2      # the default's repeats of a claim's cells
RESERVE_S = 60.0  # a few rounds of the two cells
RUNS = 200


@dataclass(frozen=True)
class Question:
    claim: str
    scope: str
    what: str
    priority: int
    groups: tuple[dict[str, object], ...]


GROUPS = tuple({"strategy": s, "workload": "cpu", "engine": "wrk", "cores": 1, "users": 8,
                "live_objects": 0, "mode": "closed", "rate": ""} for s in ("a", "b"))


def outcome(run: Path, looks: int) -> str:
    """b against a: the log ratio of means, a Welch interval at ALPHA / looks."""
    rps: dict[str, list[float]] = {"a": [], "b": []}
    for record in RunStore(run).records():
        rps[record.strategy].append(math.log(record.rps or 1.0))
    a, b = rps["a"], rps["b"]
    diff = statistics.fmean(b) - statistics.fmean(a)
    va, vb = statistics.variance(a) / len(a), statistics.variance(b) / len(b)
    df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    half = stats.t.ppf(1 - ALPHA / looks / 2, df) * math.sqrt(va + vb)
    low, high, edge = diff - half, diff + half, math.log(1 + BAND)
    if low > edge or high < -edge:
        return "differs"
    if -edge < low and high < edge:
        return "no difference"
    return "undecided"


def judge(run: Path, looks: int) -> list[Question]:
    if outcome(run, looks) != "undecided":
        return []
    return [Question("aa", "CPython", "b vs a", 0, GROUPS)]


def _record(store: RunStore, cell_id: str, *, effect: float, rng: random.Random) -> None:
    found = ids.parse_cell_id(cell_id) or {}
    mean = 10_000 * (effect if found["strategy"] == "b" else 1.0)
    record = CellRecord(strategy=found["strategy"], workload="cpu", engine="wrk", cores=1,
                        users=8, repeat=found["repeat"], status="ok",
                        rps=mean * math.exp(rng.gauss(0, CV)))
    write_json(store.cells_dir / f"{cell_id}.json", record.to_json())


def _run(root: Path, n: int, effect: float, rng: random.Random, adapt: bool) -> tuple[str, int]:
    """(the final outcome, the looks it was judged at) of one simulated run."""
    store = RunStore.create(root, f"run{n}")
    cells = [Cell(s, "cpu", 1, 8, r, "wrk", warmup=1.0, duration=1.0)
             for r in range(PLANNED) for s in ("a", "b")]
    store.write_manifest({"format_version": schema.FORMAT_VERSION, "run_id": f"run{n}",
                          "profile": "aa", "status": "complete",
                          "matrix": [{"cell_id": c.id, **vars(c)} for c in cells],
                          "timing": {"warmup_s": 1.0, "duration_s": 1.0},
                          "budget": {"budget_s": None}, "adapt": adaptive(adapt, RESERVE_S)})
    for cell in cells:
        _record(store, cell.id, effect=effect, rng=rng)
    draw = partial(_record, effect=effect, rng=rng)
    manifest = Rounds(judge, out=io.StringIO(), measure=simulated(draw))(store, threading.Event())
    looks = max(1, manifest["adapt"]["looks"])
    return outcome(store.path, looks), looks


def _outcomes(root: Path, effect: float, adapt: bool, seed: int) -> tuple[list[str], int]:
    rng = random.Random(seed)
    found = [_run(root, n, effect, rng, adapt) for n in range(RUNS)]
    return [o for o, _ in found], max(looks for _, looks in found)


def test_aa_runs_through_the_rounds_rarely_differ(tmp_path: Path) -> None:
    outcomes, most_looks = _outcomes(tmp_path, 1.0, adapt=True, seed=1)
    assert most_looks > 2, "the rounds never looked more than twice: nothing was tested"
    assert outcomes.count("differs") <= 0.05 * RUNS, outcomes.count("differs")
    # the rounds decided most runs (no difference), where two repeats a side leave many open
    fixed, _ = _outcomes(tmp_path / "fixed", 1.0, adapt=False, seed=1)
    assert outcomes.count("undecided") < fixed.count("undecided")


def test_a_true_effect_near_the_band_is_decided_more_often_with_the_rounds(tmp_path) -> None:
    adapted, _ = _outcomes(tmp_path / "adapted", 1.25, adapt=True, seed=2)
    fixed, _ = _outcomes(tmp_path / "fixed", 1.25, adapt=False, seed=2)
    assert adapted.count("differs") > fixed.count("differs")
    assert adapted.count("no difference") == 0  # never decided the wrong way


def test_no_simulated_side_passes_the_cap(tmp_path: Path) -> None:
    rng = random.Random(3)
    for n in range(20):
        _run(tmp_path, n, 1.1, rng, adapt=True)  # at the band's edge: open to the cap
        repeats = [len(list((tmp_path / f"run{n}" / "cells").glob(f"{s}.*.json")))
                   for s in ("a", "b")]
        assert max(repeats) <= CAP
