"""The correctness verdict, written once: what the clients were told against what the server holds.

Every stateful strategy keeps an invariant (its sum equals the increments it
applied), and every increment a client saw acknowledged must be in that sum.
Increments that got no answer may or may not have been applied, so they widen
the range the sum may fall in instead of counting as lost.
"""
from __future__ import annotations


def verdict(acked: int, uncertain: int, total: int, applied: int, safety: str) -> dict:
    """``total``/``applied``: the server's sum and applied increments (deltas over what was
    measured). Returns the record's correctness fields; None where there is no state."""
    doc = {"acked_incr": acked, "uncertain_incr": uncertain, "server_sum": total,
           "server_incr_applied": applied, "correct": None, "lost_updates": None}
    if safety == "no-state":
        return doc
    doc["correct"] = total == applied and acked <= total <= acked + uncertain
    doc["lost_updates"] = max(0, acked - total)
    return doc
