"""The garbage-collector part of the latency section: collections, pauses and the share of
the window paused beside the same cells' tail; the tail with the collector on, off and
frozen; one cell's latency over time with its pauses marked. Numbers from report/gc.py."""
from __future__ import annotations

from functools import partial

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
    rows = []
    for _, r in table.sort_values(["workload", "strategy", "gc_mode"]).iterrows():
        rows.append([r["strategy"], r["workload"], gc.MODE_TEXT.get(r["gc_mode"], r["gc_mode"]),
                     num(r["offered_rps"]) if r["rate"] else "closed", num(r["collections_per_s"]),
                     sig(r["gc_pause_max_ms"]), percent(r["paused_share"], 2), ms(r["p99_us"]),
                     ms(r["p999_us"]), ms(r["max_us"]), str(int(r["repeats"])), r["scope"]])
    blocks.append(Table(["strategy", "workload", "collector", "offered req/s", "collections/s",
                         "longest pause ms", "window paused", "p99 ms", "p99.9 ms", "max ms",
                         "repeats", "gc scope"], rows,
                        caption="Medians over the ok repeats; "
                                f"{frame.attrs.get('left_out', 0)} cell(s) left out, flagged "
                                "loadgen_lagging (G) or busy_machine (B). "
                                "gc scope `window`: exactly the measured window; `cell`: the whole "
                                "cell, warm-up included (too many pauses to keep each).",
                        numeric=set(range(3, 11))))
    sets = gc.mode_sets(table)
    if sets:
        note = f"{sets[0].rate} req/s offered" if sets[0].rate else "closed loop"
        blocks.append(figure(partial(plots.gc_tail, note, sets, an.series_of({s.strategy for s in sets})),
                             "fig-gc-modes.png", "The tail with the collector on, off and frozen",
                             "Same workload and offered rate in each mode; bars: the repeats' "
                             "min–max. Where bars overlap there is no measurable difference."))
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
                             "longest pause is shown.", strategies=False))
    return blocks
