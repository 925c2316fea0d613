"""The documentation against the code: the README stays a front door that defines every
flag the report prints, and the hand-written tables name exactly what the code holds
(the generated reference is checked in test_cli.py)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from loadtests.planning import profiles
from loadtests.planning.workloads import WORKLOADS
from results.schema import FLAGS
from servers import discover

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text()
DOCS = REPO / "docs"
# Pages written on other branches (the Redis strategies, the claims' outcomes); a link to
# them is checked once they exist.
ELSEWHERE = {"redis.md", "claims.md"}


def _first_column(page: Path) -> set[str]:
    """The backticked names in the first cell of every table row of a page."""
    return {m[1] for m in re.finditer(r"^\| `([a-z0-9-]+)` \|", page.read_text(), re.M)}


def test_readme_is_a_front_door() -> None:
    assert len(README.splitlines()) <= 300


def test_readme_defines_every_flag_letter() -> None:
    for flag in FLAGS:
        assert re.search(rf"^\| \*\*{flag.mark}\*\* \| `{flag.name}` \|", README, re.M), flag


@pytest.mark.parametrize("word", ["supported", "contradicted", "no difference", "undecided",
                                  "not judged", "reversed", "firm", "moderate", "weak"])
def test_readme_defines_the_outcome_words_and_strengths(word: str) -> None:
    assert re.search(rf"^\| \*\*{word}\*\* \|", README, re.M), word


def test_readme_names_every_claim() -> None:
    for claim in ("discipline", "races", "async", "gc", "stateless"):
        assert f"| **{claim}** |" in README, claim


def test_strategy_tables_name_every_registered_strategy() -> None:
    named = _first_column(DOCS / "strategies.md")
    assert named == set(discover()), (named ^ set(discover()))


def test_workload_and_profile_tables_match_the_code() -> None:
    assert _first_column(DOCS / "workloads-and-knobs.md") == set(WORKLOADS)
    assert _first_column(DOCS / "profiles-and-budget.md") == set(profiles.load_profiles())


@pytest.mark.parametrize("page", [REPO / "README.md", REPO / "CONTRACT.md",
                                  *sorted(DOCS.glob("*.md"))], ids=lambda p: p.name)
def test_relative_links_resolve(page: Path) -> None:
    for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", page.read_text()):
        path = (page.parent / target).resolve()
        assert path.exists() or path.name in ELSEWHERE, f"{page.name} links {target}"
