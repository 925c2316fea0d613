"""Constructed cases for each claim's outcomes, on calibration runs (tests/report_run.py)
whose true effects are set: what each claim concludes, what it leaves out and why, and
what the adaptive-repeats runner is told is still open."""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

from report import RunWarning
from report.analysis import analyse
from report.choices import choices
from report.claims import Outcome, judge, judge_run
from report.claims.open_questions import open_questions
from report.frames import read_run
from results.ids import KEY

from .report_run import write_calibration_run

QUIET = 0.01  # noise small enough that 3 repeats decide either way
THREADS = ["global-lock", "ownership", "message-passing"]
PROCESSES = ["global-lock-mp", "sharded-mp"]


def _an(run: Path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RunWarning)
        return analyse(read_run(run))


def _result(run: Path, claim: str, scope: str = "CPython"):
    return next(r for r in judge(_an(run)) if (r.claim, r.scope) == (claim, scope))


def _edit(run: Path, match: str, **changes) -> None:
    for path in (run / "cells").glob(f"{match}.json"):
        record = json.loads(path.read_text())
        path.write_text(json.dumps(record | changes))


@pytest.mark.parametrize("strategies, effect, outcome", [
    (THREADS, {"ownership": (1.0, 1.5)}, Outcome.SUPPORTED),        # a discipline decides
    (THREADS, {}, Outcome.NO_DIFFERENCE),                            # threads only, level
    (PROCESSES, {}, Outcome.NO_DIFFERENCE),                          # processes only, level
    (THREADS + PROCESSES, {s: (1.0, 1.5) for s in PROCESSES}, Outcome.CONTRADICTED),  # the model
])
def test_cpython_discipline_is_computed_in_every_case(tmp_path: Path, strategies, effect,
                                                      outcome) -> None:
    run = write_calibration_run(tmp_path, "run", seed=3, sigma=QUIET, effect=effect,
                                strategies=strategies)
    r = _result(run, "discipline")
    assert r.outcome is outcome, r.text()
    assert r.effect is not None and r.interval is not None and "nan" not in r.text()
    if outcome is not Outcome.NO_DIFFERENCE:
        assert r.effect == pytest.approx(1.5, rel=0.05)


def test_a_speedup_beyond_the_cpu_it_used_is_left_out(tmp_path: Path) -> None:
    """One event loop using one CPU at both core counts cannot gain 1.5x from a second core:
    a depressed one-core cell can. That speedup is left out, never counted."""
    run = write_calibration_run(tmp_path, "run", seed=4, sigma=QUIET,
                                strategies=["async", "global-lock", "ownership"])
    _edit(run, "async.*.c2.*", server_cpu=0.97)
    r = _result(run, "discipline")
    failed = [c for c in r.conditions if not c.passed]
    assert failed and failed[0].name == "speedup within the server CPU used"
    assert any(x.what.startswith("async,") and "server CPU" in x.why for x in r.left_out)
    assert all("async" not in c.what for c in r.comparisons)


def test_every_cell_flagged_is_not_judged_and_nothing_is_open(tmp_path: Path) -> None:
    run = write_calibration_run(tmp_path, "run", seed=5, sigma=QUIET)
    _edit(run, "*", busy_machine=True)
    an = _an(run)
    found = {(r.claim, r.scope): r for r in judge(an)}
    for key in (("discipline", "CPython"), ("discipline", "Rust"), ("stateless", "CPython threads")):
        assert found[key].outcome is Outcome.NOT_JUDGED, found[key].text()
        assert found[key].left_out  # each flagged group named, with its flag
    assert all("busy_machine" in x.why for x in found[("discipline", "CPython")].left_out)
    assert choices(an) == [] and open_questions(an) == []  # repeats cannot cure a flag


def test_stateless_is_judged_within_its_execution_model(tmp_path: Path) -> None:
    run = write_calibration_run(tmp_path, "run", seed=6, sigma=QUIET,
                                effect={"stateless": (1.5, 1.0)})
    found = {r.scope: r for r in judge(_an(run)) if r.claim == "stateless"}
    assert found["CPython threads"].outcome is Outcome.SUPPORTED
    assert found["CPython threads"].effect == pytest.approx(1.5, rel=0.05)
    # no process-model ceiling ran: the process variants are never set against a threaded one
    processes = found["CPython processes"]
    assert processes.outcome is Outcome.NOT_JUDGED and not processes.conditions[0].passed
    behind = write_calibration_run(tmp_path, "behind", seed=6, sigma=QUIET,
                                   effect={"stateless": (0.6, 1.0)})
    assert _result(behind, "stateless", "CPython threads").outcome is Outcome.CONTRADICTED


def test_an_undecided_row_names_the_flag_no_repeat_cures(tmp_path: Path) -> None:
    """One repeat a side leaves stateless undecided; once its 2-core cells are marked as
    sharing a CPU with the load generator (S), the row says so, and claims.json carries it."""
    run = write_calibration_run(tmp_path, "run", seed=8, sigma=QUIET,
                                effect={"stateless": (1.05, 1.0)}, repeats={"cpu": 1})
    plain = _result(run, "stateless", "CPython threads")
    assert plain.outcome is Outcome.UNDECIDED and not plain.uncured
    _edit(run, "*.cpu.*.c2.*", shared_cpu=True)
    shared = _result(run, "stateless", "CPython threads")
    assert shared.outcome is Outcome.UNDECIDED and shared.uncured.startswith("S: ")
    assert shared.uncured in shared.short_basis() and shared.to_json()["uncured"] == shared.uncured
    assert all(not r.uncured for r in judge(_an(run)) if r.outcome is not Outcome.UNDECIDED)


def test_what_to_use_names_a_winner_only_when_it_clears_the_rest(tmp_path: Path) -> None:
    run = write_calibration_run(tmp_path, "run", seed=7, sigma=QUIET,
                                effect={"ownership": (1.5, 1.0), "rust-ownership": (1.5, 1.0)},
                                strategies=THREADS + ["rust-ownership", "rust-global-lock"])
    # message-passing lost an update once: never recommended, wherever it ranks
    _edit(run, "message-passing.cpu.wrk.c1.u32.r0", lost_updates=1, correct=False)
    # global-lock measured the load generator's limit at 2 cores: a lower bound
    _edit(run, "global-lock.*.c2.*", loadgen_bound=True)
    by = {(c.workload, c.cores, c.language): c for c in choices(_an(run))}
    one = by[("cpu", 1, "python")]
    assert one.leader == "ownership" and one.decided and one.runner_up == "global-lock"
    assert one.interval is not None and one.interval[0] > 1.1 and one.repeats == 3
    assert "message-passing" in one.excluded
    assert all("message-passing" not in (c.leader, *c.ties) for c in by.values())
    two = by[("cpu", 2, "python")]
    # global-lock's bound figure (2/3 of ownership's) may exceed it: a tie, never below
    assert two.leader == "ownership" and "global-lock" in two.ties and not two.decided
    rust = by[("cpu", 1, "rust")]
    assert rust.leader == "rust-ownership" and rust.decided
    # a bound figure is a tie more repeats cannot cure: never an open question
    assert all("global-lock" not in q.what for q in open_questions(_an(run))
               if q.claim == "what-to-use" and "2 cores" in q.what)


def test_open_questions_name_the_cells_more_repeats_could_decide(tmp_path: Path) -> None:
    run = write_calibration_run(tmp_path, "run", seed=8, effect={"stateless": (1.12, 1.0)},
                                repeats={"cpu": 2})
    an = _an(run)
    found = open_questions(an)
    assert found and {q.priority for q in found} <= {0, 1}
    assert any(q.claim == "stateless" and q.priority == 0 for q in found), found
    for q in found:
        for group in q.groups:
            assert set(group) <= set(KEY) | {"workers", "python"} and "repeat" not in group
            assert group["workload"] == "cpu"
    # more looks at the same run widen every interval: optional stopping stays honest
    once, thrice = judge_run(run), judge_run(run, looks=3)
    for a, b in zip(once, thrice):
        if a.interval and b.interval and not a.estimate.exact:
            assert b.interval[0] <= a.interval[0] and b.interval[1] >= a.interval[1]


@pytest.mark.parametrize("held_longest", ["cpu", "hot-key"])
def test_more_repeats_are_asked_where_the_shared_state_is_held_longest(tmp_path: Path,
                                                                      held_longest) -> None:
    """A discipline comparison with one repeat everywhere asks for one workload's cells:
    the one whose definition holds the shared state longest (writes times hold_us)."""
    run = write_calibration_run(tmp_path, "run", seed=8, repeats={"cpu": 1, "hot-key": 1})
    manifest = json.loads((run / "manifest.json").read_text())
    for name, spec in manifest["workloads"].items():
        hold = 80 if name == held_longest else 10
        spec.update(mix={"get": 20, "incr": 80}, server={"hold_us": hold})
    (run / "manifest.json").write_text(json.dumps(manifest))
    pair = [q for q in open_questions(_an(run)) if q.claim == "discipline"
            and q.what.startswith("global-lock's speedup over ownership's")]
    assert pair and {g["workload"] for q in pair for g in q.groups} == {held_longest}


def test_unrepeated_discipline_comparisons_ask_the_workload_they_all_ran(tmp_path: Path) -> None:
    """On 2 cores the in-process disciplines reach two core counts on cpu only: the processes
    pair, which also ran hot-key (held longer), asks cpu too, so one round's cells feed every
    deciding comparison, whatever each one's own effect."""
    ends = ["global-lock", "ownership", "global-lock-mp", "ownership-mp"]
    run = write_calibration_run(tmp_path, "run", seed=8, repeats={"cpu": 1, "hot-key": 1},
                                sigma=QUIET, strategies=ends)
    manifest = json.loads((run / "manifest.json").read_text())
    for name, spec in manifest["workloads"].items():
        spec.update(mix={"get": 20, "incr": 80}, server={"hold_us": 80 if name == "hot-key" else 10})
    (run / "manifest.json").write_text(json.dumps(manifest))
    for name in ("global-lock", "ownership"):
        for path in (run / "cells").glob(f"{name}.hot-key.*.c2.*.json"):
            path.unlink()
    asked = [q for q in open_questions(_an(run)) if q.claim == "discipline"]
    pair = [q for q in asked if q.what.startswith(("global-lock-mp's", "ownership-mp's"))]
    assert pair and "hot-key" in pair[0].what, asked  # it ran both workloads
    assert len(asked) == 3, [q.what for q in asked]
    assert {g["workload"] for q in asked for g in q.groups} == {"cpu"}


def test_speedups_span_the_core_counts_most_strategies_share(tmp_path: Path) -> None:
    """On a larger machine the process variants also ran at 4 cores: the speedups compared
    span 1 to 2 cores, where the in-process disciplines were measured too (never each
    strategy's own highest)."""
    run = write_calibration_run(tmp_path, "run", seed=9, sigma=QUIET,
                                effect={s: (1.0, 1.5) for s in PROCESSES},
                                strategies=THREADS + PROCESSES)
    for path in list((run / "cells").glob("*-mp.cpu.*.c2.*.json")):
        record = json.loads(path.read_text())
        record.update(cores=4, cell_id=record["cell_id"].replace(".c2.", ".c4."),
                      rps=record["rps"] * 1.8, server_cpu=record["server_cpu"] * 1.8)
        (path.parent / f"{record['cell_id']}.json").write_text(json.dumps(record))
    r = _result(run, "discipline")
    assert r.outcome is Outcome.CONTRADICTED, r.text()
    on_cpu = [c for c in r.comparisons if c.what == "the process variants' speedup over the "
              "in-process disciplines' on cpu"]
    assert on_cpu and {g["cores"] for g in on_cpu[0].groups} == {1, 2}


def test_closed_loop_async_is_not_judged_against_a_capped_thread_server(tmp_path: Path) -> None:
    from .report_run import write_run
    run = write_run(tmp_path, damaged=False)
    _edit(run, "async.io.locust.c1.u256.*", errors=0, errors_by_kind={})
    judged = _result(run, "async")
    assert judged.outcome is Outcome.UNDECIDED and judged.interval is None  # one repeat a side
    assert "256 users, 1 cores" in judged.compared
    for name in ("global-lock", "ownership", "message-passing"):
        _edit(run, f"{name}.io.*", connection_cap=100)  # serves 100 of 256 connections
    capped = _result(run, "async")
    assert capped.outcome is Outcome.NOT_JUDGED
    assert any(not c.passed and "100 of 256" in c.detail for c in capped.conditions)
