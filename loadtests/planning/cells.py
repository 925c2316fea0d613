"""What a run is made of: its cells (one measurement each), the plan that lists them,
and the overrides a user gives on the command line."""
from __future__ import annotations

from dataclasses import dataclass, field

from results import ids


@dataclass(frozen=True)
class Cell:
    strategy: str
    workload: str
    cores: int
    users: int
    repeat: int
    engine: str = ids.DEFAULT_ENGINE
    python: str = ""   # an interpreter of the matrix (--pythons), "" for the harness's own
    rate: str = ""   # open loop: "2000" req/s, or "0.85x" of capacity; "" closed loop
    warmup: float = 0.0    # this cell's own warm-up and window, s (a block's `warmup`,
    duration: float = 0.0  # `duration`); 0: the run's
    workers: int = 0       # the server's --workers (a block's `workers`); 0: its default
    live_objects: int = 0  # the server's live heap (--live-objects); 0: none
    # Open loop: the window holds this many full collections (loadtests/planning/windows.py),
    # from `duration` up to `max_duration`; 0: the window is `duration`.
    full_collections: int = 0
    max_duration: float = 0.0

    @property
    def id(self) -> str:
        return ids.cell_id(self.strategy, self.workload, self.engine, self.cores,
                           self.users, self.repeat, self.python, self.rate, self.workers,
                           self.live_objects)

    @property
    def mode(self) -> str:
        return ids.mode_of(self.rate)


@dataclass
class Overrides:
    strategies: list[str] | None = None
    workloads: list[str] | None = None
    cores: list[int] | None = None
    users: list[int] | None = None
    repeats: int | None = None
    duration: float | None = None
    warmup: float | None = None
    engine: str | None = None
    rates: list[str] | None = None   # replaces `rates` of blocks that have them (open loop)
    budget: float | str | None = None  # seconds, or "none": replaces the profile's `budget`
    live_objects: list[int] | None = None  # replaces `live_objects` of blocks that have them
    adapt: bool | None = None  # False: --no-adapt (no reserve, no adaptive rounds)

    def as_dict(self) -> dict:
        return {k: v for k, v in vars(self).items() if v is not None}


@dataclass
class Plan:
    profile: str
    description: str
    warmup: float
    duration: float
    cells: list[Cell] = field(default_factory=list)
    arrivals: str = "constant"        # open loop: constant intervals or poisson
    slo_ms: dict[str, float] = field(default_factory=dict)  # workload -> p99 target

    @property
    def strategies(self) -> list[str]:
        return sorted({cell.strategy for cell in self.cells})

    @property
    def workloads(self) -> list[str]:
        return sorted({cell.workload for cell in self.cells})

    @property
    def engines(self) -> list[str]:
        return sorted({cell.engine for cell in self.cells})
