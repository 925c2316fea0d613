"""The connection sweep behind the async claim, as numbers: what one more open connection
costs each strategy (KiB of server memory and threads, the slopes over the sweep), which
strategies held the offered rate within the SLO at each connection count, and the HTTP
framework's cost (`async`, aiohttp, against `async-raw`, the threads' own parser on a
raw event loop) beside the execution model's (`async-raw` against a thread strategy) on
the same cells.

The sweep is kept as data (SweepJudgement: at which counts which lines held, the costs,
the repeats, the cells left out); report/claims/asyncs.py judges the claim from it by the
one rule. No drawing, no verdict and no prose here.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import openloop

FRAMEWORK = ("async", "async-raw")   # the same store and loop, HTTP by aiohttp / by http1.py
MODEL_RAW = "async-raw"              # beside a thread strategy with the same parser


def label(row: pd.Series | dict) -> str:
    """A sweep line's name: the strategy, and the --workers its cells gave the server."""
    workers = row.get("workers")
    count = int(workers) if workers is not None and workers == workers else 0
    return f"{row['strategy']} --workers {count}" if count > 0 else str(row["strategy"])


def one_line_each(sweep: pd.DataFrame) -> pd.DataFrame:
    """Each strategy's line with the most --workers: its uncapped one where the run raised a
    thread server's cap past its connections, so a figure never draws a cap we set."""
    if sweep.empty:
        return sweep
    most = sweep.groupby("strategy")["workers"].transform("max")
    return sweep[sweep["workers"] == most]


def held(row: pd.Series | dict, slo_us: float) -> bool:
    """Kept the offered rate, failed nothing, p99 within the SLO, measured by an engine that
    kept its schedule. The rate matters: requests on connections a server never takes are
    not answered, so they are missing from p99, not slow in it."""
    return (bool(row["usable"]) and not row["errors"] and row["p99_us"] <= slo_us
            and row["rps"] >= openloop.SUSTAINED * row["offered_rps"])


def why_not(row: pd.Series | dict, slo_us: float) -> str:
    if not row["usable"]:
        return "the load generator fell behind" if row["lagging"] else (row["reasons"] or "failed")
    if row["rps"] < openloop.SUSTAINED * row["offered_rps"]:
        cap = ": over its --workers thread cap" if openloop.capped(row) else ""
        return f"answered {row['rps']:.0f} of {row['offered_rps']:.0f} req/s{cap}"
    if row["errors"]:
        return f"{row['errors']:.0f} failed requests"
    return f"p99 {row['p99_us'] / 1000:.0f} ms over the {slo_us / 1000:g} ms SLO"


@dataclass
class Cost:
    """What one more open connection costs a strategy: slopes of its peak RSS and threads
    over the sweep's connection counts, fitted where every connection was served."""
    label: str
    kib_per_connection: float
    threads_per_connection: float
    fitted: list[int]        # the connection counts the slopes are fitted over
    why_not_fitted: str = ""  # when fewer than two counts qualify


def costs(sweep: pd.DataFrame) -> list[Cost]:
    found = []
    for name, rows in sweep.groupby("label", sort=True):
        served = rows[(rows["usable"] > 0) & rows["rss_mb"].notna()
                      & ~rows.apply(openloop.capped, axis=1)]
        users = sorted(int(u) for u in served["users"].unique())
        if len(users) < 2:
            found.append(Cost(str(name), math.nan, math.nan, users,
                              "fewer than two connection counts with every connection served"))
            continue
        x = served["users"].astype(float).to_numpy()
        kib = float(np.polyfit(x, served["rss_mb"].astype(float).to_numpy() * 1024, 1)[0])
        threads = served["server_threads"].astype(float)
        per_thread = (float(np.polyfit(x, threads.to_numpy(), 1)[0])
                      if threads.notna().all() else math.nan)
        # Rounded: a flat line's slope comes out as -5e-20, which means 0.
        found.append(Cost(str(name), round(kib, 2) + 0.0, round(per_thread, 3) + 0.0, users))
    return found


@dataclass
class Split:
    """At one connection count: the framework's cost and the execution model's, each as a
    ratio of server CPU per request (the rate is the same, so CPU is what differs)."""
    users: int
    framework: float       # async (aiohttp) / async-raw
    model: float           # async-raw / the thread strategy
    thread: str            # which thread strategy
    p99_ms: dict[str, float] = field(default_factory=dict)
    rss_mb: dict[str, float] = field(default_factory=dict)


def splits(sweep: pd.DataFrame, thread: str | None) -> list[Split]:
    """Per connection count where `async` and `async-raw` were both measured. The model's
    ratio needs a thread line that served every connection there: ``thread`` itself, or
    ``thread`` with its --workers cap raised; none (nan) past the cap, where a capped
    server serves only some of the connections and its CPU per request is not like for like."""
    found = []
    for users, here in sweep.groupby("users", sort=True):
        if "label" not in here:
            here = here.assign(label=here.apply(label, axis=1))
        row = {r["label"]: r for _, r in here[here["usable"] > 0].iterrows()}
        if not all(name in row for name in FRAMEWORK):
            continue
        cpu = {name: r.get("cpu_us_per_request") for name, r in row.items()}
        fw = _ratio(cpu[FRAMEWORK[0]], cpu[MODEL_RAW])
        served = [name for name, r in sorted(row.items(), key=lambda item: "--workers" in item[0])
                  if thread and r["strategy"] == thread and not openloop.capped(r)]
        line = served[0] if served else None
        model = _ratio(cpu[MODEL_RAW], cpu[line]) if line else math.nan
        shown = [*FRAMEWORK, *([line] if line else [])]
        found.append(Split(int(users), fw, model, line or thread or "",
                           {n: row[n]["p99_us"] / 1000 for n in shown},
                           {n: row[n]["rss_mb"] for n in shown}))
    return found


def _ratio(a, b) -> float:
    try:
        a, b = float(a), float(b)
    except (TypeError, ValueError):
        return math.nan
    return a / b if b and not math.isnan(a) and not math.isnan(b) else math.nan


@dataclass
class SweepJudgement:
    """The connection sweep as the async claim reads it (report/claims/asyncs.py decides
    the claim from it by the one rule): which lines held at each count, their costs."""
    workload: str
    rate: str                        # offered req/s in total, as planned
    engine: str
    slo_ms: float
    asyncs: list[str]                # the async strategies compared (lines of the sweep)
    threads: list[str]               # the thread strategies compared
    decisive: int                    # the connection count the verdict rests on
    held: dict[int, list[str]]       # per connection count: the lines that held
    failed: dict[int, dict[str, str]]  # per connection count: line -> why it did not hold
    costs: list[Cost]
    splits: list[Split]
    repeats: int                     # fewest usable repeats among the decisive cells
    spread: dict[str, tuple[float, float]]  # line -> p99 range (ms) over repeats, decisive
    left_out: list[str]              # cells not judged, and why


def judge(sweep: pd.DataFrame, slo_ms: float, asyncs: list[str], threads: list[str]
          ) -> SweepJudgement | None:
    """The verdict at the most connections where an async strategy was measured by an
    engine that kept up. ``asyncs``/``threads``: ranked Python strategies of each model."""
    slo_us = slo_ms * 1000
    sweep = sweep.assign(label=sweep.apply(label, axis=1))
    lines_async = sorted({r["label"] for _, r in sweep.iterrows() if r["strategy"] in asyncs})
    lines_threads = sorted({r["label"] for _, r in sweep.iterrows() if r["strategy"] in threads})
    if not lines_async or not lines_threads:
        return None
    measured = sweep[sweep["label"].isin(lines_async) & (sweep["usable"] > 0)]
    if measured.empty:
        return None
    decisive = int(measured["users"].max())
    compared = sweep[sweep["label"].isin(lines_async + lines_threads)]
    held_at: dict[int, list[str]] = {}
    failed_at: dict[int, dict[str, str]] = {}
    left_out = []
    for users, here in compared.groupby("users", sort=True):
        held_at[int(users)] = sorted(r["label"] for _, r in here.iterrows() if held(r, slo_us))
        failed_at[int(users)] = {r["label"]: why_not(r, slo_us) for _, r in here.iterrows()
                                 if not held(r, slo_us)}
        for _, r in here.iterrows():
            if not r["usable"] or r["lagging"] or r["failed"] or r["skipped"]:
                left_out.append(f"{r['label']} at {int(users)}: {why_not(r, slo_us)}")
    top = compared[compared["users"] == decisive]
    cost = {c.label: c for c in costs(compared)}
    spread = {}
    repeats = []
    for _, r in top.iterrows():
        if r["usable"]:
            spread[r["label"]] = (r["p99_min"] / 1000, r["p99_max"] / 1000)
            repeats.append(int(r["usable"]))
    plain_threads = [n for n in lines_threads if "--workers" not in n]
    return SweepJudgement(str(sweep["workload"].iloc[0]), str(sweep["rate"].iloc[0]),
                     str(sweep["engine"].iloc[0]), slo_ms, lines_async, lines_threads, decisive,
                     held_at, failed_at, list(cost.values()),
                     splits(compared, plain_threads[0] if plain_threads else None),
                     min(repeats) if repeats else 0, spread, left_out)
