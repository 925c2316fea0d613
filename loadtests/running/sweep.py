"""The sweep: verify every strategy, then measure every cell of the plan, one at a time.

Interruptible at any moment: SIGINT or SIGTERM sets ``stop``; the cell in
flight stops its processes and is dropped, completed cells stay, and the
manifest says the run was interrupted, so ``--resume`` can finish it.
"""
from __future__ import annotations

import shutil
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

from loadtests.checks import knobs
from loadtests.checks.stress import describe, stress_strategy
from loadtests.checks.verify import verify_strategy
from loadtests.engines import Stopped
from loadtests.machine import signals
from loadtests.machine.limits import raise_fd_limit
from loadtests.machine.server import ServerError
from loadtests.planning import rates, windows
from loadtests.planning.cells import Cell
from loadtests.planning.workloads import WORKLOADS
from loadtests.running import hosts
from loadtests.running.cell import Setup, run_cell
from loadtests.running.manifest import now
from results import ids
from results.record import CellRecord
from results.store import RunStore
from servers import discover
from servers.core import registry


def install_signal_handlers(stop: threading.Event) -> dict:
    return signals.install(stop, "stopping the cell in flight and keeping completed cells")


def setup_from(manifest: dict) -> Setup:
    """How cells are measured, from a manifest, with a new scratch folder for Locust."""
    return Setup.from_manifest(manifest, Path(tempfile.mkdtemp(prefix="sharebench-")))


def cell_of(m: dict) -> Cell:
    """The cell of one row of a manifest's matrix."""
    return Cell(**{k: m[k] for k in ids.IDENTITY if k in m}, python=m.get("python", ""),
                rate=m.get("rate") or "", warmup=m.get("warmup") or 0.0,
                duration=m.get("duration") or 0.0, workers=m.get("workers") or 0,
                live_objects=m.get("live_objects") or 0,
                full_collections=m.get("full_collections") or 0,
                max_duration=m.get("max_duration") or 0.0)


def run(store: RunStore, stop: threading.Event, out=sys.stderr, verify: bool = True) -> dict:
    """Measure every cell of the store's manifest that has no record yet; ``verify=False``
    keeps the contract verdicts the run already holds (cells added after the plan)."""
    manifest = store.manifest()
    cells = [cell_of(m) for m in manifest["matrix"]]
    contract = (_verify(manifest, store, out, stop) if verify or "contract" not in manifest
                else manifest["contract"])
    setup = setup_from(manifest)
    raise_fd_limit()  # servers and Locust inherit it: thousands of connections need it
    if "knob_check" not in manifest and not manifest.get("target") and not stop.is_set():
        manifest["knob_check"] = _check_knobs(manifest, setup, contract, stop, out)
        store.write_manifest(manifest)
    done = store.done()
    todo = [cell for cell in cells if cell.id not in done]
    print(f"sharebench: run {manifest['run_id']}: {len(todo)} of {len(cells)} cells to measure "
          f"({len(done)} already recorded); results in {store.path}", file=out, flush=True)
    started = time.monotonic()
    try:  # the scratch folder holds Locust's per-cell files; failures keep their tail in `detail`
        for n, cell in enumerate(todo, 1):
            if stop.is_set():
                break
            records = store.records() if cell.rate else []
            offered, why = (rates.resolve(cell, records, len(setup.loadgen_cpus))
                            if cell.rate else (0.0, ""))
            if contract.get(cell.strategy):
                record = _contract_failure(cell, manifest, contract[cell.strategy])
            elif why:
                record = _not_measured(cell, manifest, offered, why)
            else:
                window, basis = windows.resolve(cell, records, offered,
                                                cell.duration or setup.duration)
                measured = replace(cell, duration=round(window, 1)) if basis else cell
                record = run_cell(measured, WORKLOADS[cell.workload], setup, stop, offered)
                record.window_basis = basis or None
            store.write_cell(record)
            _progress(n, len(todo), cell, record, started, out)
            if record.status == "failed":
                _check_hosts(setup, stop, store, out)
    except Stopped:
        pass  # the cell in flight is dropped; its processes were stopped by run_cell
    finally:
        shutil.rmtree(setup.scratch, ignore_errors=True)
    manifest = store.manifest()
    manifest["ended"] = now()
    if stop.is_set():
        manifest["status"] = "interrupted"
        manifest["interrupted_by"] = getattr(stop, "signal", "stop")
    else:
        manifest["status"] = "complete"
    store.write_manifest(manifest)
    return manifest


def _check_hosts(setup: Setup, stop: threading.Event, store: RunStore, out) -> None:
    """A cell failed: if a host of the run no longer answers, the run stops (the rest
    would fail alike) and --resume continues it."""
    for side, host in (("server", setup.server_host), ("load", setup.load_host)):
        why = hosts.reachable(host) if host else None
        if why:
            print(f"sharebench: stopping: {why}; `sharebench run --resume {store.path}` "
                  "continues once it answers", file=out, flush=True)
            stop.signal = f"{side} host lost: {why}"  # type: ignore[attr-defined]
            stop.set()
            return


def _verify(manifest: dict, store: RunStore, out,
            stop: threading.Event | None = None) -> dict[str, list[str]]:
    """The contract checks, once per strategy (under every interpreter of the matrix: a
    strategy failing under one is not measured), before anything is measured; then, for
    every stateful strategy that passed them, the preemption stress check (stress.py),
    kept in manifest["races"] so the report can name racy strategies and never rank
    them. Its verdict does not stop a strategy from being measured."""
    failures: dict[str, list[str]] = {}
    races = dict(manifest.get("races") or {})
    specs = discover()
    pythons = {label: doc["python"] for label, doc in (manifest.get("pythons") or {}).items()}
    for name in manifest["strategies"]:
        failures[name] = []
        if manifest.get("target"):  # a remote server's state is not ours to disturb
            continue
        try:
            if name in specs:
                registry.build(specs[name])  # discovery builds nothing; a run does, first
        except ValueError as exc:
            failures[name] = [str(exc)]
            print(f"sharebench: contract {name}: FAILED: {exc}", file=out, flush=True)
            continue
        for label, python in (pythons or {"": None}).items():
            found = verify_strategy(name, python=python)
            failures[name] += [f"under Python {label}: {f}" if label else f for f in found]
        status = "ok" if not failures[name] else f"FAILED: {failures[name][0]}"
        print(f"sharebench: contract {name}: {status}", file=out, flush=True)
        stateful = name in specs and specs[name].stateful
        if stop is not None and stop.is_set():
            continue  # stopping: --resume checks what is left
        if not failures[name] and stateful and name not in races:  # --resume keeps its verdict
            races[name] = stress_strategy(name, specs[name].traits.interpreter_lock)
            said = describe(races[name]).splitlines()
            print(f"sharebench: stress {name}: {said[0]}", *said[1:], sep="\n    ", file=out,
                  flush=True)
    manifest["contract"] = {name: found for name, found in failures.items()}
    manifest["races"] = races
    store.write_manifest(manifest)
    return failures


def _check_knobs(manifest: dict, setup: Setup, contract: dict, stop: threading.Event,
                 out) -> list[dict]:
    """--cpu-us against the server CPU it really costs: one strategy per execution model
    and language (a Rust server's knob must cost what a Python one's does)."""
    picked: dict[tuple[str, str], str] = {}
    for name, spec in sorted(manifest["strategies"].items()):
        if not contract.get(name) and spec.get("safety") != "unsafe":
            picked.setdefault((spec["model"], spec.get("language", "python")), name)
    cpus = setup.server_cpus.get(1) or None
    found = []
    for name in picked.values():
        if stop.is_set():
            break
        try:
            result = knobs.cpu_knob_cost(name, cpus)
        except (ServerError, OSError) as exc:
            result = {"strategy": name, "knob": "cpu_us", "error": None, "failed": str(exc)[:300]}
        found.append(result)
        said = (f"{result['measured_us']:.0f} µs of server CPU ({result['error']:+.1%})"
                if result.get("error") is not None else f"not measured: {result['failed']}")
        print(f"sharebench: knob check {name}: --cpu-us {knobs.KNOB_US:g} costs {said}",
              file=out, flush=True)
    return found


def _unmeasured(cell: Cell, manifest: dict, status: str, reason: str) -> CellRecord:
    """The record of a cell that was not measured, and why."""
    spec = manifest["strategies"][cell.strategy]
    return CellRecord(strategy=cell.strategy, workload=cell.workload, engine=cell.engine,
                      cores=cell.cores, users=cell.users, repeat=cell.repeat, python=cell.python,
                      rate=cell.rate, model=spec["model"], safety=spec["safety"], status=status,
                      reason=reason[:300])


def _contract_failure(cell: Cell, manifest: dict, failures: list[str]) -> CellRecord:
    record = _unmeasured(cell, manifest, "failed", f"failed the contract: {failures[0]}")
    record.detail = "\n".join(failures)[-4000:]
    return record


def _not_measured(cell: Cell, manifest: dict, offered: float, why: str) -> CellRecord:
    """An open-loop cell the run cannot measure honestly: skipped (beyond the engine) or
    failed (no capacity to take a fraction of)."""
    record = _unmeasured(cell, manifest, "skipped" if why.startswith("skipped") else "failed", why)
    record.offered_rps = round(offered, 1) if offered else None
    return record


def _progress(n: int, total: int, cell: Cell, record: CellRecord, started: float, out) -> None:
    elapsed = time.monotonic() - started
    eta = elapsed / n * (total - n)
    if record.status == "ok":
        flags = [f for f in ("loadgen_bound", "shared_cpu", "busy_machine") if getattr(record, f)]
        if record.errors:
            flags.append("errors")
        if record.correct is False:
            flags.append(f"LOST {record.lost_updates}")
        cpu = record.server_cpu
        what = (f"{record.rps or 0:>8.0f} req/s  p99 {(record.p99_us or 0) / 1000:6.2f} ms  "
                f"server {'?' if cpu is None else f'{cpu:.2f}'} cpu  {' '.join(flags)}")
        if cell.rate:
            what += (f" offered {record.offered_rps or 0:.0f}  p99 uncorrected "
                     f"{(record.p99_uncorrected_us or 0) / 1000:.2f} ms"
                     + ("  LAGGING" if record.loadgen_lagging else ""))
        if cell.live_objects and record.gc_full_collections is not None:
            full = record.gc_full_collections
            what += (f"  {record.duration_s or 0:.1f} s: " + (
                f"{full} full GC, longest {record.gc_pause_max_gen2_ms or 0:.0f} ms" if full
                else "no full GC in the window"))
    else:
        what = f"{(record.status or '').upper()}: {(record.reason or '')[:80]}"
    print(f"[{n:>3}/{total}] ETA {int(eta // 60)}m{int(eta % 60):02d}s  {cell.id:<40} {what}",
          file=out, flush=True)
