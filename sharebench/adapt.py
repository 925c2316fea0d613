"""The adaptive rounds: the reserve of a run's budget spent where a verdict is still open.

After the planned cells, the claims are judged; every comparison still undecided whose
deciding would change a claim's outcome or strength (the judge's open questions) gets more
repeats of the cells on both its sides, the comparison a verdict rests on (priority 0)
before a row of the what-to-use table (1); then the claims are judged again. The rounds
stop when every question is decided, when each one left has a side at ``CAP`` repeats or
carries a flag no repeat can cure, or when the next round does not fit in what is left of
the reserve (and of the budget's wall clock) by the plan's own estimator.

Looking at the data and then adding more inflates false positives unless the rule pays
for it. A comparison's data changes only when a round adds repeats to its sides, which
grow by ``step`` up to ``CAP``: so it can be looked at no more than ``LEVEL_LOOKS`` times,
a bound fixed before the first look. Every look, the first one included, is judged at
the level for that many (``adapt.level_looks`` in the manifest), and so is the report's
final judging; the looks actually taken are counted too (``adapt.looks``).

This lives above the stages: it calls the judge (report) and asks the load stage
(loadtests/running/extra.py) for the cells, and neither of those imports the other.
"""
from __future__ import annotations

import math
import sys
import threading
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Protocol

from loadtests.planning.estimate import REPORT_S, minutes
from loadtests.running import extra
from results.store import RunStore

# Repeats a side at most. Six: past it, the interval of a ratio of two medians narrows by
# less than a tenth per repeat at the spreads this harness sees, and a comparison still
# straddling the band's edge is one the data says is close to it, not one more repeats decide.
CAP = 6
PRIORITY = {0: "a claim's outcome or strength rests on it", 1: "a what-to-use row"}


class Question(Protocol):
    """One undecided comparison, as the claims' judge states it."""
    @property
    def claim(self) -> str: ...
    @property
    def scope(self) -> str: ...
    @property
    def what(self) -> str: ...
    @property
    def priority(self) -> int: ...
    @property
    def groups(self) -> tuple[dict[str, object], ...]: ...


Judge = Callable[[Path, int], Sequence[Question]]
Measure = Callable[..., "extra.Round | None"]  # extra.run_extra's signature


def claims_judge(run: Path, looks: int) -> Sequence[Question]:
    """The claims' open questions about the run's data, judged at the level for ``looks``."""
    import warnings

    from report.analysis import analyse
    from report.claims.open_questions import open_questions
    from report.frames import RunWarning, read_run
    with warnings.catch_warnings():  # a corrupt record is the report's to name, not the rounds'
        warnings.simplefilter("ignore", RunWarning)
        return open_questions(analyse(read_run(run)), looks=looks)


# The judge the rounds ask: None leaves the reserve unspent (the manifest says why).
JUDGE: Judge | None = claims_judge


# A round's cells are charged the plan's average cell; the process variants and the 2-core
# cells the questions ask for start slower than that average, so a round is planned at its
# estimate times this (or the most a round of this run has overrun, if more), and the
# budget's wall clock keeps the next look and a few seconds' slack besides.
OVERRUN = 1.4
SLACK_S = 10.0


# Repeats a side needs before its interval can decide anything at the rule's corrected
# level: a first round takes a side there at once, not one repeat at a time.
FIRST = 3


def step(have: int) -> int:
    """More repeats for a side that has ``have``: to FIRST at once, then half as many again,
    at least one, to the cap (fewer looks than one at a time, each look costing the rule
    some of its level)."""
    return max(0, min(CAP - have, max(1, have // 2, FIRST - have)))


def order(questions: Sequence[Question]) -> list[Question]:
    """Most valuable first: priority 0 (a claim rests on it) before 1; within a priority,
    every claim and scope's best question before any one's second (so one claim with many
    comparisons does not spend the reserve its neighbours need), in the order the judge
    lists the claims (fixed, so two runs cut a round at the same place), then by margin.
    A claim and scope's best question is one whose cells include another of its questions'
    (one round's cells answer both), then the one whose effect lies farthest from the
    band's nearest edge (the one the fewest repeats are likeliest to decide, either way)."""
    def margin(q: Question) -> float:
        effect, band = getattr(q, "effect", math.nan), getattr(q, "band", 0.1)
        if not isinstance(effect, (int, float)) or not effect > 0:
            return 0.0
        return abs(abs(math.log(effect)) - math.log(1 + band))

    def cells(q: Question) -> frozenset:
        return frozenset(tuple(sorted(g.items())) for g in q.groups)

    def covers(q: Question) -> int:
        mine = cells(q)
        return sum(1 for o in questions if o is not q and (o.claim, o.scope) == (q.claim, q.scope)
                   and o.priority == q.priority and cells(o) <= mine)
    claims = {c: i for i, c in enumerate(dict.fromkeys(q.claim for q in questions))}
    ranked = sorted(questions, key=lambda q: (q.priority, -covers(q), -margin(q)))
    seen: dict[tuple[int, str, str], int] = {}
    turn: dict[int, int] = {}
    for q in ranked:
        key = (q.priority, q.claim, q.scope)
        turn[id(q)] = seen[key] = seen.get(key, -1) + 1
    return sorted(ranked, key=lambda q: (q.priority, turn[id(q)], claims[q.claim]))


def most_looks(start: int = 1) -> int:
    """How many times a comparison whose sides start at ``start`` repeats can be looked at
    with new data: once as planned, then once after each step to the cap."""
    looks, have = 1, start
    while step(have):
        have += step(have)
        looks += 1
    return looks


LEVEL_LOOKS = most_looks()


def overrun(section: dict) -> float:
    """What a round's estimate is multiplied by before it must fit: OVERRUN, or the most a
    complete round of this run took over its estimate."""
    seen = [r["spent_s"] / r["estimate_s"] for r in section.get("rounds", [])
            if r.get("complete") and r.get("estimate_s")]
    return max([OVERRUN, *seen])


class Rounds:
    """The adaptive rounds of one run: ``sharebench run`` calls it once the planned cells
    are measured (loadtests/running/run.py ``then``), and again on --resume."""

    def __init__(self, judge: Judge | None, resumed: bool = False, out=sys.stderr,
                 measure: Measure = extra.run_extra) -> None:
        self.judge = judge
        self.out = out
        self.measure = measure  # the calibration's simulated runs draw their cells instead
        # The budget's wall clock runs from the plan; a resumed run's earlier part is not
        # on this clock, and the reserve alone bounds it.
        self.started = None if resumed else time.monotonic()
        self.look_s = 0.0  # how long the last judging took: the look after a round costs it too

    def __call__(self, store: RunStore, stop: threading.Event) -> dict:
        manifest = store.manifest()
        section = manifest.get("adapt") or {}
        if not section.get("enabled") or section.get("stopped"):
            return manifest
        if self.judge is None:
            return self._stop(store, "no judge in this build: the reserve is unspent", [])
        section["cap"], section["level_looks"] = CAP, LEVEL_LOOKS
        store.write_manifest(manifest)
        while not stop.is_set():
            manifest = store.manifest()
            section = manifest["adapt"]
            section["looks"] += 1
            store.write_manifest(manifest)
            try:
                began = time.monotonic()
                questions = order(self.judge(store.path, LEVEL_LOOKS))
                self.look_s = time.monotonic() - began
            except Exception as exc:  # every cell is measured: a broken judge must not sink the run
                return self._stop(store, f"the judge failed: {type(exc).__name__}: {exc}"[:300],
                                  [])
            if stop.is_set():
                break
            if not questions:
                return self._stop(store, "decided: no open question left", [])
            asks, held = self._asks(store, manifest, questions)
            if not asks:
                return self._stop(store, "every open question is capped or flagged", held)
            left = self._left_s(manifest) / overrun(manifest["adapt"])
            done = self.measure(store, asks, left, stop, self.out,
                                   announce=partial(self._say, left=left))
            if done is None:
                return self._stop(store, f"reserve spent: the next round does not fit in the "
                                  f"{left:.0f} s left", held)
            if done.complete:
                print(f"sharebench: adaptive round {done.number} took {minutes(done.spent_s)}",
                      file=self.out, flush=True)
        return store.manifest()

    def _asks(self, store: RunStore, manifest: dict, questions: Sequence[Question]
              ) -> tuple[list[extra.Ask], list[str]]:
        """Each question as more repeats of its groups, or why it gets none."""
        records = store.records()
        asks, held = [], []
        for q in questions:
            name = f"{q.claim} ({q.scope}): {q.what}"
            have = [extra.repeats(manifest, g) for g in q.groups]
            flagged = sorted({f for g in q.groups for f in extra.flags(records, g)})
            if flagged:
                held.append(f"{name}: flagged {', '.join(flagged)}; repeats cannot cure a flag")
            elif not q.groups or 0 in have:
                held.append(f"{name}: a side is not a planned cell")
            elif max(have) >= CAP:
                held.append(f"{name}: a side has {max(have)} repeats, the cap")
            else:
                why = f"{name} [{PRIORITY.get(q.priority, f'priority {q.priority}')}]"
                asks.append(extra.Ask(why, tuple(q.groups), tuple(step(n) for n in have)))
        return asks, held

    def _left_s(self, manifest: dict) -> float:
        """What is left of the reserve, and of the budget's wall clock (less the report's
        time) when the run has a budget and started in this invocation."""
        section = manifest["adapt"]
        left = section["reserve_s"] - section["spent_s"]
        budget = (manifest.get("budget") or {}).get("budget_s")
        if budget and self.started is not None:
            left = min(left, budget - (time.monotonic() - self.started) - REPORT_S
                       - self.look_s - SLACK_S)
        return max(0.0, left)

    def _say(self, done: extra.Round, left: float) -> None:
        print(f"sharebench: adaptive round {done.number}: {len(done.cells)} cells, estimated "
              f"{minutes(done.estimate_s)} of {minutes(left)} left in the reserve, for:",
              file=self.out, flush=True)
        for ask in done.asked:
            sides = ", ".join(f"+{n} {extra.label(g)}" for g, n in zip(ask.groups, ask.repeats))
            print(f"    {ask.reason}: {sides}", file=self.out, flush=True)
        for ask in done.left_out:
            print(f"    next time (did not fit): {ask.reason}", file=self.out, flush=True)

    def _stop(self, store: RunStore, why: str, held: list[str]) -> dict:
        manifest = store.manifest()
        section = manifest["adapt"]
        section["stopped"], section["held"] = why, held
        store.write_manifest(manifest)
        added = sum(len(r["cells"]) for r in section["rounds"])
        print(f"sharebench: adaptive rounds stopped ({why}): {added} cells added in "
              f"{len(section['rounds'])} round(s), {section['spent_s']:.0f} s of the "
              f"{section['reserve_s']:.0f} s reserve spent, {section['looks']} look(s)",
              file=self.out, flush=True)
        for line in held:
            print(f"    held: {line}", file=self.out, flush=True)
        return manifest
