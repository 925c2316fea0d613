"""The interpreter axis: each cell's throughput under every Python of the run, compared
with the reference (the first named) by the same exact Mann–Whitney test as `compare`."""
from __future__ import annotations

import math

import pandas as pd

from .compare import _test
from .frames import KEY, Run


def labels(run: Run) -> list[str]:
    """The run's interpreters, the reference first; [] for a run of one."""
    if run.all_cells is None:
        return []
    found = set(run.all_cells["python"]) - {""}
    return [run.reference_python] + sorted(found - {run.reference_python})


def compare_pythons(run: Run) -> pd.DataFrame:
    """One row per cell and other interpreter: medians, the ratio other/reference, a verdict
    that says "no measurable difference" unless the repeats separate."""
    names = labels(run)
    if not names:
        return pd.DataFrame()
    every = run.all_cells if run.all_cells is not None else run.cells
    ok = every[(every["status"] == "ok") & every["rps"].notna()]
    rows = []
    for key, group in ok.groupby(KEY, sort=True):
        by = {p: group[group["python"] == p] for p in names}
        base = by[names[0]]["rps"].tolist()
        for other in names[1:]:
            values = by[other]["rps"].tolist()
            if not base or not values:
                continue
            a, b = float(pd.Series(base).median()), float(pd.Series(values).median())
            p, significance = _test(base, values)
            if "few" in significance:  # the exact test cannot reach p < 0.05 with these
                verdict = f"not testable: {significance}"
            elif significance == "significant":
                verdict = ("faster" if b > a else "slower") + f" under {other} (p = {p:.3f})"
            else:
                verdict = "no measurable difference"
            gil = by[other]["gil_enabled"].dropna().unique().tolist() if "gil_enabled" in group else []
            rows.append(dict(zip(KEY, key)) | {
                "reference": names[0], "other": other, "reference_rps": a, "other_rps": b,
                "ratio": b / a if a else math.nan, "p": p, "verdict": verdict,
                "repeats": f"{len(base)} vs {len(values)}",
                "other_gil": ",".join(str(g) for g in gil) or "unknown"})
    return pd.DataFrame(rows)
