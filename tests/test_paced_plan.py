"""Planning paced wrk cells (many connections, each at a fixed pace): checked before
anything starts, from the machine's descriptor limit and the servers' keep-alive."""
from __future__ import annotations

from pathlib import Path

import pytest

from loadtests.machine.limits import FD_MARGIN, fd_limit
from loadtests.planning import PlanError, profiles
from loadtests.planning.cells import Overrides
from loadtests.planning.engine_costs import PACED_RAMP_S
from servers import discover
from sharebench.cli import main

PACED = """
[p]
warmup = "1s"
duration = "2s"
[[p.blocks]]
engine = "wrk"
strategies = {strategies}
workloads = ["io"]
cores = [1]
users = [{users}]
rates = [{rate}]
{extra}
"""


def _plan(tmp_path: Path, users: str, extra: str = "", rate: int = 2000,
          strategies: str = '["global-lock", "async-raw"]'):
    path = tmp_path / "profiles.toml"
    path.write_text(PACED.format(users=users, extra=extra, rate=rate, strategies=strategies))
    traits = {name: spec.traits.to_dict() for name, spec in discover().items()}
    plan, _ = profiles.build("p", Overrides(), traits, machine_cores=2, path=path)
    return plan


def test_the_largest_point_comes_from_the_descriptor_limit(tmp_path: Path) -> None:
    plan = _plan(tmp_path, '100, "max"')
    most = max(cell.users for cell in plan.cells)
    assert most == (fd_limit() - FD_MARGIN) // 1000 * 1000 or fd_limit() < 2000
    assert most + FD_MARGIN <= fd_limit()


def test_a_paced_warm_up_lasts_one_interval_and_the_ramp(tmp_path: Path) -> None:
    plan = _plan(tmp_path, "100, 4000")
    warmups = {cell.users: cell.warmup for cell in plan.cells}
    assert warmups[4000] == pytest.approx(4000 / 2000 + PACED_RAMP_S)
    assert warmups[100] == pytest.approx(max(1.0, 100 / 2000 + PACED_RAMP_S))


def test_an_interval_the_servers_would_not_wait_for_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match="wait 20 s between requests"):
        _plan(tmp_path, "10000", rate=500)


def test_a_block_can_raise_the_servers_workers(tmp_path: Path) -> None:
    plan = _plan(tmp_path, "1000", extra="workers = 12000", strategies='["global-lock"]')
    assert {cell.workers for cell in plan.cells} == {12000}
    assert all(".u1000.w12000.o2000.r0" in cell.id for cell in plan.cells)
    with pytest.raises(PlanError, match="bad workers"):
        _plan(tmp_path, "1000", extra='workers = "many"')
    # one event loop cannot take 12000 workers: refused by the plan, as the server would
    with pytest.raises(PlanError, match="async-raw runs one event loop"):
        _plan(tmp_path, "1000", extra="workers = 12000")


def test_more_connections_than_descriptors_is_one_line_before_anything_starts(
        capsys, tmp_path: Path) -> None:
    path = tmp_path / "profiles.toml"
    path.write_text(PACED.format(users=fd_limit() + 1, extra="", rate=20000,
                                 strategies='["global-lock", "async-raw"]'))
    code = main(["run", "--no-report", "--profile", "p", "--profile-file", str(path), "--results",
                 str(tmp_path / "results")])
    err = capsys.readouterr().err
    assert code == 2 and err.strip().count("\n") == 0, err
    assert "file-descriptor hard limit" in err and "ulimit -Hn" in err
    assert not (tmp_path / "results").exists()
