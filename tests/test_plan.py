"""`sharebench run --dry-run`: every cell, its placement and the estimated time, nothing started."""
from __future__ import annotations

import re

import pytest

from sharebench.cli import main

from .fake_sysfs import fake_sysfs

BUDGET_S = 15 * 60


def _estimate_s(text: str) -> int:
    minutes, seconds = re.search(r"^estimate: (\d+)m(\d+)s", text, re.M).groups()
    return int(minutes) * 60 + int(seconds)


def _plan(capsys, tmp_path, *flags: str) -> tuple[int, str, str]:
    code = main(["run", "--dry-run", "--results", str(tmp_path / "results"), *flags])
    out, err = capsys.readouterr()
    assert not (tmp_path / "results").exists()  # nothing started, nothing written
    return code, out, err


def test_default_plan_on_this_machine(capsys, tmp_path) -> None:
    code, out, _ = _plan(capsys, tmp_path)
    assert code == 0
    cells = re.findall(r"^  (\S+\.c\d+\.u\d+(?:\.h\d+)?(?:\.o\S+)?\.r\d+)$", out, re.M)
    assert len(cells) == int(re.search(r"profile default: (\d+) cells", out)[1]) > 0
    assert re.search(r"^\s+1 core\(s\): server CPUs 0\b", out, re.M)
    assert re.search(r"^load generator: CPUs \S+;", out, re.M)
    assert _estimate_s(out) <= BUDGET_S


@pytest.mark.parametrize("machine, budget_ok", [
    (dict(packages=1, cores_per_package=16), True),
    (dict(packages=2, cores_per_package=32, nodes=2), True),
])
def test_default_plan_on_a_bigger_fake_machine(capsys, tmp_path, machine, budget_ok) -> None:
    root = fake_sysfs(tmp_path / "sys", **machine)
    code, out, _ = _plan(capsys, tmp_path, "--topology-root", str(root))
    assert code == 0
    cores = [int(c) for c in re.findall(r"^\s+(\d+) core\(s\): server", out, re.M)]
    assert cores[:4] == [1, 2, 4, 8] and len(cores) <= 8  # geometric, not 1..N
    assert "SHARED" not in out
    estimate = _estimate_s(out)
    assert 0 < estimate
    # The default profile's budget: 15 minutes on machines from 2 to 64 cores.
    assert (estimate <= BUDGET_S) == budget_ok, f"estimate {estimate} s"


def test_quick_plan_with_overrides(capsys, tmp_path) -> None:
    code, out, _ = _plan(capsys, tmp_path, "--profile", "quick", "--strategies", "async",
                         "--repeats", "2", "--machine-cores", "8")
    assert code == 0
    assert re.findall(r"^  (\S+)$", out, re.M) == ["async.write-heavy.locust.c1.u16.r0",
                                                   "async.write-heavy.locust.c1.u16.r1"]


def test_unreadable_topology_warns_and_plans_by_cpu_number(capsys, tmp_path) -> None:
    root = fake_sysfs(tmp_path / "sys", cores_per_package=4)
    (root / "cpu" / "cpu2" / "topology" / "thread_siblings_list").write_text("x\n")
    code, out, err = _plan(capsys, tmp_path, "--topology-root", str(root))
    assert code == 0
    assert re.search(r"^sharebench: warning: CPU topology not read \(.*cpu2.*\)", err, re.M)
    assert "fallback" in out


@pytest.mark.parametrize("flags, message", [
    (["--cores", "1,9", "--machine-cores", "8"], "bad core count 9"),
    (["--topology-root", "/nonexistent"], "not a directory"),
    (["--machine-cores", "0"], "machine-cores"),
])
def test_bad_plans_are_one_line_errors(capsys, tmp_path, flags, message) -> None:
    try:
        code = main(["run", "--dry-run", "--results", str(tmp_path / "r"), *flags])
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2 and message in err and not (tmp_path / "r").exists()


def test_fake_machines_need_dry_run(capsys, tmp_path) -> None:
    assert main(["run", "--machine-cores", "8", "--results", str(tmp_path / "r")]) == 2
    assert "only with --dry-run" in capsys.readouterr().err
