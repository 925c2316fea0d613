"""A measure for the adaptive rounds (sharebench/adapt.py ``Rounds(measure=...)``) that
draws each added cell instead of running it: the round is appended and charged by
loadtests/running/extra.py as a real one is, so simulated runs go through the same loop,
reserve and cap."""
from __future__ import annotations

from collections.abc import Callable

from loadtests.running import extra
from results.store import RunStore

Draw = Callable[[RunStore, str], None]  # writes the record of one added cell, by its id


def simulated(draw: Draw):
    """The measure of a round whose cells ``draw`` writes; charged its estimate."""
    def measure(store: RunStore, asks, limit_s, stop, out, announce=None):
        planned = extra.add_round(store, asks, limit_s)
        if planned is None:
            return None
        for cell_id in planned.cells:
            draw(store, cell_id)
        return extra.finish_round(store, planned.estimate_s)
    return measure
