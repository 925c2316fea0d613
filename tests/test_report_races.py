"""A strategy declared safe that the preemption stress check caught losing updates is
reported as racy: never ranked, named first in the summary, in the races claim."""
from __future__ import annotations

from pathlib import Path

import pytest

from report.analysis import analyse
from report.choices import choices
from report.claims import claim_races
from report.findings import ranking
from report.load import load_run

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
    an = analyse(load_run(racy_run))
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
    an = analyse(load_run(racy_run))
    assert all(c.leader != "ownership" and "ownership" not in c.ties for c in choices(an))
    start = html.index('<section id="answers">')  # the first screen says it, before the claims
    answers = html[start:html.index("</section>", start)]
    assert answers.index('<p class="alert">RACES UNDER PREEMPTION') < answers.index("<table>")
    start = html.index('<section id="rankings">')
    assert "races under preemption, not ranked" in html[start:html.index("</section>", start)]


def test_the_races_claim_reports_default_and_stress(racy_run: Path) -> None:
    claim = claim_races(analyse(load_run(racy_run)))
    assert "At the default switch interval" in claim.answer
    assert "Under the preemption stress check" in claim.answer
    assert "2 of 8 strategies judged lost updates" in claim.answer
    assert claim.verdict == "confirmed, and a strategy declared safe races under preemption"
    assert any(e.startswith("ownership, stress check: races") for e in claim.evidence)
    judgement = claim.judgements[0]
    assert judgement.verdict == claim.verdict and judgement.exact and judgement.strength == "firm"


def test_without_a_stress_verdict_nothing_changes(tmp_path: Path) -> None:
    run = write_run(tmp_path, damaged=False, races={"ownership": _entry(False),
                                                     "global-lock": {**_entry(False), "error": "died"}})
    an = analyse(load_run(run))
    assert an.racy == {} and an.ranked("ownership")
    claim = claim_races(an)
    assert "0 of 1 strategies judged lost updates" in claim.answer
    assert "Not judged (the check failed): global-lock" in claim.answer
