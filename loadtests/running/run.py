"""``sharebench run``, orchestrated: plan, say what it will cost, write the manifest,
verify, measure every cell. The CLI parses the command line into a Request and calls
``start``; everything a run does in order is here, in that order."""
from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from loadtests.machine import topology as machine
from loadtests.machine.topology import Topology
from loadtests.planning import PlanError, interpreters, profiles
from loadtests.planning.estimate import describe, estimate, minutes
from loadtests.planning.prepare import prepare
from loadtests.running import hosts, sweep, venvs
from loadtests.running.manifest import adaptive, new_manifest
from loadtests.running.target import target_strategy
from results.store import RunStore
from servers import broken, discover
from servers.core.registry import source, unbuilt

After = Callable[[RunStore, threading.Event], dict]


@dataclass
class Request:
    """What the user asked for, as text where the command line gave text (checked here)."""
    profile: str = "default"
    profile_file: Path = profiles.PROFILES_FILE
    results: Path = Path("results")
    strategies: str | None = None
    workloads: str | None = None
    cores: str | None = None
    users: str | None = None
    repeats: str | None = None
    duration: str | None = None
    warmup: str | None = None
    engine: str | None = None
    rates: str | None = None
    live_objects: str | None = None
    budget: str | None = None
    loadgen_cpus: str | None = None
    target: str | None = None
    loadgen_workers: int = 0
    master_port: int = 5557
    pythons: str | None = None
    resume: Path | None = None
    adapt: bool | None = None   # False: --no-adapt; None: as the profile says
    dry_run: bool = False
    topology_root: Path | None = None
    machine_cores: int | None = None
    server_host: str | None = None     # the servers run there, over ssh
    load_host: str | None = None       # wrk runs there, over ssh
    server_dir: str | None = None      # its checkout (default: this checkout's path)
    ssh_options: str | None = None     # extra ssh arguments, as shell words
    argv: list[str] = field(default_factory=list)


def start(request: Request, out: TextIO | None = None, then: After | None = None) -> int:
    """Run (or, with dry_run, only plan) what ``request`` asks; the exit status. A bad
    request raises PlanError before anything starts. Messages go to ``out`` (stderr).
    ``then`` continues a run whose planned cells are all measured (the adaptive rounds,
    which live above this stage) and returns its manifest."""
    out = out or sys.stderr
    store = _resumed(request.resume, out) if request.resume else _new_run(request, out)
    if store is None:
        return 0
    for key, error in broken().items():
        print(f"sharebench: warning: {source(key)} and is not measured: {error}", file=out)
    stop = threading.Event()
    sweep.install_signal_handlers(stop)
    manifest = sweep.run(store, stop)
    if then is not None and manifest["status"] == "complete":
        manifest = then(store, stop)
    print(f"sharebench: run {manifest['status']}: {store.path}")
    if manifest["status"] == "complete":
        return 0
    return 128 + (2 if "INT" in manifest.get("interrupted_by", "") else 15)


def _resumed(path: Path, out: TextIO) -> RunStore:
    store = RunStore(path)
    if not (store.path / "manifest.json").is_file():
        raise PlanError(f"--resume {path}: no manifest.json there")
    for side in ("server", "load"):
        host = hosts.host_of(store.manifest(), side)
        why = hosts.reachable(host) if host else None
        if why:
            raise PlanError(f"--resume {path}: {why}")
    return store


def _new_run(request: Request, out: TextIO) -> RunStore | None:
    """Plan the run; print it and return None for a dry run, else write its manifest."""
    server = _remote(request, request.server_host, "server", out)
    load = _remote(request, request.load_host, "load", out)
    found = server.topology if server else _topology(request, out)
    overrides = profiles.overrides_from(request.strategies, request.workloads, request.cores,
                                        request.users, request.repeats, request.duration,
                                        request.warmup, request.engine, request.rates,
                                        request.budget, request.live_objects,
                                        request.adapt)
    if request.target:
        overrides.strategies = [target_strategy(request.target, list(discover()))]
        overrides.cores = overrides.cores or [1]
    pythons = interpreters.resolve_all(request.pythons) if request.pythons else []
    specs = discover()
    plan, place, budget = prepare(request.profile, overrides,
                                  {name: spec.traits.to_dict() for name, spec in specs.items()},
                                  found, request.loadgen_cpus, request.profile_file,
                                  [i.label for i in pythons],
                                  load_topology=_load_topology(request, server, load, out))
    cost = estimate(plan)
    if request.dry_run:
        print("\n".join(describe(plan, place, cost, found) + budget.describe()))
        for name in plan.strategies:
            if unbuilt(specs[name]):
                print(f"sharebench: note: {unbuilt(specs[name])}", file=out)
        for i in pythons:
            print(f"python {i.label}: {i.base} ({i.version}"
                  f"{', free-threaded' if i.gil_disabled else ''})")
        return None
    pythons = [venvs.ensure(i, log=lambda m: print(m, file=out, flush=True)) for i in pythons]
    print(f"sharebench: {len(plan.cells)} cells, estimated {minutes(cost.total_s)} "
          "(`sharebench run --dry-run` lists them)", file=out, flush=True)
    for line in budget.describe():
        print(f"sharebench: {line}", file=out, flush=True)
    run_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{plan.profile}"
    store = RunStore.create(request.results, run_id)
    store.write_manifest(new_manifest(
        run_id, plan, place, overrides.as_dict(), request.argv, target=request.target,
        loadgen_workers=request.loadgen_workers, master_port=request.master_port,
        pythons=pythons, budget=budget.to_dict(),
        adapt=adaptive(budget.adapts, budget.reserve_s), hosts=hosts.manifest_hosts(server, load)))
    return store


def _remote(request: Request, name: str | None, role: str,
            out: TextIO) -> hosts.ServerHost | None:
    """The server or load host, checked over ssh before anything starts; None: this one."""
    if not name:
        return None
    if request.target or request.pythons or request.loadgen_workers:
        raise PlanError(f"--{role}-host: not with --target, --pythons or --loadgen-workers")
    if request.server_host == request.load_host:
        raise PlanError(f"--server-host and --load-host are both {name}: give one")
    found = hosts.connect(name, request.ssh_options, request.server_dir, role)
    print(f"sharebench: {role} host {name} ({found.described['hostname']}, "
          f"{found.topology.summary()['cpus']} CPUs) at {found.address}, checkout "
          f"{found.host.directory}", file=out, flush=True)
    return found


def _load_topology(request: Request, server: hosts.ServerHost | None,
                   load: hosts.ServerHost | None, out: TextIO) -> Topology | None:
    """The load generator's host's topology when it is not the server's; None: one host."""
    if load:
        return load.topology
    return _topology(request, out) if server else None


def _topology(request: Request, out: TextIO) -> Topology:
    """The machine's topology, or a fake one for a dry run; a warning when unreadable."""
    if (request.topology_root or request.machine_cores) and not request.dry_run:
        raise PlanError("--topology-root and --machine-cores describe another machine: "
                        "only with --dry-run")
    if request.machine_cores:
        return machine.synthetic(request.machine_cores)
    root = request.topology_root or machine.SYSFS
    if request.topology_root and not root.is_dir():
        raise PlanError(f"--topology-root {root}: not a directory")
    found = machine.read_or_fallback(root)
    if found.fallback:
        print(f"sharebench: warning: CPU topology not read ({found.source.split(': ', 1)[1]}); "
              "placing by CPU number, SMT siblings and NUMA nodes unknown", file=out, flush=True)
    return found
