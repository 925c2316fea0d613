"""Which CPUs the server and the load generator get, from the machine's topology.

Whole physical cores, never halves: the load generator takes whole cores (all
their SMT threads), the last ones in topology order (so the last NUMA node);
a server's N cores are N distinct physical cores, one thread of each, none of
them a sibling of the load generator's. Its cores come from the NUMA node with
the most free cores first, so a cell stays within one node until it needs more.
Beyond its share the server takes the second threads of its own cores, then
the load generator's CPUs (flagged shared_cpu).

How many cores the load generator gets: enough to keep up with the server on
the plan's heaviest workload, from the engine's cost per request
(planning/engine_costs.py) against the server's (Workload.server_us): the
fraction lg / (lg + server) of the physical cores, at least one, at most half.
Without workloads to size it by, a fixed half.

Without a readable topology every CPU counts as its own core, in numbering
order: the placement before topology. On this 2-CPU machine: server CPU 0,
Locust CPU 1; a 2-core cell shares CPU 1.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from loadtests.machine.topology import Topology, read_or_fallback
from loadtests.planning import PlanError

MAX_LOADGEN_FRACTION = 0.5


@dataclass(frozen=True)
class Placement:
    server_order: tuple[int, ...]   # the server's CPUs in the order cells take them
    loadgen: frozenset[int]
    share: int = 1                  # distinct physical cores the server has to itself
    topology: Topology | None = field(default=None, compare=False)
    apart: bool = False             # server and load generator on different hosts


    def server(self, cores: int) -> set[int]:
        return set(self.server_order[:cores])

    def describe(self, core_counts: list[int]) -> dict:
        doc = {"loadgen_cpus": sorted(self.loadgen),
               "server_cpus": {str(c): sorted(self.server(c)) for c in core_counts},
               "shared": {str(c): not self.apart and bool(self.server(c) & self.loadgen)
                          for c in core_counts},
               "server_share": self.share}
        if self.apart:
            doc["apart"] = True
        if self.topology is not None:
            doc["topology"] = self.topology.summary()
            node_of = {cpu: core.node for core in self.topology.cores for cpu in core.cpus}
            doc["server_nodes"] = {str(c): sorted({node_of[cpu] for cpu in self.server(c)})
                                   for c in core_counts}
        return doc


def loadgen_fraction(pairs: list[tuple[float, float]]) -> float:
    """The share of physical cores the load generator needs to keep up with the server
    on the heaviest workload (the one that scales: the one it must not limit), from
    (server µs, load-generator µs) per request of each workload and engine."""
    pairs = [(server, loadgen) for server, loadgen in pairs if server > 0 and loadgen > 0]
    if not pairs:
        return MAX_LOADGEN_FRACTION
    heaviest = max(server for server, _ in pairs)
    need = max(lg / (lg + server) for server, lg in pairs if server == heaviest)
    return min(MAX_LOADGEN_FRACTION, need)


def default(topology: Topology | None = None, loadgen_cores: int | None = None,
            fraction: float = MAX_LOADGEN_FRACTION) -> Placement:
    """The load generator on the last ``loadgen_cores`` physical cores (default: the
    ``fraction`` of them, at least one), the server on the rest."""
    topology = topology or read_or_fallback()
    cores = list(topology.cores)
    if len(cores) == 1:
        cpus = cores[0].cpus  # one core: the server on its first thread, Locust on its last
        return Placement(cpus, frozenset({cpus[-1]}), 1, topology)
    count = loadgen_cores or max(1, round(len(cores) * fraction))
    if not 1 <= count < len(cores):
        raise PlanError(f"bad load-generator core count {count}: valid 1..{len(cores) - 1}")
    loadgen = frozenset(cpu for core in cores[-count:] for cpu in core.cpus)
    return _place(topology, cores[:-count], loadgen)


def explicit(text: str, topology: Topology) -> Placement:
    """LOADGEN_CPUS=3,4 -> those CPUs for Locust; the server on the physical cores
    that share no thread with them, siblings of Locust's CPUs only as a last resort."""
    cpus = topology.cpus
    try:
        loadgen = frozenset(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise PlanError(f"bad LOADGEN_CPUS {text!r}: use CPU numbers, e.g. 1 or 2,3") from None
    if not loadgen or not loadgen <= set(cpus) or len(loadgen) == len(cpus) > 1:
        raise PlanError(f"bad LOADGEN_CPUS {text!r}: valid CPUs are {cpus}, leaving one "
                        "for the server")
    free = [core for core in topology.cores if not loadgen & set(core.cpus)]
    placement = _place(topology, free, loadgen)
    touched = [cpu for core in topology.cores if loadgen & set(core.cpus)
               for cpu in core.cpus if cpu not in loadgen]
    order = placement.server_order[:-len(loadgen)] + tuple(touched) + tuple(sorted(loadgen))
    if not free:  # e.g. one CPU: the server shares the load generator's
        return Placement(order, loadgen, 1, topology)
    return Placement(order, loadgen, placement.share, topology)


def apart(server: Topology, load: Topology, loadgen_cpus: str | None = None) -> Placement:
    """The server on a host of its own: every physical core there is the server's (one
    thread of each first); the load generator has the load host's CPUs (every one, or
    LOADGEN_CPUS). CPU numbers name CPUs of two machines: none is shared."""
    if loadgen_cpus:
        try:
            loadgen = frozenset(int(part) for part in loadgen_cpus.split(",") if part.strip())
        except ValueError:
            raise PlanError(f"bad LOADGEN_CPUS {loadgen_cpus!r}: use CPU numbers, e.g. 1 or 2,3") from None
        if not loadgen or not loadgen <= set(load.cpus):
            raise PlanError(f"bad LOADGEN_CPUS {loadgen_cpus!r}: the load host's CPUs are {load.cpus}")
    else:
        loadgen = frozenset(load.cpus)
    placed = _place(server, list(server.cores), frozenset())
    return Placement(placed.server_order, loadgen, placed.share, server, apart=True)


def _place(topology: Topology, server_cores: list, loadgen: frozenset[int]) -> Placement:
    by_node: dict[int, list] = {}
    for core in server_cores:
        by_node.setdefault(core.node, []).append(core)
    # The node with the most free cores first: a cell stays in one node while it fits.
    nodes = sorted(by_node, key=lambda n: (-len(by_node[n]), n))
    ordered = [core for n in nodes for core in by_node[n]]
    first = [core.cpus[0] for core in ordered]
    seconds = [cpu for core in ordered for cpu in core.cpus[1:]]
    return Placement(tuple(first + seconds + sorted(loadgen)), loadgen, len(first), topology)

