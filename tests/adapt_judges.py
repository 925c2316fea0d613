"""Judges for the adaptive rounds' tests, and `sharebench` run with one of them plugged in
where the claims' judge goes (sharebench.adapt.JUDGE):

    python -m tests.adapt_judges <judge> run --profile-file ... --results ...

Each judge reads the run's records as the real one does (from the folder, at each look),
and asks about global-lock against sharded on the profile below.
"""
from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

from sharebench import adapt, cli

GROUPS = tuple({"strategy": name, "workload": "cpu", "engine": "wrk", "cores": 1, "users": 8,
                "live_objects": 0, "mode": "closed", "rate": ""}
               for name in ("global-lock", "sharded"))
WANTED = 4  # the one-group judge is satisfied at this many repeats of global-lock: two rounds

PROFILE = """
[tiny]
description = "the adaptive rounds' test: two strategies, one cell each, seconds long"
warmup = "0.5s"
duration = "1s"
budget = "4m"
adapt = true
reserve = {reserve}
[[tiny.blocks]]
engine = "wrk"
claim = "test"
strategies = ["global-lock", "sharded", "ownership"]
workloads = ["cpu"]
cores = [1]
users = [8]
repeats = 1
"""


@dataclass(frozen=True)
class Question:
    claim: str
    scope: str
    what: str
    priority: int
    groups: tuple[dict[str, object], ...]
    effect: float = math.nan


def ok_repeats(run: Path, strategy: str) -> int:
    """Measured repeats of the strategy's cpu cell, from the records in the folder."""
    found = 0
    for path in (run / "cells").glob(f"{strategy}.cpu.*.json"):
        found += json.loads(path.read_text()).get("status") == "ok"
    return found


def one_group(run: Path, looks: int) -> list[Question]:
    """Undecided until global-lock has WANTED repeats (and its rival with it)."""
    if ok_repeats(run, "global-lock") >= WANTED:
        return []
    return [Question("test", "CPython", f"global-lock vs sharded, look {looks}", 0, GROUPS)]


def always(run: Path, looks: int) -> list[Question]:
    """Never decided: only the reserve or the cap stops it. A row of lower priority comes
    first in the list, so the loop must reorder; one question has a side the plan lacks."""
    rival = ({**GROUPS[1]}, {**GROUPS[1], "strategy": "ownership"})
    unplanned = ({**GROUPS[0]}, {**GROUPS[0], "strategy": "rwlock"})
    return [Question("what-to-use", "CPython", "sharded vs ownership", 1, rival),
            Question("test", "CPython", "global-lock vs sharded", 0, GROUPS),
            Question("test", "CPython", "global-lock vs rwlock", 0, unplanned)]


JUDGES = {"one-group": one_group, "always": always}

if __name__ == "__main__":
    adapt.JUDGE = JUDGES[sys.argv[1]]
    sys.exit(cli.main(sys.argv[2:]))
