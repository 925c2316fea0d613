"""The numbers every section shares: groups, display order, scaling, USL fits, correctness.

Roles come from the `safety` column: `safe` strategies are ranked, `no-state`
(stateless) is the ceiling shown for reference, `unsafe` never competes. A safe
strategy that the preemption stress check caught losing updates (manifest
`races`) is racy: it "races under preemption" and is never ranked, whatever its
benchmark cells show.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from results.schema import DISQUALIFYING, NOISY_CV

from .aggregate import aggregate, reference_engine, reference_users
from .frames import Run
from .style import Series, make_series
from .usl import USLFit, fit_usl

ROLE_ORDER = {"safe": 0, "no-state": 1, "unsafe": 2}
PYTHON = "python"
# A strategy in another language is a reference group beside CPython's, never ranked among
# them: it answers a different question (issue 13). What limits it (an interpreter lock or
# none) is its declared trait, said in the group's title (group_title).


@dataclass
class Analysis:
    run: Run
    groups: pd.DataFrame                     # aggregate(): one row per (strategy, workload, cores, users)
    order: list[str]                         # display order of strategies
    safety: dict[str, str]
    model: dict[str, str]
    series: list[Series]
    workloads: list[str]
    ref_users: dict[str, int | None]  # None only for a workload without a group
    fits: dict[tuple[str, str], USLFit] = field(default_factory=dict)
    ref_engine: dict[str, str] = field(default_factory=dict)
    racy: dict[str, dict[str, Any]] = field(default_factory=dict)  # safe, yet raced under stress
    language: dict[str, str] = field(default_factory=dict)  # manifest; "python" when unrecorded
    # Each strategy's declared traits (manifest `strategies`, migrated for older runs):
    # parallel, interpreter_lock, collector, discipline. Never inferred from the language.
    traits: dict[str, dict[str, Any]] = field(default_factory=dict)
    # The live heap a workload's throughput is read at (its smallest: 0, no heap, where
    # measured); the heap axis itself is the garbage collector's (report/gc.py).
    ref_heap: dict[str, int] = field(default_factory=dict)

    def at_ref(self, workload: str) -> pd.DataFrame:
        """Groups of a workload at its reference engine, user count and live heap."""
        g = self.groups
        return g[(g["workload"] == workload) & (g["users"] == self.ref_users.get(workload))
                 & (g["engine"] == self.ref_engine.get(workload))
                 & (_heap(g) == self.ref_heap.get(workload, 0))]

    def ranked(self, strategy: str) -> bool:
        return self.safety.get(strategy) == "safe" and strategy not in self.racy

    def lang(self, strategy: str) -> str:
        return self.language.get(strategy) or PYTHON

    def locked(self, strategy: str) -> bool:
        """Its runtime serialises code (an interpreter lock, CPython's GIL)."""
        return bool(self.traits.get(strategy, {}).get("interpreter_lock"))

    def collected(self, strategy: str) -> bool:
        """A tracing or cyclic garbage collector can pause it."""
        return bool(self.traits.get(strategy, {}).get("collector"))

    def parallel(self, strategy: str) -> bool:
        return bool(self.traits.get(strategy, {}).get("parallel"))

    def discipline(self, strategy: str) -> str:
        return str(self.traits.get(strategy, {}).get("discipline") or strategy)

    def group_title(self, language: str) -> str:
        """'Rust reference (no interpreter lock)': a reference language's group, what limits
        it said from its strategies' declared traits."""
        members = [s for s in self.order if self.lang(s) == language]
        title = f"{language.capitalize()} reference"
        if members and not any(self.locked(s) for s in members):
            title += " (no interpreter lock)"
        return title

    def languages(self) -> list[str]:
        """Python first (the strategies ranked), then each reference language present."""
        found = {self.lang(s) for s in self.order}
        return [PYTHON] + sorted(found - {PYTHON})

    def series_of(self, strategies: set[str] | list[str]) -> list[Series]:
        return [s for s in self.series if s.strategy in set(strategies)]


def _heap(frame: pd.DataFrame) -> pd.Series:
    if "live_objects" not in frame:
        return pd.Series(0, index=frame.index)
    return pd.to_numeric(frame["live_objects"], errors="coerce").fillna(0).astype(int)


def _env(manifest: dict[str, Any]) -> dict[str, Any]:
    return flatten(manifest.get("environment") or {})


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """{"a": {"b": 1}} -> {"a.b": 1}; lists stay values."""
    if not isinstance(value, dict):
        return {prefix: value} if prefix else {}
    out: dict[str, Any] = {}
    for key, inner in value.items():
        out.update(flatten(inner, f"{prefix}.{key}" if prefix else str(key)))
    return out


def env_value(manifest: dict[str, Any], *names: str) -> Any:
    """The first environment entry whose last key part is one of names (formats may nest)."""
    flat = _env(manifest)
    for name in names:
        for key, value in flat.items():
            if key.split(".")[-1].lower() == name:
                return value
    return None


def logical_cores(manifest: dict[str, Any]) -> int | None:
    value = env_value(manifest, "logical_cores", "cpu_count", "logical_cpus", "cpus")
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def clean(row: pd.Series | dict) -> bool:
    """No flag that disqualifies a group from rankings, speedups and verdicts."""
    names = {"loadgen_bound": row.get("loadgen_bound"), "errors": row.get("errors_flag"),
             "failed": row.get("failed_flag"), "busy_machine": row.get("busy_machine")}
    return not any(names[name] is True or names[name] is np.True_ for name in DISQUALIFYING)


def overlap(a: pd.Series | dict, b: pd.Series | dict, name: str = "rps") -> bool:
    """Do the repeats of two groups overlap (min–max of ``name``)? Then no difference is
    measurable. A group without spread (one repeat) overlaps whatever is within NOISY_CV of it."""
    def span(row) -> tuple[float, float]:
        low, high = row.get(f"{name}_min"), row.get(f"{name}_max")
        if pd.isna(low) or pd.isna(high) or low == high:
            mid = row[name]
            return mid * (1 - NOISY_CV), mid * (1 + NOISY_CV)
        return low, high
    (a_low, a_high), (b_low, b_high) = span(a), span(b)
    return a_low <= b_high and b_low <= a_high


def best(an: Analysis, workload: str, strategy: str) -> pd.Series | None:
    """A strategy's best group by median rps at the workload's reference users; a clean
    group is preferred to a flagged one."""
    rows = an.at_ref(workload)
    rows = rows[(rows["strategy"] == strategy) & rows["rps"].notna()]
    if rows.empty:
        return None
    cleaned = rows[[clean(r) for _, r in rows.iterrows()]]
    rows = cleaned if len(cleaned) else rows
    return rows.loc[rows["rps"].idxmax()]


def scaling(an: Analysis, workload: str, strategy: str) -> dict[str, Any] | None:
    """Speedup from the fewest to the most cores measured, at reference users."""
    rows = an.at_ref(workload)
    rows = rows[(rows["strategy"] == strategy) & rows["rps"].notna()].sort_values("cores")
    if len(rows) < 2:
        return None
    low, high = rows.iloc[0], rows.iloc[-1]
    speedup = high["rps"] / low["rps"] if low["rps"] > 0 else math.nan
    ideal = high["cores"] / low["cores"]
    return {"low": low, "high": high, "speedup": speedup, "ideal": ideal,
            "efficiency": speedup / ideal if ideal else math.nan,
            # a speedup counts only when the two core counts' repeats do not overlap
            "measurable": not overlap(low, high), "clean": clean(low) and clean(high)}


def correctness(an: Analysis) -> pd.DataFrame:
    """Per strategy: cells checked, cells whose invariant held, lost and acknowledged updates."""
    cells = an.run.cells
    rows = []
    for strategy in an.order:
        mine = cells[(cells["strategy"] == strategy) & (cells["status"] == "ok")]
        checked = mine["correct"].dropna()
        lost = float(mine["lost_updates"].fillna(0).sum()) if "lost_updates" in mine else 0.0
        acked = float(mine["acked_incr"].fillna(0).sum()) if "acked_incr" in mine else 0.0
        uncertain = (float(mine["uncertain_incr"].fillna(0).sum())
                     if "uncertain_incr" in mine and mine["uncertain_incr"].notna().any() else math.nan)
        rows.append({"strategy": strategy, "safety": an.safety[strategy], "model": an.model[strategy],
                     "cells": len(mine), "checked": len(checked), "held": int(checked.sum()),
                     "lost": lost, "acked": acked, "uncertain": uncertain,
                     "lost_share": lost / acked if acked > 0 else math.nan})
    return pd.DataFrame(rows, columns=["strategy", "safety", "model", "cells", "checked", "held",
                                       "lost", "acked", "uncertain", "lost_share"])


def stress_races(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The preemption stress check's entries (manifest `races`), malformed ones left out."""
    found = manifest.get("races")
    if not isinstance(found, dict):
        return {}
    return {str(name): entry for name, entry in found.items() if isinstance(entry, dict)}


def racy_strategies(manifest: dict[str, Any], safety: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Strategies declared safe that lost updates under the stress check: racy."""
    return {name: entry for name, entry in stress_races(manifest).items()
            if entry.get("races") is True and safety.get(name) == "safe"}


def looks_of(an: Analysis) -> int:
    """How many looks the rule pays for when it judges this run: the most a comparison can
    have had under the adaptive rounds (their manifest says, fixed before any look), or 1
    for a run that kept its plan. A fixed bound, not the looks taken so far, keeps the
    union of every look's chance of a false "differs" within the rule's level."""
    section = an.run.manifest.get("adapt") or {}
    bound = section.get("level_looks")
    return int(bound) if section.get("enabled") and isinstance(bound, int) and bound > 1 else 1


def analyse(run: Run) -> Analysis:
    groups = aggregate(run)
    cells = run.cells
    # The manifest knows every planned strategy, even one without a single record.
    listed = run.manifest.get("strategies")
    declared: dict = listed if isinstance(listed, dict) else {}
    safety = {n: str((d or {}).get("safety", "")) for n, d in declared.items()}
    model = {n: str((d or {}).get("model", "")) for n, d in declared.items()}
    for column, into in (("safety", safety), ("model", model)):
        if len(cells):
            for name, value in cells.groupby("strategy")[column].first().items():
                if value or name not in into:
                    into[name] = str(value)
    for name in safety:
        model.setdefault(name, "")
    language = {n: str((declared.get(n) or {}).get("language") or PYTHON) for n in safety}
    peak = groups.groupby("strategy")["rps"].max() if len(groups) else pd.Series(dtype=float)
    # Python before the reference languages; in each, safe strategies first, fastest first;
    # then the stateless ceiling; then the unsafe.
    order = sorted(safety, key=lambda s: (language[s] != PYTHON, language[s],
                                          ROLE_ORDER.get(safety[s], 3),
                                          -(peak.get(s, 0) if pd.notna(peak.get(s, 0)) else 0), s))
    traits = {n: dict(d) for n, d in declared.items() if isinstance(d, dict)}
    series = make_series(order, safety, model, language,
                         {s: str(traits.get(s, {}).get("discipline") or s) for s in order})
    workloads = sorted(groups["workload"].unique()) if len(groups) else []
    ref_engine = {w: reference_engine(groups, w) for w in workloads}
    ref_users = {w: reference_users(groups[groups["engine"] == ref_engine[w]], w) for w in workloads}
    ref_heap = {w: int(_heap(groups[groups["workload"] == w]).min()) for w in workloads}
    an = Analysis(run, groups, order, safety, model, series, workloads, ref_users,
                  ref_engine=ref_engine, racy=racy_strategies(run.manifest, safety),
                  language=language, traits=traits, ref_heap=ref_heap)
    for workload in workloads:
        at_ref = run.cells[(run.cells["workload"] == workload) & (run.cells["status"] == "ok")
                           & (run.cells["users"] == ref_users[workload])
                           & (run.cells["engine"] == ref_engine[workload])
                           & (_heap(run.cells) == ref_heap[workload])]
        for strategy in order:
            mine = at_ref[at_ref["strategy"] == strategy]
            # Every ok repeat is a point: the spread informs the fit's quality.
            an.fits[(workload, strategy)] = fit_usl(mine["cores"].astype(float), mine["rps"])
    return an
