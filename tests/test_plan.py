"""`sharebench run --dry-run`: every cell, its placement and the estimated time, nothing started."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

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
    cells = re.findall(r"^  (\S+\.c\d+\.u\d+(?:\.w\d+)?(?:\.h\d+)?(?:\.o\S+)?\.r\d+)$", out, re.M)
    assert len(cells) == int(re.search(r"profile default: (\d+) cells", out)[1]) > 0
    assert re.search(r"^\s+1 core\(s\): server CPUs 0\b", out, re.M)
    assert re.search(r"^load generator: CPUs \S+;", out, re.M)
    assert _estimate_s(out) <= BUDGET_S


MACHINES = {"this": [], "16": ["--topology-root", "{sys16}"], "64": ["--machine-cores", "64"]}


def _machine(name: str, tmp_path: Path) -> list[str]:
    sys16 = fake_sysfs(tmp_path / "sys16", packages=1, cores_per_package=16) \
        if name == "16" else None
    return [flag.format(sys16=sys16) for flag in MACHINES[name]]


@pytest.mark.parametrize("machine", [dict(packages=1, cores_per_package=16),
                                     dict(packages=2, cores_per_package=32, nodes=2)])
def test_default_plan_on_a_bigger_fake_machine(capsys, tmp_path, machine) -> None:
    root = fake_sysfs(tmp_path / "sys", **machine)
    code, out, _ = _plan(capsys, tmp_path, "--topology-root", str(root))
    assert code == 0
    cores = [int(c) for c in re.findall(r"^\s+(\d+) core\(s\): server", out, re.M)]
    share = int(re.search(r"server's share: (\d+) physical", out)[1])
    assert cores[:2] == [1, 2] and cores[-1] == share and len(cores) <= 8  # geometric, not 1..N
    assert "SHARED" not in out
    # The default profile's budget holds on machines from 2 to 64 cores, whatever it trims.
    assert 0 < _estimate_s(out) <= BUDGET_S


def test_budget_trims_what_it_must_and_says_so(capsys, tmp_path) -> None:
    """A budget below the plan: every trimmed axis is named with its floor; nothing below
    it; blocks and strategies all still planned; an explicit REPEATS= is never trimmed."""
    code, full, _ = _plan(capsys, tmp_path, "--budget", "none")
    code, out, _ = _plan(capsys, tmp_path, "--budget", "8m")
    assert code == 0
    trims = re.findall(r"^  trimmed block (\d+) \(.*?\): (\w+) (.+) -> (.+) \(floor ([^)]+)\)",
                       out, re.M)
    assert trims and _estimate_s(out) < _estimate_s(full)
    assert "STILL OVER BUDGET" in out or _estimate_s(out) <= 8 * 60
    for _, axis, _, after, floor in trims:
        if axis == "repeats":
            assert int(after) >= int(floor)
        if axis in ("rates", "cores"):
            assert after.count(",") + 1 >= int(floor)
    ids = set(re.findall(r"^  (\S+\.r\d+)$", out, re.M))
    full_ids = set(re.findall(r"^  (\S+\.r\d+)$", full, re.M))
    assert ids < full_ids  # trimmed, not replaced
    assert {i.split(".")[0] for i in ids} == {i.split(".")[0] for i in full_ids}
    assert {i.split(".")[1] for i in ids} == {i.split(".")[1] for i in full_ids}
    code, fixed, _ = _plan(capsys, tmp_path, "--budget", "8m", "--repeats", "3")
    assert not re.search(r"^  trimmed .*: repeats", fixed, re.M)


def test_a_profile_over_budget_at_every_floor_says_so(capsys, tmp_path) -> None:
    code, out, _ = _plan(capsys, tmp_path, "--budget", "1m")
    assert code == 0 and "STILL OVER BUDGET at every block's floor" in out


ADDED = {  # module or folder -> text: four strategies a user adds, no other file edited
    "added_threads.py": "from servers import strategy\nfrom servers.ownership import Ownership\n"
                        "strategy('added-threads', model='threads', analogue='-', rule='-')"
                        "(type('AddedThreads', (Ownership,), {}))\n",
    "added_async.py": "from servers import strategy\nfrom servers.async_loop import AsyncLoop\n"
                      "strategy('added-async', model='async', analogue='-', rule='-')"
                      "(type('AddedAsync', (AsyncLoop,), {}))\n",
    "added_mp.py": "from servers import strategy\nfrom servers.ownership_mp import OwnershipMP\n"
                   "strategy('added-mp', model='processes', analogue='-', rule='-')"
                   "(type('AddedMP', (OwnershipMP,), {}))\n",
    "added-rust/strategy.toml": 'name = "added-rust"\nlanguage = "rust"\nmodel = "threads"\n'
                                'analogue = "-"\nrule = "-"\nbuild = ["false"]\n'
                                'interpreter_lock = false\ncollector = false\n'
                                'serve = ["./never-built"]\n',
}
# Each added strategy has the traits of one already there that no block names.
TWIN = {"added-threads": "ownership", "added-mp": "ownership-mp", "added-rust": "rust-ownership",
        "added-async": "async"}


def _plan_copy(copy: Path, *flags: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(copy)}
    done = subprocess.run([sys.executable, "-m", "sharebench", "run", "--dry-run", *flags],
                          cwd=copy, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    # planning builds nothing: not the added strategy, not the Rust package (`make rust`)
    assert not (copy / "servers" / "added-rust" / "never-built").exists()
    assert not (copy / "build").exists()
    return done.stdout


def _blocks(out: str, name: str) -> set[str]:
    """The cell ids of ``name`` with the strategy part cut: which blocks it got."""
    return {i.split(".", 1)[1] for i in re.findall(r"^  (\S+\.r\d+)$", out, re.M)
            if i.split(".", 1)[0] == name}


@pytest.fixture
def added(repo_copy: Path) -> Path:
    for where, text in ADDED.items():
        path = repo_copy / "servers" / where
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
    return repo_copy


@pytest.mark.parametrize("machine", list(MACHINES))
def test_added_strategies_get_every_block_they_qualify_for_within_budget(
        added: Path, tmp_path: Path, machine: str) -> None:
    out = _plan_copy(added, *_machine(machine, tmp_path))
    named = {"async": {"io"}}  # blocks that name their strategies, on purpose (comments say why)
    for name, twin in TWIN.items():
        mine, theirs = _blocks(out, name), _blocks(out, twin)
        theirs = {i for i in theirs if i.split(".")[0] not in named.get(twin, set())}
        assert mine and mine == theirs, (name, sorted(mine ^ theirs))
    # the blocks a parallel, safe strategy qualifies for: all of them but those naming theirs
    workloads = {i.split(".")[0] + (".open" if ".o" in i else "") for i in _blocks(out, "added-mp")}
    assert workloads == {"cpu", "hot-key", "read-heavy", "transfer", "cpu.open"}
    assert {i for i in _blocks(out, "added-threads") if i.startswith("hot-key")} \
        == {i for i in _blocks(out, "added-threads") if i.startswith("hot-key.wrk.c1.")}
    assert _estimate_s(out) <= BUDGET_S, out[-2000:]
    if _untrimmed_s(out) > BUDGET_S:
        assert re.search(r"^  trimmed block \d+ .*\(floor ", out, re.M), out[-2000:]


def _untrimmed_s(out: str) -> float:
    found = re.search(r"the plan as written takes ([\d.]+) min", out)
    return float(found[1]) * 60 if found else 0.0


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


def _reserve_s(text: str) -> float:
    found = re.search(r"reserve ([\d.]+) min for repeats where a verdict is still open", text)
    return float(found[1]) * 60 if found else 0.0


@pytest.mark.parametrize("machine", list(MACHINES))
def test_the_default_keeps_a_reserve_within_its_budget(capsys, tmp_path, machine) -> None:
    """The plan and its reserve together within the budget, on every machine; the reserve
    said by `make plan`; --no-adapt gives the fixed plan the whole budget."""
    code, out, _ = _plan(capsys, tmp_path, *_machine(machine, tmp_path))
    assert code == 0
    reserve = _reserve_s(out)
    assert 0 < reserve <= BUDGET_S / 4 + 6  # a quarter at most (the text rounds to 0.1 min)
    assert _estimate_s(out) + reserve <= BUDGET_S + 6
    assert "STILL OVER BUDGET" not in out
    code, fixed, _ = _plan(capsys, tmp_path, "--no-adapt", *_machine(machine, tmp_path))
    assert code == 0 and "reserve" not in fixed
    assert _estimate_s(out) <= _estimate_s(fixed) <= BUDGET_S
    def planned(text: str) -> set[tuple[str, str]]:  # every strategy and workload: none dropped
        return {tuple(i.split(".")[:2]) for i in re.findall(r"^  (\S+\.r\d+)$", text, re.M)}
    assert planned(out) == planned(fixed)


def test_a_profile_without_a_claim_keeps_no_reserve(capsys, tmp_path) -> None:
    code, out, _ = _plan(capsys, tmp_path, "--profile", "quick", "--budget", "10m")
    assert code == 0 and "reserve" not in out


def _profile_file(tmp_path: Path, head: str) -> str:
    path = tmp_path / "profiles.toml"
    path.write_text(f"[p]\ndescription = \"-\"\nwarmup = \"1s\"\nduration = \"1s\"\n{head}\n"
                    "[[p.blocks]]\nengine = \"wrk\"\nstrategies = [\"global-lock\"]\n"
                    "workloads = [\"cpu\"]\ncores = [1]\nusers = [8]\nrepeats = 12\n"
                    "min = { repeats = 1 }\n")
    return str(path)


def test_a_profile_sets_its_reserve_and_the_plan_trims_for_it(capsys, tmp_path) -> None:
    flags = ["--profile", "p", "--profile-file"]
    code, fixed, _ = _plan(capsys, tmp_path, *flags, _profile_file(tmp_path, 'budget = "2m"'))
    assert code == 0 and "reserve" not in fixed and "fits as written" in fixed
    code, out, _ = _plan(capsys, tmp_path, *flags,
                         _profile_file(tmp_path, 'budget = "2m"\nadapt = true\nreserve = 0.5'))
    # half the budget kept, or what the plan at its floor leaves after the allowance
    from loadtests.planning.budget import LOOKS_S, SPREAD
    assert code == 0 and _reserve_s(out) == pytest.approx(
        min(60, 120 - _estimate_s(out) - SPREAD * 60 - LOOKS_S), abs=6)  # the text: 0.1 min
    assert re.search(r"^  trimmed block 1 \(cpu, wrk\): repeats 12 -> \d+ \(floor 1\)", out, re.M)
    assert _estimate_s(out) <= 60 < _estimate_s(fixed)


@pytest.mark.parametrize("head, named", [("adapt = \"yes\"", "adapt must be true or false"),
                                         ("reserve = 0.9", "reserve is the budget's share"),
                                         ("reserve = 0", "reserve is the budget's share")])
def test_bad_adapt_keys_are_rejected(capsys, tmp_path, head: str, named: str) -> None:
    code, _, err = _plan(capsys, tmp_path, "--profile", "p", "--profile-file",
                         _profile_file(tmp_path, head))
    assert code == 2 and named in err


def test_a_reserve_never_takes_the_plan_over_its_budget() -> None:
    from loadtests.planning.budget import LOOKS_S, SPREAD, Budget
    assert Budget(900, 1200, 600, reserve_share=0.25).reserve_s == 225  # a quarter
    floors = Budget(900, 1200, 700, reserve_share=0.25)  # the floors leave less
    # less the allowance for the planned cells' spread and the looks
    assert floors.allowance_s == pytest.approx(SPREAD * 675 + LOOKS_S)
    assert floors.reserve_s == pytest.approx(200 - floors.allowance_s) and floors.fits
    assert floors.planned_s == pytest.approx(675 - floors.allowance_s)
    assert Budget(900, 1200, 950, reserve_share=0.25).reserve_s == 0
    assert Budget(None, 600, 600, reserve_share=0.25).reserve_s == 200  # a quarter of the whole
    assert Budget(900, 600, 600).reserve_s == 0 and not Budget(900, 600, 600).adapts
