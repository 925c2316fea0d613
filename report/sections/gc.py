"""The garbage-collector part of the latency section: collections, pauses and the share of
the window paused beside the same cells' tail; pauses and the tail against the live heap
with the collector on, off and frozen (a server with no collector beside); one cell's
latency over time with its pauses marked. Numbers from report/gc.py."""
from __future__ import annotations

from functools import partial

import pandas as pd

from .. import gc, plots
from ..analysis import Analysis
from ..doc import Heading, Para, Table
from ..style import ms, num, percent, sig
from .common import figure, slug


def gc_blocks(an: Analysis) -> list:
    frame = gc.cells(an.run)
    if frame.empty:
        return [Heading("Garbage collector against the tail"),
                Para("No cell in this run has garbage-collector figures (servers that report "
                     "no collector, or no ok cell).", "note")]
    table = gc.groups(frame)
    is_open = bool((frame["mode"] == "open").all())
    blocks: list = [Heading("Garbage collector against the tail"), Para(
        "Each server process times every run of CPython's cyclic collector (gc.callbacks). "
        "Collections per second and the share of the window paused are summed over a "
        "multi-process server's processes (a pause stops only its own process's requests). "
        + ("These are open-loop cells, latency counted from each request's scheduled start, so "
           "requests queued behind a pause count its whole length."
           if is_open else
           "No open-loop cell has these figures, so these are closed-loop cells: a user waits "
           "out a pause before sending again, and the tail understates the pauses "
           "(coordinated omission). A profile with rates on the gc workloads measures it "
           "(`sharebench run --profile gc`)."))]
    foreign = {s for s in an.order if not an.collected(s)}  # declared: no collector
    without = gc.groups(gc.no_collector(an.run, foreign))
    rows = []
    shown = pd.concat([table, without], ignore_index=True) if len(without) else table
    for _, r in shown.sort_values(["workload", "strategy", "live_objects", "gc_mode"]).iterrows():
        rows.append([r["strategy"], r["workload"], gc.MODE_TEXT.get(r["gc_mode"], r["gc_mode"]),
                     num(r["live_objects"]),
                     num(r["offered_rps"]) if r["rate"] else "closed", num(r["collections_per_s"]),
                     num(r["full_collections"]), sig(r["full_pause_ms"]), sig(r["gc_pause_max_ms"]),
                     percent(r["paused_share"], 2), ms(r["p99_us"]), ms(r["p999_us"]),
                     ms(r["max_us"]), num(r["rss_mb"]), str(int(r["repeats"])), r["scope"]])
    left_out = frame.attrs.get("left_out", [])
    blocks.append(Table(["strategy", "workload", "collector", "live objects", "offered req/s",
                         "collections/s", "full collections", "longest full ms",
                         "longest pause ms", "window paused", "p99 ms", "p99.9 ms", "max ms",
                         "RSS MiB", "repeats", "gc scope"], rows,
                        caption="Medians over the ok repeats; "
                                f"{len(left_out)} cell(s) left out, flagged loadgen_lagging (G), "
                                "loadgen_bound (L), busy_machine (B) or with errors: their latency "
                                "is not the server's. Full collections: generation 2, in one "
                                "window (0: none fell inside it, and its tail says nothing about "
                                "them). gc scope `window`: exactly the measured window; `cell`: the "
                                "whole cell, warm-up included (too many pauses to keep each).",
                        numeric=set(range(3, 15))))
    judged = gc.comparable(table, without, {s: i for i, s in enumerate(an.order)})
    if judged:
        found = judged[0]  # the set the GC claim judges; beside it, the others at its load
        sets = [s for s in judged if (s.rate, s.cores, s.users, s.knobs)
                == (found.rate, found.cores, found.users, found.knobs)]
        reference = pd.concat([gc.at_load(without, found, heap) for heap in found.heaps])
        note = (f"{found.rate} of capacity" if found.rate.endswith("x") else
                f"{found.rate} req/s" if found.rate else "closed loop")
        blocks.append(figure(
            partial(plots.gc_heap, note, sets, gc.heap_sets(reference), an.series_of(
                {s.strategy for s in sets} | set(reference["strategy"]))),
            "fig-gc-heap.png", "Pauses and the tail against the live heap",
            "Each server process held a live heap of this many objects, churned by the "
            "requests; the collector on, off and frozen (gc.freeze() of the built heap), and a "
            "server with no collector holding the same heap (grey). Left: the longest full "
            "collection in a window; then p99.9 and max latency of the same cells. Bars: the "
            "repeats' min–max; where bars overlap there is no measurable difference. Flagged "
            "cells are left out, never drawn.", strategies=False))
    cell_id = gc.timeline_cell(an.run, frame)
    if cell_id is not None:
        x, maxima, pauses = gc.timeline(an.run, cell_id)
        bucket = float((an.run.records[cell_id].latency_timeline or {})["bucket_ms"])
        longest = max((p[1] for p in pauses), default=0.0)
        blocks.append(figure(partial(plots.gc_timeline, cell_id, x, maxima, pauses, bucket),
                             f"fig-gc-timeline-{slug(cell_id)}.png",
                             f"{cell_id}: latency over time, GC pauses marked",
                             f"The largest corrected latency of the requests completed in each "
                             f"{bucket:g} ms of the window (Locust's record), and the "
                             f"{len(pauses)} collector pauses that began in it (the server's "
                             f"record, longest {sig(longest)} ms), on the same clock: a spike "
                             "that starts where a pause does is that pause. The cell with the "
                             "largest full collection is shown.", strategies=False))
    return blocks
