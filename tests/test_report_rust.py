"""The Rust strategies (manifest language "rust") as a labelled reference group beside the
Python ones: ranked apart, named apart in the summary, and in the discipline claim."""
from __future__ import annotations

import re
import warnings
from pathlib import Path

from report import RunWarning, build_report
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


def test_summary_names_the_fastest_rust_apart(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RunWarning)
        built = build_report(write_run(tmp_path, damaged=False), figures=False)
    python, _, rust = built.summary[1].partition("Rust reference (no interpreter lock), fastest:")
    assert "global-lock-mp" in python and not any(name in python for name in RUST)
    assert re.search(r"cpu: rust-ownership [\d,]+ req/s at 2 cores", rust), rust
    html = built.html.read_text()
    assert "Rust reference (no interpreter lock): ranked only among themselves" in html
    assert re.search(r"<td[^>]*>1</td><td[^>]*>rust-ownership</td>", html)


def test_discipline_claim_cites_both_languages(tmp_path: Path) -> None:
    claim = claim_discipline(analysis_of(write_run(tmp_path, damaged=False)))
    assert claim.verdict.startswith("Rust: the discipline decides;"), claim.verdict
    assert re.search(r"on cpu at 2 cores rust-ownership", claim.answer), claim.answer
    assert "; CPython: not in CPython: the execution model decides" in claim.verdict
    assert re.search(r"rust-ownership [\d,]+ req/s against rust-global-lock's [\d,]+", claim.answer)
    assert "CPython: No in-process discipline gains" in claim.answer
    assert any(line.startswith("cpu: rust-ownership (Rust, threads)") for line in claim.evidence)
    # Level the Rust disciplines at 2 cores: their repeats overlap, so no verdict from noise.
    level = write_run(tmp_path / "level", damaged=False,
                      rps_scale={"rust-global-lock.cpu.c2": 30000 * 1.9 / (26000 * 1.3),
                                 "rust-global-lock.io.c2": 1.0})
    claim = claim_discipline(analysis_of(level))
    assert "on cpu at 2 cores no measurable difference between" in claim.answer, claim.answer
