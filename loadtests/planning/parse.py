"""Command-line and profile text to typed values: durations, lists of numbers and names,
live-heap sizes, and the overrides a user gives. Each bad value is a PlanError that
names it and says what would do."""
from __future__ import annotations

import re

from loadtests.planning import PlanError, rates
from loadtests.planning.cells import Overrides
from servers.core.heap import MAX_LIVE_OBJECTS

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h)?$")
_SCALE = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def parse_duration(text: str | float | int, what: str = "duration",
                   most: float = 3600) -> float:
    """10s, 1.5s, 500ms, 2m, 1h or plain seconds; more than 0 and at most ``most`` s."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        seconds = float(text)
    else:
        match = _DURATION.match(str(text).strip())
        if not match:
            raise PlanError(f"bad {what} {text!r}: use e.g. 10s, 1.5s, 500ms, 2m or 1h")
        seconds = float(match[1]) * _SCALE[match[2]]
    if not 0 < seconds <= most:
        limit = f"{most / 3600:g} hour" + ("" if most == 3600 else "s")
        raise PlanError(f"bad {what} {text!r}: must be more than 0 and at most {limit}")
    return seconds


def parse_int_list(text: str, what: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise PlanError(f"bad {what} {text!r}: use comma-separated whole numbers, e.g. 1,2") from None
    if not values or min(values) < 1:
        raise PlanError(f"bad {what} {text!r}: use comma-separated whole numbers >= 1")
    return values


def parse_names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def parse_live_objects(values: list | str, where: str = "LIVE_OBJECTS") -> list[int]:
    """A heap axis: whole numbers of live objects, 0..MAX_LIVE_OBJECTS (0: no heap)."""
    items = values.split(",") if isinstance(values, str) else values
    try:
        heaps = [int(str(item).strip()) for item in items if str(item).strip()]
    except (TypeError, ValueError):
        raise PlanError(f"{where}: bad live_objects {values!r}: use whole numbers of objects, "
                        "e.g. 0,100000,1000000") from None
    if not heaps or not all(0 <= h <= MAX_LIVE_OBJECTS for h in heaps):
        raise PlanError(f"{where}: bad live_objects {values!r}: give at least one, each in "
                        f"0..{MAX_LIVE_OBJECTS}")
    return list(dict.fromkeys(heaps))


def overrides_from(strategies: str | None = None, workloads: str | None = None,
                   cores: str | None = None, users: str | None = None,
                   repeats: str | None = None, duration: str | None = None,
                   warmup: str | None = None, engine: str | None = None,
                   rates_text: str | None = None, budget_text: str | None = None,
                   live_objects: str | None = None, adapt: bool | None = None) -> Overrides:
    """Overrides from command-line text (empty means "not given")."""
    try:
        planned_rates = rates.parse_rates(rates_text) if rates_text else None
    except ValueError as exc:
        raise PlanError(f"RATES: {exc}") from None
    return Overrides(
        rates=planned_rates, adapt=adapt,
        live_objects=parse_live_objects(live_objects) if live_objects else None,
        strategies=parse_names(strategies) if strategies else None,
        workloads=parse_names(workloads) if workloads else None,
        cores=parse_int_list(cores, "CORES") if cores else None,
        users=parse_int_list(users, "USERS") if users else None,
        repeats=parse_int_list(repeats, "REPEATS")[0] if repeats else None,
        duration=parse_duration(duration, "DURATION") if duration else None,
        warmup=parse_duration(warmup, "WARMUP") if warmup else None,
        engine=engine or None,
        budget=(budget_text if budget_text == "none"
                else parse_duration(budget_text, "BUDGET", most=86400)) if budget_text else None)
