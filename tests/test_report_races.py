"""A strategy declared safe that the preemption stress check caught losing updates is
reported as racy: never ranked, named first in the summary, in the races claim."""
from __future__ import annotations

from pathlib import Path

import pytest

from report.analysis import analyse
from report.choices import choices
from report.claims import Outcome, claims, races
from report.findings import ranking
from report.frames import read_run

from .helpers import report_sections
from .report_run import SYNTHETIC, write_run


def _entry(races: bool, lost: int = 0, acked: int = 9000) -> dict:
    return {"switch_interval_s": 1e-06, "races": races, "lost": lost, "acked": acked, "error": "",
            "runs": []}


def stress(racy: str) -> dict:
    """Every stateful strategy checked; `racy` (declared safe) and `unsafe` lost updates."""
    out = {name: _entry(False) for name, spec in SYNTHETIC.items() if spec[1] != "no-state"}
    out[racy] = _entry(True, lost=5535)
    out["unsafe"] = _entry(True, lost=4000)
    return out


@pytest.fixture(scope="module")
def racy_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # ownership is the fastest safe strategy on cpu at one core in the fixture: the one
    # that would lead the ranking if its race went unnoticed.
    return write_run(tmp_path_factory.mktemp("racy"), damaged=False, races=stress("ownership"))


def test_a_racy_safe_strategy_is_never_ranked(racy_run: Path) -> None:
    an = analyse(read_run(racy_run))
    assert set(an.racy) == {"ownership"}  # unsafe races too, but it was never safe
    assert not an.ranked("ownership") and an.ranked("global-lock")
    for workload in an.workloads:
        ranked, reference = ranking(an, workload)
        assert "ownership" not in {r["strategy"] for r in ranked}
        assert "ownership" in {r["strategy"] for r in reference}


def test_the_summary_names_the_racy_strategy_first(racy_run: Path) -> None:
    html, summary = report_sections(racy_run, "answers", "rankings")
    first = " ".join(summary[:3])  # wrapped to the terminal's width
    assert first.startswith("RACES UNDER PREEMPTION: ownership lost 5,535 of 9,000")
    assert "not ranked" in first
    an = analyse(read_run(racy_run))
    assert all(c.leader != "ownership" and "ownership" not in c.ties for c in choices(an))
    start = html.index('<section id="answers">')  # the first screen says it, before the claims
    answers = html[start:html.index("</section>", start)]
    assert answers.index('<p class="alert">RACES UNDER PREEMPTION') < answers.index("<table>")
    start = html.index('<section id="rankings">')
    assert "races under preemption, not ranked" in html[start:html.index("</section>", start)]


def test_the_races_claim_reports_default_and_stress(racy_run: Path) -> None:
    (python, rust) = races.results(analyse(read_run(racy_run)))
    assert python.scope == "CPython" and python.outcome is Outcome.SUPPORTED
    assert python.estimate is not None and python.estimate.exact and python.strength == "firm"
    assert python.detail["racy"] == ["ownership"]
    # the stress check ran the Rust strategies too, and neither lost an update
    assert rust.outcome is Outcome.NO_DIFFERENCE and rust.estimate.repeats == 2
    claim = next(c for c in claims(analyse(read_run(racy_run))) if c.id == "races")
    assert "Declared safe yet racing under preemption: ownership" in claim.answer
    assert "Safe Rust rules out data races" in claim.answer


def test_races_are_judged_per_language(tmp_path: Path) -> None:
    """A Rust strategy that loses updates (safe Rust, no data race: a race condition) is
    Rust's result, never pooled with Python's."""
    entry = {**_entry(True, lost=300), "error": ""}
    run = write_run(tmp_path, damaged=False, races={"rust-global-lock": entry,
                                                    "ownership": _entry(False)})
    (python, rust) = races.results(analyse(read_run(run)))
    assert rust.outcome is Outcome.SUPPORTED and "race condition" in rust.finding
    assert rust.effect == pytest.approx(300 / 9000)
    assert python.outcome is Outcome.SUPPORTED  # the unsafe strategy's benchmark cells
    assert python.effect != rust.effect


def test_without_a_stress_verdict_nothing_changes(tmp_path: Path) -> None:
    run = write_run(tmp_path, damaged=False, races={"ownership": _entry(False),
                                                     "global-lock": {**_entry(False), "error": "died"}})
    an = analyse(read_run(run))
    assert an.racy == {} and an.ranked("ownership")
    (python, _) = races.results(an)
    assert [x.what for x in python.left_out] == ["global-lock, stress check"]
    assert python.outcome is Outcome.SUPPORTED  # the unsafe strategy lost updates in its cells


def test_a_drifting_conserved_sum_counts_but_stays_out_of_the_share(tmp_path: Path) -> None:
    """A transfer cell lets its conserved sum drift with no increment acknowledged: a lost
    update (it counts towards the verdict) that has no place in the share of increments."""
    import json
    run = write_run(tmp_path, damaged=False)
    cells = sorted((run / "cells").glob("unsafe.cpu.*.json"))
    base = races.results(analyse(read_run(run)))[0]
    record = json.loads(cells[0].read_text())
    record.update(acked_incr=0, lost_updates=50_000, uncertain_incr=0)
    cells[0].write_text(json.dumps(record))
    (python, *_) = races.results(analyse(read_run(run)))
    assert python.outcome is Outcome.SUPPORTED and 0 < python.effect < 1
    others = [r for p in (run / "cells").glob("unsafe.*.json")
              if (r := json.loads(p.read_text())).get("status") == "ok" and r.get("acked_incr")]
    assert python.effect == pytest.approx(sum(r["lost_updates"] for r in others)
                                          / sum(r["acked_incr"] for r in others))
    assert "drifted by 50,000" in python.number and base.effect != python.effect
