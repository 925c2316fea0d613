"""The cost of sharing through Redis, on constructed calibration runs whose true effects are
set (tests/report_run.py): who it is compared with (by declared traits), what the rule
decides, what is left out, where Redis is the limit, and nothing without a store strategy."""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

from loadtests.running.cell import Window, _cpu
from report import RunWarning
from report.analysis import analyse
from report.claims.stats import Decision
from report.doc import Para, Table, flat
from report.frames import read_run
from report.sections.summary import rankings
from report.store_cost import FASTEST, GLOBAL_LOCK, costs
from report.terminal import summary_lines

from .report_run import write_calibration_run

QUIET = 0.01  # noise small enough that 3 repeats decide
# global-lock is faster still, but runs threads: never a rival of a process strategy.
RUN = ["global-lock", "global-lock-mp", "sharded-mp", "redis-mp"]
EFFECT = {"redis-mp": (0.5, 1.0), "sharded-mp": (1.3, 1.0), "global-lock": (2.0, 1.0)}


def _an(run: Path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RunWarning)
        return analyse(read_run(run))


def _edit(run: Path, match: str, **changes) -> None:
    paths = list((run / "cells").glob(f"{match}.json"))
    assert paths, match
    for path in paths:
        path.write_text(json.dumps(json.loads(path.read_text()) | changes))


def _text(an) -> str:
    blocks = flat(rankings(an).blocks)
    return " ".join(b.text for b in blocks if isinstance(b, Para)) + " ".join(
        str(cell) for b in blocks if isinstance(b, Table) for row in b.rows for cell in row)


def _cost(found, workload: str, cores: int, rival: str):
    return next(c for c in found if (c.workload, c.cores, c.rival) == (workload, cores, rival))


def test_redis_slower_is_decided_against_the_fastest_process_rival_and_the_global_lock(
        tmp_path: Path) -> None:
    run = write_calibration_run(tmp_path, "run", seed=5, sigma=QUIET, effect=EFFECT,
                                strategies=RUN)
    _edit(run, "redis-mp.*", p99_us=30_000)  # twice every rival's 15 ms
    an = _an(run)
    found = costs(an)
    # cpu and hot-key, 1 and 2 cores, two rivals each
    assert len(found) == 8 and {c.rival for c in found} == {"sharded-mp", "global-lock-mp"}
    fastest = _cost(found, "cpu", 2, "sharded-mp")
    assert fastest.roles == (FASTEST,) and fastest.repeats == (3, 3)
    assert fastest.rps.decision is Decision.DIFFERS and not fastest.rps.above
    assert fastest.rps.effect == pytest.approx(0.5 / 1.3, rel=0.05)
    assert fastest.rps.interval is not None and fastest.rps.high < 1 / 1.1
    assert fastest.rps.comparisons == 8
    assert fastest.p99.differs and fastest.p99.effect == pytest.approx(2.0)
    lock = _cost(found, "cpu", 2, "global-lock-mp")
    assert lock.roles == (GLOBAL_LOCK,) and lock.rps.effect == pytest.approx(0.5, rel=0.05)
    assert not fastest.left_out and not fastest.store_bound
    assert fastest.store_cpu == pytest.approx(0.6)
    text = _text(an)
    assert "Sharing through Redis (redis-mp" in text
    assert ("Sharing through Redis (redis-mp) on cpu, clean cells only, against the fastest "
            "in-process process strategy there: at 1 core, 0.3") in text
    assert "the req/s of sharded-mp, slower; p99 2.00× [2.00–2.00], longer" in text
    assert "Against the global lock across processes: at 1 core, 0.5" in text
    assert "the req/s of global-lock-mp, slower" in text
    assert "bottleneck" not in text
    terminal = " ".join(" ".join(summary_lines(an, [])).split())  # unwrapped
    assert "Through Redis (redis-mp)" in terminal and "cpu 2c vs sharded-mp 0.3" in terminal


def test_the_global_lock_as_the_fastest_is_named_once_with_both_roles(tmp_path: Path) -> None:
    run = write_calibration_run(tmp_path, "run", seed=5, sigma=QUIET,
                                effect={"redis-mp": (0.5, 1.0), "sharded-mp": (0.7, 1.0)},
                                strategies=RUN)
    found = [c for c in costs(_an(run)) if (c.workload, c.cores) == ("cpu", 1)]
    assert [(c.rival, c.roles) for c in found] == [("global-lock-mp", (FASTEST, GLOBAL_LOCK))]


def test_one_repeat_is_undecided_with_no_interval(tmp_path: Path) -> None:
    run = write_calibration_run(tmp_path, "run", seed=5, sigma=QUIET, effect=EFFECT,
                                strategies=RUN, repeats={"cpu": 1})
    an = _an(run)
    found = costs(an)
    assert found and all(c.rps.decision is Decision.UNDECIDED and c.rps.interval is None
                         and c.repeats == (1, 1) for c in found)
    assert "(one repeat: no interval)" in _text(an) and "undecided" in _text(an)


def test_flagged_cells_are_left_out_and_counted(tmp_path: Path) -> None:
    run = write_calibration_run(tmp_path, "run", seed=5, sigma=QUIET, effect=EFFECT,
                                strategies=RUN)
    _edit(run, "redis-mp.cpu.wrk.c2.u32.r0", busy_machine=True, rps=1.0)
    _edit(run, "sharded-mp.cpu.wrk.c2.u32.r1", loadgen_bound=True)
    _edit(run, "sharded-mp.cpu.wrk.c2.u32.r2", errors=3)
    an = _an(run)
    fastest = _cost(costs(an), "cpu", 2, "sharded-mp")
    assert fastest.repeats == (2, 1)
    assert {(x.what, x.why) for x in fastest.left_out} == {
        ("redis-mp.cpu.wrk.c2.u32.r0", "busy_machine"),
        ("sharded-mp.cpu.wrk.c2.u32.r1", "loadgen_bound"),
        ("sharded-mp.cpu.wrk.c2.u32.r2", "errors")}
    # the flagged 1 req/s never enters the ratio; one clean rival repeat: no interval
    assert fastest.rps.effect == pytest.approx(0.5 / 1.3, rel=0.05)
    assert fastest.rps.decision is Decision.UNDECIDED
    lock = _cost(costs(an), "cpu", 2, "global-lock-mp")
    assert lock.repeats == (2, 3) and lock.rps.differs
    assert "Left out as flagged: 3 " in _text(an)


def test_redis_at_one_core_of_cpu_is_named_the_bottleneck(tmp_path: Path) -> None:
    run = write_calibration_run(tmp_path, "run", seed=5, sigma=QUIET, effect=EFFECT,
                                strategies=RUN)
    _edit(run, "redis-mp.hot-key.wrk.c2.u32.r*", store_cpu=0.95)
    an = _an(run)
    found = costs(an)
    assert {(c.workload, c.cores) for c in found if c.store_bound} == {("hot-key", 2)}
    assert _cost(found, "hot-key", 2, "sharded-mp").store_cpu == pytest.approx(0.95)
    assert ("The Redis server itself was the bottleneck (its own CPU at 0.9 core or more: it "
            "runs commands on one thread) for redis-mp on hot-key at 2 cores (0.95 core)"
            in _text(an))
    assert "(Redis the limit)" in " ".join(summary_lines(an, []))


def test_nothing_is_said_when_no_store_strategy_ran(tmp_path: Path) -> None:
    run = write_calibration_run(tmp_path, "run", seed=5, sigma=QUIET, effect=EFFECT,
                                strategies=["global-lock-mp", "sharded-mp"])
    an = _an(run)
    assert costs(an) == []
    assert "Redis" not in _text(an)
    assert "Redis" not in "\n".join(summary_lines(an, []))


def test_a_cell_records_the_store_cpu_over_its_window_and_none_without_a_store() -> None:
    window = Window(wall=10.0, server_s=9.0, loadgen_s=3.0, loadgen_cpus_s=3.0,
                    all_cpus_s=12.0, server_cpus_s=9.0, store_s=4.5)
    assert _cpu(window, 1000.0, True, 1, 1).store_cpu == pytest.approx(0.45)
    window.store_s = None
    assert _cpu(window, 1000.0, True, 1, 1).store_cpu is None
