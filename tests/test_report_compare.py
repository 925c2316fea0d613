"""compare: B/A per cell, a Mann–Whitney verdict from the repeats, environment warnings."""
from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from report import RunWarning, compare_runs, render_comparison, write_comparison
from report.claims import Outcome, judge_run
from sharebench.cli import main

from .report_run import write_run


def _row(comparison, strategy: str, cores: int, metric: str = "req/s"):
    rows = comparison.rows
    found = rows[(rows["strategy"] == strategy) & (rows["workload"] == "cpu")
                 & (rows["cores"] == cores) & (rows["metric"] == metric)]
    assert len(found) == 1
    return found.iloc[0]


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("results")
    a = write_run(root, "20250101-120000-default", repeats=5, damaged=False, seed=1)
    b = write_run(root, "20250102-120000-default", repeats=5, damaged=False, seed=2,
                  rps_scale={"global-lock.cpu.c1": 0.80},  # a 20% regression in one cell
                  environment={"git_commit": "f" * 40})
    return a, b


def _compare(a: Path, b: Path, threshold: float = 0.10):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RunWarning)
        return compare_runs(a, b, threshold)


def test_a_real_regression_is_significant(pair) -> None:
    comparison = _compare(*pair)
    row = _row(comparison, "global-lock", 1)
    assert row["ratio"] == pytest.approx(0.80, abs=0.02)
    assert row["significance"] == "significant" and row["p"] < 0.05
    assert row["verdict"] == "REGRESSION"
    regressions = comparison.regressions  # fewer req/s, so a longer queue: p99 regressed too
    assert set(zip(regressions["strategy"], regressions["cores"], regressions["metric"])) == {
        ("global-lock", 1, "req/s"), ("global-lock", 1, "p99 ms")}


def test_no_change_is_not_significant(pair) -> None:
    a, b = pair
    rows = _compare(a, b).rows
    unchanged = rows[~((rows["strategy"] == "global-lock") & (rows["cores"] == 1)
                       & (rows["workload"] == "cpu"))]
    unchanged = unchanged[unchanged["metric"] == "req/s"]
    # 1% noise never crosses the 10% threshold, so nothing unchanged is called a change...
    assert set(unchanged["verdict"]) <= {"no change", "within threshold"}
    # ...and at α = 0.05 only the odd cell is called significant by chance.
    tested = unchanged[unchanged["significance"].isin(["significant", "not significant"])]
    assert len(tested) >= 10 and (tested["significance"] == "not significant").mean() >= 0.8
    same = _compare(a, a).rows  # a run against itself: nothing is significant
    assert set(same["verdict"]) == {"no change"}
    assert set(same.loc[same["workload"] == "cpu", "significance"]) == {"not significant"}
    assert set(same.loc[same["workload"] == "io", "significance"]) == {"too few repeats (1 vs 1)"}


def test_too_few_repeats_cannot_be_significant(tmp_path: Path) -> None:
    a = write_run(tmp_path, "a", repeats=3, cores_list=(1,), damaged=False, seed=1)
    b = write_run(tmp_path, "b", repeats=3, cores_list=(1,), damaged=False, seed=2,
                  rps_scale={"global-lock.cpu.c1": 0.5})
    row = _row(_compare(a, b), "global-lock", 1)
    # 3 vs 3 repeats: the smallest two-sided p is 0.1, so no verdict can be "significant".
    assert row["significance"] == "too few repeats (3 vs 3)"
    assert row["verdict"] == "worse? (too few repeats)"


def test_same_environment_gives_no_warning_and_notes_the_commit(pair) -> None:
    comparison = _compare(*pair)
    assert comparison.env_warnings == []
    assert any("git_commit" in note for note in comparison.notes)


def test_a_different_machine_is_warned_about(tmp_path: Path) -> None:
    a = write_run(tmp_path, "a", damaged=False, repeats=1, cores_list=(1,))  # environments only
    b = write_run(tmp_path, "b", damaged=False, repeats=1, cores_list=(1,),
                  environment={"cpu_model": "Other CPU", "python": "CPython 3.12.1"})
    comparison = _compare(a, b)
    assert any("cpu_model" in w and "Other CPU" in w for w in comparison.env_warnings)
    assert any("python" in w for w in comparison.env_warnings)
    assert "WARNING: the runs' environments differ" in render_comparison(comparison)


def test_written_table_and_cli_exit_code(pair, capsys: pytest.CaptureFixture) -> None:
    a, b = pair
    md, csv = write_comparison(_compare(a, b), b)
    assert md.name == f"compare-{a.name}.md" and csv.exists()
    assert "| global-lock | cpu | 1 | 32 | req/s |" in md.read_text()
    assert main(["compare", str(a), str(b)]) == 1  # a significant regression fails the command
    out = capsys.readouterr().out
    assert "2 significant regressions." in out and "REGRESSION" in out
    assert main(["compare", str(a), str(a), "--threshold", "0.05"]) == 0


def test_compare_lists_the_claims_whose_outcome_differs(tmp_path: Path) -> None:
    a = write_run(tmp_path, "a", damaged=False, seed=1)
    # In B the process variant no longer scales: CPython's part of the discipline claim changes.
    b = write_run(tmp_path, "b", damaged=False, seed=2,
                  rps_scale={"global-lock-mp.cpu.c2": 1 / 1.75, "global-lock-mp.io.c2": 0.5})
    comparison = _compare(a, b)
    assert comparison.claims_compared == len(judge_run(a))
    changed = {(x.claim, x.scope): (x, y) for x, y in comparison.changed if x and y}
    assert ("discipline", "CPython") in changed, render_comparison(comparison)
    before, after = changed[("discipline", "CPython")]
    assert before.outcome is Outcome.CONTRADICTED and after.outcome is not Outcome.CONTRADICTED
    assert "discipline" in render_comparison(comparison)
    same = _compare(a, a)  # a run against itself: every outcome the same
    assert same.changed == [] and "no outcome differs" in render_comparison(same)
