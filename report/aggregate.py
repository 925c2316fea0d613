"""Fold repeats into cells, attach validity flags, merge latency histograms.

A "group" is one cell without its repeat index: (strategy, workload, cores,
users). Every number the report prints for a group is the median over its ok
repeats, with min and max beside it, so a reader sees the spread.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from hdrh.histogram import HdrHistogram

from results import hdr, schema
from results.schema import FLAGS, MARKS, Flag

from .frames import KEY, Run

__all__ = ["FLAGS", "Flag", "MARKS", "aggregate", "flagged", "marks", "merged_histogram",
           "percentiles", "reference_users"]

_MEDIAN_OF = ["rps", "p50_us", "p90_us", "p99_us", "p999_us", "max_us", "mean_us",
              "server_cpu", "loadgen_cpu", "rps_per_cpu_s", "rss_mb", "duration_s"]
_RANGE_OF = ["rps", "p99_us", "rps_per_cpu_s", "rss_mb"]


def _any(series: pd.Series) -> bool:
    return bool(series.fillna(False).astype(bool).any())


def _summarise(group: pd.DataFrame) -> dict:
    ok = group[group["status"] == "ok"]
    row: dict = {"model": group["model"].iloc[0], "safety": group["safety"].iloc[0],
                 "repeats": len(group), "ok": len(ok), "failed": int((group["status"] != "ok").sum()),
                 "cell_ids": list(ok["cell_id"]),
                 "reasons": "; ".join(sorted({r for r in group.loc[group["status"] != "ok", "reason"] if r}))}
    for column in _MEDIAN_OF:
        values = ok[column].dropna() if column in ok else pd.Series(dtype=float)
        row[column] = float(values.median()) if len(values) else np.nan
    for column in _RANGE_OF:
        values = ok[column].dropna() if column in ok else pd.Series(dtype=float)
        row[f"{column}_min"] = float(values.min()) if len(values) else np.nan
        row[f"{column}_max"] = float(values.max()) if len(values) else np.nan
    rps = [float(value) for value in ok["rps"].dropna()]
    cv = schema.cv(rps)
    row["cv"] = cv if cv is not None else np.nan
    row["errors"] = float(ok["errors"].fillna(0).sum()) if "errors" in ok else 0.0
    row["loadgen_bound"] = _any(ok["loadgen_bound"])
    # Empty when a side ran on another host: then nobody knows whether Locust was the limit.
    row["loadgen_unknown"] = bool(len(ok)) and bool(ok["loadgen_bound"].isna().any())
    row["shared_cpu"] = _any(ok["shared_cpu"])
    row["noisy"] = schema.is_noisy(rps)  # the rule the store marks cells.csv by
    row["busy_machine"] = _any(ok["busy_machine"]) if "busy_machine" in ok else False
    row["errors_flag"] = row["errors"] > 0
    row["failed_flag"] = row["failed"] > 0
    checked = ok["correct"].dropna()
    row["checked"] = len(checked)
    row["correct"] = bool(checked.all()) if len(checked) else pd.NA
    row["lost_updates"] = float(ok["lost_updates"].fillna(0).sum()) if "lost_updates" in ok else 0.0
    row["acked_incr"] = float(ok["acked_incr"].fillna(0).sum()) if "acked_incr" in ok else 0.0
    return row


GROUP_COLUMNS = (KEY + ["model", "safety", "repeats", "ok", "failed", "cell_ids", "reasons"]
                 + _MEDIAN_OF + [f"{c}_{end}" for c in _RANGE_OF for end in ("min", "max")]
                 + ["cv", "errors", "loadgen_bound", "shared_cpu", "noisy", "busy_machine",
                    "errors_flag", "failed_flag", "loadgen_unknown", "checked", "correct", "lost_updates", "acked_incr"])


def aggregate(run: Run) -> pd.DataFrame:
    """One row per group, sorted by workload, strategy, cores, users."""
    if run.cells.empty:
        return pd.DataFrame(columns=GROUP_COLUMNS)
    rows = []
    for key, group in run.cells.groupby(KEY, sort=True, dropna=False):
        rows.append(dict(zip(KEY, key)) | _summarise(group))
    return pd.DataFrame(rows).sort_values(["workload", "strategy", "engine", "cores", "users"],
                                          ignore_index=True)


def marks(row: pd.Series | dict) -> str:
    """The flag letters of a group, e.g. "LS"; empty when the cell is clean."""
    names = {"loadgen_bound": row.get("loadgen_bound"), "shared_cpu": row.get("shared_cpu"),
             "noisy": row.get("noisy"), "errors": row.get("errors_flag"),
             "failed": row.get("failed_flag"), "busy_machine": row.get("busy_machine")}
    return "".join(MARKS[name] for name, on in names.items() if on is True or on is np.True_)


def flagged(row: pd.Series | dict) -> bool:
    return bool(marks(row))


def merged_histogram(run: Run, cell_ids: list[str]) -> HdrHistogram | None:
    """Merge the encoded histograms of these cells; None when none has one."""
    merged: HdrHistogram | None = None
    for cell_id in cell_ids:
        record = run.records.get(cell_id)
        if record is None or not record.hdr:
            continue
        try:
            histogram = hdr.decode(record.hdr)
        except Exception as exc:  # a damaged histogram must not sink the report
            run.warn(f"cell {cell_id}: latency histogram does not decode ({exc}); left out")
            continue
        if merged is None:
            merged = hdr.new()
        merged.add(histogram)
    return merged if merged is not None and merged.get_total_count() > 0 else None


def reference_engine(groups: pd.DataFrame, workload: str) -> str:
    """The engine a workload's figures are read from: the one with most groups (ties: wrk,
    the one that measures servers at full speed)."""
    subset = groups[groups["workload"] == workload]
    counts = subset.groupby("engine").size()
    if counts.empty:
        return "locust"
    return str(max(counts.index, key=lambda engine: (counts[engine], engine == "wrk")))


def reference_users(groups: pd.DataFrame, workload: str) -> int | None:
    """The user count a workload's scaling is read at: the one with most groups (ties: highest)."""
    # Failed groups count too: a failure must not move the reference away from it.
    subset = groups[groups["workload"] == workload]
    if subset.empty:
        return None
    counts = subset.groupby("users").size()
    return int(max(counts.index, key=lambda users: (counts[users], users)))


def percentiles(histogram: HdrHistogram, points: list[float]) -> list[float]:
    """Values (µs) at percentiles 0..100, in one pass over the histogram."""
    found = histogram.get_percentile_to_value_dict(list(points))
    return [float(found.get(p, histogram.get_max_value())) for p in points]
