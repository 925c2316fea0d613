"""The report's garbage-collector figures and claim, on the synthetic fixture plus open-loop
cells of the gc workloads written here in the shape loadtests/cell.py writes them."""
from __future__ import annotations

import json
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from loadtests.running.cell import merge_timelines
from report import RunWarning, build_report, gc
from report.claims import claim_gc
from results import hdr
from results.record import CellRecord

from .report_run import analysis_of, write_run
from .report_run import histogram as latency_histogram

START = 1_735_732_800.0  # the window's start, epoch s
WINDOW_S = 3.0
MODE_OF = {"gc": "default", "gc-off": "off", "gc-freeze": "freeze"}


def _gc_cell(rng: np.random.Generator, strategy: str, workload: str, repeat: int,
             tail_ms: float, pause_ms: float) -> CellRecord:
    model = "processes" if strategy.endswith("-mp") else "threads"
    rust = strategy.startswith("rust-")
    mode = MODE_OF[workload]
    histogram = latency_histogram(rng, 900, 0.3, 3000)
    record = CellRecord(strategy=strategy, model=model, safety="safe", workload=workload,
                        engine="locust", cores=1, users=16, repeat=repeat, rate="1000")
    wobble = 1 + 0.03 * (repeat - 1)  # -3%, 0, +3%: repeats of one mode overlap, modes apart
    pauses = [] if mode == "off" else [[(START + t) * 1e6, pause_ms * 1000 * (0.2 if g == 0 else 1), g]
                                       for t, g in ((0.5, 0), (1.2, 2), (2.4, 0))]
    timeline = [1200] * int(WINDOW_S / 0.05)
    for start_us, pause_us, _ in pauses:  # the spike lands in the bucket after the pause began
        index = int((start_us / 1e6 - START) / 0.05) + 1
        timeline[index] = int(pause_us + 1000)
    record = replace(
        record, status="ok", reason="", duration_s=WINDOW_S, requests=3000, rps=1000.0, offered_rps=1000.0,
        p50_us=900, p90_us=1500, p99_us=tail_ms * 300 * wobble, p999_us=tail_ms * 1000 * wobble,
        max_us=tail_ms * 1300 * wobble, mean_us=1000, errors=0, loadgen_lagging=False,
        server_cpu=0.4, loadgen_cpu=0.3, server_cores=1, loadgen_cores=1, loadgen_bound=False,
        shared_cpu=True, busy_machine=False, noisy=False, correct=True, lost_updates=0,
        acked_incr=100, gc_mode=mode, garbage=100, gc_scope="" if rust else "window",
        gc_collections=len(pauses) * 40, gc_pauses_dropped=0,
        gc_pause_total_ms=round(sum(p[1] for p in pauses) / 1000, 3),
        gc_pause_max_ms=round(max((p[1] for p in pauses), default=0) / 1000, 3) * wobble,
        hdr=hdr.encode(histogram), gc_pauses=pauses, window_start_unix_s=START,
        latency_timeline={"bucket_ms": 50, "start": START, "max_us": timeline})
    return record


def write_gc_run(root: Path, off_tail_ms: float = 3.0, rust_tail_ms: float | None = None) -> Path:
    """A small fixture run (one repeat, one core: the gc figures and claim read only the
    cells added here) plus gc / gc-off / gc-freeze cells of global-lock and global-lock-mp,
    and with `rust_tail_ms` gc cells of rust-global-lock (no collector: no gc figures)."""
    run = write_run(root, damaged=False, repeats=1, cores_list=(1,))
    rng = np.random.default_rng(3)
    # (tail ms, longest pause ms) per mode: one process pays the whole heap's pauses.
    shape = {"global-lock": {"gc": (30, 25), "gc-off": (off_tail_ms, 0), "gc-freeze": (10, 8)},
             "global-lock-mp": {"gc": (9, 6), "gc-off": (off_tail_ms, 0), "gc-freeze": (5, 3)}}
    for strategy, modes in shape.items():
        for workload, (tail, pause) in modes.items():
            for repeat in range(3):
                cell = _gc_cell(rng, strategy, workload, repeat, tail, pause)
                (run / "cells" / f"{cell.cell_id}.json").write_text(json.dumps(cell.to_json()))
    for repeat in range(3 if rust_tail_ms is not None else 0):
        cell = replace(_gc_cell(rng, "rust-global-lock", "gc", repeat, rust_tail_ms, 0),
                       gc_collections=None, gc_pause_total_ms=None, gc_pause_max_ms=None,
                       gc_pauses=None, gc_pauses_dropped=None)
        (run / "cells" / f"{cell.cell_id}.json").write_text(json.dumps(cell.to_json()))
    return run



def test_gc_claim_is_answered_with_numbers(tmp_path: Path) -> None:
    claim = claim_gc(analysis_of(write_gc_run(tmp_path)))
    assert claim.verdict == "supported: the collector's pauses reach the tail"
    assert "open loop" in claim.answer and "1000 req/s offered" in claim.answer
    assert "p99.9 30.0 ms on vs 3.00 ms off" in claim.answer
    assert "A heap per process (global-lock-mp" in claim.answer
    assert len(claim.evidence) == 2  # one line per strategy, every mode in it
    assert all("collector frozen" in line for line in claim.evidence)


def test_overlapping_repeats_are_no_measurable_difference(tmp_path: Path) -> None:
    # Off as slow as on (within the repeats' spread) for global-lock; -mp is 9 ms on, 30 off.
    claim = claim_gc(analysis_of(write_gc_run(tmp_path, off_tail_ms=30)))
    assert "with it off, no measurable difference in p99.9 or max" in claim.answer
    assert claim.verdict == "contradicted: the tail was worse with the collector off"


def test_gc_claim_compares_against_rust_without_a_collector(tmp_path: Path) -> None:
    claim = claim_gc(analysis_of(write_gc_run(tmp_path, rust_tail_ms=2.0)))
    assert ("Against rust-global-lock (no collector) at the same offered rate: global-lock with its "
            "collector on has p99.9 30.0 ms against 2.00 ms") in claim.answer, claim.answer
    assert any(line.startswith("rust-global-lock (Rust, no collector), 1000 req/s offered")
               for line in claim.evidence)
    # As slow as global-lock's own tail: the repeats overlap, no verdict from noise.
    level = claim_gc(analysis_of(write_gc_run(tmp_path / "level", rust_tail_ms=30.0)))
    assert "no measurable difference from global-lock with its collector on" in level.answer
    assert "Against rust" not in claim_gc(analysis_of(write_gc_run(tmp_path / "none"))).answer


def test_gc_claim_not_measured_without_gc_cells(tmp_path: Path) -> None:
    claim = claim_gc(analysis_of(write_run(tmp_path, damaged=False)))
    assert claim.verdict == "not measured in this run"
    assert claim.answer.startswith("Not measured in this run")


def test_gc_figures_per_cell(tmp_path: Path) -> None:
    an = analysis_of(write_gc_run(tmp_path))
    frame = gc.cells(an.run)
    assert set(frame["mode"]) == {"open"}  # open-loop cells preferred to the closed ones
    table = gc.groups(frame)
    row = table[(table["strategy"] == "global-lock") & (table["gc_mode"] == "default")].iloc[0]
    assert row["collections_per_s"] == pytest.approx(120 / WINDOW_S)
    assert row["paused_share"] == pytest.approx((5 + 25 + 5) / 1000 / WINDOW_S)
    assert row["repeats"] == 3 and row["p999_us"] == pytest.approx(30_000)


def test_timeline_places_pauses_on_the_window(tmp_path: Path) -> None:
    an = analysis_of(write_gc_run(tmp_path))
    cell_id = gc.timeline_cell(an.run, gc.cells(an.run))
    assert cell_id is not None and cell_id.startswith("global-lock.gc.")  # the longest pause
    x, maxima, pauses = gc.timeline(an.run, cell_id)
    assert [round(p[0], 6) for p in pauses] == [0.5, 1.2, 2.4]
    assert x[0] == 0 and x[1] == pytest.approx(0.05) and len(x) == 60
    # the largest bucket follows the generation-2 pause
    assert x[int(np.nanargmax(maxima))] == pytest.approx(1.25)


def test_report_shows_gc_table_and_figures(tmp_path: Path) -> None:
    run = write_gc_run(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RunWarning)
        built = build_report(run)
    names = {p.name for p in built.images}
    assert "fig-gc-modes.png" in names
    assert any(n.startswith("fig-gc-timeline-global-lock-gc-") for n in names)
    html = built.html.read_text()
    assert "Garbage collector against the tail" in html and "longest pause ms" in html
    gc_claim = next(c for c in built.claims if c.id == "gc")
    judgement = gc_claim.judgements[0]
    assert gc_claim.verdict.startswith("supported") and judgement.verdict == gc_claim.verdict
    # on vs off, 30 ms against 3 ms: a difference, three repeats a side, far beyond their spread
    assert judgement.differs and judgement.effect == pytest.approx(10, rel=0.1)
    assert judgement.repeats == 3 and judgement.strength == "firm"
    assert gc_claim.figure in names


def test_load_processes_timelines_merge_by_max() -> None:
    merged = merge_timelines([{"bucket_ms": 50, "start": 10.0, "max_us": [1, 9, 3]},
                              None, {"bucket_ms": 50, "start": 10.0, "max_us": [4, 2, 3, 7]}])
    assert merged == {"bucket_ms": 50, "start": 10.0, "max_us": [4, 9, 3, 7]}
    assert merge_timelines([None, {}]) is None
