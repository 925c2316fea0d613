"""The Rust strategies (manifest language "rust") as a labelled reference group beside the
Python ones: ranked apart, named apart in the summary, and in the discipline claim."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from report.choices import choices
from report.claims import claim_discipline
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
    claim = claim_discipline(analysis_of(write_run(tmp_path, damaged=False)))
    cpython, rust = claim.judgements
    assert (cpython.label, rust.label) == ("CPython", "Rust")
    assert rust.verdict == "the discipline decides" and rust.differs
    assert rust.effect == pytest.approx(30000 * 1.9 / (26000 * 1.3), rel=0.05)
    assert cpython.verdict == "not in CPython: the execution model decides"
    assert re.search(r"on cpu at 2 cores rust-ownership", claim.answer), claim.answer
    assert re.search(r"rust-ownership [\d,]+ req/s against rust-global-lock's [\d,]+", claim.answer)
    assert "CPython: No in-process discipline gains" in claim.answer
    assert any(line.startswith("cpu: rust-ownership (Rust, threads)") for line in claim.evidence)
    # Level the Rust disciplines at 2 cores: their repeats overlap, so no verdict from noise.
    level = write_run(tmp_path / "level", damaged=False,
                      rps_scale={"rust-global-lock.cpu.c2": 30000 * 1.9 / (26000 * 1.3),
                                 "rust-global-lock.io.c2": 1.0})
    claim = claim_discipline(analysis_of(level))
    assert "on cpu at 2 cores no measurable difference between" in claim.answer, claim.answer
    assert claim.judgements[1].verdict == "no measurable difference between disciplines"
    assert not claim.judgements[1].differs
