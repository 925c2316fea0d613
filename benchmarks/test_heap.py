"""What a live heap costs the collector: one full collection over --live-objects N.

A full (generation 2) collection walks every object the collector tracks, so its
pause grows with the live heap (servers/core/heap.py builds the same shape the
servers hold); gc.freeze() takes the built heap out of its walk. The heap here
is freshly built, in allocation order: a server's, churned for a while, is
scattered in memory and walks slower (README: "The live heap").
"""
from __future__ import annotations

import gc

import pytest

from servers.core.heap import Heap


@pytest.mark.parametrize("live", [0, 100_000, 1_000_000])
@pytest.mark.parametrize("frozen", [False, True], ids=["unfrozen", "frozen"])
def test_one_full_collection(benchmark, live: int, frozen: bool) -> None:
    heap = Heap(live, churn=0)
    gc.collect()
    if frozen:
        gc.freeze()
    try:
        benchmark.pedantic(gc.collect, args=(2,), rounds=5, iterations=1, warmup_rounds=1)
    finally:
        gc.unfreeze()
    assert heap.objects == (live + 1 if live else 0)
