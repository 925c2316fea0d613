"""The live heap (servers/core/heap.py) and the heap axis of a plan (--live-objects, windows)."""
from __future__ import annotations

import gc
from pathlib import Path

import pytest

from loadtests.planning import PlanError, profiles, rates, windows
from loadtests.planning.cells import Cell, Overrides
from results import ids
from results.record import CellRecord
from servers.core import heap


def test_the_heap_is_built_and_counted() -> None:
    gc.collect()
    before = len(gc.get_objects())
    live = heap.Heap(20_000, churn=0)
    grown = len(gc.get_objects()) - before
    assert live.entries == 10_000 and live.objects == 20_001
    # Every object it claims is one the collector now tracks (a few more come from the test).
    assert 20_001 <= grown < 20_001 + 200, grown
    assert live.tracked is not None and live.tracked >= grown
    assert live.describe() == {"live_objects": 20_000, "heap_objects": 20_001,
                               "tracked_objects": live.tracked, "churn": 0.0}
    assert heap.Heap(0).objects == 0 and heap.Heap(0).touch() == 0


def test_churn_replaces_pages_of_the_hot_part_and_leaves_cycles() -> None:
    live = heap.Heap(20_000, churn=1, seed=7)
    cache = live._cache
    before = list(cache)
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        live.touch()  # churn 1: every request loads a page
        replaced = [k for k, (old, new) in enumerate(zip(before, cache)) if old is not new]
        assert 0 < len(replaced) <= heap.CHURN_BATCH
        assert max(replaced) < live.entries // heap.CHURN_PART  # only the hot part churns
        assert len(cache) == live.entries
        # What the load left behind is garbage only the cyclic collector frees.
        assert gc.collect() >= len(replaced)
    finally:
        if enabled:
            gc.enable()
    quiet = heap.Heap(20_000, churn=0)
    kept = list(quiet._cache)
    for _ in range(100):
        quiet.touch()
    assert all(a is b for a, b in zip(kept, quiet._cache))


@pytest.mark.parametrize("live, churn", [(-1, 0.5), (heap.MAX_LIVE_OBJECTS + 1, 0.5), (1.5, 0.5),
                                         (True, 0.5), (10, -0.1), (10, 1.5), (10, "lots")])
def test_bad_heap_knobs_are_refused(live, churn) -> None:
    with pytest.raises(ValueError, match=r"^--(live-objects|churn) must be"):
        heap.check(live, churn)


def test_cell_ids_carry_the_heap_and_old_ids_still_parse() -> None:
    text = ids.cell_id("global-lock", "gc", "locust", 1, 64, 2, rate="0.8x",
                       live_objects=1_000_000)
    assert text == "global-lock.gc.locust.c1.u64.h1000000.o0.8x.r2"
    found = ids.parse_cell_id(text)
    assert found is not None and found["live_objects"] == 1_000_000 and found["rate"] == "0.8x"
    old = ids.parse_cell_id("global-lock.gc.locust.c1.u64.o1000.r0")
    assert old is not None and old["live_objects"] == 0
    assert ids.cell_id("a", "b", "wrk", 1, 2, 0) == "a.b.wrk.c1.u2.r0"  # no heap, no part
    record = CellRecord(strategy="a", workload="b", engine="wrk", cores=1, users=2, repeat=0,
                        live_objects=100)
    assert record.cell_id == "a.b.wrk.c1.u2.h100.r0" and record.live_objects == 100
    both = ids.cell_id("a", "b", "wrk", 1, 2, 0, workers=20000, live_objects=100, rate="0.8x")
    assert both == "a.b.wrk.c1.u2.w20000.h100.o0.8x.r0"
    parsed = ids.parse_cell_id(both)
    assert parsed is not None and (parsed["workers"], parsed["live_objects"]) == (20000, 100)


PROFILE = """
[h]
warmup = "1s"
duration = "2s"
[[h.blocks]]
engine = "wrk"
strategies = ["global-lock"]
workloads = ["gc"]
cores = [1]
users = [32]
live_objects = [0, 1000000]
[[h.blocks]]
strategies = ["global-lock"]
workloads = ["gc", "gc-off"]
cores = [1]
users = [64]
live_objects = [0, 1000000]
rates = ["0.8x"]
full_collections = 3
max_duration = "8s"
"""


def _plan(tmp_path: Path, text: str = PROFILE, overrides: Overrides | None = None):
    path = tmp_path / "profiles.toml"
    path.write_text(text)
    plan, _ = profiles.build("h", overrides or Overrides(),
                             {"global-lock": {}, "rust-global-lock": {}}, machine_cores=2, path=path)
    return plan


def test_a_heap_axis_plans_every_size_and_checks_its_capacity(tmp_path: Path) -> None:
    plan = _plan(tmp_path)
    ids = [c.id for c in plan.cells]
    assert "global-lock.gc.wrk.c1.u32.h1000000.r0" in ids and "global-lock.gc.wrk.c1.u32.r0" in ids
    assert "global-lock.gc-off.locust.c1.u64.h1000000.o0.8x.r0" in ids
    heap_cell = next(c for c in plan.cells if c.id.endswith("h1000000.o0.8x.r0"))
    assert (heap_cell.full_collections, heap_cell.max_duration) == (3, 8.0)
    # gc-off has no closed cell of its own: it takes the collector-on capacity (one rate).
    assert rates.capacity_workloads("gc-off") == ["gc", "gc-off"]
    smaller = _plan(tmp_path, overrides=Overrides(live_objects=[100_000]))
    assert {c.live_objects for c in smaller.cells} == {100_000}
    with pytest.raises(PlanError, match="no closed-loop cell of global-lock/gc at 1 cores "
                                        "holding 5 live objects"):
        _plan(tmp_path, PROFILE.replace("live_objects = [0, 1000000]\nrates", "live_objects = [5]\nrates"))


@pytest.mark.parametrize("change, message", [
    (("live_objects = [0, 1000000]\nrates", "live_objects = [-1]\nrates"), "bad live_objects"),
    (("live_objects = [0, 1000000]\nrates", "live_objects = [\"many\"]\nrates"), "bad live_objects"),
    (("max_duration = \"8s\"", ""), "full_collections needs max_duration"),
    (("full_collections = 3", "full_collections = -2"), "bad full_collections"),
    (("rates = [\"0.8x\"]", ""), "full_collections sizes open-loop windows"),
])
def test_bad_heap_blocks_are_one_line_errors(tmp_path: Path, change, message) -> None:
    with pytest.raises(PlanError, match=message):
        _plan(tmp_path, PROFILE.replace(*change))


def _capacity(full: int | None, requests: int = 10_000, strategy: str = "global-lock") -> CellRecord:
    return CellRecord(status="ok", rate="", strategy=strategy, workload="gc", cores=1,
                      live_objects=1_000_000, engine="wrk", users=32, repeat=0, rps=2500.0,
                      requests=requests, gc_scope="window" if full is not None else "",
                      gc_full_collections=full)


def test_the_window_holds_the_full_collections_asked_within_its_bounds() -> None:
    cell = Cell("global-lock", "gc-off", 1, 64, 0, "locust", rate="0.8x", duration=2.0,
                live_objects=1_000_000, full_collections=3, max_duration=8.0)
    # 2 full collections in 10,000 requests: one per 5,000; at 2,000 req/s one per 2.5 s.
    window, basis = windows.resolve(cell, [_capacity(2)], 2000.0, 2.0)
    assert window == 7.5 and "3 full collections at one per 2.50 s" in basis
    assert "global-lock.gc.wrk.c1.u32.h1000000.r0" in basis
    assert windows.resolve(cell, [_capacity(1)], 2000.0, 2.0)[0] == 8.0  # the bound
    assert windows.resolve(cell, [_capacity(20)], 2000.0, 2.0)[0] == 2.0  # the floor
    bound, why = windows.resolve(cell, [_capacity(0)], 2000.0, 2.0)
    assert bound == 8.0 and why.startswith("no full collection in the capacity cells")
    rust = Cell("rust-global-lock", "gc", 1, 64, 0, "locust", rate="0.8x", duration=2.0,
                live_objects=1_000_000, full_collections=3, max_duration=8.0)
    no_gc = _capacity(None, strategy="rust-global-lock")
    assert windows.resolve(rust, [no_gc], 2000.0, 2.0) == (2.0, "no collector reported: the planned 2 s")
    fixed = Cell("global-lock", "gc", 1, 64, 0, "locust", rate="0.8x", duration=2.0)
    assert windows.resolve(fixed, [_capacity(2)], 2000.0, 2.0) == (2.0, "")
    assert windows.planned(cell, 2.0) == 8.0 and windows.planned(fixed, 2.0) == 2.0
