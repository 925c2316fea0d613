"""The numbers of the garbage-collector figures: collections per second, the longest pause and
the share of the window paused, beside the same cells' tail latency; the tail with the
collector on, off and frozen. No drawing here (plots.py draws what this computes).

Open-loop cells are preferred: a closed-loop user waits out a pause before sending its next
request, so the requests a pause delays are never sent (coordinated omission) and the tail
hides the pause. A cell flagged `loadgen_lagging` measured Locust's delays as much as the
server's, and one flagged `busy_machine` had other processes on its CPUs (their preemptions
look like pauses): both are left out of every figure here (`left_out` counts them).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .analysis import overlap
from .load import Run

GROUP = ["workload", "gc_mode", "strategy", "mode", "rate", "cores", "users"]
TAIL = ("p99_us", "p999_us", "max_us")
MODES = ("default", "off", "freeze")
MODE_TEXT = {"default": "on", "off": "off", "freeze": "frozen"}


def cells(run: Run) -> pd.DataFrame:
    """Ok cells whose server reported its collector (`gc_scope` set), Locust keeping up:
    the open-loop ones when there are any, else the closed-loop ones (said by `mode`)."""
    for frame in (run.open_cells, run.cells):
        if frame.empty or "gc_scope" not in frame:
            continue
        ok = frame[(frame["status"] == "ok") & (frame["gc_scope"] != "")]
        dirty = (ok["loadgen_lagging"].fillna(False).astype(bool)
                 | ok["busy_machine"].fillna(False).astype(bool))
        if dirty.all():
            continue
        left_out = int(dirty.sum())
        ok = ok[~dirty].copy()
        if "gc_mode" not in ok:
            ok["gc_mode"] = "default"
        ok["gc_mode"] = ok["gc_mode"].replace("", "default")
        window_s = pd.to_numeric(ok["duration_s"], errors="coerce")
        ok["collections_per_s"] = pd.to_numeric(ok["gc_collections"], errors="coerce") / window_s
        # Summed over a multi-process server's processes: a share over 100% is possible there.
        ok["paused_share"] = pd.to_numeric(ok["gc_pause_total_ms"], errors="coerce") / 1000 / window_s
        ok = ok.reset_index(drop=True)
        ok.attrs["left_out"] = left_out
        return ok
    return pd.DataFrame()


def no_collector(run: Run, foreign: set[str], rate: str, cores: int, users: int) -> pd.DataFrame:
    """Groups (as `groups` makes them) of the `gc` workload served by a strategy that
    declares no collector (`foreign`, e.g. a Rust one) at this offered rate, cores and users: the
    tail without a collector beside CPython's. Dirty cells are left out as in `cells`."""
    for frame in (run.open_cells, run.cells):
        if frame.empty:
            continue
        ok = frame[(frame["status"] == "ok") & (frame["workload"] == "gc")
                   & frame["strategy"].isin(foreign) & (frame["rate"].astype(str) == str(rate))
                   & (frame["cores"] == cores) & (frame["users"] == users)]
        dirty = (ok["loadgen_lagging"].fillna(False).astype(bool)
                 | ok["busy_machine"].fillna(False).astype(bool))
        ok = ok[~dirty].copy()
        if ok.empty:
            continue
        for name in ("gc_scope", "gc_collections", "gc_pause_total_ms", "gc_pause_max_ms"):
            if name not in ok:
                ok[name] = "" if name == "gc_scope" else np.nan
        ok["gc_mode"] = "none"
        ok["collections_per_s"] = np.nan
        ok["paused_share"] = np.nan
        return groups(ok)
    return pd.DataFrame(columns=GROUP)


def groups(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per cell without its repeat: medians, and min–max of the tail over repeats."""
    if frame.empty:
        return pd.DataFrame(columns=GROUP)
    rows = []
    for key, group in frame.groupby(GROUP, sort=True, dropna=False):
        row = dict(zip(GROUP, key)) | {"model": group["model"].iloc[0], "repeats": len(group),
                                       "offered_rps": float(group["offered_rps"].median()),
                                       "rps": float(group["rps"].median()),
                                       "scope": ", ".join(sorted(set(group["gc_scope"]))),
                                       "cell_ids": list(group["cell_id"])}
        for name in ("collections_per_s", "paused_share", "gc_pause_max_ms", *TAIL):
            values = pd.to_numeric(group[name], errors="coerce").dropna()
            row[name] = float(values.median()) if len(values) else math.nan
            row[f"{name}_min"] = float(values.min()) if len(values) else math.nan
            row[f"{name}_max"] = float(values.max()) if len(values) else math.nan
        rows.append(row)
    return pd.DataFrame(rows)


def apart(a: pd.Series | dict, b: pd.Series | dict, name: str) -> bool:
    """Do two groups' repeats of `name` not overlap (min–max)? Only then is a difference
    measurable. A group of one repeat has no spread, so nothing about it is measurable: a
    tail is the noisiest figure there is (README, "Measured here": how far one moved)."""
    if a["repeats"] < 2 or b["repeats"] < 2 or pd.isna(a[name]) or pd.isna(b[name]):
        return False
    return not overlap(a, b, name)


@dataclass
class ModeSet:
    """One strategy's groups on one offered rate with the collector in each mode measured."""
    strategy: str
    model: str
    rate: str
    cores: int
    users: int
    by_mode: dict[str, pd.Series]


def mode_sets(table: pd.DataFrame) -> list[ModeSet]:
    """Per strategy, the offered rate (and cores, users) measured in the most GC modes:
    the comparison on the same workload and rate the claim asks for."""
    found: list = []
    if table.empty:
        return found
    for strategy, mine in table.groupby("strategy", sort=False):
        best: ModeSet | None = None
        for (rate, cores, users), at in mine.groupby(["rate", "cores", "users"], sort=True):
            by_mode = {m: at[at["gc_mode"] == m].iloc[0] for m in MODES if (at["gc_mode"] == m).any()}
            if best is None or len(by_mode) > len(best.by_mode):
                best = ModeSet(str(strategy), str(at["model"].iloc[0]), str(rate), int(cores),
                               int(users), by_mode)
        if best is not None and len(best.by_mode) >= 2:
            found.append(best)
    return found


def timeline_cell(run: Run, frame: pd.DataFrame) -> str | None:
    """The cell whose timeline is drawn: one with a latency timeline and the longest GC
    pause (collector on), so a reader sees whether the spikes line up with pauses; a cell
    of a workload that makes garbage (the one the GC claim is about) before any other."""
    if frame.empty:
        return None
    have = frame[frame["cell_id"].map(lambda c: c in run.records
                                      and bool(run.records[c].latency_timeline))]
    if have.empty:
        return None
    garbage = (pd.to_numeric(have["garbage"], errors="coerce").fillna(0) if "garbage" in have
               else pd.Series(0, index=have.index))
    have = have.assign(_pause=pd.to_numeric(have["gc_pause_max_ms"], errors="coerce").fillna(-1),
                       _garbage=garbage > 0)
    return str(have.sort_values(["_garbage", "_pause", "cell_id"],
                                ascending=[False, False, True]).iloc[0]["cell_id"])


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
