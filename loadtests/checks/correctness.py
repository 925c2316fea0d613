"""The correctness verdict, written once: what the clients were told against what the server holds.

Every stateful strategy keeps an invariant (its sum equals the increments it
applied), and every increment a client saw acknowledged must be in that sum.
Increments that got no answer may or may not have been applied, so they widen
the range the sum may fall in instead of counting as lost.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Correctness:
    """The cell-record fields of the verdict (results/record.py); None where there is no state."""
    acked_incr: int
    uncertain_incr: int
    server_sum: int
    server_incr_applied: int
    correct: bool | None = None
    lost_updates: int | None = None


def verdict(acked: int, uncertain: int, total: int, applied: int, safety: str) -> Correctness:
    """``total``/``applied``: the server's sum and applied increments (deltas over what was
    measured)."""
    found = Correctness(acked, uncertain, total, applied)
    if safety != "no-state":
        found.correct = total == applied and acked <= total <= acked + uncertain
        found.lost_updates = max(0, acked - total)
    return found
