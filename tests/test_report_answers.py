"""The report answers first: the claims' judgements, what to use, the terminal summary, and
figures that stay readable at twenty strategies. Assertions are on the structured output
(judgements, choices, figures' artists), not on the wording."""
from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import pytest

from report import RunWarning, build_report
from report.analysis import analyse
from report.choices import choices
from report.claims import Outcome, claims, stats
from report.claims.stats import STRENGTHS, Decision
from report.frames import read_run
from report.sections.answers import first_screen_rows
from report.style import MOST_SERIES, facets, make_series
from report.terminal import WIDTH

from .report_run import write_run

CLAIM_IDS = ["discipline", "races", "async", "gc", "stateless"]


def _analysis(run: Path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RunWarning)
        return analyse(read_run(run))


def _section(html: str, section_id: str) -> str:
    start = html.index(f'<section id="{section_id}">')
    return html[start:html.index("</section>", start)]


def test_every_verdict_is_written_from_its_results(built_report) -> None:
    _, built = built_report
    assert [c.id for c in built.claims] == CLAIM_IDS
    for claim in built.claims:
        assert claim.results and all(r.claim == claim.id for r in claim.results), claim.id
        if len(claim.results) == 1:
            assert claim.verdict == claim.results[0].verdict
        for r in claim.results:
            assert r.strength in STRENGTHS
            assert (r.strength == "not judged") == (r.outcome is Outcome.NOT_JUDGED)
            if r.measured and r.effect_name == "ratio" and r.interval:
                assert r.interval[0] <= r.effect <= r.interval[1]
    by_id = {c.id: c for c in built.claims}
    discipline = by_id["discipline"]
    assert [r.scope for r in discipline.results] == ["CPython", "Rust"]
    cpython = discipline.results[0]
    # global-lock-mp's 1.75x against the threads' ~1.02x: the execution model decides
    assert cpython.outcome is Outcome.CONTRADICTED
    assert cpython.effect == pytest.approx(1.75 / 1.02, rel=0.06)
    assert cpython.estimate.repeats >= 2 and cpython.strength in ("firm", "moderate")  # a corrupt record
    races = by_id["races"].results[0]
    assert races.scope == "CPython" and races.outcome is Outcome.SUPPORTED
    assert races.strength == "firm" and 0 < races.effect < 1
    rust_races = by_id["races"].results[1]
    assert rust_races.scope == "Rust" and rust_races.outcome is Outcome.NOT_JUDGED  # none could lose
    assert by_id["gc"].results[0].strength == "not judged"  # no gc cells in the fixture


def test_claims_json_holds_one_object_per_claim_and_scope(built_report) -> None:
    _, built = built_report
    found = json.loads((built.html.parent / "claims.json").read_text())
    assert len(found) == sum(len(c.results) for c in built.claims)
    outcomes = {o.value for o in Outcome}
    for item in found:
        assert {"claim", "scope", "outcome", "effect", "interval", "strength", "conditions",
                "left_out"} <= set(item)
        assert item["outcome"] in outcomes
        if item["interval"] is not None:
            low, high = item["interval"]
            assert low <= item["effect"] <= high
        for condition in item["conditions"]:
            assert set(condition) == {"name", "passed", "detail"}


def test_first_screen_holds_the_claims_and_what_to_use(built_report) -> None:
    _, built = built_report
    html = built.html.read_text()
    answers = _section(html, "answers")
    assert html.index('<section id="answers">') < html.index("<nav>")  # before the contents
    tables = re.findall(r"<table>.*?</table>", answers)
    assert len(tables) == 2
    claims_rows = re.findall(r"<tr>(.*?)</tr>", tables[0].split("<tbody>")[1])
    assert len(claims_rows) == sum(len(first_screen_rows(c)) for c in built.claims)
    for claim in built.claims:
        assert f'href="#claim-{claim.id}"' in tables[0]
        for r in claim.results:
            assert r.strength in tables[0]
            if r.measured:  # the effect and its interval beside the verdict
                assert r.verdict in tables[0] and r.effect_text() in tables[0]
    assert f'id="claim-{built.claims[0].id}"' in html  # the link lands on the claim's detail
    an = _analysis(built.html.parent)
    found = choices(an)
    assert len(re.findall(r"<tr>", tables[1].split("<tbody>")[1])) == len(found)
    for c in found:  # a leader the rule does not put ahead of every other is a tie
        assert f">{c.leader}<" in tables[1] if c.decided else f">tie: {c.leader}<" in tables[1]


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


def test_one_rule_decides_every_comparison() -> None:
    same = [1000.0, 1010.0, 990.0]
    assert stats.ratio([1500.0, 1510.0, 1490.0], same).decision is Decision.DIFFERS
    assert stats.ratio([1500.0, 1510.0, 1490.0], same).strength == "firm"
    assert stats.ratio([1001.0, 1011.0, 991.0], same).decision is Decision.SAME
    # 15% apart, but the interval reaches into the band: undecided
    assert stats.ratio([1100.0, 1200.0, 1150.0], [950.0, 1050.0, 1000.0]).decision is Decision.UNDECIDED
    one = stats.ratio([1500.0], same)
    assert one.decision is Decision.UNDECIDED and one.interval is None  # no interval from one
    # more comparisons, or more looks, widen the interval: a decision can be lost, never won
    wide = stats.ratio([1300.0, 1400.0], [1000.0, 1050.0])
    wider = stats.ratio([1300.0, 1400.0], [1000.0, 1050.0], comparisons=10, looks=3)
    assert wider.low < wide.low and wider.high > wide.high
    # a ratio of speedups sums its four groups' variances
    s = stats.speedup_ratio([1000.0, 1010.0, 990.0], [1750.0, 1760.0, 1740.0], same, same)
    assert s.effect == pytest.approx(1.75, rel=0.01) and s.differs
    assert stats.count(3, 100, 1).strength == "firm" and stats.count(0, 100, 2).strength == "moderate"


def test_terminal_summary_is_a_table_within_100_columns(built_report) -> None:
    run, built = built_report
    assert built.summary and all(len(line) <= WIDTH for line in built.summary)
    text = "\n".join(built.summary)
    for claim in built.claims:
        assert claim.id in text
        for r in claim.results:
            assert r.strength in text
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
    cpython = found["discipline"].results[0]
    assert cpython.strength == "not judged" and cpython.outcome is Outcome.NOT_JUDGED
