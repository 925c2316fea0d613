"""The pipeline's arrows point one way: servers -> loadtests -> results -> report."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from .helpers import REPO

FORBIDDEN = {
    "servers": {"loadtests", "report", "sharebench"},  # a server knows only its contract
    "loadtests": {"report", "sharebench"},
    "report": {"servers", "loadtests", "sharebench"},  # the report reads results/ only
    "results": {"servers", "loadtests", "report", "sharebench"},  # the schema is a leaf
}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("stage", sorted(FORBIDDEN))
def test_stage_does_not_import_later_stages(stage: str) -> None:
    offenders = {}
    for path in sorted((REPO / stage).rglob("*.py")):
        bad = imported_packages(path) & FORBIDDEN[stage]
        if bad:
            offenders[str(path.relative_to(REPO))] = sorted(bad)
    assert not offenders, f"{stage} must not import {sorted(FORBIDDEN[stage])}: {offenders}"


# loadtests/ by stage, lowest first: a stage may import its own and the ones before it.
# machine: processes, sockets, CPU and memory of this host; planning: profiles to cells,
# no process started, no network; engines: wrk and Locust; checks: what a strategy must
# pass (contract, races, knobs, soak); running: a run, cell by cell, and its manifest.
STAGES = ["machine", "planning", "engines", "checks", "running"]


def stage_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "loadtests" and parts[1] in STAGES else None


def test_loadtests_modules_all_live_in_a_stage() -> None:
    loose = [str(p.relative_to(REPO)) for p in (REPO / "loadtests").glob("*.py")
             if p.name != "__init__.py"]
    folders = sorted(p.name for p in (REPO / "loadtests").iterdir()
                     if p.is_dir() and p.name != "__pycache__")
    assert not loose, f"every loadtests module belongs to a stage folder: {loose}"
    assert folders == sorted(STAGES), f"stage folders {folders} != {sorted(STAGES)}"


def test_loadtests_stages_import_only_earlier_stages() -> None:
    paths = sorted((REPO / "loadtests").rglob("*.py"))
    modules = {module_name(path) for path in paths}
    offenders = []
    for path in paths:
        here = stage_of(module_name(path))
        for target in imported_modules(path, modules):
            there = stage_of(target)
            if here and there and STAGES.index(there) > STAGES.index(here):
                offenders.append(f"{module_name(path)} -> {target}")
    assert any(stage_of(module_name(p)) == "running" for p in paths), "the scan must see the stages"
    assert not offenders, f"a stage imports a later one: {offenders}"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path, modules: set[str]) -> set[str]:
    """The project modules ``path`` imports, at any depth of its code (imports inside
    functions too), with relative imports resolved against its package."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            # ``from pkg import name``: name is a submodule, or a thing defined in pkg
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                       for alias in node.names]
        else:
            continue
        found |= {target for target in targets if target in modules}
    found.discard(name)
    return found


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle in ``graph`` (as a path that returns to its start), or []."""
    done: set[str] = set()
    path: list[str] = []

    def visit(node: str) -> list[str]:
        if node in path:
            return path[path.index(node):] + [node]
        if node in done:
            return []
        path.append(node)
        for target in sorted(graph.get(node, ())):
            cycle = visit(target)
            if cycle:
                return cycle
        path.pop()
        done.add(node)
        return []

    for start in sorted(graph):
        cycle = visit(start)
        if cycle:
            return cycle
    return []


def test_find_cycle_finds_one() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_servers_import_graph_has_no_cycle() -> None:
    paths = sorted((REPO / "servers").rglob("*.py"))
    modules = {module_name(path) for path in paths}
    graph = {module_name(path): imported_modules(path, modules) for path in paths}
    assert graph["servers.core.processes"], "the scan must see processes.py's imports"
    assert "servers.core.processes" in graph["servers.core.serve"]  # an import inside run()
    cycle = find_cycle(graph)
    assert not cycle, f"servers modules import each other: {' -> '.join(cycle)}"


def test_report_import_graph_has_no_cycle() -> None:
    paths = sorted((REPO / "report").rglob("*.py"))
    modules = {module_name(path) for path in paths}
    graph = {module_name(path): imported_modules(path, modules) for path in paths}
    assert "report.claims.stats" in graph["report.claims.discipline"], "the scan must see the claims"
    cycle = find_cycle(graph)
    assert not cycle, f"report modules import each other: {' -> '.join(cycle)}"
