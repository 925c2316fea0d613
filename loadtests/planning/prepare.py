"""From a profile, overrides and the machine's topology to a plan and its placement:
shared by ``sharebench run`` and ``run --dry-run``."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from loadtests.machine.topology import Topology
from loadtests.planning import PlanError, profiles
from loadtests.planning import placement as placing
from loadtests.planning.budget import Budget
from loadtests.planning.cells import Overrides, Plan
from loadtests.planning.engine_costs import CPU_US_PER_REQUEST
from loadtests.planning.estimate import estimate
from loadtests.planning.placement import Placement
from loadtests.planning.workloads import WORKLOADS


def prepare(profile: str, overrides: Overrides, strategies: Mapping[str, Mapping],
            topology: Topology, loadgen_cpus: str | None = None,
            path: Path = profiles.PROFILES_FILE,
            pythons: list[str] | None = None,
            load_topology: Topology | None = None) -> tuple[Plan, Placement, Budget]:
    """The placement (its load generator sized by the plan's workloads), then the plan
    (its ``cores = "all"`` bounded by the server's share of that placement), sized to
    the profile's time budget. ``strategies``: each name and its declared traits.
    ``load_topology``: the load generator's host when it is not the server's (``topology``)."""
    if load_topology is not None:
        place = placing.apart(topology, load_topology, loadgen_cpus)
    elif loadgen_cpus:
        place = placing.explicit(loadgen_cpus, topology)
    else:
        pairs = [(WORKLOADS[w].server_us, CPU_US_PER_REQUEST[e])
                 for w, e in profiles.load_pairs(profile, overrides, path)
                 if w in WORKLOADS and e in CPU_US_PER_REQUEST]
        fraction = placing.loadgen_fraction(pairs)
        place = placing.default(topology, fraction=fraction)

    def expand(plan: Plan) -> Plan:
        if pythons:  # each cell under every interpreter, back to back: both see the same machine
            plan.cells = [replace(cell, python=label) for cell in plan.cells for label in pythons]
        return plan

    plan, budget = profiles.build(profile, overrides, strategies,
                                  machine_cores=len(topology.cpus), path=path,
                                  server_share=place.share, expand=expand,
                                  cost=lambda p: estimate(p).total_s)
    for cores in sorted({cell.cores for cell in plan.cells}):
        if cores > len(place.server_order):
            raise PlanError(f"bad core count {cores}: the server can have at most "
                            f"{len(place.server_order)} CPUs here")
    return plan, place, budget
