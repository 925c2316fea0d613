"""One block of a profile, resolved: which strategies (selected by their declared traits),
which workloads, cores, users, rates, repeats and windows, and how far the budget may
trim each axis (budget.py).

A block's ``strategies`` is "all", a list of names, or a table of trait values, e.g.
``{ safe = true, parallel = true }`` or ``{ model = ["threads", "async"] }`` (a list: any
of them), with an optional ``exclude`` list of names: a strategy added later gets every
block whose traits it has, with no edit to the profile. A block may say which claim it
carries (``claim = "discipline"``) and the least the budget may leave it
(``min = { repeats = 2, rates = 3, cores = 4, warmup = "0.5s", duration = "1s" }``).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from loadtests.planning import PlanError
from servers.core.traits import SELECTABLE

TRIMMABLE = ("rates", "cores", "repeats", "windows")  # the axes the budget may trim, in order
FLOORS = ("rates", "cores", "repeats", "warmup", "duration")  # a block's `min` keys
_BLOCK_KEYS = {"strategies", "workloads", "cores", "users", "repeats", "engine", "warmup",
               "duration", "rates", "claim", "min", "workers", "live_objects", "full_collections",
               "max_duration"}


@dataclass
class Block:
    index: int                 # 1-based, as `make plan` names it
    strategies: list[str]
    workloads: list[str]
    cores: list[int]
    users: list[int]           # empty: each workload's default
    repeats: int
    engine: str
    rates: list[str]           # [""]: closed loop
    warmup: float = 0.0        # 0: the profile's
    duration: float = 0.0      # 0: the profile's
    claim: str = ""            # the claim whose evidence it carries, if any
    workers: int = 0           # the servers' --workers (a block's `workers`); 0: their default
    floors: dict[str, float] = field(default_factory=dict)  # axis -> the least the budget leaves
    fixed: set[str] = field(default_factory=set)  # axes the command line set: never trimmed
    written: dict[str, list] = field(default_factory=dict)  # rates and cores before any trim
    heaps: list[int] = field(default_factory=lambda: [0])  # live objects per server (0: none)
    full_collections: int = 0  # open loop: windows sized to hold this many (windows.py)
    max_duration: float = 0.0  # and bounded by this

    def __post_init__(self) -> None:
        self.written = {"rates": list(self.rates), "cores": list(self.cores)}

    def label(self) -> str:
        carries = f", carries the {self.claim} claim" if self.claim else ""
        return f"block {self.index} ({'/'.join(self.workloads)}, {self.engine}{carries})"


def check_block(block: dict, where: str) -> None:
    unknown = set(block) - _BLOCK_KEYS
    if unknown:
        raise PlanError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; "
                        f"valid: {', '.join(sorted(_BLOCK_KEYS))}")


def select(spec: object, traits: Mapping[str, Mapping], where: str,
           check: Callable[[str, list[str], object], None]) -> list[str]:
    """The strategies a block's ``strategies`` names: "all", a list, or a table of traits."""
    if spec == "all":
        return list(traits)
    if isinstance(spec, list):
        check("strategy", spec, traits)
        return list(spec)
    if not isinstance(spec, dict):
        raise PlanError(f"{where}: strategies must be \"all\", a list of names or a table of "
                        f"traits, got {spec!r}")
    wanted = dict(spec)
    exclude = wanted.pop("exclude", [])
    if not isinstance(exclude, list):
        raise PlanError(f"{where}: exclude must be a list of strategy names, got {exclude!r}")
    check("strategy", exclude, traits)
    unknown = set(wanted) - set(SELECTABLE)
    if unknown:
        raise PlanError(f"{where}: cannot select by {', '.join(sorted(unknown))}; "
                        f"traits: {', '.join(SELECTABLE)}")
    options = {key: value if isinstance(value, list) else [value] for key, value in wanted.items()}
    return [name for name, found in traits.items() if name not in exclude
            and all(found.get(key) in values for key, values in options.items())]


def floors(block: dict, repeats: int, rates: list[str], cores: list[int], every_core: bool,
           warmup: float, duration: float, parse_duration: Callable[..., float],
           where: str) -> dict[str, float]:
    """The least the budget may leave of each axis: the block's ``min``, else a default
    that keeps its evidence readable: two repeats (a spread to judge overlap by) where it
    has them, three rates (ends kept), four core counts of ``cores = "all"`` (what a USL
    fit needs), and a listed core axis and the block's windows as written."""
    given = block.get("min", {})
    if not isinstance(given, dict) or set(given) - set(FLOORS):
        raise PlanError(f"{where}: min must be a table of {', '.join(FLOORS)}, got {given!r}")
    out: dict[str, float] = {
        "repeats": min(repeats, 2), "rates": min(len(rates), 3),
        "cores": min(len(cores), 4) if every_core else len(cores), "warmup": warmup,
        "duration": duration}
    for axis, value in given.items():
        if axis in ("warmup", "duration"):
            out[axis] = parse_duration(value, f"{where} min {axis}")
        elif isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise PlanError(f"{where}: min {axis} must be a whole number >= 1, got {value!r}")
        else:
            out[axis] = value
    return out


def thin(values: list, keep: int) -> list:
    """``keep`` of ``values``, evenly spread, the first and the last always kept."""
    if keep >= len(values):
        return list(values)
    if keep <= 1:
        return values[-1:]
    step = (len(values) - 1) / (keep - 1)
    return [values[round(i * step)] for i in range(keep)]


def check_workers(workers: int, names: list[str], strategies: Mapping[str, Mapping],
                  where: str) -> None:
    """A block's ``workers`` must suit every strategy it names: ``--workers`` means a
    connection cap, a process count or one event loop by model, and a server refuses a
    count its model cannot take. Refused here, in one line, before anything starts."""
    from servers.core.serve import check_workers as server_check  # what the server will say
    refused: dict[str, str] = {}
    for name in names:
        traits = strategies.get(name, {})
        if "model" not in traits:
            continue
        try:
            server_check(name, traits["model"], traits.get("language", "python") != "python",
                         workers)
        except ValueError as exc:
            refused[name] = str(exc)
    if refused:
        raise PlanError(f"{where}: workers = {workers} cannot be given to "
                        f"{', '.join(refused)} ({next(iter(refused.values()))}): "
                        "name strategies whose model takes it, or leave workers out")
