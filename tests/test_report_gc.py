"""The report's garbage-collector figures and claim, on the synthetic fixture plus open-loop
cells of the gc workloads written here in the shape loadtests/running/cell.py writes them."""
from __future__ import annotations

import json
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from loadtests.running.cell import merge_timelines
from report import RunWarning, build_report, gc
from report.claims import Claim, Outcome, claims
from results import hdr
from results.record import CellRecord

from .report_run import analysis_of, write_run
from .report_run import histogram as latency_histogram

START = 1_735_732_800.0  # the window's start, epoch s
WINDOW_S = 3.0
MODE_OF = {"gc": "default", "gc-off": "off", "gc-freeze": "freeze"}
HEAPS = (0, 1_000_000)


def _gc_cell(rng: np.random.Generator, strategy: str, workload: str, repeat: int,
             tail_ms: float, pause_ms: float, live: int = 0, full: int | None = None) -> CellRecord:
    """An open-loop cell as cell.py writes it: `pause_ms` is its longest (full) collection,
    `full` how many full collections fell in its window (None: a record from before they
    were counted, with one generation-2 pause)."""
    model = "processes" if strategy.endswith("-mp") else "threads"
    rust = strategy.startswith("rust-")
    mode = MODE_OF[workload]
    histogram = latency_histogram(rng, 900, 0.3, 3000)
    record = CellRecord(strategy=strategy, model=model, safety="safe", workload=workload,
                        engine="locust", cores=1, users=16, repeat=repeat,
                        rate="0.8x" if live or full is not None else "1000", live_objects=live)
    wobble = 1 + 0.03 * (repeat - 1)  # -3%, 0, +3%: repeats of one mode overlap, modes apart
    fulls = 1 if full is None else full
    pauses = [] if mode == "off" else (
        [[(START + 0.5) * 1e6, pause_ms * 200, 0], [(START + 2.4) * 1e6, pause_ms * 200, 0]]
        + [[(START + 1.2 + 0.15 * n) * 1e6, pause_ms * 1000, 2] for n in range(fulls)])
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
        acked_incr=100, gc_mode=mode, garbage=100 if full is None else 0, gc_scope="" if rust else "window",
        gc_collections=len(pauses) * 40, gc_pauses_dropped=0, rss_mb=30 + live / 6000,
        churn=None if full is None else 0.5, heap_objects=live + 1 if live else 0,
        gc_pause_total_ms=round(sum(p[1] for p in pauses) / 1000, 3),
        gc_pause_max_ms=round(max((p[1] for p in pauses), default=0) / 1000, 3) * wobble,
        hdr=hdr.encode(histogram), gc_pauses=pauses, window_start_unix_s=START,
        latency_timeline={"bucket_ms": 50, "start": START, "max_us": timeline})
    if full is not None and not rust:
        record = replace(record, gc_full_collections=0 if mode == "off" else full,
                         gc_pause_max_gen2_ms=0.0 if mode == "off" or not full
                         else round(pause_ms * wobble, 3))
    return record


def _write(run: Path, cell: CellRecord) -> None:
    (run / "cells" / f"{cell.cell_id}.json").write_text(json.dumps(cell.to_json()))


def write_gc_run(root: Path, off_tail_ms: float = 3.0, rust_tail_ms: float | None = None) -> Path:
    """The fixture run plus gc / gc-off / gc-freeze cells of global-lock and global-lock-mp
    on no live heap, as runs before the heap axis measured them (garbage per request), and
    with `rust_tail_ms` gc cells of rust-global-lock (no collector: no gc figures)."""
    run = write_run(root, damaged=False, repeats=1, cores_list=(1,))
    rng = np.random.default_rng(3)
    shape = {"global-lock": {"gc": (30, 25), "gc-off": (off_tail_ms, 0), "gc-freeze": (10, 8)},
             "global-lock-mp": {"gc": (9, 6), "gc-off": (off_tail_ms, 0), "gc-freeze": (5, 3)}}
    for strategy, modes in shape.items():
        for workload, (tail, pause) in modes.items():
            for repeat in range(3):
                _write(run, _gc_cell(rng, strategy, workload, repeat, tail, pause))
    for repeat in range(3 if rust_tail_ms is not None else 0):
        cell = replace(_gc_cell(rng, "rust-global-lock", "gc", repeat, rust_tail_ms, 0),
                       gc_collections=None, gc_pause_total_ms=None, gc_pause_max_ms=None,
                       gc_pauses=None, gc_pauses_dropped=None)
        _write(run, cell)
    return run


def write_heap_run(root: Path, on_tail_ms: float = 120.0, rust: bool = True) -> Path:
    """The fixture run plus the heap axis as the default profile measures it: global-lock's
    collector on, off and frozen at no live heap and at a million objects, 3 repeats, open
    loop at 0.8x; rust-global-lock holding the same heaps. With no heap nothing is
    collected in full (0 full collections); at a million objects the full collections take
    90 ms and, unless `on_tail_ms` says otherwise, lift the tail to 120 ms."""
    run = write_run(root, damaged=False, repeats=1, cores_list=(1,))
    rng = np.random.default_rng(5)
    for live in HEAPS:
        shape = ({"gc": (3.1, 0.4, 0), "gc-off": (3.0, 0, 0), "gc-freeze": (3.2, 0.4, 0)} if not live
                 else {"gc": (on_tail_ms, 90, 3), "gc-off": (3.0, 0, 0), "gc-freeze": (4.0, 1.5, 9)})
        for workload, (tail, pause, full) in shape.items():
            for repeat in range(3):
                _write(run, _gc_cell(rng, "global-lock", workload, repeat, tail, pause, live, full))
        for repeat in range(3 if rust else 0):
            cell = replace(_gc_cell(rng, "rust-global-lock", "gc", repeat, 2.0, 0, live, 0),
                           gc_collections=None, gc_pause_total_ms=None, gc_pause_max_ms=None,
                           gc_pauses=None, gc_pauses_dropped=None)
            _write(run, cell)
    return run



def claim_gc(an) -> Claim:
    return next(c for c in claims(an) if c.id == "gc")


def _tails(claim: Claim) -> dict:
    return claim.results[0].detail["judged"].to_dict()


def test_a_tail_worse_without_the_collector_is_reversed(tmp_path: Path) -> None:
    run = write_heap_run(tmp_path, on_tail_ms=3.0)
    for path in (run / "cells").glob("global-lock.gc-off.*h1000000*.json"):
        record = json.loads(path.read_text())
        path.write_text(json.dumps(record | {"p999_us": record["p999_us"] * 2}))
    (result,) = claim_gc(analysis_of(run)).results
    assert result.outcome is Outcome.REVERSED and result.effect == pytest.approx(0.5, rel=0.01)
    assert result.strength in ("firm", "moderate")


def test_the_claim_names_the_heap_where_the_pauses_reach_the_tail(tmp_path: Path) -> None:
    claim = claim_gc(analysis_of(write_heap_run(tmp_path)))
    assert claim.verdict == "supported: from 1,000,000 live objects the collector's pauses reach the tail"
    (result,) = claim.results
    assert result.outcome is Outcome.SUPPORTED and result.effect == pytest.approx(40, rel=0.01)
    # of the buckets above the collector-off p99.9 (5 a cell), 3 a cell overlap a full collection
    assert result.detail["overlap"] == (9, 15)
    assert "9 of 15 (60%) overlapped a full collection" in claim.answer
    assert "open loop" in claim.answer and "0.8x of capacity offered" in claim.answer
    assert ("At no live heap: collector on: longest full collection 0 ms (0 in a window), p99.9 "
            "3.10 (3.01–3.19) ms against 3.00 (2.91–3.09) ms") in claim.answer, claim.answer
    assert "not judged: no full collection fell inside 3 of 3 windows" in claim.answer
    assert ("At 1,000,000 live objects: collector on: longest full collection 90.0 ms (3 in a "
            "window), p99.9 120 (116–124) ms against 3.00 (2.91–3.09) ms (global-lock, collector "
            "off, 3 repeats against 3) — above it: 40.00×") in claim.answer
    assert "collector frozen: longest full collection 1.50 ms" in claim.answer
    assert "rust-global-lock holding the same heap with no collector: p99.9 2.00 ms" in claim.answer
    judged = _tails(claim)
    assert judged["finding"] == "supported"
    assert judged["at"] == {"live_objects": 1_000_000} and judged["metric"] == "p999_us"
    on = next(c for c in judged["comparisons"]
              if c["at"] == {"live_objects": 1_000_000, "collector": "on"})
    assert on["exceeds"] and on["a"]["repeats"] == on["b"]["repeats"] == 3
    assert on["effect"] == pytest.approx(40) and on["interval"][0] > 1.25
    assert len(on["a"]["cell_ids"]) == 3 and judged["left_out"] == []
    zero = next(c for c in judged["comparisons"] if c["at"] == {"live_objects": 0, "collector": "on"})
    assert not zero["judged"] and zero["why_not"].startswith("no full collection fell inside")


def test_the_claim_says_none_did_when_the_tails_overlap(tmp_path: Path) -> None:
    claim = claim_gc(analysis_of(write_heap_run(tmp_path, on_tail_ms=3.05)))
    assert claim.verdict == "no difference: up to 1,000,000 live objects"
    assert "— no difference: 1.02×" in claim.answer, claim.answer
    assert _tails(claim)["finding"] == "no difference"


def test_an_undecided_gc_comparison_asks_for_repeats_of_both_sides(tmp_path: Path) -> None:
    """Tails 1.3x apart with one cell's spread: undecided, and the adaptive rounds are told
    which cells would decide it (the collector on and off at that heap), not left blind."""
    from report.claims.open_questions import open_questions
    run = write_heap_run(tmp_path, on_tail_ms=3.9)
    for path in (run / "cells").glob("global-lock.gc.*h1000000*.r0.json"):
        record = json.loads(path.read_text())
        path.write_text(json.dumps(record | {"p999_us": record["p999_us"] * 3}))
    an = analysis_of(run)
    (result,) = claim_gc(an).results
    assert result.outcome is Outcome.UNDECIDED, result.text()
    (asked,) = [q for q in open_questions(an) if q.claim == "gc"]
    assert {(g["workload"], g["live_objects"]) for g in asked.groups} == {
        ("gc", 1_000_000), ("gc-off", 1_000_000)}
    assert all("repeat" not in g for g in asked.groups) and asked.band == 0.25


def test_another_workloads_open_loop_cells_never_join_the_gc_sets(tmp_path: Path) -> None:
    # A default run measures cpu in open loop too (read-heavy here: a name sorting after the
    # gc workloads, so a row of it would win a shared slot), and CPython servers report their
    # collector there, with the gc workloads' very knobs but the churn: such cells, even at the
    # gc cells' very load, must neither join their sets nor become the set judged (a strategy
    # ranked first, its collector on and a no-collector server beside it at another load, has
    # nothing to be set against).
    run = write_heap_run(tmp_path)
    rng = np.random.default_rng(9)
    for strategy, rate in (("global-lock", "0.8x"), ("rust-global-lock", "0.95x"),
                           ("unsafe", "0.95x")):
        for repeat in range(3):
            cell = replace(_gc_cell(rng, strategy, "gc", repeat, 500.0, 0, 0, 0),
                           workload="read-heavy", cell_id="", rate=rate, churn=1 / 16, garbage=0)
            _write(run, replace(cell, cell_id=""))
    an = analysis_of(run)
    claim = claim_gc(an)
    assert claim.verdict == "supported: from 1,000,000 live objects the collector's pauses reach the tail"
    on = next(c for c in _tails(claim)["comparisons"]
              if c["at"] == {"live_objects": 1_000_000, "collector": "on"})
    assert all(".gc." in cell for cell in on["a"]["cell_ids"]), on["a"]["cell_ids"]
    zero = next(c for c in _tails(claim)["comparisons"] if c["at"] == {"live_objects": 0, "collector": "on"})
    assert all(".gc." in cell for cell in zero["a"]["cell_ids"]), zero["a"]["cell_ids"]
    found = gc.comparable(gc.groups(gc.cells(an.run)), gc.no_collector(an.run, {"rust-global-lock"}),
                          {s: i for i, s in enumerate(an.order)})
    assert [s.strategy for s in found] == ["global-lock"]


def test_a_flagged_cell_never_stands_in_for_the_servers_latency(tmp_path: Path) -> None:
    run = write_heap_run(tmp_path)
    lagging = run / "cells" / "global-lock.gc.locust.c1.u16.h1000000.o0.8x.r2.json"
    record = json.loads(lagging.read_text())
    lagging.write_text(json.dumps(record | {"loadgen_lagging": True, "p999_us": 900_000.0}))
    an = analysis_of(run)
    claim = claim_gc(an)
    on = next(c for c in _tails(claim)["comparisons"]
              if c["at"] == {"live_objects": 1_000_000, "collector": "on"})
    assert on["a"]["repeats"] == 2 and 900_000.0 not in on["a"]["values"]
    assert _tails(claim)["left_out"] == [[record["cell_id"], "loadgen_lagging (G)"]]
    assert "1 cell(s) left out, flagged" in claim.answer
    assert record["cell_id"] not in set(gc.cells(an.run)["cell_id"])


def test_a_run_without_the_heap_axis_is_judged_at_no_heap(tmp_path: Path) -> None:
    claim = claim_gc(analysis_of(write_gc_run(tmp_path)))
    assert claim.verdict == "supported: the collector's pauses reach the tail even with no live heap"
    assert "1000 req/s offered" in claim.answer and "p99.9 30.0 (29.1–30.9) ms" in claim.answer
    level = claim_gc(analysis_of(write_gc_run(tmp_path / "level", off_tail_ms=30)))
    assert level.verdict == "no difference: with no live heap"


def test_the_claim_falls_back_to_rust_without_an_off_cell(tmp_path: Path) -> None:
    run = write_heap_run(tmp_path)
    for path in (run / "cells").glob("global-lock.gc-off.*.json"):
        path.unlink()
    claim = claim_gc(analysis_of(run))
    assert "against 2.00 (1.94–2.06) ms (rust-global-lock (no collector)" in claim.answer
    assert claim.verdict.startswith("supported: from 1,000,000 live objects")


def test_gc_claim_not_measured_without_gc_cells(tmp_path: Path) -> None:
    claim = claim_gc(analysis_of(write_run(tmp_path, damaged=False)))
    assert claim.verdict == "not judged: not measured in this run"
    assert claim.results[0].outcome is Outcome.NOT_JUDGED
    assert claim.answer.startswith("Not measured in this run") and "judged" not in claim.results[0].detail


def test_gc_figures_per_cell(tmp_path: Path) -> None:
    an = analysis_of(write_heap_run(tmp_path))
    frame = gc.cells(an.run)
    assert set(frame["mode"]) == {"open"}  # open-loop cells preferred to the closed ones
    table = gc.groups(frame)
    row = table[(table["gc_mode"] == "default") & (table["live_objects"] == 1_000_000)].iloc[0]
    assert row["collections_per_s"] == pytest.approx(5 * 40 / WINDOW_S)
    assert row["full_pause_ms"] == pytest.approx(90) and row["full_collections"] == 3
    assert row["paused_share"] == pytest.approx((18 + 18 + 3 * 90) / 1000 / WINDOW_S)
    assert row["repeats"] == 3 and row["p999_us"] == pytest.approx(120_000)
    (found,) = gc.heap_sets(table)
    assert found.heaps == [0, 1_000_000] and found.modes() == ["default", "off", "freeze"]


def test_timeline_shows_the_largest_full_collection(tmp_path: Path) -> None:
    an = analysis_of(write_heap_run(tmp_path))
    cell_id = gc.timeline_cell(an.run, gc.cells(an.run))
    assert cell_id is not None and cell_id.startswith("global-lock.gc.locust.c1.u16.h1000000.")
    assert cell_id.endswith(".r2")  # the +3% repeat: the largest full collection
    x, maxima, pauses = gc.timeline(an.run, cell_id)
    assert [round(p[0], 6) for p in pauses] == [0.5, 2.4, 1.2, 1.35, 1.5]
    assert x[0] == 0 and x[1] == pytest.approx(0.05) and len(x) == 60
    assert x[int(np.nanargmax(maxima))] == pytest.approx(1.25)  # right after a full collection


def test_report_shows_gc_table_and_figures(tmp_path: Path) -> None:
    run = write_heap_run(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RunWarning)
        built = build_report(run)
    names = {p.name for p in built.images}
    assert "fig-gc-heap.png" in names
    assert any(n.startswith("fig-gc-timeline-global-lock-gc-locust-c1-u16-h1000000") for n in names)
    html = built.html.read_text()
    assert "Garbage collector against the tail" in html and "longest full ms" in html
    assert "Pauses and the tail against the live heap" in html
    gc_claim = next(c for c in built.claims if c.id == "gc")
    result = gc_claim.results[0]
    assert gc_claim.verdict.startswith("supported: from 1,000,000 live objects")
    assert result.verdict == gc_claim.verdict and "1,000,000 live objects" in result.compared
    # on vs off at a million objects, 120 ms against 3 ms: three repeats a side, far apart
    assert result.estimate.differs and result.effect == pytest.approx(40, rel=0.1)
    assert result.estimate.repeats == 3 and result.strength == "firm"
    assert gc_claim.figure in names


def test_load_processes_timelines_merge_by_max() -> None:
    merged = merge_timelines([{"bucket_ms": 50, "start": 10.0, "max_us": [1, 9, 3]},
                              None, {"bucket_ms": 50, "start": 10.0, "max_us": [4, 2, 3, 7]}])
    assert merged == {"bucket_ms": 50, "start": 10.0, "max_us": [4, 9, 3, 7]}
    assert merge_timelines([None, {}]) is None
