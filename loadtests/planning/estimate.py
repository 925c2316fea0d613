"""How long a plan takes, and the plan as lines for ``make plan``."""
from __future__ import annotations

from dataclasses import dataclass

from loadtests.machine.topology import Topology
from loadtests.planning import windows
from loadtests.planning.cells import Plan
from loadtests.planning.engine_costs import timed
from loadtests.planning.placement import Placement

# From the default run on this 2-core machine: starting, checking and stopping a server
# and the engine and writing the record add to a cell's warm-up and window (as the engine
# times them: engines.timed) ~0.5 s with wrk (253 cells of 1 s + 1 s: 2.5 s each) and
# ~1.6 s with Locust (62 open-loop cells of 1 s + 1.5-2 s: 4.1-4.5 s each); the contract
# and stress checks ~2.5 s per strategy, the knob check ~4 s per execution model; the
# report ~20 s.
CELL_OVERHEAD_S = {"wrk": 0.5, "locust": 1.6}
VERIFY_S_PER_STRATEGY = 2.5
KNOB_CHECK_S = 4.0
REPORT_S = 20.0
HEAP_BUILD_S_PER_OBJECT = 0.8e-6  # a server building its live heap before the ready line


@dataclass(frozen=True)
class Estimate:
    cells: int
    per_cell_s: float
    verify_s: float
    report_s: float

    @property
    def total_s(self) -> float:
        return self.cells * self.per_cell_s + self.verify_s + self.report_s


def estimate(plan: Plan, cells: int | None = None) -> Estimate:
    count = len(plan.cells) if cells is None else cells
    interpreters = len({cell.python for cell in plan.cells}) or 1
    # A window sized by the full collections it must hold counts at its bound: the
    # estimate is then an upper bound (windows.planned).
    measured = sum(timed(cell.engine, cell.warmup or plan.warmup)
                   + timed(cell.engine, windows.planned(cell, cell.duration or plan.duration))
                   + CELL_OVERHEAD_S[cell.engine] + HEAP_BUILD_S_PER_OBJECT * cell.live_objects
                   for cell in plan.cells)
    per_cell = measured / len(plan.cells) if plan.cells else 0.0
    return Estimate(count, per_cell,
                    VERIFY_S_PER_STRATEGY * len(plan.strategies) * interpreters + KNOB_CHECK_S * 5,
                    REPORT_S)


def minutes(seconds: float) -> str:
    return f"{int(seconds // 60)}m{int(round(seconds % 60)):02d}s"


def describe(plan: Plan, place: Placement, est: Estimate, topology: Topology) -> list[str]:
    """The plan as lines: the machine, the placement per core count, every cell, the time."""
    summary = topology.summary()
    lines = [f"profile {plan.profile}: {len(plan.cells)} cells, {plan.warmup:g} s warm-up + "
             f"{plan.duration:g} s window each",
             f"machine: {summary['cpus']} CPUs, {summary['physical_cores']} physical cores, "
             f"{summary['threads_per_core']} thread(s) per core, {summary['packages']} "
             f"package(s), {summary['nodes']} NUMA node(s) ({topology.source})",
             f"load generator: CPUs {_cpus(place.loadgen)}; server's share: {place.share} "
             f"physical core(s)"]
    described = place.describe(sorted({c.cores for c in plan.cells}))
    for cores, cpus in described["server_cpus"].items():
        shared = "  SHARED with the load generator" if described["shared"][cores] else ""
        nodes = described.get("server_nodes", {}).get(cores)
        where = f"  node(s) {','.join(map(str, nodes))}" if nodes is not None else ""
        lines.append(f"  {cores:>3} core(s): server CPUs {_cpus(cpus)}{where}{shared}")
    lines += [f"  {cell.id}" for cell in plan.cells]
    lines.append(f"estimate: {minutes(est.total_s)} ({est.cells} cells x {est.per_cell_s:.1f} s "
                 f"+ contract checks {est.verify_s:.0f} s + report {est.report_s:.0f} s)")
    return lines


def _cpus(cpus: set[int] | frozenset[int] | list[int]) -> str:
    """0-3,8 style, short enough to read for 128 CPUs."""
    runs: list[list[int]] = []
    for cpu in sorted(cpus):
        if runs and cpu == runs[-1][1] + 1:
            runs[-1][1] = cpu
        else:
            runs.append([cpu, cpu])
    return ",".join(f"{a}" if a == b else f"{a}-{b}" for a, b in runs) or "none"
