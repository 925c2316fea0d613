"""``sharebench run --dry-run --json``: the plan a run would measure, as one JSON document.

The same steps as a run's own planning (loadtests/running/run.py): the overrides, the
machine (or the described one), the profile's blocks sized to its budget; then every
cell, where it runs and what it is estimated to cost. Nothing starts."""
from __future__ import annotations

from dataclasses import asdict

from loadtests.machine import topology as machine
from loadtests.planning import PlanError, interpreters, profiles
from loadtests.planning.estimate import estimate
from loadtests.planning.prepare import prepare
from loadtests.running.run import Request
from loadtests.running.target import target_strategy
from servers import discover


def plan_document(request: Request) -> dict:
    """The plan of ``request`` as plain data; PlanError when the request is bad."""
    if request.machine_cores:
        found = machine.synthetic(request.machine_cores)
    elif request.topology_root:
        if not request.topology_root.is_dir():
            raise PlanError(f"--topology-root {request.topology_root}: not a directory")
        found = machine.read_or_fallback(request.topology_root)
    else:
        found = machine.read_or_fallback()
    overrides = profiles.overrides_from(request.strategies, request.workloads, request.cores,
                                        request.users, request.repeats, request.duration,
                                        request.warmup, request.engine, request.rates,
                                        request.budget, request.live_objects)
    specs = discover()
    if request.target:
        overrides.strategies = [target_strategy(request.target, list(specs))]
        overrides.cores = overrides.cores or [1]
    pythons = interpreters.resolve_all(request.pythons) if request.pythons else []
    plan, place, budget = prepare(request.profile, overrides,
                                  {name: spec.traits.to_dict() for name, spec in specs.items()},
                                  found, request.loadgen_cpus, request.profile_file,
                                  [i.label for i in pythons])
    cost = estimate(plan)
    cores = sorted({cell.cores for cell in plan.cells})
    return {
        "profile": plan.profile,
        "description": plan.description,
        "warmup_s": plan.warmup,
        "duration_s": plan.duration,
        "arrivals": plan.arrivals,
        "slo_ms": plan.slo_ms,
        "strategies": plan.strategies,
        "workloads": plan.workloads,
        "engines": plan.engines,
        "placement": place.describe(cores),
        "estimate_s": round(cost.total_s, 1),
        "budget": budget.to_dict(),
        "cells": [{"id": cell.id, **asdict(cell)} for cell in plan.cells],
    }
