"""Placement on synthetic machines (fake sysfs trees): whole physical cores, no SMT
sibling shared with the load generator, NUMA locality; the fallback when sysfs fails."""
from __future__ import annotations

import pytest

from loadtests.machine import topology
from loadtests.planning import PlanError, placement
from loadtests.planning.profiles import core_series

from .fake_sysfs import fake_sysfs

MACHINES = {  # name -> fake_sysfs arguments
    "2": dict(cores_per_package=2),
    "4": dict(cores_per_package=4),
    "8-smt": dict(cores_per_package=4, threads=2),           # siblings 0/4, 1/5, ...
    "16": dict(cores_per_package=16),
    "64-2numa": dict(packages=2, cores_per_package=16, threads=2, nodes=2),
    "128": dict(packages=2, cores_per_package=32, threads=2, nodes=2),
}


def _machine(tmp_path, name):
    return topology.read(fake_sysfs(tmp_path / name, **MACHINES[name]))


def _core_of(topo):
    return {cpu: core for core in topo.cores for cpu in core.cpus}


@pytest.mark.parametrize("name", MACHINES)
@pytest.mark.parametrize("fraction", [0.5, 0.2])
def test_server_cores_are_distinct_physical_cores_apart_from_the_load_generator(
        tmp_path, name, fraction) -> None:
    topo = _machine(tmp_path, name)
    core_of = _core_of(topo)
    place = placement.default(topo, fraction=fraction)
    loadgen_cores = {core_of[cpu] for cpu in place.loadgen}
    # the load generator has whole physical cores: every thread of each
    assert place.loadgen == {cpu for core in loadgen_cores for cpu in core.cpus}
    assert place.share == len(topo.cores) - len(loadgen_cores) >= 1
    for n in range(1, place.share + 1):
        cpus = place.server(n)
        assert len(cpus) == n
        assert len({core_of[cpu] for cpu in cpus}) == n, (n, sorted(cpus))  # no two siblings
        assert not {core_of[cpu] for cpu in cpus} & loadgen_cores, (n, sorted(cpus))
    # beyond the share: the server's own second threads before the load generator's CPUs
    extra = place.server_order[place.share:len(place.server_order) - len(place.loadgen)]
    assert {core_of[cpu] for cpu in extra} <= {core_of[cpu] for cpu in place.server(place.share)}
    assert set(place.server_order) == set(topo.cpus)


def test_sizes_on_the_synthetic_machines(tmp_path) -> None:
    summaries = {name: _machine(tmp_path, name).summary() for name in MACHINES}
    assert summaries["8-smt"] == {**summaries["8-smt"], "cpus": 8, "physical_cores": 4,
                                  "threads_per_core": 2, "nodes": 1, "packages": 1}
    assert summaries["64-2numa"] == {**summaries["64-2numa"], "cpus": 64, "physical_cores": 32,
                                     "nodes": 2, "packages": 2}
    assert summaries["128"]["cpus"] == 128 and summaries["128"]["physical_cores"] == 64


def test_smt_siblings_are_never_split_between_server_and_load_generator(tmp_path) -> None:
    topo = _machine(tmp_path, "8-smt")   # cores {0,4} {1,5} {2,6} {3,7}
    place = placement.default(topo)
    assert place.loadgen == {2, 3, 6, 7}
    assert place.server(2) == {0, 1}
    assert place.server(3) <= {0, 1, 4, 5} and not place.server(4) & place.loadgen


@pytest.mark.parametrize("name", ["64-2numa", "128"])
def test_a_cell_stays_in_one_numa_node_until_it_needs_more(tmp_path, name) -> None:
    topo = _machine(tmp_path, name)
    node_of = {cpu: core.node for core in topo.cores for cpu in core.cpus}
    per_node = len(topo.cores) // 2
    for fraction in (0.5, 0.2):
        place = placement.default(topo, fraction=fraction)
        free = {n: sum(1 for core in topo.cores if core.node == n
                       and not set(core.cpus) & place.loadgen) for n in topo.nodes}
        biggest = max(free.values())
        for n in range(1, place.share + 1):
            nodes = {node_of[cpu] for cpu in place.server(n)}
            assert len(nodes) == (1 if n <= biggest else 2), (fraction, n, nodes)
    half = placement.default(topo, fraction=0.5)  # the load generator fills one node
    assert {node_of[cpu] for cpu in half.loadgen} == {1}
    assert {node_of[cpu] for cpu in half.server(per_node)} == {0}


def test_two_cpus_keep_server_0_and_load_generator_1(tmp_path) -> None:
    place = placement.default(_machine(tmp_path, "2"), fraction=0.2)
    assert place.server(1) == {0} and place.loadgen == {1} and place.share == 1
    assert place.server(2) == {0, 1}  # grows into the load generator's CPU: shared_cpu
    assert place.describe([1, 2])["shared"] == {"1": False, "2": True}


@pytest.mark.parametrize("threads", [1, 2])
def test_one_physical_core_is_shared_and_says_so(tmp_path, threads) -> None:
    place = placement.default(topology.read(fake_sysfs(tmp_path / "m", threads=threads)))
    assert place.server(1) == {0} and place.loadgen == {threads - 1} and place.share == 1
    assert place.server(threads) == set(range(threads))
    assert place.describe([1])["shared"]["1"] is (threads == 1)


def test_load_generator_share_follows_the_cost_per_request(tmp_path) -> None:
    topo = _machine(tmp_path, "128")  # 64 physical cores
    heavy = placement.loadgen_fraction([(326.0, 100.0), (66.0, 100.0)])  # cpu leads
    assert heavy == pytest.approx(100 / (100 + 326))
    assert placement.default(topo, fraction=heavy).share == 64 - round(64 * heavy)
    assert placement.loadgen_fraction([(326.0, 5.0)]) == pytest.approx(5 / 331)  # wrk: cheap
    assert placement.default(topo, fraction=5 / 331).share == 63                 # one core
    assert placement.loadgen_fraction([(16.0, 100.0)]) == 0.5   # capped at half
    assert placement.loadgen_fraction([]) == 0.5                # unknown: the fixed half


def test_explicit_load_generator_cpus_keep_the_server_off_their_siblings(tmp_path) -> None:
    topo = _machine(tmp_path, "8-smt")
    place = placement.explicit("1", topo)
    assert place.loadgen == {1} and place.share == 3
    assert 5 not in place.server(6)            # CPU 5 is CPU 1's sibling: last resort
    assert place.server_order[-2:] == (5, 1)
    with pytest.raises(PlanError, match="valid CPUs"):
        placement.explicit("9", topo)


def test_unreadable_topology_falls_back_to_cpu_numbers(tmp_path) -> None:
    root = fake_sysfs(tmp_path / "m", cores_per_package=4, threads=2)
    (root / "cpu" / "cpu5" / "topology" / "core_id").unlink()
    with pytest.raises(topology.TopologyError, match="cpu5"):
        topology.read(root)
    found = topology.read_or_fallback(root)
    assert found.fallback and "cpu5" in found.source and found.summary()["fallback"]
    place = placement.default(found)
    assert place.loadgen == {4, 5, 6, 7} and place.server_order[:4] == (0, 1, 2, 3)


def test_machine_without_numa_directory_is_one_node(tmp_path) -> None:
    topo = topology.read(fake_sysfs(tmp_path / "m", cores_per_package=4, numa_dir=False))
    assert topo.nodes == [0] and len(topo.cores) == 4


def test_only_the_allowed_cpus_count(tmp_path) -> None:
    topo = topology.read(fake_sysfs(tmp_path / "m", cores_per_package=4, threads=2),
                         allowed={0, 1, 4})
    assert [core.cpus for core in topo.cores] == [(0, 4), (1,)]


def test_this_machine_reads(tmp_path) -> None:
    found = topology.read_or_fallback()
    assert not found.fallback, found.source
    assert len(found.cpus) == len(__import__("os").sched_getaffinity(0))


@pytest.mark.parametrize("share, machine, series", [
    (1, 1, [1]), (1, 2, [1, 2]), (3, 4, [1, 2, 3]), (4, 8, [1, 2, 4]),
    (13, 16, [1, 2, 4, 8, 13]), (51, 64, [1, 2, 4, 8, 16, 32, 51]),
])
def test_all_cores_is_a_geometric_series_to_the_servers_share(share, machine, series) -> None:
    assert core_series(share, machine) == series


def test_the_server_starts_in_the_node_with_most_free_cores(tmp_path) -> None:
    topo = _machine(tmp_path, "64-2numa")   # node 0: cores 0-15 (+32-47), node 1: 16-31
    node_of = {cpu: core.node for core in topo.cores for cpu in core.cpus}
    place = placement.explicit("0,1,2,3", topo)  # Locust in node 0: node 1 has more room
    assert {node_of[cpu] for cpu in place.server(16)} == {1}
    assert {node_of[cpu] for cpu in place.server(17)} == {0, 1}
