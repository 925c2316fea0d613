"""The pipeline's arrows point one way: servers -> loadtests -> results -> report."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
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
