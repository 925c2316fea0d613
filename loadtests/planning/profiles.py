"""Profiles plus overrides -> the validated matrix of cells: each block resolved
(strategies by traits, workloads, cores, users, rates, heaps, windows), the cells in
their order, the budget applied, and every cross-block check, before any process starts.

Reading the profile file is profile_file.py's, parsing text parse.py's; both are
re-exported here, where callers have always found them."""
from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path

from loadtests.machine.limits import FD_MARGIN, fd_limit
from loadtests.planning import PlanError, budget, engine_costs, rates
from loadtests.planning.blocks import (
    TRIMMABLE,
    Block,
    check_block,
    check_workers,
    floors,
    select,
)
from loadtests.planning.budget import Budget
from loadtests.planning.cells import Cell, Overrides, Plan
from loadtests.planning.parse import (
    overrides_from,
    parse_duration,
    parse_int_list,
    parse_live_objects,
    parse_names,
)
from loadtests.planning.profile_file import PROFILES_FILE, check_names, load_pairs, load_profiles
from loadtests.planning.workloads import WORKLOADS
from servers.core.threaded import IDLE_TIMEOUT_S

__all__ = ["PROFILES_FILE", "PlanError", "build", "check_names", "core_series", "load_pairs",
           "load_profiles", "most_connections", "overrides_from", "parse_duration",
           "parse_int_list", "parse_live_objects", "parse_names"]

MAX_INTERVAL_S = IDLE_TIMEOUT_S / 2  # a paced connection's wait between requests, at most



def core_series(share: int, machine_cores: int) -> list[int]:
    """``cores = "all"``: 1, 2, 4, ... below the server's share, and the share itself,
    so a 64-core machine measures 6 or 7 core counts instead of 64. A machine whose
    server has one core to itself (2 CPUs) measures 1 and 2, the second shared with
    the load generator (flagged shared_cpu), as it always has."""
    top = max(1, min(share, machine_cores))
    if top == 1:
        return [1, 2] if machine_cores >= 2 else [1]
    series = [1]
    while series[-1] * 2 < top:
        series.append(series[-1] * 2)
    return series + [top]


def build(profile: str, overrides: Overrides, strategies: Mapping[str, Mapping],
          machine_cores: int | None = None, path: Path = PROFILES_FILE,
          server_share: int | None = None,
          expand: Callable[[Plan], Plan] = lambda plan: plan,
          cost: Callable[[Plan], float] | None = None) -> tuple[Plan, Budget]:
    """The plan for ``profile`` with ``overrides``; ``strategies``: each registered name and
    its declared traits (blocks select by them). ``machine_cores`` bounds explicit core
    counts (the CPUs we may use); ``server_share``, the physical cores the server has to
    itself, bounds ``cores = "all"``. ``expand`` turns the profile's cells into the run's
    (one per interpreter); ``cost`` estimates a plan's seconds for its budget."""
    machine_cores = machine_cores or len(os.sched_getaffinity(0))
    server_share = server_share or max(1, machine_cores // 2)
    profiles = load_profiles(path)
    if profile not in profiles:
        raise PlanError(f"unknown profile {profile!r}; valid: {', '.join(profiles)}")
    doc = profiles[profile]
    try:
        warmup = overrides.warmup or parse_duration(doc.get("warmup", "2s"), "warmup")
        duration = overrides.duration or parse_duration(doc.get("duration", "5s"), "duration")
        written = doc["blocks"]
    except KeyError as exc:
        raise PlanError(f"profile {profile!r} lacks {exc}") from None
    for kind, names, valid in (("strategy", overrides.strategies, strategies),
                               ("workload", overrides.workloads, WORKLOADS)):
        check_names(kind, names or [], valid)
    for count in overrides.cores or []:
        if count > machine_cores:
            raise PlanError(f"bad core count {count}: this machine has {machine_cores} "
                            f"(valid: 1..{machine_cores})")
    header = Plan(profile, doc.get("description", ""), warmup, duration,
                  arrivals=_arrivals(doc.get("arrivals", "constant")),
                  slo_ms=_slo(doc.get("slo_ms", {})))
    resolved = [_block(n, block, overrides, strategies, machine_cores, server_share, profile)
                for n, block in enumerate(written, 1)]
    limit = overrides.budget if overrides.budget is not None else doc.get("budget")
    budget_s = None if limit in (None, "none") else parse_duration(limit, "budget", most=86400)

    def make(blocks: list[Block]) -> Plan:
        return expand(_cells(header, blocks))

    plan, found = budget.fit(resolved, make, cost or (lambda _: 0.0), budget_s,
                             _trim_order(doc.get("trim"), profile),
                             _reserve(doc, overrides, profile))
    if not plan.cells:
        raise PlanError(f"profile {profile!r} with these overrides has no cells to run")
    if overrides.rates and not any(cell.rate for cell in plan.cells):
        raise PlanError(f"RATES given, but profile {profile!r} has no open-loop block "
                        "(a block with `rates`) for them to replace")
    if overrides.live_objects and not any("live_objects" in block for block in written):
        raise PlanError(f"LIVE_OBJECTS given, but profile {profile!r} has no block with "
                        "`live_objects` for them to replace")
    _check_open(plan)
    _check_paced(plan)
    for engine in plan.engines:
        try:
            engine_costs.check_engine(engine)
        except ValueError as exc:
            raise PlanError(str(exc)) from None
    return plan, found


def _cells(header: Plan, blocks: list[Block]) -> Plan:
    """The cells of ``blocks``, repeats interleaved (every cell once, then again), so slow
    drift of the machine shows up as noise between repeats instead of biasing one
    strategy; open-loop cells last (a fraction of capacity needs its closed-loop cell)."""
    plan = replace(header, cells=[])
    per_repeat: list[list[Cell]] = []
    for block in blocks:
        while len(per_repeat) < block.repeats:
            per_repeat.append([])
        for repeat in range(block.repeats):
            for workload in block.workloads:
                for user_count in block.users or [WORKLOADS[workload].users]:
                    for core_count in block.cores:
                        for heap in block.heaps:
                            for rate in block.rates:
                                for name in block.strategies:
                                    per_repeat[repeat].append(
                                        Cell(name, workload, core_count, user_count, repeat,
                                             block.engine, rate=rate,
                                             warmup=_warmup(header, block, user_count, rate),
                                             duration=block.duration, workers=block.workers,
                                             live_objects=heap,
                                             full_collections=block.full_collections,
                                             max_duration=block.max_duration))
    seen: set[str] = set()
    for repeat_cells in per_repeat:
        for cell in repeat_cells:
            if cell.id not in seen:
                seen.add(cell.id)
                plan.cells.append(cell)
    plan.cells.sort(key=lambda cell: bool(cell.rate))
    return plan


def _warmup(header: Plan, block: Block, users: int, rate: str) -> float:
    """A cell's warm-up (0: the profile's); a paced wrk cell's lasts at least one
    per-connection interval and the ramp, so every connection has spoken before the window."""
    if block.engine != "wrk" or not rate or rates.is_fraction(rate):
        return block.warmup
    return engine_costs.paced_warmup(block.warmup or header.warmup, users, float(rate))


def most_connections() -> int:
    """``users = "max"``: the most connections this machine's descriptor limit allows each
    side (server and engine each hold one per connection, plus FD_MARGIN of their own),
    in whole thousands."""
    return max(1000, (fd_limit() - FD_MARGIN) // 1000 * 1000)


def _users(value) -> int:
    if value == "max":
        return most_connections()
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise PlanError(f"bad users {value!r}: a whole number >= 1, or \"max\" (the most "
                        "connections the file-descriptor limit allows)")
    return value


def _check_paced(plan: Plan) -> None:
    """Paced wrk cells: an interval the servers let a connection idle through."""
    for cell in plan.cells:
        if not (cell.rate and cell.engine == "wrk") or rates.is_fraction(cell.rate):
            continue
        interval = cell.users / float(cell.rate)
        if interval > MAX_INTERVAL_S:
            raise PlanError(f"{cell.users} connections at {cell.rate} req/s: each connection "
                            f"would wait {interval:g} s between requests, over the "
                            f"{MAX_INTERVAL_S:g} s the servers let one idle (half their "
                            "keep-alive timeout); raise the rate or lower the users")


def _reserve(doc: dict, overrides: Overrides, profile: str) -> float:
    """The share of the budget kept for adaptive repeats: a profile adapts when it says so
    (`adapt = true`) or, unsaid, when a block carries a claim (there is a verdict to
    decide); --no-adapt turns it off. 0: the plan is fixed."""
    said = doc.get("adapt", any(isinstance(b, dict) and b.get("claim") for b in doc["blocks"]))
    if not isinstance(said, bool):
        raise PlanError(f"profile {profile!r}: adapt must be true or false, got {said!r}")
    share = doc.get("reserve", budget.RESERVE_SHARE)
    if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 < share <= 0.5:
        raise PlanError(f"profile {profile!r}: reserve is the budget's share kept for adaptive "
                        f"repeats, above 0 and at most 0.5, got {share!r}")
    adapts = said if overrides.adapt is None else overrides.adapt
    return float(share) if adapts else 0.0


def _trim_order(order: object, profile: str) -> tuple[str, ...]:
    if order is None:
        return TRIMMABLE
    if not isinstance(order, list) or set(order) - set(TRIMMABLE):
        raise PlanError(f"profile {profile!r}: trim must be a list of {', '.join(TRIMMABLE)}, "
                        f"got {order!r}")
    return tuple(order)


def _arrivals(value: str) -> str:
    if value not in ("constant", "poisson"):
        raise PlanError(f"bad arrivals {value!r}; valid: constant, poisson")
    return value


def _slo(table: dict) -> dict[str, float]:
    """Per workload, the p99 latency (ms) a strategy must stay under to 'sustain' a rate."""
    if not isinstance(table, dict):
        raise PlanError(f"bad slo_ms {table!r}: use a table, workload = milliseconds")
    check_names("workload", list(table), WORKLOADS)
    for name, value in table.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise PlanError(f"bad slo_ms for {name}: {value!r}: must be milliseconds above 0")
    return {name: float(value) for name, value in table.items()}


def _check_open(plan: Plan) -> None:
    """Before anything starts: open cells on an engine that keeps a schedule, a capacity
    cell behind every fraction, and no connection count above the descriptor limit."""
    closed = {(c.strategy, c.workload, c.cores, c.live_objects) for c in plan.cells if not c.rate}
    limit = fd_limit()
    for cell in plan.cells:
        if cell.users + FD_MARGIN > limit:
            raise PlanError(f"{cell.users} connections is more than this machine allows: the "
                            f"file-descriptor hard limit is {limit} (ulimit -Hn), and each side "
                            f"needs {FD_MARGIN} more; raise it or use fewer users")
        if not cell.rate:
            continue
        if cell.engine not in engine_costs.OPEN_ENGINES:
            raise PlanError(f"open-loop rates need engine {' or '.join(engine_costs.OPEN_ENGINES)}; "
                            f"{cell.engine} cannot keep a schedule ({cell.id})")
        if rates.is_fraction(cell.rate) and not any(
                (cell.strategy, workload, cell.cores, cell.live_objects) in closed
                for workload in rates.capacity_workloads(cell.workload)):
            heap = f" holding {cell.live_objects} live objects" if cell.live_objects else ""
            raise PlanError(f"rate {cell.rate} is a fraction of capacity, but the plan has no "
                            f"closed-loop cell of {cell.strategy}/{cell.workload} at {cell.cores} "
                            f"cores{heap} to measure it: add one, or give rates in requests/s")


def _block(index: int, block: dict, ov: Overrides, strategies: Mapping[str, Mapping],
           machine_cores: int, server_share: int, profile: str) -> Block:
    where = f"profile {profile!r} block {index}"
    if not isinstance(block, dict):
        raise PlanError(f"{where}: a block is a table, got {block!r}")
    check_block(block, where)
    names = ov.strategies or select(block.get("strategies", "all"), strategies, where, check_names)
    workloads = ov.workloads or block.get("workloads", [])
    cores = ov.cores or block.get("cores", "all")
    every_core = cores == "all"
    cores = core_series(server_share, machine_cores) if every_core else cores
    users = ov.users or [_users(u) for u in block.get("users", [])]
    workers = block.get("workers", 0)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 0:
        raise PlanError(f"bad workers {workers!r}: the servers' --workers, a whole number >= 1")
    if workers:
        check_workers(workers, names, strategies, where)
    repeats = ov.repeats or block.get("repeats", 1)
    engine = ov.engine or block.get("engine", "locust")
    check_names("engine", [engine], engine_costs.ENGINES)
    # A block may have its own windows (thousands of connections take seconds to open; wrk
    # needs less than Locust); WARMUP= and DURATION= replace every block's, as overrides do.
    warmup = 0.0 if ov.warmup or "warmup" not in block else parse_duration(block["warmup"], "warmup")
    duration = (0.0 if ov.duration or "duration" not in block
                else parse_duration(block["duration"], "duration"))
    planned = block.get("rates")  # an open-loop block; a closed one has none
    try:
        block_rates = (ov.rates or rates.parse_rates(planned)) if planned is not None else [""]
    except ValueError as exc:
        raise PlanError(str(exc)) from None
    # The live heap's axis: a block with `live_objects` measures each size (LIVE_OBJECTS=
    # replaces it); one without measures servers with no live heap.
    heaps = (ov.live_objects or parse_live_objects(block["live_objects"], where)
             if "live_objects" in block else [0])
    full, most = _gc_window(block, planned is not None, ov, where)
    check_names("workload", workloads, WORKLOADS)
    cores = [c for c in cores if c <= machine_cores]  # a profile may plan for bigger machines
    fixed = {axis for axis, given in (("rates", ov.rates), ("cores", ov.cores),
                                      ("repeats", ov.repeats),
                                      ("windows", ov.duration or ov.warmup))
             if given}
    return Block(index, names, workloads, cores, users, repeats, engine, block_rates,
                 warmup=warmup, duration=duration, claim=str(block.get("claim", "")),
                 workers=workers,
                 floors=floors(block, repeats, block_rates, cores, every_core, warmup,
                               duration, parse_duration, where),
                 fixed=fixed, heaps=heaps, full_collections=full, max_duration=most)


def _gc_window(block: dict, is_open: bool, ov: Overrides, where: str) -> tuple[int, float]:
    """A block's `full_collections` (its open-loop windows hold that many full collections,
    loadtests/planning/windows.py) and `max_duration` (the bound); (0, 0) when it has
    none, or when DURATION= fixes every window."""
    full = block.get("full_collections", 0)
    if isinstance(full, bool) or not isinstance(full, int) or not 0 <= full <= 100:
        raise PlanError(f"{where}: bad full_collections {full!r}: a whole number of "
                        "collections, 0..100")
    if not full or ov.duration:
        return 0, 0.0
    if not is_open:
        raise PlanError(f"{where}: full_collections sizes open-loop windows: give the block "
                        "`rates`")
    if "max_duration" not in block:
        raise PlanError(f"{where}: full_collections needs max_duration: the bound on a "
                        "window's length")
    return full, parse_duration(block["max_duration"], "max_duration")
