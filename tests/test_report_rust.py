"""The Rust strategies (manifest language "rust") as a labelled reference group beside the
Python ones: ranked apart, named apart in the summary, and in the discipline claim."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from report.choices import choices
from report.claims import Outcome, claims, discipline
from report.findings import ranking

from .report_run import RUST, analysis_of, write_run


def test_rust_is_never_in_the_python_ranking(tmp_path: Path) -> None:
    an = analysis_of(write_run(tmp_path, damaged=False))
    assert {an.lang(s) for s in RUST} == {"rust"} and an.lang("global-lock") == "python"
    for workload in an.workloads:
        ranked, reference = ranking(an, workload)
        assert not {r["strategy"] for r in ranked + reference} & RUST
        rust, _ = ranking(an, workload, "rust")
        assert {r["strategy"] for r in rust} == RUST
    ranked, _ = ranking(an, "cpu", "rust")
    assert ranked[0]["strategy"] == "rust-ownership"  # 30,000 × 1.9 against 26,000 × 1.3


def test_what_to_use_names_the_fastest_rust_apart(built_report) -> None:
    run, built = built_report
    an = analysis_of(run)
    for c in choices(an):
        assert (c.leader in RUST) == (c.language == "rust") and all((t in RUST) == (c.language == "rust")
                                                                    for t in c.ties)
    rust = {(c.workload, c.cores): c.leader for c in choices(an) if c.language == "rust"}
    assert rust[("cpu", 2)] == "rust-ownership"
    html = built.html.read_text()
    assert "Rust reference (no interpreter lock): ranked only among themselves" in html
    assert re.search(r"<td[^>]*>1</td><td[^>]*>rust-ownership</td>", html)


def test_discipline_claim_cites_both_languages(tmp_path: Path) -> None:
    (cpython, rust) = discipline.results(analysis_of(write_run(tmp_path, damaged=False)))
    assert (cpython.scope, rust.scope) == ("CPython", "Rust")
    # rust-ownership 1.9x against rust-global-lock 1.3x from 1 to 2 cores: the discipline decides
    assert rust.outcome is Outcome.SUPPORTED and rust.estimate.differs
    assert rust.effect == pytest.approx(1.9 / 1.3, rel=0.05)
    assert "rust-ownership's speedup over rust-global-lock's" in rust.compared
    assert cpython.outcome is Outcome.CONTRADICTED  # the execution model decides in CPython
    claim = next(c for c in claims(analysis_of(tmp_path / "20250101-120000-quick"))
                 if c.id == "discipline")
    assert "Rust: supported: the discipline decides" in claim.answer, claim.answer
    assert any(line.startswith("Rust, cpu: rust-ownership speedup") for line in claim.evidence)
    # Level the Rust disciplines' speedups: no verdict from noise, and no difference
    level = write_run(tmp_path / "level", damaged=False,
                      rps_scale={"rust-global-lock.cpu.c2": 1.9 / 1.3})
    (_, rust) = discipline.results(analysis_of(level))
    assert rust.outcome in (Outcome.NO_DIFFERENCE, Outcome.UNDECIDED), rust.text()
    assert not any(c.estimate.differs for c in rust.comparisons)
