"""The report answers first: the claims' judgements, what to use, the terminal summary, and
figures that stay readable at twenty strategies. Assertions are on the structured output
(judgements, choices, figures' artists), not on the wording."""
from __future__ import annotations

import math
import re
import warnings
from pathlib import Path

import pytest

from report import RunWarning, build_report
from report.analysis import analyse
from report.choices import choices
from report.claims import claims
from report.judgement import STRENGTHS, Judgement
from report.load import load_run
from report.style import MOST_SERIES, facets, make_series
from report.terminal import WIDTH

from .report_run import write_run

CLAIM_IDS = ["discipline", "races", "async", "gc", "stateless"]


def _analysis(run: Path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RunWarning)
        return analyse(load_run(run))


def _section(html: str, section_id: str) -> str:
    start = html.index(f'<section id="{section_id}">')
    return html[start:html.index("</section>", start)]


def test_every_verdict_is_written_from_its_judgements(built_report) -> None:
    _, built = built_report
    assert [c.id for c in built.claims] == CLAIM_IDS
    for claim in built.claims:
        assert claim.judgements, claim.id
        if len(claim.judgements) == 1:
            assert claim.verdict == claim.judgements[0].verdict
        else:  # each labelled part's verdict, in order
            assert claim.verdict == "; ".join(f"{j.label}: {j.verdict}" for j in claim.judgements)
        for j in claim.judgements:
            assert j.strength in STRENGTHS
            assert (j.strength == "not judged") == (not j.measured)
    by_id = {c.id: c for c in built.claims}
    discipline = by_id["discipline"]
    assert [j.label for j in discipline.judgements] == ["CPython", "Rust"]
    cpython = discipline.judgements[0]
    # global-lock-mp's 1.75x against the threads' ~1.02x, 3 repeats a side, 1% noise: firm
    assert cpython.differs and cpython.effect == pytest.approx(1.75 / 1.03, rel=0.06)
    assert cpython.repeats == 3 and cpython.strength == "firm"
    races = by_id["races"].judgements[0]
    assert races.exact and races.differs and races.strength == "firm" and 0 < races.effect < 1
    assert by_id["gc"].judgements[0].strength == "not judged"  # no gc cells in the fixture


def test_first_screen_holds_the_claims_and_what_to_use(built_report) -> None:
    _, built = built_report
    html = built.html.read_text()
    answers = _section(html, "answers")
    assert html.index('<section id="answers">') < html.index("<nav>")  # before the contents
    tables = re.findall(r"<table>.*?</table>", answers)
    assert len(tables) == 2
    claims_rows = re.findall(r"<tr>(.*?)</tr>", tables[0].split("<tbody>")[1])
    assert len(claims_rows) == sum(len(c.judgements) for c in built.claims)
    for claim in built.claims:
        assert f'href="#claim-{claim.id}"' in tables[0]
        for j in claim.judgements:
            assert j.strength in tables[0] and j.verdict in tables[0]
    assert f'id="claim-{built.claims[0].id}"' in html  # the link lands on the claim's detail
    an = _analysis(built.html.parent)
    found = choices(an)
    assert len(re.findall(r"<tr>", tables[1].split("<tbody>")[1])) == len(found)
    for c in found:
        assert f">{c.leader}<" in tables[1]


def test_what_to_use_ranks_safe_strategies_per_workload_cores_and_language(built_report) -> None:
    run, _ = built_report
    an = _analysis(run)
    found = {(c.workload, c.cores, c.language): c for c in choices(an)}
    assert set(found) == {(w, c, lang) for w in ("cpu", "io") for c in (1, 2) for lang in ("python", "rust")}
    for c in found.values():
        assert an.ranked(c.leader) and all(an.ranked(t) for t in c.ties)
        assert an.lang(c.leader) == c.language and c.leader not in c.ties
        if c.runner_up:
            assert c.margin > 1 and c.runner_up not in c.ties
    # at 2 cores the process variant scales where the threads cannot (1.75x against ~1.02x)
    cpu2 = found[("cpu", 2, "python")]
    assert cpu2.leader == "global-lock-mp" and cpu2.margin > 1.2
    assert found[("cpu", 1, "python")].leader == "ownership"
    assert found[("cpu", 2, "rust")].leader == "rust-ownership"


def test_strength_follows_repeats_and_effect_against_spread() -> None:
    def j(effect: float, spread: float, repeats: int, differs: bool = True, **kw) -> str:
        return Judgement("v", "a vs b", "n", effect, spread, repeats, differs, **kw).strength
    assert j(1.5, 0.05, 3) == "firm"            # 50% against 5%: ten times the spread
    assert j(1.5, 0.05, 2) == "moderate"        # two repeats never make it firm
    assert j(1.5, 0.30, 3) == "moderate"        # beyond the spread, not three times it
    assert j(1.1, 0.30, 3) == "weak"            # within the spread
    assert j(1.5, math.nan, 1) == "weak"        # one repeat: no spread to judge by
    assert j(1 / 1.5, 0.05, 3) == "firm"        # a ratio below 1 is as large an effect
    assert j(1.01, 0.04, 3, differs=False) == "firm"      # a 10% difference would have shown
    assert j(1.01, 0.25, 3, differs=False) == "moderate"
    assert j(1.0, math.nan, 1, differs=False) == "weak"
    assert j(0.3, 0.0, 1, ratio=False, exact=True) == "firm"   # one lost update is proof
    assert j(0.0, 0.0, 2, differs=False, ratio=False, exact=True) == "moderate"
    assert j(math.nan, math.nan, 0) == "not judged"


def test_terminal_summary_is_a_table_within_100_columns(built_report) -> None:
    run, built = built_report
    assert built.summary and all(len(line) <= WIDTH for line in built.summary)
    text = "\n".join(built.summary)
    for claim in built.claims:
        assert claim.id in text
        for j in claim.judgements:
            assert j.strength in text
    an = _analysis(run)
    for c in choices(an):
        assert c.leader in text
    header = next(line for line in built.summary if line.startswith("claim"))
    assert "verdict" in header and "firmness" in header


def test_a_strategy_looks_the_same_everywhere_and_a_discipline_shares_a_colour(tmp_path: Path) -> None:
    an = _analysis(write_run(tmp_path, damaged=False, wide=True))
    look = {s.strategy: s for s in an.series}
    assert len(look) == 20
    family = [look[n] for n in ("global-lock", "global-lock-mp", "rust-global-lock")]
    assert len({s.slot for s in family}) == 1  # one colour per discipline...
    assert len({(s.marker, s.linestyle) for s in family}) == 3  # ...told apart by marker and line
    assert look["global-lock"].slot != look["ownership"].slot
    assert look["global-lock-mp"].marker == look["sharded-mp"].marker  # marker: the model
    assert look["rust-ownership"].linestyle == look["rust-global-lock"].linestyle != look["ownership"].linestyle
    # no two strategies look alike
    assert len({(s.slot, s.marker, s.linestyle) for s in an.series}) == 20
    # a manifest that declares no discipline: each strategy is its own (nothing from its name)
    silent = _analysis(write_run(tmp_path / "silent", damaged=False, disciplines=False))
    assert len({s.slot for s in silent.series}) == len(silent.series)


def test_no_panel_holds_more_than_eight_strategies() -> None:
    names = [f"s{i:02d}" for i in range(20)]
    model = {n: ("threads", "processes", "async")[i % 3] for i, n in enumerate(names)}
    language = {n: "rust" if i >= 14 else "python" for i, n in enumerate(names)}
    series = make_series(names, dict.fromkeys(names, "safe"), model, language, {})
    parts = facets(series)
    assert all(0 < len(p.series) <= MOST_SERIES for p in parts)
    assert sorted(s.strategy for p in parts for s in p.series) == names  # each once
    assert all(len({s.language for s in p.series}) == 1 for p in parts)  # a language per panel
    assert [p.title for p in facets(series[:8])] == [""]  # eight fit one panel


@pytest.mark.slow
def test_twenty_strategies_draw_in_small_multiples_with_one_colour_each(tmp_path: Path,
                                                                        monkeypatch) -> None:
    """Every figure of a twenty-strategy report: no panel draws more than eight strategies,
    a strategy has one colour in every figure, and text is no smaller than the body's."""
    from matplotlib.text import Text

    from report import plots
    from report.sections import common
    drawn = []
    real = common.png
    monkeypatch.setattr(common, "png", lambda fig: drawn.append(fig) or real(fig))
    run = write_run(tmp_path, damaged=False, wide=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RunWarning)
        build_report(run)
    assert len(drawn) >= 7
    colours: dict[str, set] = {}
    for fig in drawn:
        for ax in fig.axes:
            if not ax.get_visible():
                continue
            names = {a.get_gid() for a in ax.get_children() if a.get_gid()}
            assert len(names) <= MOST_SERIES, (fig._suptitle.get_text(), ax.get_title(), names)
            for line in ax.get_lines():
                if line.get_gid():
                    colours.setdefault(line.get_gid(), set()).add(line.get_color()
                                                                   if isinstance(line.get_color(), str)
                                                                   else tuple(line.get_color()))
        body_px = 15  # the report's body text (render.CSS), shown at the PNG's own width
        for text in fig.findobj(Text):
            if text.get_text().strip() and text.get_visible():
                assert text.get_fontsize() * plots.DPI / 72 >= body_px - 0.5, text.get_text()
    assert len(colours) == 20 and all(len(c) == 1 for c in colours.values())


def test_detail_folds_in_html_and_stays_in_markdown_in_order(built_report) -> None:
    _, built = built_report
    html, md = built.html.read_text(), built.markdown.read_text()
    rankings = _section(html, "rankings")
    assert "<details>" in rankings and "<ul>" not in rankings.split("<details>")[0]
    assert "<details open" not in html  # collapsed by default
    for claim in built.claims:  # every number behind a claim is in Markdown, in order
        positions = [md.index(line) for line in claim.evidence]
        assert positions == sorted(positions)
    titles = re.findall(r'<section id="[^"]+"><h2>([^<]+)</h2>', html)
    assert [md.index(f"\n## {t}\n") for t in titles] == sorted(md.index(f"\n## {t}\n") for t in titles)


def test_claims_not_measured_are_not_judged(tmp_path: Path) -> None:
    run = write_run(tmp_path, damaged=False)
    an = _analysis(run)
    an.groups = an.groups[an.groups["cores"] == 1]  # one core count: no speedup to judge
    found = {c.id: c for c in claims(an)}
    cpython = found["discipline"].judgements[0]
    assert cpython.strength == "not judged" and cpython.verdict == "not measured"
