"""What every claim reads from the analysis: a group's repeats, its identity, whether it is
clean (and if not, why it is left out), the core counts two sides share, and whether a
speedup is within what the server's CPU allows."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from results.ids import KEY, parse_cell_id
from results.schema import DISQUALIFYING, MARKS

from ..analysis import Analysis
from .result import LeftOut

# A speedup may exceed the ratio of server CPU it used by this much (timer and sampling
# slack) before it is more than the CPU allows: a depressed low-core cell, not scaling.
CPU_SLACK = 1.15
_FLAG_COLUMN = {"loadgen_bound": "loadgen_bound", "errors": "errors_flag",
                "failed": "failed_flag", "busy_machine": "busy_machine"}


def values(an: Analysis, row: pd.Series | dict, column: str = "rps") -> list[float]:
    """The group's ok repeats of ``column``, one value per cell."""
    cells = an.run.cells
    if cells.empty or column not in cells:
        return []
    wanted = set(row.get("cell_ids") or [])
    mine = cells[cells["cell_id"].isin(wanted) & (cells["status"] == "ok")]
    return [float(v) for v in pd.to_numeric(mine[column], errors="coerce").dropna()]


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


def identity(row: pd.Series | dict) -> dict[str, object]:
    """The group's cells without the repeat: results/ids.py KEY, plus workers and python
    where set."""
    found: dict[str, object] = {k: _plain(row.get(k)) for k in KEY if k in row}
    for extra in ("workers", "python"):
        value = _plain(row.get(extra))
        if value not in (None, "", 0) and value == value:
            found[extra] = value
    return found


def why_flagged(row: pd.Series | dict) -> str:
    """The disqualifying flags of a group ('' when clean), with their marks."""
    found = [f"{name} ({MARKS[name]})" for name in DISQUALIFYING
             if row.get(_FLAG_COLUMN[name]) is True or row.get(_FLAG_COLUMN[name]) is np.True_]
    return ", ".join(found)


def shared_cpu(an: Analysis, groups: Iterable[dict[str, object]]) -> bool:
    """Whether any of ``groups`` ran with the server and the load generator on one CPU: the
    flag (S) no repeat cures, since every repeat of that cell shares it."""
    wanted = list(groups)
    for _, row in an.groups.iterrows():
        if row.get("shared_cpu") is True or row.get("shared_cpu") is np.True_:
            if identity(row) in wanted:
                return True
    return False


def groups_of(cell_ids: Iterable[str]) -> tuple[dict[str, object], ...]:
    """The groups (identity without the repeat) of ``cell_ids``, each once, in order."""
    found: list[dict[str, object]] = []
    for cell_id in cell_ids:
        parsed = parse_cell_id(cell_id)
        if parsed is not None and (group := identity(parsed)) not in found:
            found.append(group)
    return tuple(found)


def contention(an: Analysis, workload: str) -> float:
    """How long a workload's requests hold the shared state, on average: its share of
    writes times the time held per write (its definition, not its results)."""
    spec = (an.run.manifest.get("workloads") or {}).get(workload) or {}
    mix = spec.get("mix") or {}
    total = sum(float(v) for v in mix.values()) or 1.0
    writes = total - float(mix.get("get", 0))
    knobs = spec.get("server") or spec.get("knobs") or {}
    return writes / total * float(knobs.get("hold_us") or 0)


def describe(row: pd.Series | dict) -> str:
    """'global-lock, cpu, 2 cores'."""
    cores = int(row["cores"])
    return f"{row['strategy']}, {row['workload']}, {cores} core{'s' if cores != 1 else ''}"


def left_out(row: pd.Series | dict) -> LeftOut | None:
    why = why_flagged(row)
    return LeftOut(describe(row), why) if why else None


def rows_of(an: Analysis, workload: str, strategy: str) -> pd.DataFrame:
    """A strategy's groups on a workload at its reference load, by core count."""
    rows = an.at_ref(workload)
    return rows[(rows["strategy"] == strategy) & rows["rps"].notna()].sort_values("cores")


def common_cores(an: Analysis, workload: str, strategies: Iterable[str]) -> list[int]:
    """The core counts every one of ``strategies`` was measured at on ``workload``."""
    found: set[int] | None = None
    for strategy in strategies:
        mine = {int(c) for c in rows_of(an, workload, strategy)["cores"]}
        found = mine if found is None else found & mine
    return sorted(found or set())


def at_cores(an: Analysis, workload: str, strategy: str, cores: int) -> pd.Series | None:
    rows = rows_of(an, workload, strategy)
    rows = rows[rows["cores"] == cores]
    return None if rows.empty else rows.iloc[0]


def cpu_allows(low: pd.Series, high: pd.Series) -> tuple[bool, str]:
    """Is the speedup high/low within what the server CPU it used allows? A single event
    loop using one CPU at both core counts cannot gain from a second core."""
    try:
        cpu_low, cpu_high = float(low["server_cpu"]), float(high["server_cpu"])
        gain = float(high["rps"]) / float(low["rps"])
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return True, "server CPU not recorded"
    if not (cpu_low > 0 and cpu_high > 0) or gain != gain:
        return True, "server CPU not recorded"
    allowed = cpu_high / cpu_low * CPU_SLACK
    return gain <= allowed, (f"{gain:.2f}× on {cpu_low:.2f} → {cpu_high:.2f} CPU "
                             f"(allows ≤ {allowed:.2f}×)")


def deciding(an: Analysis, workloads: list[str], strategies: list[str]) -> str | None:
    """The workload whose comparisons decide a claim, named before any is made (so a claim
    is not decided by whichever workload happened to come out apart): the one whose groups
    of ``strategies`` have the most repeats, then the most groups, then by name. The others
    are shown beside it and decide nothing."""
    def rank(workload: str) -> tuple[int, int, str]:
        rows = an.at_ref(workload)
        rows = rows[rows["strategy"].isin(strategies)]
        fewest = int(rows["ok"].min()) if len(rows) else 0
        return (-fewest, -len(rows), workload)
    return min(workloads, key=rank) if workloads else None
