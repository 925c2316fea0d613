"""Which CPUs the server and the load generator get.

Disjoint sets when the machine allows: the load generator takes the last
max(1, N // 2) CPUs, the server the rest. A cell asking for more server cores
than are left grows into the load generator's CPUs and is flagged shared_cpu.
On a 2-CPU machine: server CPU 0, Locust CPU 1; a 2-core cell shares CPU 1.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from .profiles import PlanError


@dataclass(frozen=True)
class Placement:
    server_order: tuple[int, ...]   # the server's CPUs first, then the load generator's
    loadgen: frozenset[int]

    def server(self, cores: int) -> set[int]:
        return set(self.server_order[:cores])

    def describe(self, core_counts: list[int]) -> dict:
        return {"loadgen_cpus": sorted(self.loadgen),
                "server_cpus": {str(c): sorted(self.server(c)) for c in core_counts},
                "shared": {str(c): bool(self.server(c) & self.loadgen) for c in core_counts}}


def default(cpus: list[int] | None = None, loadgen_count: int | None = None) -> Placement:
    cpus = sorted(cpus if cpus is not None else os.sched_getaffinity(0))
    if len(cpus) == 1:
        return Placement(tuple(cpus), frozenset(cpus))
    count = loadgen_count or max(1, len(cpus) // 2)
    if not 1 <= count < len(cpus):
        raise PlanError(f"bad load-generator CPU count {count}: valid 1..{len(cpus) - 1}")
    loadgen = cpus[-count:]
    return Placement(tuple(cpus[:-count] + loadgen), frozenset(loadgen))


def explicit(text: str) -> Placement:
    """LOADGEN_CPUS=3,4 -> those CPUs for Locust, every other allowed CPU for the server first."""
    cpus = sorted(os.sched_getaffinity(0))
    try:
        loadgen = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise PlanError(f"bad LOADGEN_CPUS {text!r}: use CPU numbers, e.g. 1 or 2,3") from None
    if not loadgen or not set(loadgen) <= set(cpus):
        raise PlanError(f"bad LOADGEN_CPUS {text!r}: valid CPUs are {cpus}")
    rest = [c for c in cpus if c not in loadgen]
    return Placement(tuple(rest + loadgen), frozenset(loadgen))
