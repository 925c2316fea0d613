"""The numbers of open-loop cells: latency against achieved throughput, capacity at an SLO,
and the connection sweep. No drawing here (plots.py draws what this computes).

An open-loop cell's `p*_us` count from each request's scheduled start (corrected
for coordinated omission); `p*_uncorrected_us` from its actual send. A cell
flagged `loadgen_lagging` measured Locust's delays as much as the server's: it
is listed, never used for a curve, a capacity or a verdict.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from .frames import Run

# p99 targets (ms) for "sustains a rate", when the profile names none for a workload:
# a few times the work a request costs plus Locust's own floor (README, "Measured here").
DEFAULT_SLO_MS = {"cpu": 20.0, "io": 50.0, "hot-key": 10.0, "write-heavy": 5.0,
                  "read-heavy": 5.0, "transfer": 5.0}
FALLBACK_SLO_MS = 10.0
SUSTAINED = 0.95  # achieved/offered below this: the server did not keep the rate

_MEDIAN = ["offered_rps", "rps", "p50_us", "p99_us", "p999_us", "max_us", "p50_uncorrected_us",
           "p99_uncorrected_us", "p999_uncorrected_us", "send_lag_p99_us", "rss_mb",
           "server_threads", "server_fds", "cpu_us_per_request"]
GROUP = ["workload", "strategy", "engine", "workers", "cores", "users", "rate"]


def slo_ms(run: Run, workload: str) -> float:
    found = run.manifest.get("slo_ms")
    table: dict = found if isinstance(found, dict) else {}
    value = table.get(workload, DEFAULT_SLO_MS.get(workload, FALLBACK_SLO_MS))
    return float(value) if isinstance(value, (int, float)) and value > 0 else FALLBACK_SLO_MS


def groups(run: Run) -> pd.DataFrame:
    """One row per open-loop cell without its repeat: medians over the usable repeats."""
    cells = run.open_cells
    if cells.empty:
        return pd.DataFrame(columns=GROUP)
    cells = cells.assign(workers=cells["workers"].fillna(0).astype(int))
    rows = []
    for key, group in cells.groupby(GROUP, sort=True, dropna=False):
        ok = group[group["status"] == "ok"]
        lagging = ok[ok["loadgen_lagging"].fillna(False).astype(bool)]
        usable = ok.drop(lagging.index)
        row = dict(zip(GROUP, key)) | {
            "model": group["model"].iloc[0], "safety": group["safety"].iloc[0],
            "repeats": len(group), "usable": len(usable), "lagging": len(lagging),
            "skipped": int((group["status"] == "skipped").sum()),
            "failed": int((group["status"] == "failed").sum()),
            "reasons": "; ".join(sorted({r for r in group["reason"] if r})),
            "errors": float(usable["errors"].fillna(0).sum()),
            "requests": float(usable["requests"].fillna(0).sum()),
            "cell_ids": list(usable["cell_id"]),
            # what its server said it serves at once (its ready line): one per cell, the same
            "connection_cap": group["connection_cap"].max()}
        for name in _MEDIAN:
            values = usable[name].dropna()
            row[name] = float(values.median()) if len(values) else math.nan
        if math.isnan(row["offered_rps"]):
            row["offered_rps"] = float(group["offered_rps"].dropna().median()) \
                if group["offered_rps"].notna().any() else math.nan
        p99 = usable["p99_us"].dropna()
        row["p99_min"], row["p99_max"] = (float(p99.min()), float(p99.max())) if len(p99) else (math.nan,) * 2
        rows.append(row)
    return pd.DataFrame(rows)


def curve(frame: pd.DataFrame) -> pd.DataFrame:
    """Usable points of one strategy's curve, by offered rate."""
    return frame[frame["usable"] > 0].sort_values("offered_rps")


def _capacity(points: list[tuple[float, float, float]], slo_us: float) -> tuple[float, str]:
    """(rate, how) from (offered, achieved, p99) points sorted by offered: the highest rate
    sustained with p99 under the SLO, linear between the last point under and the first over."""
    last = None
    for offered, achieved, p99 in points:
        ok = p99 <= slo_us and achieved >= SUSTAINED * offered
        if ok:
            last = (offered, p99)
            continue
        if last is None:
            return offered, "below"  # not even the lowest rate measured
        if achieved < SUSTAINED * offered or p99 <= last[1]:
            return last[0], "at"  # the next rate was not kept at all: no line to follow
        share = (slo_us - last[1]) / (p99 - last[1])
        return last[0] + share * (offered - last[0]), "interpolated"
    if last is None:
        return math.nan, "none"
    return last[0], "at least"  # every rate measured was sustained


@dataclass
class Capacity:
    strategy: str
    cores: int
    users: int
    rate: float          # from the repeats' medians
    how: str             # interpolated | at | at least | below | none
    low: float           # capacity of the worst repeat
    high: float          # of the best
    repeats: int
    same_as_above: bool = False  # ranges overlap with the next better one: no measurable difference


def capacity_at_slo(run: Run, frame: pd.DataFrame, workload: str, order: list[str]) -> list[Capacity]:
    """Per strategy (and cores/users) of a workload: capacity at its SLO, best first."""
    slo_us = slo_ms(run, workload) * 1000
    cells = run.open_cells
    found: list[Capacity] = []
    mine = frame[frame["workload"] == workload]
    for (strategy, cores, users), group in mine.groupby(["strategy", "cores", "users"]):
        points = curve(group)
        if points["rate"].nunique() < 2:
            continue  # one rate is a point, not a curve (e.g. the connection sweep)
        rate, how = _capacity(list(zip(points["offered_rps"], points["rps"], points["p99_us"])), slo_us)
        per_repeat = []
        here = cells[(cells["workload"] == workload) & (cells["strategy"] == strategy)
                     & (cells["cores"] == cores) & (cells["users"] == users) & (cells["status"] == "ok")
                     & ~cells["loadgen_lagging"].fillna(False).astype(bool)]
        for _, rep in here.groupby("repeat"):
            rep = rep.sort_values("offered_rps")
            value, _ = _capacity(list(zip(rep["offered_rps"], rep["rps"], rep["p99_us"])), slo_us)
            per_repeat.append(value)
        values = [v for v in per_repeat if not math.isnan(v)]
        found.append(Capacity(strategy, int(cores), int(users), rate, how,
                              min(values) if values else math.nan,
                              max(values) if values else math.nan, len(per_repeat)))
    rank = {name: i for i, name in enumerate(order)}
    found.sort(key=lambda c: (-(c.rate if not math.isnan(c.rate) else -1), rank.get(c.strategy, 99)))
    for better, worse in zip(found, found[1:]):
        worse.same_as_above = (worse.repeats > 1 and better.repeats > 1
                               and worse.high >= better.low)
    return found


def sweep_rows(frame: pd.DataFrame, workload: str = "io") -> pd.DataFrame:
    """The connection sweep: one workload, engine and rate, several connection counts (of
    several, the one reaching the most connections, then with the most counts)."""
    mine = frame[frame["workload"] == workload]
    if mine.empty:
        return mine
    by = mine.groupby(["engine", "rate"])["users"].agg(["nunique", "max"])
    by = by[by["nunique"] >= 2]
    if by.empty:
        return mine.iloc[0:0]
    engine, rate = by.sort_values(["max", "nunique"]).index[-1]
    return mine[(mine["engine"] == engine) & (mine["rate"] == rate)].sort_values(
        ["strategy", "workers", "users"])


def cap(row: pd.Series | dict) -> int | None:
    """The connections a group's server serves at once (a thread each, in a thread
    strategy or a -mp one with a threaded front), as its cells recorded; None: no cap."""
    found = row.get("connection_cap")
    return int(found) if found is not None and found == found else None


def capped(row: pd.Series | dict) -> bool:
    """More connections than the server serves at once (as its cells recorded its cap: a
    cell that raised it with --workers past its connections is not capped)."""
    found = cap(row)
    return found is not None and int(row.get("users") or 0) > found
