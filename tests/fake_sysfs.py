"""A synthetic /sys/devices/system tree for topology and placement tests."""
from __future__ import annotations

from pathlib import Path


def fake_sysfs(root: Path, packages: int = 1, cores_per_package: int = 1,
               threads: int = 1, nodes: int = 1, numa_dir: bool = True) -> Path:
    """Write a synthetic sysfs tree numbered as Linux does on x86: every core's first
    thread first (CPUs 0..C-1), then the second threads (C..2C-1), so siblings are
    N and N+C. Nodes split the cores evenly."""
    total = packages * cores_per_package
    per_node = max(1, total // nodes)
    for t in range(threads):
        for c in range(total):
            cpu = t * total + c
            base = root / "cpu" / f"cpu{cpu}" / "topology"
            base.mkdir(parents=True, exist_ok=True)
            siblings = ",".join(str(s * total + c) for s in range(threads))
            (base / "thread_siblings_list").write_text(siblings + "\n")
            (base / "core_id").write_text(f"{c % cores_per_package}\n")
            (base / "physical_package_id").write_text(f"{c // cores_per_package}\n")
    if numa_dir:
        for n in range(nodes):
            cores = range(n * per_node, total if n == nodes - 1 else (n + 1) * per_node)
            cpus = sorted(t * total + c for t in range(threads) for c in cores)
            (root / "node" / f"node{n}").mkdir(parents=True, exist_ok=True)
            (root / "node" / f"node{n}" / "cpulist").write_text(",".join(map(str, cpus)) + "\n")
    return root
