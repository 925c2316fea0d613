"""The machine's CPU topology from sysfs: physical cores, their SMT siblings, packages, NUMA nodes.

Read from ``<root>/cpu/cpuN/topology/{thread_siblings_list,core_id,physical_package_id}``
and ``<root>/node/nodeK/cpulist`` (root is /sys/devices/system; tests point it at a
fake tree). Only the CPUs this process may run on (``os.sched_getaffinity``) count.
A machine without ``node/`` (a kernel without NUMA) is one node. When a CPU's
topology files cannot be read, ``read`` raises TopologyError and the caller falls
back to ``flat``: every CPU its own core, in numbering order, as before topology.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

SYSFS = Path("/sys/devices/system")


class TopologyError(OSError):
    """The topology files cannot be read or make no sense; the message says which."""


@dataclass(frozen=True)
class Core:
    """One physical core: the CPUs (hardware threads) of it that we may use."""
    package: int
    core_id: int
    node: int
    cpus: tuple[int, ...]


@dataclass(frozen=True)
class Topology:
    cores: tuple[Core, ...]     # ordered by (node, package, core_id)
    source: str                 # "sysfs <root>" or "fallback: <why>"

    @property
    def fallback(self) -> bool:
        return self.source.startswith("fallback")

    @property
    def cpus(self) -> list[int]:
        return sorted(cpu for core in self.cores for cpu in core.cpus)

    @property
    def nodes(self) -> list[int]:
        return sorted({core.node for core in self.cores})

    def summary(self) -> dict:
        threads = sorted({len(core.cpus) for core in self.cores})
        return {"source": self.source, "fallback": self.fallback,
                "packages": len({core.package for core in self.cores}),
                "nodes": len(self.nodes),
                "physical_cores": len(self.cores),
                "cpus": len(self.cpus),
                "threads_per_core": threads[0] if len(threads) == 1 else threads}


def parse_cpulist(text: str) -> set[int]:
    """Kernel CPU-list syntax: ``0-3,8,10-11``."""
    cpus: set[int] = set()
    for part in text.strip().split(","):
        if not part:
            continue
        match = re.fullmatch(r"(\d+)(?:-(\d+))?", part.strip())
        if not match:
            raise ValueError(f"bad CPU list {text.strip()!r}")
        low, high = int(match[1]), int(match[2] or match[1])
        cpus.update(range(low, high + 1))
    return cpus


def _read_sysfs(path: Path) -> str:
    try:
        return path.read_text()
    except OSError as exc:
        raise TopologyError(f"cannot read {path}: {exc.strerror or exc}") from None


def read(root: Path = SYSFS, allowed: set[int] | None = None) -> Topology:
    """The topology of the ``allowed`` CPUs (default: this process's affinity, or every
    CPU of a tree that is not the real /sys)."""
    allowed = _allowed(root, allowed)
    node_of = _nodes(root)
    by_siblings: dict[tuple[int, ...], Core] = {}
    for cpu in sorted(allowed):
        base = root / "cpu" / f"cpu{cpu}" / "topology"
        try:
            siblings = tuple(sorted(parse_cpulist(_read_sysfs(base / "thread_siblings_list")) & allowed))
            core_id = int(_read_sysfs(base / "core_id"))
            package = int(_read_sysfs(base / "physical_package_id"))
        except ValueError as exc:
            raise TopologyError(f"bad topology of CPU {cpu} under {base}: {exc}") from None
        if cpu not in siblings:
            raise TopologyError(f"{base}/thread_siblings_list does not list CPU {cpu} itself")
        by_siblings.setdefault(siblings, Core(package, core_id, node_of.get(cpu, 0), siblings))
    cores = sorted(by_siblings.values(), key=lambda c: (c.node, c.package, c.core_id, c.cpus))
    seen: set[int] = set()
    for core in cores:  # sibling lists must partition the CPUs, or they are not sibling lists
        if seen & set(core.cpus):
            raise TopologyError(f"CPUs {sorted(seen & set(core.cpus))} appear in two "
                                f"thread_siblings_list files under {root / 'cpu'}")
        seen |= set(core.cpus)
    return Topology(tuple(cores), f"sysfs {root}")


def _allowed(root: Path, allowed: set[int] | None) -> set[int]:
    if allowed is not None:
        return set(allowed)
    if root == SYSFS:
        return set(os.sched_getaffinity(0))
    found = {int(m[1]) for e in (root / "cpu").glob("cpu*") if (m := re.fullmatch(r"cpu(\d+)", e.name))}
    if not found:
        raise TopologyError(f"no cpuN directories under {root / 'cpu'}")
    return found


def _nodes(root: Path) -> dict[int, int]:
    """CPU -> NUMA node; empty when the kernel has no node/ directory (one node)."""
    node_dir = root / "node"
    if not node_dir.is_dir():
        return {}
    node_of: dict[int, int] = {}
    for entry in node_dir.iterdir():
        match = re.fullmatch(r"node(\d+)", entry.name)
        if match:
            try:
                cpus = parse_cpulist(_read_sysfs(entry / "cpulist"))
            except ValueError as exc:
                raise TopologyError(f"bad {entry / 'cpulist'}: {exc}") from None
            for cpu in cpus:
                node_of[cpu] = int(match[1])
    return node_of


def flat(cpus: list[int] | set[int], why: str) -> Topology:
    """Every CPU its own core on one node, in numbering order: placement without topology."""
    return Topology(tuple(Core(0, cpu, 0, (cpu,)) for cpu in sorted(cpus)), f"fallback: {why}")


def read_or_fallback(root: Path = SYSFS, allowed: set[int] | None = None) -> Topology:
    """``read``, or ``flat`` with the reason when the topology cannot be read."""
    try:
        allowed = _allowed(root, allowed)
    except TopologyError as exc:
        return flat(os.sched_getaffinity(0), str(exc))
    try:
        return read(root, allowed)
    except TopologyError as exc:
        return flat(allowed, str(exc))


def synthetic(physical_cores: int, threads: int = 1, nodes: int = 1) -> Topology:
    """A machine that is not this one, for plans (``--machine-cores``): cores split evenly
    over nodes, siblings numbered N and N + cores as Linux does on x86."""
    per_node = -(-physical_cores // nodes)
    return Topology(tuple(Core(c // per_node, c, c // per_node,
                               tuple(t * physical_cores + c for t in range(threads)))
                          for c in range(physical_cores)),
                    f"synthetic: {physical_cores} cores x {threads} threads, {nodes} node(s)")
