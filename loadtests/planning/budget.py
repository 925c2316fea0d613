"""A time budget, not a count: the plan trims what it must to fit, and says what.

A profile may set ``budget = "15m"``. When its plan's estimate is over, the
planner trims one notch at a time, re-estimating after each, until it fits:
the axes of ``TRIMMABLE`` in turn (rates, the core axis, repeats, a block's own
warm-up and window; round robin, so that none is spent to its floor while
another has room), each time from the block that costs most. Nothing goes below a block's floor (blocks.floors), no block and no
strategy is dropped, and an axis the command line set is never touched. What
was trimmed, and why, goes into ``make plan``'s output and the manifest
(``budget``); a plan still over its budget at every floor says so too.

A plan that adapts (sharebench/adapt.py) fits its cells in the budget less a reserve
(``RESERVE_SHARE`` unless the profile sets ``reserve``), kept for repeats of the cells a
verdict is still open on once the planned cells are measured; with no budget the reserve is
the same share of the whole, the planned estimate being the rest.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from loadtests.planning.blocks import TRIMMABLE, Block, thin
from loadtests.planning.cells import Plan
from loadtests.planning.engine_costs import timed

MAX_STEPS = 1000  # each step trims one notch; a plan has far fewer notches than this
# A quarter: the default's claims rest on a few comparisons, and one more repeat of each
# side of those costs far less than a quarter of the plan; the rest of the plan keeps
# three quarters, enough for every block's floor.
RESERVE_SHARE = 0.25
# What the adaptive rounds need besides their cells, kept out of both the plan and the
# reserve: the planned cells' run-to-run spread around their estimate (a server's start, a
# cell's teardown; this share of the planned time) and the looks between rounds with the
# runner's slack. So the rounds are planned against the same reserve in every run, not
# against whatever the wall clock left: two runs that ask different questions can reach
# different verdicts.
SPREAD = 0.05
LOOKS_S = 20.0


@dataclass
class Budget:
    budget_s: float | None         # None: the profile sets none
    untrimmed_s: float = 0.0       # the estimate as written
    estimate_s: float = 0.0        # the estimate after trimming
    trimmed: list[str] = field(default_factory=list)  # one line per axis trimmed per block
    reserve_share: float = 0.0     # of the budget kept for adaptive repeats; 0: the plan is fixed

    @property
    def adapts(self) -> bool:
        return self.reserve_share > 0

    @property
    def allowance_s(self) -> float:
        """Kept for the planned cells' spread and the rounds' looks (SPREAD, LOOKS_S)."""
        if self.budget_s is None or not self.adapts:
            return 0.0
        return SPREAD * self.budget_s * (1 - self.reserve_share) + LOOKS_S

    @property
    def planned_s(self) -> float | None:
        """What the planned cells may take: the budget less the reserve and the allowance."""
        if self.budget_s is None:
            return None
        return self.budget_s * (1 - self.reserve_share) - self.allowance_s

    @property
    def reserve_s(self) -> float:
        """The reserve's share of the budget, or what the plan at its floors leaves of it
        after the allowance: the reserve never takes the plan over its budget."""
        if self.budget_s is None:
            return self.estimate_s * self.reserve_share / (1 - self.reserve_share)
        return max(0.0, min(self.budget_s * self.reserve_share,
                            self.budget_s - self.estimate_s - self.allowance_s))

    @property
    def fits(self) -> bool:
        return self.budget_s is None or self.estimate_s <= self.budget_s

    def to_dict(self) -> dict:
        return {"budget_s": self.budget_s, "untrimmed_s": round(self.untrimmed_s, 1),
                "estimate_s": round(self.estimate_s, 1), "fits": self.fits,
                "trimmed": list(self.trimmed), "reserve_share": self.reserve_share,
                "reserve_s": round(self.reserve_s, 1), "allowance_s": round(self.allowance_s, 1)}

    def describe(self) -> list[str]:
        reserve = (f"reserve {self.reserve_s / 60:.1f} min for repeats where a verdict is "
                   "still open (--no-adapt: none)")
        if self.allowance_s:
            reserve += (f", {self.allowance_s / 60:.1f} min kept for the planned cells' "
                        "spread and the looks between rounds")
        if self.budget_s is None:
            return [f"no budget: {reserve}"] if self.adapts else []
        planned = self.planned_s or 0.0
        head = f"budget {self.budget_s / 60:g} min: "
        if self.adapts and self.estimate_s > planned:
            head += (f"{reserve}: what the plan at its floors leaves of the "
                     f"{self.reserve_share:.0%} it keeps; ")
        elif self.adapts:
            head += f"{reserve}, {planned / 60:.2f} min for the plan; "
        if not self.trimmed:
            return [head + "fits as written"]
        lines = [head + f"the plan as written takes {self.untrimmed_s / 60:.1f} min, so it "
                 "trimmed (never below a block's floor, no block or strategy dropped):"]
        lines += [f"  trimmed {line}" for line in self.trimmed]
        if not self.fits:
            lines.append(f"  STILL OVER BUDGET at every block's floor ({self.estimate_s / 60:.1f} "
                         "min): name fewer strategies (STRATEGIES=), lower the floors, or raise "
                         "BUDGET=")
        return lines


def fit(blocks: list[Block], make: Callable[[list[Block]], Plan],
        cost: Callable[[Plan], float], budget_s: float | None,
        order: tuple[str, ...] = TRIMMABLE, reserve_share: float = 0.0) -> tuple[Plan, Budget]:
    """The plan of ``blocks`` (trimmed in place) within ``budget_s`` less its reserve if it
    can be."""
    plan = make(blocks)
    found = Budget(budget_s, cost(plan), cost(plan), reserve_share=reserve_share)
    if found.planned_s is None:
        return plan, found
    first: dict[tuple[int, str], str] = {}   # (block, axis) -> the value as written
    turn = [0]
    for _ in range(MAX_STEPS):
        if found.estimate_s <= found.planned_s:
            break
        step = _next(blocks, make, order, turn)
        if step is None:
            break
        block, axis, before = step
        first.setdefault((block.index, axis), before)
        plan = make(blocks)
        found.estimate_s = cost(plan)
    found.trimmed = [f"{b.label()}: {axis} {first[(b.index, axis)]} -> {_axis(b, axis)}"
                     f" (floor {_floor_text(b, axis)})"
                     for b in blocks for axis in order if (b.index, axis) in first]
    return plan, found


def _next(blocks: list[Block], make: Callable[[list[Block]], Plan],
          order: tuple[str, ...], turn: list[int]) -> tuple[Block, str, str] | None:
    """Trim one notch: the next axis of ``order`` in turn (round robin, so that no axis is
    spent to its floor while another still has room) that some block can give: from a
    block that carries no claim before one that does, then the one with the most notches
    left above its floor, then the costliest. Returns (block, axis, its value before), or
    None at every floor."""
    for step in range(len(order)):
        axis = order[(turn[0] + step) % len(order)]
        able = [b for b in blocks if axis not in b.fixed and _room(b, axis)]
        if able:
            turn[0] = (turn[0] + step + 1) % len(order)
            block = max(able, key=lambda b: (not b.claim, _notches(b, axis), _weight(b, make)))
            before = _axis(block, axis)
            _trim(block, axis)
            return block, axis, before
    return None


def _weight(block: Block, make: Callable[[list[Block]], Plan]) -> float:
    """Seconds of window the block's cells hold (what trimming it can save)."""
    plan = make([block])
    return sum(timed(c.engine, c.warmup or plan.warmup) + timed(c.engine, c.duration or plan.duration)
               for c in plan.cells)


def _notches(block: Block, axis: str) -> float:
    """How far above its floor the block is on ``axis`` (windows: as seconds)."""
    floor = block.floors.get(axis, 0)
    if axis == "rates":
        return len(block.rates) - floor
    if axis == "cores":
        return len(block.cores) - floor
    if axis == "repeats":
        return block.repeats - floor
    return sum(getattr(block, w) - block.floors.get(w, 0) for w in ("warmup", "duration"))


def _room(block: Block, axis: str) -> bool:
    floor = block.floors.get(axis, 0)
    if axis == "rates":
        return block.rates != [""] and len(block.rates) > floor
    if axis == "cores":
        return len(block.cores) > floor
    if axis == "repeats":
        return block.repeats > floor
    return any(_window_room(block, which) for which in ("warmup", "duration"))


def _window_room(block: Block, which: str) -> bool:
    """A window the block sets itself, above a floor it allows, that its engine would
    really run shorter (wrk times whole seconds: 0.5 s is 1 s to it)."""
    now, floor = getattr(block, which), block.floors.get(which, 0)
    shorter = max(floor, now / 2)
    return now > floor > 0 and timed(block.engine, shorter) < timed(block.engine, now)


def _trim(block: Block, axis: str) -> None:
    if axis == "rates":  # thinned from the axis as written: evenly spread, ends kept
        block.rates = thin(block.written["rates"], len(block.rates) - 1)
    elif axis == "cores":
        block.cores = thin(block.written["cores"], len(block.cores) - 1)
    elif axis == "repeats":
        block.repeats -= 1
    else:  # the warm-up first (it is not measured), then the window; halved, to the floor
        which = "warmup" if _window_room(block, "warmup") else "duration"
        setattr(block, which, max(block.floors[which], getattr(block, which) / 2))


def _axis(block: Block, axis: str) -> str:
    if axis == "rates":
        return "[" + ", ".join(block.rates) + "]"
    if axis == "cores":
        return "[" + ", ".join(map(str, block.cores)) + "]"
    if axis == "repeats":
        return str(block.repeats)
    return f"{_seconds(block.warmup)} + {_seconds(block.duration)}"


def _seconds(value: float) -> str:
    return f"{value:g} s" if value else "the profile's"


def _floor_text(block: Block, axis: str) -> str:
    if axis == "windows":
        return f"{_seconds(block.floors['warmup'])} + {_seconds(block.floors['duration'])}"
    return f"{block.floors.get(axis, 0):g}"
