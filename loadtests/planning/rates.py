"""The offered-load axis: planned rates, checked before anything starts, resolved at run time.

A rate is either absolute (``2000``: requests/s) or a fraction of the strategy's
own capacity (``0.85x``): the best closed-loop throughput of the same strategy,
workload, cores and live heap measured earlier in the same run (the plan orders
those cells first). A workload that differs from another only in its collector's
mode (gc-off, gc-freeze) takes the capacity of the one with the collector on
when the run measured it, so the modes are compared at one offered rate. A resolved rate above what the load engine can offer on its CPUs
is skipped with the reason, never measured by another engine under the label.
"""
from __future__ import annotations

import statistics

from loadtests.planning.cells import Cell
from loadtests.planning.engine_costs import MAX_OPEN_RPS_PER_PROCESS, MAX_PACED_RPS_PER_CPU
from loadtests.planning.workloads import collector_on
from results.record import CellRecord


def parse_rate(value: str | int | float) -> str:
    """A planned rate as its id text (``2000``, ``0.85x``); ValueError says what is wrong."""
    text = str(value).strip().lower()
    fraction = text.endswith("x")
    try:
        number = float(text[:-1] if fraction else text)
    except ValueError:
        raise ValueError(f"bad rate {value!r}: use requests/s (e.g. 2000) or a fraction of "
                         "capacity (e.g. 0.85x)") from None
    if not number > 0 or number != number or number == float("inf"):
        raise ValueError(f"bad rate {value!r}: must be a number above 0")
    if fraction and number > 10:
        raise ValueError(f"bad rate {value!r}: a fraction of capacity above 10x is not a plan")
    return f"{number:g}x" if fraction else f"{number:g}"


def parse_rates(values: list | str) -> list[str]:
    items = values.split(",") if isinstance(values, str) else list(values)
    rates = [parse_rate(item) for item in items if str(item).strip()]
    if not rates:
        raise ValueError(f"bad rates {values!r}: give at least one")
    return rates


def is_fraction(rate: str) -> bool:
    return rate.endswith("x")


def capacity_workloads(workload: str) -> list[str]:
    """Whose closed-loop cells give ``workload`` its capacity, in order of preference."""
    return list(dict.fromkeys([collector_on(workload), workload]))


def same_place(record: CellRecord, cell: Cell, workload: str) -> bool:
    """A record of the cell's strategy, this workload, its cores and its live heap."""
    return ((record.strategy, record.workload, record.cores, record.live_objects or 0)
            == (cell.strategy, workload, cell.cores, cell.live_objects))


def capacity_cells(cell: Cell, records: list[CellRecord]) -> list[CellRecord]:
    """The run's ok closed-loop records the cell's capacity comes from (any engine, any
    users): its collector-on sibling's when there are any, else its own workload's."""
    for workload in capacity_workloads(cell.workload):
        found = [r for r in records if r.status == "ok" and not r.rate
                 and r.rps and same_place(r, cell, workload)]
        if found:
            return found
    return []


def capacity(cell: Cell, records: list[CellRecord]) -> float | None:
    """The strategy's closed-loop capacity here: the best median rps over repeats among
    capacity_cells, grouped by engine and users."""
    groups: dict[tuple, list[float]] = {}
    for r in capacity_cells(cell, records):
        groups.setdefault((r.engine, r.users), []).append(r.rps or 0.0)
    return max((statistics.median(v) for v in groups.values()), default=None)


def max_offer(engine: str, processes: int) -> float:
    per = {"locust": MAX_OPEN_RPS_PER_PROCESS, "wrk": MAX_PACED_RPS_PER_CPU}
    return per.get(engine, 0.0) * processes


def resolve(cell: Cell, records: list[CellRecord], processes: int) -> tuple[float, str]:
    """(offered req/s, "") or (0, why the cell is not measured)."""
    if is_fraction(cell.rate):
        found = capacity(cell, records)
        if found is None:
            heap = f" holding {cell.live_objects} live objects" if cell.live_objects else ""
            return 0.0, (f"no capacity to take {cell.rate} of: no ok closed-loop cell of "
                         f"{cell.strategy}/{cell.workload} at {cell.cores} cores{heap} in this run")
        offered = float(cell.rate[:-1]) * found
    else:
        offered = float(cell.rate)
    most = max_offer(cell.engine, processes)
    if offered > most:
        return offered, (f"skipped: {offered:.0f} req/s is more than {cell.engine} can offer on "
                         f"{processes} CPU(s) (~{most:.0f} req/s); not measured by another engine")
    return offered, ""
