"""The report builds from a synthetic run and says what it must: sections, images, marks, gaps."""
from __future__ import annotations

import base64
import json
import re
import warnings
from pathlib import Path

import pytest

from report import SECTION_IDS, RunWarning, build_report, summarise
from report.choices import choices
from report.claims import Outcome, claims
from report.style import colour_slots
from sharebench.cli import main

from .helpers import report_sections
from .report_run import CORRUPT, FAILED, SYNTHETIC, analysis_of, write_run

TITLES = ["The claims, answered by this run", "1. The claims", "2. Rankings", "3. Multicore scaling",
          "4. Latency", "5. Efficiency and memory", "6. Correctness", "7. Validity",
          "8. Microbenchmarks", "9. Environment"]


def _build(run: Path, figures: bool = False):
    """The report of ``run``; without figures (drawn and checked by ``built_report``) unless
    the figures are what the test is about."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RunWarning)
        return build_report(run, figures=figures)


def _section(html: str, section_id: str) -> str:
    """One section's HTML, with the cells' layout classes dropped (they are styling, not content)."""
    start = html.index(f'<section id="{section_id}">')
    return re.sub(r"<td[^>]*>", "<td>", html[start:html.index("</section>", start)])


def test_every_section_and_image_is_present(built_report) -> None:
    run, built = built_report
    html = built.html.read_text()
    for section_id, title in zip(SECTION_IDS, TITLES):
        assert f'<section id="{section_id}"><h2>{title}</h2>' in html
    images = re.findall(r'<img src="data:image/png;base64,([^"]+)" alt="[^"]+" data-file="([^"]+)"', html)
    assert len(images) == len(built.images) >= 8  # key, scaling, latency, efficiency x2 workloads, users
    for data, name in images:
        assert base64.b64decode(data) == (run / name).read_bytes()  # embedded = the PNG beside it
        assert (run / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "http://" not in html and "https://" not in html  # nothing to fetch: self-contained


def test_markdown_carries_the_same_tables_and_the_plots(built_report) -> None:
    run, built = built_report
    html, md = built.html.read_text(), built.markdown.read_text()
    for title in TITLES:
        assert f"\n## {title}\n" in md
    assert html.count("<table>") == len(re.findall(r"^\| (?:---:?|---) \|", md, flags=re.M)) > 10
    for image in built.images:
        assert f"]({image.name})" in md and image.exists()


def test_summary_leads_with_no_alert_when_nothing_changes_a_verdict(built_report) -> None:
    _, built = built_report
    assert built.summary[0].startswith("claim")  # no race, no lost update, a complete run
    answers = _section(built.html.read_text(), "answers")
    assert '<p class="alert">' not in answers


def test_rankings_keep_unsafe_out_and_stateless_as_ceiling(built_report) -> None:
    _, built = built_report
    summary = _section(built.html.read_text(), "rankings")
    assert "<td>unsafe, not ranked</td><td>unsafe</td>" in summary
    assert "<td>ceiling</td><td>stateless</td>" in summary
    assert "<td>1</td><td>global-lock-mp</td>" in summary
    assert "threads in one CPython process share one GIL" in summary
    assert re.search(r"global-lock: [\d,]+ req/s .* 1\.0\d× from 1 to 2 cores", summary)


def test_unsafe_visibly_fails_correctness(built_report) -> None:
    _, built = built_report
    section = _section(built.html.read_text(), "correctness")
    row = re.search(r"<tr><td>unsafe</td>.*?</tr>", section).group(0)
    assert "FAILED, as designed" in row and "0 of 10" in row
    assert "the hold yields the GIL like any I/O would" in section  # the rule, from the manifest
    assert "hide the race" in section


def test_flagged_cells_are_marked_in_tables_and_explained(built_report) -> None:
    _, built = built_report
    html, md = built.html.read_text(), built.markdown.read_text()
    assert '<sup class="mark" title="loadgen_bound, shared_cpu">LS</sup>' in html
    assert '<sup class="mark" title="shared_cpu, noisy">SN</sup>' in html
    assert "[LS]" in md and "[SN]" in md
    validity = _section(html, "validity")
    for flag in ("loadgen_bound", "shared_cpu", "noisy", "errors", "failed"):
        assert f"<td>{flag}</td>" in validity
    assert "They overlap at 2 core(s)" in validity
    assert "median over ok repeats with its min–max" in validity
    assert "The engines check each other (calibration)" in validity and "2.84×" in validity
    assert "agree within 10% for 1 of 2 strategies; they disagree for async" in validity
    assert "Do the work knobs cost what they say?" in validity and "+2.0%" in validity
    assert "async exited with status 1 before serving" in validity


def test_failed_missing_and_corrupt_cells_are_said(built_report) -> None:
    run, built = built_report
    validity = _section(built.html.read_text(), "validity")
    assert FAILED in validity and "server exited with code 1 during warm-up" in validity
    assert "Too many open files" in validity  # the server's last stderr line
    assert CORRUPT in validity and "Missing cells" in validity
    assert str(run / "cells" / f"{CORRUPT}.json") in validity
    assert any(str(run / "cells" / f"{CORRUPT}.json") in p for p in built.problems)


def test_load_generator_limit_is_said_with_every_figure(built_report) -> None:
    _, built = built_report
    figures = re.findall(r'data-file="([^"]+)"><figcaption>(.*?)</figcaption>', built.html.read_text())
    assert len(figures) == len(built.images)
    for name, caption in figures:
        assert name == "fig-key.png" or "load generator was" in caption, name
    captions = [caption for _, caption in figures]
    assert any("stateless at 2 cores/32 users" in c for c in captions)


def test_usl_says_not_possible_on_a_two_core_machine(built_report) -> None:
    _, built = built_report
    scaling = _section(built.html.read_text(), "scaling")
    assert "Universal Scalability Law fit not possible on this machine: it has 2 logical cores" in scaling
    assert "N*" in scaling and "σ" not in re.sub(r"<p.*?</p>", "", scaling)  # no fitted numbers


def test_claims_are_answered_or_marked_not_measured(built_report) -> None:
    _, built = built_report
    outcomes = {(r.claim, r.scope): r.outcome for c in built.claims for r in c.results}
    # global-lock-mp scales where the in-process disciplines cannot: the model decides
    assert outcomes[("discipline", "CPython")] is Outcome.CONTRADICTED
    assert outcomes[("races", "CPython")] is Outcome.SUPPORTED
    # async's io cells are flagged (errors at 1 core, the load generator at 2): left out
    assert outcomes[("async", "CPython")] is Outcome.NOT_JUDGED
    assert outcomes[("gc", "CPython")] is Outcome.NOT_JUDGED
    claims = _section(built.html.read_text(), "claims")
    for claim in built.claims:
        assert f"Verdict: {claim.verdict} ({claim.strength})." in claims
    assert "with its collector on and without one" in claims


def test_environment_and_reproduce_command(built_report) -> None:
    _, built = built_report
    env = _section(built.html.read_text(), "environment")
    assert "sharebench bench --profile quick --repeats 3" in env
    assert "make report RUN=results/20250101-120000-quick" in env
    assert "Synthetic CPU @ 2.0GHz" in env and "placement: loadgen_cpus" in env


def test_microbenchmarks_table(built_report) -> None:
    _, built = built_report
    micro = _section(built.html.read_text(), "microbenchmarks")
    assert "incr, one thread" in micro and "ns per operation" in micro


def test_a_safe_strategy_losing_updates_leads_the_summary(tmp_path: Path) -> None:
    run = write_run(tmp_path, damaged=False)
    path = run / "cells" / "global-lock.cpu.locust.c1.u32.r0.json"
    record = json.loads(path.read_text())
    record.update(correct=False, lost_updates=5, server_sum=record["acked_incr"] - 5)
    path.write_text(json.dumps(record))
    html, summary = report_sections(run, "answers")
    assert summary[0].startswith("A SAFE STRATEGY LOST UPDATES: global-lock lost 5")
    answers = _section(html, "answers")  # on the first screen, first
    assert answers.index('<p class="alert">A SAFE STRATEGY') < answers.index("<table>")


def test_a_run_with_no_finished_cell_still_renders(tmp_path: Path) -> None:
    run = write_run(tmp_path, damaged=False)
    for path in (run / "cells").glob("*.json"):
        path.unlink()
    (run / "cells.csv").unlink()
    manifest = json.loads((run / "manifest.json").read_text())
    manifest.update(status="interrupted", interrupted_by="SIGINT", ended=None)
    (run / "manifest.json").write_text(json.dumps(manifest))
    built = _build(run)
    html = built.html.read_text()
    assert "No cell finished in this run" in html and "interrupted by SIGINT" in html
    assert f"{len(manifest['matrix'])} planned cell(s) have no readable record" in html
    assert built.images == [] and built.summary[0].startswith("The run is interrupted")


def test_a_run_without_manifest_still_renders(tmp_path: Path) -> None:
    run = write_run(tmp_path, damaged=False)
    (run / "manifest.json").unlink()
    built = _build(run)
    html = built.html.read_text()
    assert "No readable manifest.json" in html and "manifest.json is missing" in html
    assert "No calibration.csv in this run" in html
    assert html.count("<figcaption>") >= 7  # every figure still there (not drawn here)


def test_rebuild_replaces_stale_figures(tmp_path: Path) -> None:
    run = write_run(tmp_path, damaged=False, repeats=1, cores_list=(1,))  # few figures: fast
    (run / "fig-from-an-older-build.png").write_bytes(b"old")
    built = _build(run, figures=True)
    assert not (run / "fig-from-an-older-build.png").exists()
    assert sorted(run.glob("fig-*.png")) == sorted(built.images) and built.images


def test_colours_are_one_per_discipline_and_stable() -> None:
    discipline = {"unsafe": "unsynchronised", "global-lock": "global-lock",
                  "global-lock-mp": "global-lock", "rust-global-lock": "global-lock",
                  "async": "event-loop"}
    first, second = colour_slots(discipline), colour_slots(dict(reversed(list(discipline.items()))))
    assert first == second  # the order they are listed in does not matter
    assert first["global-lock"] == first["global-lock-mp"] == first["rust-global-lock"]
    assert len({first["unsafe"], first["global-lock"], first["async"]}) == 3
    many = colour_slots({f"s{i:02d}": f"s{i:02d}" for i in range(20)})
    assert len(set(many.values())) == 20  # twenty disciplines, twenty colours
    # The declared family decides, not the name: an -mp name of its own family is no variant.
    odd = colour_slots({"global-lock": "global-lock", "global-lock-mp": "global-lock-mp"})
    assert odd["global-lock-mp"] != odd["global-lock"]


def test_numbers_do_not_load_matplotlib() -> None:
    """report.analysis, findings and claims compute; only plots draw."""
    import subprocess
    import sys
    code = ("import sys, report.analysis, report.findings, report.claims; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'matplotlib'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parent.parent).stdout
    assert out.strip() == "[]", out


def test_cli_report_prints_path_and_summary(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    run = write_run(tmp_path, cores_list=(1,))  # one core count: fewer figures to draw
    assert main(["report", str(run)]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()  # the summary table within 100 columns, then the report's path
    assert lines[0].startswith("claim") and all(len(line) <= 100 for line in lines[:-2])
    assert lines[-2] == f"sharebench: report: {run / 'report.html'}"
    assert f"sharebench: warning: skipped {run / 'cells' / (CORRUPT + '.json')}" in err
    assert main(["report", str(tmp_path / "nope")]) == 2


def test_unknown_load_generator_limit_is_not_reported_as_clean(tmp_path: Path) -> None:
    run = write_run(tmp_path, damaged=False)
    for path in (run / "cells").glob("*.json"):  # distributed mode: no CPU figures for one side
        record = json.loads(path.read_text())
        record.update(loadgen_bound=None, loadgen_cpu=None, loadgen_cpu_s=None)
        path.write_text(json.dumps(record))
    figures = re.findall(r'data-file="([^"]+)"><figcaption>(.*?)</figcaption>', _build(run).html.read_text())
    captions = [caption for name, caption in figures if name != "fig-key.png"]
    assert captions and all("Whether it was the limit is unknown" in c for c in captions)
    assert not any("was not the limit in any cell" in c for c in captions)


def test_overlapping_repeats_are_no_measurable_difference(tmp_path: Path) -> None:
    """Two strategies whose repeats overlap are not ranked against each other, and a
    speedup whose core counts' repeats overlap does not count for the verdicts."""
    # ownership at 2 cores brought level with the leader, global-lock-mp (2,600 × 1.75, 1% noise)
    run = write_run(tmp_path, rps_scale={"ownership.cpu.c2": 2600 * 1.75 / (3100 * 1.02)},
                    damaged=False)
    cpu2 = next(c for c in choices(analysis_of(run))
                if (c.workload, c.cores, c.language) == ("cpu", 2, "python"))
    assert {cpu2.leader, *cpu2.ties} >= {"ownership", "global-lock-mp"}, cpu2
    # The terminal summary alone (nothing built) says it too: no winner between the two.
    assert any("(tie)" in line for line in summarise(run))
    level = write_run(tmp_path / "level", damaged=False,  # every strategy the same at 1 and 2 cores
                      rps_scale={f"{s}.cpu.c2": 1 / speedup for s, (_, _, _, speedup, _) in SYNTHETIC.items()}
                      | {"global-lock-mp.io.c2": 0.5})  # its io cap doubles with the cores
    cpython = next(c for c in claims(analysis_of(level)) if c.id == "discipline").results[0]
    # level everywhere: nothing differs; the intervals are too wide to call level, so the
    # rule says undecided, never a difference, carried by a comparison named beforehand
    # (message-passing's noisy pairs are shown beside them and decide nothing)
    assert cpython.outcome is Outcome.UNDECIDED, cpython.text()
    assert next(c for c in cpython.comparisons if c.what == cpython.compared).deciding
    assert all(not c.deciding for c in cpython.comparisons if "message-passing" in c.what)
    assert not any(c.estimate.differs for c in cpython.comparisons)


def test_a_build_without_figures_keeps_captions_and_anchors(tmp_path: Path) -> None:
    """Nothing drawn, yet every figure keeps its caption (the strategy figures pointing to the
    key) and its anchor, so the answers' links to figures still land."""
    from report.render import to_html
    from report.sections import document
    from report.sections.common import KEY
    an = analysis_of(write_run(tmp_path, damaged=False, repeats=1, cores_list=(1,)))
    found = claims(an)
    doc = document(an, found, figures=False)
    assert doc.figures and not any(f.png for f in doc.figures)
    for f in doc.figures:
        assert ("see the key" in f.caption) == (f.filename != KEY), f.filename
    html = to_html(doc)
    for name in [f.filename for f in doc.figures] + [c.figure for c in found if c.figure]:
        assert f'id="{name.removesuffix(".png")}"' in html, name
