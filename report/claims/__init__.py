"""The Rust articles' claims (../shared/seeds), each judged from this run: one module per
claim returns typed results (result.py), decided by the one rule (stats.py); the sentences
are written from the results afterwards (sentences.py, gc.py's `write`).

    judge(analysis, looks=None) -> list[ClaimResult]      every claim, every scope
    judge_run(run_dir, looks=None) -> list[ClaimResult]   the same from a run folder
    claims(analysis, looks=None) -> list[Claim]           with sentences, as the report shows them
(looks=None: the run's own bound, analysis.looks_of)
    open_questions.open_questions(analysis)             what more repeats could decide
"""
from __future__ import annotations

import warnings
from pathlib import Path

from .. import openloop
from ..analysis import Analysis, analyse
from ..frames import RunWarning, read_run
from ..style import slug
from . import gc, sentences
from .judging import judge
from .result import Claim, ClaimResult, Compared, Condition, LeftOut, Outcome
from .stats import RULE

__all__ = ["Claim", "ClaimResult", "Compared", "Condition", "LeftOut", "Outcome", "RULE", "claims",
           "judge", "judge_run"]

SOURCES = {"own": "“Understanding Rust Ownership and Borrowing for Server Concurrency” (seeds/000)",
           "cacm": "“Leveraging Rust in High-Performance Web Services”, CACM (seeds/003)"}
STATEMENTS = {
    "discipline": ("The sharing discipline (ownership, locks, message passing) decides how a "
                   "server uses multiple cores.", f"{SOURCES['own']}; {SOURCES['cacm']}", "scaling"),
    "races": ("Data races are the cost of unsynchronised sharing; Rust rejects them at compile "
              "time.", f"{SOURCES['own']}; {SOURCES['cacm']}", "correctness"),
    "async": ("Async/await serves thousands of concurrent connections without the overhead of "
              "OS threads.", SOURCES["own"], "latency"),
    "gc": ("Garbage collection causes stop-the-world latency spikes; without a GC latency is "
           "predictable.", f"{SOURCES['own']}; {SOURCES['cacm']}", "latency"),
    "stateless": ("Stateless handlers scale more easily than shared state.", SOURCES["own"],
                  "summary"),
}


def judge_run(run_dir: str | Path, looks: int | None = None) -> list[ClaimResult]:
    """The judging of one run folder, outside the report build (its read warnings silenced)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RunWarning)
        return judge(analyse(read_run(run_dir)), looks)


def _claim(name: str, found: list[ClaimResult]) -> Claim:
    statement, source, section = STATEMENTS[name]
    return Claim(name, statement, source, [r for r in found if r.claim == name], section=section)


def claims(an: Analysis, looks: int | None = None) -> list[Claim]:
    """The five claims with their results, sentences and evidence."""
    found = judge(an, looks)
    out = [_claim(name, found) for name in STATEMENTS]
    by = {c.id: c for c in out}
    by["discipline"].answer, by["discipline"].evidence = sentences.discipline_answer(by["discipline"].results)
    by["races"].answer, by["races"].evidence = sentences.races_answer(an, by["races"].results)
    by["async"].answer, by["async"].evidence = sentences.async_answer(by["async"].results[0])
    by["gc"].answer, by["gc"].evidence = gc.write(an, by["gc"].results[0])
    by["stateless"].answer, by["stateless"].evidence = sentences.stateless_answer(by["stateless"].results)
    if workload := next((w for w in an.workloads if an.at_ref(w)["cores"].nunique() > 1), None):
        by["discipline"].figure = f"fig-scaling-{slug(workload)}.png"
    if by["gc"].results[0].measured:
        by["gc"].figure = "fig-gc-heap.png"
    sweep = openloop.sweep_rows(openloop.groups(an.run))
    # The sections draw the sweep's figure from every strategy with a usable line.
    if by["async"].results[0].detail.get("lines") and not sweep.empty and (sweep["usable"] > 0).any():
        by["async"].figure = f"fig-connections-{slug(sweep['workload'].iloc[0])}.png"
    return out
