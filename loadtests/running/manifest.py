"""A new run's manifest: what it will measure, where, on what machine, and how."""
from __future__ import annotations

import datetime as dt
import shlex

from loadtests.machine import environment
from loadtests.machine.limits import raise_fd_limit
from loadtests.planning.cells import Plan
from loadtests.planning.placement import Placement
from loadtests.planning.workloads import WORKLOADS
from results import schema
from servers import broken, discover


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def new_manifest(run_id: str, plan: Plan, placement: Placement, overrides: dict,
                 argv: list[str], target: str | None = None, loadgen_workers: int = 0,
                 master_port: int = 5557, pythons: list | None = None,
                 budget: dict | None = None, adapt: dict | None = None,
                 hosts: dict | None = None) -> dict:
    specs = discover()
    return {
        "format_version": schema.FORMAT_VERSION,
        "pythons": {i.label: i.to_dict() for i in pythons or []},
        "target": target, "loadgen_workers": loadgen_workers, "master_port": master_port,
        "run_id": run_id, "profile": plan.profile, "description": plan.description,
        "overrides": overrides, "command": " ".join(shlex.quote(a) for a in argv),
        "matrix": [{"cell_id": c.id, **vars(c)} for c in plan.cells],
        # What each strategy declared (servers/core/traits.py): the cells and the report
        # read its traits from here, never from its language or name.
        "strategies": {n: {**specs[n].traits.to_dict(), "rule": specs[n].rule}
                       for n in plan.strategies},
        "workloads": {n: WORKLOADS[n].to_dict() for n in plan.workloads},
        "placement": placement.describe(sorted({c.cores for c in plan.cells})),
        "timing": {"warmup_s": plan.warmup, "duration_s": plan.duration},
        "budget": budget or {},
        "adapt": adapt or adaptive(False, 0.0),
        "arrivals": plan.arrivals, "slo_ms": plan.slo_ms,
        "nofile": raise_fd_limit(),
        "environment": environment.collect(),
        "hosts": hosts or {},  # each side's host: name, cores, topology, interpreter, kernel
        "broken_strategies": broken(),  # modules that failed to import: not measured
        "contract": {}, "races": {}, "started": now(), "ended": None, "status": "running",
    }


def adaptive(enabled: bool, reserve_s: float) -> dict:
    """The adaptive rounds' record (sharebench/adapt.py, loadtests/running/extra.py): the
    reserve, each round with the cells it added and why, and why the rounds stopped."""
    return {"enabled": enabled, "reserve_s": round(reserve_s, 1), "spent_s": 0.0, "looks": 0, "level_looks": None,
            "cap": None, "rounds": [], "stopped": None, "held": []}
