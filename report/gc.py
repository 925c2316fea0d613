"""The numbers of the garbage-collector figures: collections per second, the longest pause
(of any generation, and of the full ones) and the share of the window paused, beside the
same cells' tail latency, against the live heap the servers held, with the collector on,
off and frozen. No drawing here (plots.py draws what this computes).

Open-loop cells are preferred: a closed-loop user waits out a pause before sending its next
request, so the requests a pause delays are never sent (coordinated omission) and the tail
hides the pause. A flagged cell never stands in for the server's latency: one flagged
`loadgen_lagging` or `loadgen_bound` measured the load generator's delays as much as the
server's, one flagged `busy_machine` had other processes on its CPUs (their preemptions
look like pauses), one with errors lost requests. All are left out of every figure here
(`left_out` lists them with the reason).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from results.schema import MARKS

from .frames import Run

# `knobs`: the workload's server knobs apart from the collector's mode, so that the gc
# workloads' three modes meet in one set and another workload (cpu, say, whose servers
# report their collector too and whose knobs are the gc ones but the churn) never joins
# them, even at the same offered load.
GROUP = ["workload", "gc_mode", "strategy", "mode", "rate", "cores", "users", "knobs",
         "live_objects"]
KNOBS = ("cpu_us", "hold_us", "io_ms", "garbage", "churn")
TAIL = ("p99_us", "p999_us", "max_us")
MODES = ("default", "off", "freeze")
MODE_TEXT = {"default": "on", "off": "off", "freeze": "frozen", "none": "none"}
# Flags that keep a cell's latency from standing for the server's (gc figures and claim).
LEFT_OUT = ("loadgen_lagging", "loadgen_bound", "busy_machine")


def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    return frame[name] if name in frame else pd.Series(np.nan, index=frame.index)


def _flag(frame: pd.DataFrame, name: str) -> pd.Series:
    return _col(frame, name).fillna(False).astype(bool)


def _why_left_out(frame: pd.DataFrame) -> pd.Series:
    """Per cell, the flags that keep it out ("" for a clean one)."""
    why = pd.Series("", index=frame.index)
    for name in LEFT_OUT:
        why = why.where(~_flag(frame, name), why + f"{name} ({MARKS[name]}) ")
    errors = pd.to_numeric(_col(frame, "errors"), errors="coerce").fillna(0) > 0
    why = why.where(~errors, why + "errors (E) ")
    return why.str.strip()


def _clean(ok: pd.DataFrame) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    why = _why_left_out(ok)
    dirty = why != ""
    left_out = [(str(c), str(w)) for c, w in zip(ok.loc[dirty, "cell_id"], why[dirty])]
    return ok[~dirty].copy(), left_out


def _knobs(frame: pd.DataFrame) -> pd.Series:
    """Per cell, its workload's server knobs (the collector's mode aside) as one key."""
    parts = [pd.to_numeric(_col(frame, name), errors="coerce").fillna(0).map("{:g}".format)
             for name in KNOBS]
    return pd.Series(["/".join(values) for values in zip(*parts)], index=frame.index, dtype=object)


def _live(frame: pd.DataFrame) -> pd.Series:
    return pd.to_numeric(_col(frame, "live_objects"), errors="coerce").fillna(0).astype(int)


def cells(run: Run) -> pd.DataFrame:
    """Ok cells whose server reported its collector (`gc_scope` set), none flagged: the
    open-loop ones when there are any, else the closed-loop ones (said by `mode`).
    attrs["left_out"]: [(cell id, why)] of the flagged ones."""
    for frame in (run.open_cells, run.cells):
        if frame.empty or "gc_scope" not in frame:
            continue
        ok = frame[(frame["status"] == "ok") & (frame["gc_scope"] != "")]
        ok, left_out = _clean(ok)
        if ok.empty:
            continue
        if "gc_mode" not in ok:
            ok["gc_mode"] = "default"
        ok["gc_mode"] = ok["gc_mode"].replace("", "default")
        ok["live_objects"] = _live(ok)
        ok["knobs"] = _knobs(ok)
        window_s = pd.to_numeric(ok["duration_s"], errors="coerce")
        ok["collections_per_s"] = pd.to_numeric(ok["gc_collections"], errors="coerce") / window_s
        # Summed over a multi-process server's processes: a share over 100% is possible there.
        ok["paused_share"] = pd.to_numeric(ok["gc_pause_total_ms"], errors="coerce") / 1000 / window_s
        # The longest full collection; a record from before generations were told apart
        # has only the longest of any.
        full = pd.to_numeric(_col(ok, "gc_pause_max_gen2_ms"), errors="coerce")
        ok["full_pause_ms"] = full.fillna(pd.to_numeric(ok["gc_pause_max_ms"], errors="coerce"))
        ok["full_collections"] = pd.to_numeric(_col(ok, "gc_full_collections"), errors="coerce")
        ok = ok.reset_index(drop=True)
        ok.attrs["left_out"] = left_out
        return ok
    return pd.DataFrame()


def no_collector(run: Run, foreign: set[str], workload: str = "gc") -> pd.DataFrame:
    """Cells of ``workload`` served by a strategy that declares no collector (`foreign`,
    e.g. a Rust one), flagged ones left out as in `cells`: the tail without a collector
    beside CPython's. attrs["left_out"] as in `cells`."""
    for frame in (run.open_cells, run.cells):
        if frame.empty:
            continue
        ok = frame[(frame["status"] == "ok") & (frame["workload"] == workload)
                   & frame["strategy"].isin(foreign)]
        ok, left_out = _clean(ok)
        if ok.empty:
            continue
        for name in ("gc_scope", "gc_collections", "gc_pause_total_ms", "gc_pause_max_ms"):
            if name not in ok:
                ok[name] = "" if name == "gc_scope" else np.nan
        ok["gc_mode"] = "none"
        ok["live_objects"] = _live(ok)
        ok["knobs"] = _knobs(ok)
        for name in ("collections_per_s", "paused_share", "full_pause_ms", "full_collections"):
            ok[name] = np.nan
        ok = ok.reset_index(drop=True)
        ok.attrs["left_out"] = left_out
        return ok
    return pd.DataFrame(columns=GROUP)


SUMMARISED = ("collections_per_s", "paused_share", "gc_pause_max_ms", "full_pause_ms",
              "full_collections", "rss_mb", "tracked_objects", *TAIL)


def groups(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per cell without its repeat: medians, and min–max over repeats."""
    if frame.empty:
        return pd.DataFrame(columns=GROUP)
    rows = []
    for key, group in frame.groupby(GROUP, sort=True, dropna=False):
        row = dict(zip(GROUP, key)) | {"model": group["model"].iloc[0], "repeats": len(group),
                                       "offered_rps": float(group["offered_rps"].median()),
                                       "rps": float(group["rps"].median()),
                                       "scope": ", ".join(sorted(set(group["gc_scope"]))),
                                       "cell_ids": list(group["cell_id"])}
        for name in SUMMARISED:
            values = pd.to_numeric(_col(group, name), errors="coerce").dropna()
            row[name] = float(values.median()) if len(values) else math.nan
            row[f"{name}_min"] = float(values.min()) if len(values) else math.nan
            row[f"{name}_max"] = float(values.max()) if len(values) else math.nan
        rows.append(row)
    return pd.DataFrame(rows)


@dataclass
class HeapSet:
    """One strategy on one offered load: per live-heap size, its groups in each collector
    mode measured (``none`` for a server without a collector)."""
    strategy: str
    model: str
    rate: str
    cores: int
    users: int
    knobs: str  # the workload's server knobs (GROUP): one workload, its collector's modes
    by_heap: dict[int, dict[str, pd.Series]]

    @property
    def heaps(self) -> list[int]:
        return sorted(self.by_heap)

    def modes(self) -> list[str]:
        return [m for m in (*MODES, "none") if any(m in at for at in self.by_heap.values())]


def _rate_value(rate: str) -> float:
    text = str(rate)
    try:
        return float(text[:-1] if text.endswith("x") else text) if text else 0.0
    except ValueError:
        return 0.0


def heap_sets(table: pd.DataFrame) -> list[HeapSet]:
    """Per strategy, the offered load (rate, cores, users) measured at the most (heap, mode)
    pairs, the highest rate among equals (the load nearest where it hurts)."""
    found: list[HeapSet] = []
    if table.empty:
        return found
    for strategy, mine in table.groupby("strategy", sort=False):
        best: tuple | None = None
        for (rate, cores, users, knobs), at in mine.groupby(["rate", "cores", "users", "knobs"],
                                                              sort=True):
            by_heap: dict[int, dict[str, pd.Series]] = {}
            for _, row in at.iterrows():
                by_heap.setdefault(int(row["live_objects"]), {})[str(row["gc_mode"])] = row
            size = sum(len(m) for m in by_heap.values())
            rank = (size, _rate_value(str(rate)))
            if best is None or rank > best[0]:
                best = (rank, HeapSet(str(strategy), str(at["model"].iloc[0]), str(rate),
                                      int(cores), int(users), str(knobs), by_heap))
        if best is not None:
            found.append(best[1])
    return found


def at_load(frame: pd.DataFrame, found: HeapSet, heap: int) -> pd.DataFrame:
    """Rows of ``frame`` (cells or groups) at the set's load and workload, holding ``heap``."""
    if frame.empty:
        return frame
    return frame[(frame["rate"].astype(str) == found.rate) & (frame["cores"] == found.cores)
                 & (frame["users"] == found.users) & (frame["knobs"] == found.knobs)
                 & (frame["live_objects"] == heap)]


def comparable(table: pd.DataFrame, without: pd.DataFrame, rank: dict[str, int]) -> list[HeapSet]:
    """The heap sets whose collector-on tail has one to be set against at the same load (the
    collector off, or a server with none in ``without``), one process's heap first (a thread
    strategy before a process one), then by ``rank``: what the GC claim judges and the
    heap figure draws, the first one carrying it."""
    return sorted((s for s in heap_sets(table)
                   if any("default" in at and ("off" in at or not at_load(without, s, heap).empty)
                          for heap, at in s.by_heap.items())),
                  key=lambda s: (s.model == "processes", rank.get(s.strategy, len(rank))))


def timeline_cell(run: Run, frame: pd.DataFrame) -> str | None:
    """The cell whose timeline is drawn: one with a latency timeline and the largest full
    collection (collector on), so a reader sees whether the spikes line up with pauses;
    among records that do not tell generations apart, one of a workload that makes
    garbage before any other, then the longest pause."""
    if frame.empty:
        return None
    have = frame[frame["cell_id"].map(lambda c: c in run.records
                                      and bool(run.records[c].latency_timeline))]
    if have.empty:
        return None
    garbage = pd.to_numeric(_col(have, "garbage"), errors="coerce").fillna(0)
    churned = (pd.to_numeric(_col(have, "churn"), errors="coerce").fillna(0) > 0) & (_live(have) > 0)
    have = have.assign(
        _full=pd.to_numeric(_col(have, "gc_pause_max_gen2_ms"), errors="coerce").fillna(-1),
        _pause=pd.to_numeric(have["gc_pause_max_ms"], errors="coerce").fillna(-1),
        _garbage=(garbage > 0) | churned)
    return str(have.sort_values(["_full", "_garbage", "_pause", "cell_id"],
                                ascending=[False, False, False, True]).iloc[0]["cell_id"])


def timeline(run: Run, cell_id: str) -> tuple[np.ndarray, np.ndarray, list[tuple[float, float, int]]]:
    """(bucket starts in s from the window's start, max latency per bucket in ms, pauses as
    (start s from the window's start, duration ms, generation)). Buckets with no completed
    request are NaN."""
    record = run.records[cell_id]
    line = record.latency_timeline or {}
    step = float(line["bucket_ms"]) / 1000
    maxima = np.array(line["max_us"], dtype=float) / 1000
    maxima[maxima <= 0] = np.nan
    start = float(record.window_start_unix_s or line["start"])
    offset = float(line["start"]) - start  # the same instant when both are the window's start
    x = offset + np.arange(len(maxima)) * step
    pauses = [(p[0] / 1e6 - start, p[1] / 1000, int(p[2])) for p in record.gc_pauses or []
              if isinstance(p, (list, tuple)) and len(p) >= 3]
    return x, maxima, pauses
