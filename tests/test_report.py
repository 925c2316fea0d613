"""The report builds from a synthetic run and says what it must: sections, images, marks, gaps."""
from __future__ import annotations

import base64
import json
import re
import warnings
from pathlib import Path

import pytest

from report import SECTION_IDS, RunWarning, build_report, summarise
from report.style import colour_slots
from sharebench.cli import main

from .report_run import CORRUPT, FAILED, SYNTHETIC, write_run

TITLES = ["1. Summary", "2. Multicore scaling", "3. Latency", "4. Efficiency and memory",
          "5. Correctness", "6. Validity", "7. Microbenchmarks", "8. The claims", "9. Environment"]


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
    assert len(images) == len(built.images) >= 7  # scaling, latency, efficiency x2 workloads + users
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


def test_summary_is_five_generated_lines(built_report) -> None:
    _, built = built_report
    assert len(built.summary) == 5
    first = built.summary[0]
    assert "Every safe strategy kept every update" in first and "unsafe" in first
    assert re.search(r"lost [\d,]+ of [\d,]+ acknowledged", first)
    assert "global-lock-mp" in built.summary[1]  # the fastest safe strategy, from the numbers
    assert "USL fit not possible" in built.summary[2]


def test_rankings_keep_unsafe_out_and_stateless_as_ceiling(built_report) -> None:
    _, built = built_report
    summary = _section(built.html.read_text(), "summary")
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
    captions = re.findall(r"<figcaption>(.*?)</figcaption>", built.html.read_text())
    assert len(captions) == len(built.images)
    for caption in captions:
        assert "load generator was" in caption
    assert any("stateless at 2 cores/32 users" in c for c in captions)


def test_usl_says_not_possible_on_a_two_core_machine(built_report) -> None:
    _, built = built_report
    scaling = _section(built.html.read_text(), "scaling")
    assert "Universal Scalability Law fit not possible on this machine: it has 2 logical cores" in scaling
    assert "N*" in scaling and "σ" not in re.sub(r"<p.*?</p>", "", scaling)  # no fitted numbers


def test_claims_are_answered_or_marked_not_measured(built_report) -> None:
    _, built = built_report
    claims = _section(built.html.read_text(), "claims")
    assert "not in CPython: the execution model decides" in claims
    assert "Verdict: confirmed." in claims
    assert "Verdict: supported." in claims  # async at 256 users: more req/s, less memory
    assert "Verdict: not measured in this run." in claims and "with its collector on and without one" in claims


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
    built = _build(run)
    assert built.summary[0].startswith("A SAFE STRATEGY LOST UPDATES: global-lock lost 5")
    summary = _section(built.html.read_text(), "summary")
    assert summary.index('<p class="alert">A SAFE STRATEGY') < summary.index("<table>")


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
    assert built.images == [] and len(built.summary) == 5


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


def test_colours_are_stable_and_follow_the_declared_discipline() -> None:
    discipline = {"unsafe": "unsynchronised", "global-lock": "global-lock",
                  "global-lock-mp": "global-lock", "async": "event-loop",
                  "rust-global-lock": "global-lock"}
    first = colour_slots(discipline)
    assert first == colour_slots(dict(reversed(list(discipline.items()))))
    assert len({first[s] // 2 for s in discipline}) == 3  # one hue per discipline
    assert first["global-lock-mp"] == first["global-lock"] + 1  # one hue, the light shade
    assert first["rust-global-lock"] == first["global-lock"] + 1
    # The declared family decides, not the name: an -mp name of its own family is no variant.
    odd = colour_slots({"global-lock": "global-lock", "global-lock-mp": "global-lock-mp"})
    assert odd["global-lock-mp"] % 2 == 0 and odd["global-lock-mp"] != odd["global-lock"]


def test_numbers_do_not_load_matplotlib() -> None:
    """report.analysis, findings and claims compute; only plots draw (issue 10 §3)."""
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
    assert f"report: {run / 'report.html'}" in out
    assert len([line for line in out.splitlines() if line.startswith("  ")]) == 5
    assert f"sharebench: warning: skipped {run / 'cells' / (CORRUPT + '.json')}" in err
    assert main(["report", str(tmp_path / "nope")]) == 2


def test_unknown_load_generator_limit_is_not_reported_as_clean(tmp_path: Path) -> None:
    run = write_run(tmp_path, damaged=False)
    for path in (run / "cells").glob("*.json"):  # distributed mode: no CPU figures for one side
        record = json.loads(path.read_text())
        record.update(loadgen_bound=None, loadgen_cpu=None, loadgen_cpu_s=None)
        path.write_text(json.dumps(record))
    captions = re.findall(r"<figcaption>(.*?)</figcaption>", _build(run).html.read_text())
    assert captions and all("Whether it was the limit is unknown" in c for c in captions)
    assert not any("was not the limit in any cell" in c for c in captions)


def test_overlapping_repeats_are_no_measurable_difference(tmp_path: Path) -> None:
    """Two strategies whose repeats overlap are not ranked against each other, and a
    speedup whose core counts' repeats overlap does not count for the verdicts."""
    # ownership at 2 cores brought level with the leader, global-lock-mp (2,600 × 1.75, 1% noise)
    run = write_run(tmp_path, rps_scale={"ownership.cpu.c2": 2600 * 1.75 / (3100 * 1.02)},
                    damaged=False)
    summary = summarise(run)
    cpu = summary[1].split("; io:")[0]
    assert re.search(r"cpu: (ownership|global-lock-mp) .* \(no measurable difference from "
                     r"(global-lock-mp|ownership)\)", cpu), cpu
    assert "spread" in summary[1]
    level = write_run(tmp_path / "level", damaged=False,  # every strategy the same at 1 and 2 cores
                      rps_scale={f"{s}.cpu.c2": 1 / speedup for s, (_, _, _, speedup, _) in SYNTHETIC.items()}
                      | {"global-lock-mp.io.c2": 0.5})  # its io cap doubles with the cores
    summary = summarise(level)
    assert "processes no measurable difference" in summary[2], summary[2]
    assert "; CPython: no measurable difference;" in summary[4], summary[4]
