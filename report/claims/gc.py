"""Garbage collection causes stop-the-world latency spikes; without a GC latency is
predictable. The tail (p99.9) with the collector on against the tail without one (the same
strategy with it off, else a strategy with no collector), at each live-heap size the run
measured, at one offered load; frozen and Rust beside (report/gc.py reads the cells).

Each heap size is one comparison (tails.py, the one rule with the tail's own band),
Bonferroni over the heaps judged with the collector on. Above the band at some heap:
supported (the smallest such heap carries it). Else below it at some heap: reversed, the
tail was worse without the collector. Inside the band at every heap: no difference.
Otherwise undecided. Beside it, from the recorded timelines: of the timeline buckets whose
slowest request was above the collector-off p99.9, the share that overlapped a full
collection (a request finishing in a bucket may have started up to its latency earlier).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from results import ids

from .. import gc
from ..analysis import Analysis, env_value
from ..findings import cores_text
from ..style import ms, num, percent, sig
from . import stats
from .cells import groups_of
from .result import ClaimResult, Compared, Condition, LeftOut, Outcome
from .tails import Side, TailComparison, TailJudgement, compare_tails

CLAIM = "gc"
SCOPE = "CPython"


def _refcount(an: Analysis) -> str:
    thresholds = env_value(an.run.manifest, "gc_thresholds", "gc_threshold")
    return ("CPython frees most objects at once by reference counting; its cyclic collector "
            "runs when allocation counts pass its thresholds"
            + (f" ({thresholds} in this run)" if thresholds is not None else "")
            + ", and a full collection walks every object it tracks.")


def judge(an: Analysis, looks: int = 1) -> ClaimResult:
    frame = gc.cells(an.run)
    foreign = {s for s in an.order if not an.collected(s)}  # declared: no collector
    rust = gc.no_collector(an.run, foreign)
    sets = gc.comparable(gc.groups(frame), rust, {s: i for i, s in enumerate(an.order)})
    if not sets:
        return ClaimResult(CLAIM, SCOPE, Outcome.NOT_JUDGED, "not measured in this run",
                           detail={"measured_cells": not frame.empty})
    found = sets[0]
    judged = _heap_judgement(found, frame, rust, looks)
    # Flagged cells of the judged workloads only (a flagged cpu cell is not the claim's).
    family = set(frame.loc[frame["knobs"] == found.knobs, "workload"])
    judged.left_out = [(cell, why) for cell, why in (frame.attrs.get("left_out", [])
                                                      + rust.attrs.get("left_out", []))
                       if (ids.parse_cell_id(cell) or {}).get("workload") in family]
    left = tuple(LeftOut(cell, why) for cell, why in judged.left_out)
    detail: dict[str, Any] = {"found": found, "judged": judged, "frame": frame, "rust": rust}
    on = [c for c in judged.comparisons if c.at["collector"] == "on" and c.judged]
    conditions = (Condition("same offered load", True, _load_text(found)),
                  Condition("enough clean cells", bool(on),
                            f"{len(on)} heap sizes with cells on both sides"))
    compared = tuple(Compared(f"p99.9 {c.a.label} against {c.b.label} at {_heap_text(c.at['live_objects'])}",
                              c.estimate, groups_of(c.a.cell_ids + c.b.cell_ids)) for c in on)
    if not on:
        return ClaimResult(CLAIM, SCOPE, Outcome.NOT_JUDGED, "no heap size could be judged",
                           conditions=conditions, left_out=left, detail=detail)
    exceeding = [c for c in on if c.exceeds]
    below = [c for c in on if c.below]
    if exceeding:
        outcome, carrying = Outcome.SUPPORTED, exceeding[0]
        heap = carrying.at["live_objects"]
        finding = (f"from {_heap_text(heap)} the collector's pauses reach the tail" if heap
                   else "the collector's pauses reach the tail even with no live heap")
    elif below:
        outcome, carrying = Outcome.REVERSED, below[0]
        finding = f"the tail was worse without the collector, at {_heap_text(carrying.at['live_objects'])}"
    elif all(c.estimate.decision is stats.Decision.SAME for c in on):
        outcome, carrying = Outcome.NO_DIFFERENCE, on[-1]
        heap = carrying.at["live_objects"]
        finding = f"up to {_heap_text(heap)}" if heap else "with no live heap"
    else:
        carrying = next(c for c in on if c.estimate.decision is stats.Decision.UNDECIDED)
        outcome, finding = Outcome.UNDECIDED, f"at {_heap_text(carrying.at['live_objects'])}"
    judged.finding = outcome.value
    judged.at = {"live_objects": carrying.at["live_objects"]}
    detail["overlap"] = overlap_share(an, _cells_of(frame, found, carrying.at["live_objects"], "default"),
                                      carrying.b.median)
    return ClaimResult(CLAIM, SCOPE, outcome, finding,
                       f"p99.9 with the collector on against the tail without one ({carrying.a.label} "
                       f"against {carrying.b.label}, {_heap_text(carrying.at['live_objects'])})",
                       carrying.estimate,
                       f"p99.9 {ms(carrying.a.median)} ms on vs {ms(carrying.b.median)} ms without",
                       conditions, left, compared, detail=detail)


def overlap_share(an: Analysis, cells: pd.DataFrame, threshold_us: float) -> tuple[int, int] | None:
    """(buckets above ``threshold_us`` that overlapped a full collection, buckets above it)
    over ``cells``' latency timelines; None when no cell recorded one."""
    above = hit = 0
    seen = False
    for cell_id in cells.get("cell_id", pd.Series(dtype=object)):
        record = an.run.records.get(str(cell_id))
        if record is None or not record.latency_timeline or record.gc_pauses is None:
            continue
        seen = True
        x, maxima, pauses = gc.timeline(an.run, str(cell_id))
        step = float(record.latency_timeline["bucket_ms"]) / 1000
        full = [(start, start + duration / 1000) for start, duration, generation in pauses
                if generation >= 2]
        for begin, worst in zip(x, maxima):
            if not np.isfinite(worst) or worst * 1000 <= threshold_us:
                continue
            above += 1
            earliest = begin - worst / 1000  # the slowest request may have started this early
            if any(p0 < begin + step and p1 > earliest for p0, p1 in full):
                hit += 1
    return (hit, above) if seen else None


def _heap_judgement(found, frame: pd.DataFrame, rust: pd.DataFrame, looks: int) -> TailJudgement:
    judged = TailJudgement("gc", f"{found.strategy}: p99.9 with the collector on (and frozen) against "
                           f"the tail without a collector at each live-heap size, {_load_text(found)}",
                           "p999_us")
    pending: list[TailComparison] = []
    for heap in found.heaps:
        label, reference = _reference(found, frame, rust, heap)
        if reference.empty:
            judged.notes.append(f"{_heap_text(heap)}: no cell without a collector to compare with")
            continue
        ref = _side(label, reference, "p999_us")
        for mode in ("default", "freeze"):
            mine = _cells_of(frame, found, heap, mode)
            if mine.empty:
                continue
            side = _side(f"{found.strategy}, collector {gc.MODE_TEXT[mode]}", mine, "p999_us")
            pauses = _side(side.label, mine, "full_pause_ms")  # what the tail is set against
            pending.append(compare_tails({"live_objects": heap, "collector": gc.MODE_TEXT[mode]},
                                         "p999_us", side, ref, _no_full(mine),
                                         {"full_pause_ms": pauses}))
    counted = sum(1 for c in pending if c.at["collector"] == "on" and c.judged) or 1
    for c in pending:
        c.comparisons, c.looks = counted, looks
    judged.comparisons = pending
    return judged


def _reference(found, frame: pd.DataFrame, rust: pd.DataFrame, heap: int
               ) -> tuple[str, pd.DataFrame]:
    """The tail without a collector at this heap: the same strategy with it off, else a
    strategy with none, at the same offered load."""
    off = _cells_of(frame, found, heap, "off")
    if not off.empty:
        return f"{found.strategy}, collector off", off
    for strategy, mine in gc.at_load(rust, found, heap).groupby("strategy", sort=True):
        return f"{strategy} (no collector)", mine
    return "", pd.DataFrame()


def _cells_of(frame: pd.DataFrame, found, heap: int, mode: str) -> pd.DataFrame:
    at = gc.at_load(frame, found, heap)
    return at[(at["strategy"] == found.strategy) & (at["gc_mode"] == mode)]


def _side(label: str, cells: pd.DataFrame, metric: str) -> Side:
    values = pd.to_numeric(cells[metric], errors="coerce")
    keep = values.notna()
    return Side(label, [str(c) for c in cells.loc[keep, "cell_id"]],
                [float(v) for v in values[keep]])


def _no_full(cells: pd.DataFrame) -> str:
    """Why cells with the collector on say nothing about full collections, if they do not."""
    counts = pd.to_numeric(cells.get("full_collections"), errors="coerce") if len(cells) else None
    if counts is None or counts.isna().all():
        return ""  # a record from before full collections were counted: judged as it is
    empty = int((counts.fillna(0) == 0).sum())
    return (f"no full collection fell inside {empty} of {len(cells)} windows: the tail there "
            "says nothing about full collections" if empty else "")


def _heap_text(heap) -> str:
    return f"{int(heap):,} live objects" if heap else "no live heap"


def _rust_rows(rust: pd.DataFrame, found) -> dict[tuple[str, int], pd.Series]:
    rows = {}
    for heap in found.heaps:  # at the set's load and workload, as the comparison reads them
        for _, row in gc.groups(gc.at_load(rust, found, heap)).iterrows():
            rows[(str(row["strategy"]), heap)] = row
    return rows


def _span(side: Side) -> str:
    if side.repeats > 1 and ms(side.low) != ms(side.high):
        return f"{ms(side.median)} ({ms(side.low)}–{ms(side.high)})"
    return ms(side.median)


def _load_text(found) -> str:
    rate = f"{found.rate} req/s offered" if found.rate and not found.rate.endswith("x") else (
        f"{found.rate} of capacity offered" if found.rate else "closed loop")
    return f"{rate}, {cores_text(found.cores)}, {found.users} users"


def _repeats(n) -> str:
    return f"{int(n)} repeat{'s' if n != 1 else ''}"


def _tail_text(row) -> str:
    full = (f", longest full collection {sig(row['full_pause_ms'])} ms"
            if "full_pause_ms" in row and math.isfinite(row["full_pause_ms"]) else "")
    return (f"p99 {ms(row['p99_us'])} ms, p99.9 {ms(row['p999_us'])} ms, max {ms(row['max_us'])} ms, "
            f"{num(row['collections_per_s'])} collections/s, longest pause "
            f"{sig(row['gc_pause_max_ms'])} ms{full}, {percent(row['paused_share'], 2)} of the window "
            f"paused, RSS {num(row['rss_mb'])} MiB ({_repeats(row['repeats'])})")


def _word(c: TailComparison) -> str:
    if not c.judged:
        return f"not judged: {c.why_not}"
    e = c.estimate
    span = f" [{e.low:.2f}–{e.high:.2f}]" if e.interval else " (one repeat: no interval)"
    said = {stats.Decision.DIFFERS: "above it" if e.above else "below it",
            stats.Decision.SAME: "no difference", stats.Decision.UNDECIDED: "undecided"}[e.decision]
    return f"{said}: {e.effect:.2f}×{span}"


def _heap_sentence(found, judged: TailJudgement, rust: pd.DataFrame, heap: int) -> str:
    """What one heap size showed: the collector's full collections, the tail on against
    without, frozen, and a strategy with no collector beside."""
    at = found.by_heap[heap]
    parts = []
    on = at.get("default")
    for c in judged.comparisons:
        if c.at["live_objects"] != heap:
            continue
        row = at["default" if c.at["collector"] == "on" else "freeze"]
        count = (f" ({num(row['full_collections'])} in a window)"
                 if math.isfinite(row["full_collections"]) else "")
        pause = (f"longest full collection {sig(row['full_pause_ms'])} ms{count}"
                 if math.isfinite(row["full_pause_ms"]) else "")
        tail = (f"p99.9 {_span(c.a)} ms against {_span(c.b)} ms ({c.b.label}, "
                f"{_repeats(c.a.repeats)} against {c.b.repeats})")
        parts.append(f"collector {c.at['collector']}: " + ", ".join(x for x in (pause, tail) if x)
                     + f" — {_word(c)}")
    if not parts and on is not None:
        parts.append("collector on: " + _tail_text(on))
    for (strategy, h), row in _rust_rows(rust, found).items():
        if h == heap and not any(strategy in c.b.label for c in judged.comparisons
                                 if c.at["live_objects"] == heap):
            parts.append(f"{strategy} holding the same heap with no collector: p99.9 "
                         f"{ms(row['p999_us'])} ms")
    return f"At {_heap_text(heap)}: " + "; ".join(parts) + "."


def write(an: Analysis, result: ClaimResult) -> tuple[str, list[str]]:
    """The claim's answer and evidence, written from its result."""
    refcount = _refcount(an)
    found = result.detail.get("found")
    if found is None:
        seen = result.detail.get("measured_cells")
        return ("Not measured in this run: no strategy was measured with its collector on "
                "and without one (workloads gc, gc-off, gc-freeze, or a strategy with no "
                "collector) at the same offered load"
                + (", though its cells' collections and pauses are in the Latency section"
                   if seen else "") + ". " + refcount, [])
    judged: TailJudgement = result.detail["judged"]
    frame: pd.DataFrame = result.detail["frame"]
    rust: pd.DataFrame = result.detail["rust"]
    evidence = []
    for heap in found.heaps:
        for mode, row in found.by_heap[heap].items():
            evidence.append(f"{found.strategy} ({found.model}), {_heap_text(heap)}, "
                            f"{_load_text(found)}, collector {gc.MODE_TEXT[mode]}: " + _tail_text(row))
    for name, row in _rust_rows(rust, found).items():
        evidence.append(f"{name[0]} ({an.lang(name[0]).capitalize()}, no collector), "
                        f"{_heap_text(name[1])}: p99 {ms(row['p99_us'])} ms, p99.9 "
                        f"{ms(row['p999_us'])} ms, max {ms(row['max_us'])} ms ("
                        f"{_repeats(row['repeats'])})")
    mine = frame[frame["knobs"] == found.knobs]  # the judged workload's cells, every mode
    loop = ("open loop (corrected for coordinated omission)" if (mine["mode"] == "open").all()
            else "closed loop, where a user waits out a pause instead of queueing behind it: "
                 "this tail understates the pauses")
    churn = pd.to_numeric(mine.get("churn"), errors="coerce").dropna() if "churn" in mine else None
    share = (f"{num(float(churn.median()), 2)} of the requests" if churn is not None and len(churn)
             else "some requests")
    heaps = (f"each server process holding the live heap named below, {share} loading pages "
             "of entries into it" if found.heaps[-1] else "with no live heap")
    left = judged.left_out
    overlap = result.detail.get("overlap")
    overlap_text = ""
    if overlap is not None and result.measured:
        hit, above = overlap
        overlap_text = (f" Of the timeline buckets whose slowest request was above the tail "
                        f"without a collector, {hit} of {above} ({percent(hit / above if above else math.nan, 0)}) "
                        "overlapped a full collection." if above else
                        " No timeline bucket's slowest request was above the tail without a collector.")
    answer = (f"Measured in {loop}, {_load_text(found)}, on the gc workloads, {heaps}. "
              + " ".join(_heap_sentence(found, judged, rust, heap) for heap in found.heaps)
              + f" Verdict: {result.verdict} ({result.effect_text()}, {result.strength})."
              + overlap_text
              + (f" {len(left)} cell(s) left out, flagged (their latency is not the "
                 f"server's): {', '.join(sorted({w.replace(') ', '), ') for _, w in left}))}."
                 if left else "")
              + " " + refcount + " See the garbage-collector figures under Latency.")
    return answer, evidence


def results(an: Analysis, looks: int = 1) -> list[ClaimResult]:
    return [judge(an, looks)]
