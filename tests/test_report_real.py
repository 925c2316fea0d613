"""The report from a real run: whatever results/latest holds (a `quick` run in CI).

Built on a copy, so the test never rewrites a stored run's report.
"""
from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import pytest

from report import SECTION_IDS, RunWarning, build_report

LATEST = Path(__file__).resolve().parent.parent / "results" / "latest"


@pytest.mark.skipif(not (LATEST / "manifest.json").is_file(),
                    reason="no run at results/latest yet (`make bench PROFILE=quick` writes one)")
def test_report_builds_from_the_latest_real_run(tmp_path: Path) -> None:
    run = tmp_path / LATEST.resolve().name
    shutil.copytree(LATEST.resolve(), run,
                    ignore=shutil.ignore_patterns("report.*", "fig-*.png", "compare-*", ".*"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RunWarning)
        built = build_report(run)
    html = built.html.read_text()
    for section_id in SECTION_IDS:
        assert f'<section id="{section_id}">' in html
    assert html.count("<img ") == len(built.images)
    assert all(image.exists() for image in built.images)
    assert len(built.summary) == 5
