"""A small but realistic synthetic run, written to the results/README.md contract.

`write_run(folder)` is what the report tests build from. It has what a real
run on a 2-core machine has: 1 and 2 cores, repeats, cells flagged
loadgen_bound / shared_cpu / noisy / with errors, a failed cell, a corrupt
record, an unsafe strategy that loses updates, a process variant that scales,
and an `io` workload at two user counts. The tests at the bottom keep the
fixture honest against the contract itself (tests/test_report_fixture.py).
"""
from __future__ import annotations

import csv
import json
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
from hdrh.histogram import HdrHistogram

from results import hdr, ids, schema
from results.record import CellRecord

COLUMNS = list(schema.COLUMN_NAMES)

# name: (model, safety, req/s at 1 core on cpu, 1->2 core speedup, base RSS MiB)
SYNTHETIC = {
    "async": ("async", "safe", 3600, 1.00, 30),
    "global-lock": ("threads", "safe", 2900, 1.03, 34),
    "global-lock-mp": ("processes", "safe", 2600, 1.75, 33),
    "message-passing": ("threads", "safe", 2400, 1.01, 35),
    "ownership": ("threads", "safe", 3100, 1.02, 36),
    "stateless": ("threads", "no-state", 5200, 1.04, 31),
    "unsafe": ("threads", "unsafe", 3000, 1.02, 34),
    # The Rust reference group (manifest language "rust"): faster than any Python strategy,
    # so a report that mixed them into the Python ranking would put them first.
    "rust-ownership": ("threads", "safe", 30000, 1.90, 6),
    "rust-global-lock": ("threads", "safe", 26000, 1.30, 5),
}
RUST = {"rust-ownership", "rust-global-lock"}
# The sharing discipline each declares (manifest `strategies` → `discipline`): the forms of
# one discipline share it; a strategy not named here is its own.
DISCIPLINE = {"global-lock-mp": "global-lock", "rust-global-lock": "global-lock",
              "rust-ownership": "ownership", "async": "event-loop", "unsafe": "unsynchronised"}
# Eleven more, for twenty strategies in all: what the report must stay readable at.
WIDE = {
    "rwlock": ("threads", "safe", 3000, 1.02, 34), "rwlock-mp": ("processes", "safe", 2700, 1.7, 33),
    "sharded": ("threads", "safe", 3050, 1.02, 35), "sharded-mp": ("processes", "safe", 2750, 1.8, 34),
    "actor": ("threads", "safe", 2300, 1.01, 36), "actor-mp": ("processes", "safe", 2200, 1.6, 35),
    "async-mp": ("processes", "safe", 3300, 1.7, 31), "stm": ("threads", "safe", 2000, 1.0, 40),
    "rust-rwlock": ("threads", "safe", 28000, 1.8, 5), "rust-actor": ("threads", "safe", 20000, 1.2, 5),
    "rust-async": ("async", "safe", 29000, 1.85, 6)}
WIDE_RUST = {"rust-rwlock", "rust-actor", "rust-async"}
WIDE_DISCIPLINE = {"rwlock-mp": "rwlock", "rust-rwlock": "rwlock", "sharded-mp": "sharded",
                   "actor-mp": "message-passing", "actor": "message-passing",
                   "rust-actor": "message-passing", "async-mp": "event-loop", "rust-async": "event-loop"}
WORKLOADS = {
    "cpu": {"description": "CPU-bound: 200 us of work per request, 50 us of it inside the state",
            "mix": {"get": 0.5, "incr": 0.4, "transfer": 0.1},
            "knobs": {"cpu_us": 200, "hold_us": 50, "io_ms": 0}, "users": [32]},
    "io": {"description": "I/O-bound: a 20 ms simulated wait outside the state",
           "mix": {"get": 0.5, "incr": 0.5}, "knobs": {"cpu_us": 0, "hold_us": 0, "io_ms": 20},
           "users": [16, 256]},
}
DURATION = 10.0
FAILED = "message-passing.io.locust.c2.u256.r0"
CORRUPT = "ownership.cpu.locust.c1.u32.r2"
BUSY = "async.cpu.locust.c1.u32.r1"  # another process competed for the CPUs in this one


def histogram(rng: np.random.Generator, median_us: float, spread: float, count: int) -> HdrHistogram:
    """A latency histogram of ``count`` requests around ``median_us``, log-normally spread."""
    histogram = hdr.new()
    samples = np.clip(rng.lognormal(np.log(median_us), spread, 4000), 1, 59_000_000)
    # Rounded to the histogram's own 3 significant digits: far fewer distinct values to record.
    magnitude = 10.0 ** (np.floor(np.log10(samples)) - 2)
    values, counts = np.unique((np.round(samples / magnitude) * magnitude).astype(int),
                               return_counts=True)
    scale = max(1, count // 4000)
    for value, n in zip(values, counts):  # a weighted sample stands in for every request
        histogram.record_value(int(value), int(n) * scale)
    return histogram


def _cell(rng: np.random.Generator, strategy: str, workload: str, cores: int, users: int,
          repeat: int, rps_scale: float, machine: int = 2) -> CellRecord:
    model, safety, rps1, speedup, rss = (SYNTHETIC | WIDE)[strategy]
    knobs = WORKLOADS[workload]["knobs"]
    cell_id = ids.cell_id(strategy, workload, "locust", cores, users, repeat)
    if workload == "cpu":
        rps = rps1 * speedup ** np.log2(cores)  # the 1->2 speedup again at every doubling
    else:  # io: the 20 ms wait caps users/0.02; threads are capped at 64 connections
        cap = {"async": 5200, "global-lock-mp": 2800 * cores}.get(strategy, 2900)
        cap = 1e9 if strategy in RUST | WIDE_RUST else cap  # a thread per connection, no interpreter lock
        rps = min(users / 0.021, cap)
    if (strategy, workload, cores) == ("message-passing", "cpu", 2):
        rps *= rps_scale * (1 + 0.15 * (repeat % 3 - 1))  # -15%, 0, +15%: CV 15%, noisy
    else:
        rps *= rps_scale * (1 + rng.normal(0, 0.01))
    requests = int(rps * DURATION)
    median = users / rps * 1e6 * 0.9
    latency = histogram(rng, median, 0.45, requests)
    server_cpu = min(cores, 0.97 * (speedup ** np.log2(cores) if workload == "cpu" else 1.0))
    shared = cores >= machine  # the load generator has the machine's last CPU
    loadgen_bound = (strategy, workload, cores) in {("stateless", "cpu", 2), ("async", "io", 2)}
    loadgen_cpu = 0.93 if loadgen_bound else rps / 14000 + 0.05
    errors = 12 if (strategy, workload, cores, users) == ("async", "io", 1, 256) else 0
    acked = requests * 3 if safety != "no-state" else None
    lost = int(acked * (0.02 * cores)) if safety == "unsafe" else 0
    busy = cell_id == BUSY
    return CellRecord(
        cell_id=cell_id, strategy=strategy, model=model, safety=safety,
        workload=workload, engine="locust", cores=cores, users=users, repeat=repeat,
        status="ok", reason="", duration_s=DURATION, requests=requests,
        rps=requests / DURATION,
        p50_us=latency.get_value_at_percentile(50), p90_us=latency.get_value_at_percentile(90),
        p99_us=latency.get_value_at_percentile(99), p999_us=latency.get_value_at_percentile(99.9),
        max_us=latency.get_max_value(), mean_us=round(median * 1.1, 1),
        errors=errors, server_cpu_s=server_cpu * DURATION, loadgen_cpu_s=loadgen_cpu * DURATION,
        server_cpu=server_cpu, loadgen_cpu=loadgen_cpu, server_cores=cores,
        loadgen_cores=1, rps_per_cpu_s=requests / (server_cpu * DURATION),
        rss_mb=rss * (cores if model == "processes" else 1) + users * 0.12,
        loadgen_cpus_busy=loadgen_cpu + (0.3 if shared else 0.0),
        other_cpu=0.25 if busy else 0.01, busy_machine=busy,
        loadgen_bound=loadgen_bound, shared_cpu=shared,
        correct=None if acked is None else lost == 0,
        lost_updates=None if acked is None else lost,
        acked_incr=acked, uncertain_incr=None if acked is None else 0,
        server_sum=None if acked is None else acked - lost,
        server_incr_applied=None if acked is None else acked - lost // 2,
        warmup_observed_s=1.9,
        cpu_us=knobs["cpu_us"], hold_us=knobs["hold_us"], io_ms=knobs["io_ms"],
        connection_cap=1024 if model == "threads" else None,
        hdr=hdr.encode(latency), errors_by_kind={"timeout": errors} if errors else {},
        server_stderr_tail="")


def _failed(cell: CellRecord) -> CellRecord:
    return CellRecord(
        cell_id=cell.cell_id, strategy=cell.strategy, model=cell.model, safety=cell.safety,
        workload=cell.workload, engine=cell.engine, cores=cell.cores, users=cell.users,
        repeat=cell.repeat, server_cores=cell.server_cores, loadgen_cores=cell.loadgen_cores,
        cpu_us=cell.cpu_us, hold_us=cell.hold_us, io_ms=cell.io_ms, shared_cpu=cell.shared_cpu,
        status="failed", reason="server exited with code 1 during warm-up", errors_by_kind={},
        server_stderr_tail="Traceback (most recent call last):\nOSError: [Errno 24] Too many open files")


def _declared(strategies: dict, discipline: dict | None) -> dict:
    """The manifest's `strategies`: declared as a format-2 run recorded them, the traits
    derived by the migration; the discipline as given, or none at all (a run that declares
    none: each strategy is its own)."""
    found = schema.migrate_manifest({"strategies": {
        name: {"model": spec[0], "safety": spec[1], "rust": "…",
               "language": "rust" if name in RUST | WIDE_RUST else "python",
               "rule": ("no synchronisation; the hold yields the GIL like any I/O "
                        "would") if spec[1] == "unsafe" else "…"}
        for name, spec in strategies.items()}}, 2)["strategies"]
    for name, entry in found.items():
        if discipline is None:
            entry.pop("discipline", None)
        else:
            entry["discipline"] = discipline.get(name, name)
    return found


def write_run(root: Path, run_id: str = "20250101-120000-quick", *, repeats: int = 3,
              cores_list: tuple[int, ...] = (1, 2), machine: int = 2,
              rps_scale: dict[str, float] | None = None, environment: dict | None = None,
              damaged: bool = True, seed: int = 7, races: dict | None = None,
              disciplines: bool = True, wide: bool = False) -> Path:
    """Write results-style run `root/run_id` and return its path. `disciplines`: the
    manifest declares each strategy's discipline (else it is silent, as older runs are);
    `wide`: eleven more strategies, twenty in all."""
    strategies = SYNTHETIC | (WIDE if wide else {})
    declared = DISCIPLINE | (WIDE_DISCIPLINE if wide else {})
    rng = np.random.default_rng(seed)
    run = root / run_id
    (run / "cells").mkdir(parents=True)
    matrix, rows = [], []
    for workload, spec in WORKLOADS.items():
        for strategy in strategies:
            for cores in cores_list:
                for users in spec["users"]:
                    for repeat in range(repeats if workload == "cpu" else 1):
                        cell = _cell(rng, strategy, workload, cores, users, repeat,
                                     (rps_scale or {}).get(f"{strategy}.{workload}.c{cores}", 1.0),
                                     machine)
                        matrix.append({k: getattr(cell, k) for k in ("cell_id", *ids.IDENTITY)})
                        if damaged and cell.cell_id == FAILED:
                            cell = _failed(cell)
                        if damaged and cell.cell_id == CORRUPT:
                            # Against the contract (records are atomic), but the report must survive it.
                            (run / "cells" / f"{CORRUPT}.json").write_text('{"cell_id": "' + CORRUPT + '", "rps": 31')
                            continue
                        rows.append(cell)
    schema.mark_noisy(rows)
    for cell in rows:
        (run / "cells" / f"{cell.cell_id}.json").write_text(json.dumps(cell.to_json()))
    with open(run / "cells.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS)
        writer.writeheader()
        for cell in rows:
            writer.writerow(schema.csv_row(cell))
    # The shape loadtests/machine/environment.py writes.
    env = {"hostname": "bench-host", "cpu_model": "Synthetic CPU @ 2.0GHz", "logical_cores": machine,
           "harness_affinity": list(range(machine)), "governor": "performance", "kernel": "Linux 6.1.0-synthetic",
           "python": "CPython 3.11.2", "gc_thresholds": [700, 10, 10],
           "packages": {"locust": "2.47.0", "aiohttp": "3.14.5", "hdrhistogram": "0.10.8"},
           "git_commit": "0123456789abcdef0123456789abcdef01234567", "git_dirty": False,
           "load_average": [0.4, 0.3, 0.2]}
    env.update(environment or {})
    manifest = {
        "format_version": schema.FORMAT_VERSION, "run_id": run_id, "profile": "quick", "overrides": {"repeats": repeats},
        "command": f"sharebench bench --profile quick --repeats {repeats}",
        "matrix": matrix,
        "workloads": {name: {k: v for k, v in spec.items() if k != "users"}
                      for name, spec in WORKLOADS.items()},
        "strategies": _declared(strategies, declared if disciplines else None),
        "placement": {"server_cpus": {str(c): list(range(c)) for c in cores_list},
                      "loadgen_cpus": [machine - 1],
                      "shared": {str(c): c >= machine for c in cores_list}},
        "timing": {"warmup_s": 2.0, "duration_s": DURATION},
        "environment": env,
        "contract": {name: [] for name in strategies},
        "knob_check": [{"strategy": "global-lock", "knob": "cpu_us", "asked_us": 300.0,
                        "measured_us": 306.0, "base_us": 70.0, "error": 0.02},
                       {"strategy": "async", "knob": "cpu_us", "error": None,
                        "failed": "async exited with status 1 before serving"}],
        "started": "2025-01-01T12:00:00+00:00", "ended": "2025-01-01T12:31:40+00:00",
        "status": "complete",
    }
    if races is not None:  # the preemption stress check's verdicts (loadtests/checks/stress.py)
        manifest["races"] = races
    (run / "manifest.json").write_text(json.dumps(manifest, indent=2))
    (run / "microbench.json").write_text(json.dumps(_microbench()))
    if damaged:  # the shape loadtests/running/crosscheck.py writes
        (run / "calibration.csv").write_text(
            "strategy,workload,users,wrk_rps,locust_rps,headroom,agree,locust_loadgen_cpu,"
            "locust_server_cpu,locust_loadgen_bound,note\n"
            "stateless,read-heavy,32,21000.0,7400.0,2.84,,0.97,0.55,True,\n"
            "global-lock,cpu,32,3010.0,2900.0,1.04,True,0.3,0.97,False,\n"
            "async,cpu,32,3500.0,2900.0,1.21,False,0.3,0.97,False,\n")
    return run


def analysis_of(run: Path):
    """The report's analysis of ``run``, its read warnings (the designed damage) silenced."""
    from report import RunWarning
    from report.analysis import analyse
    from report.frames import read_run
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RunWarning)
        return analyse(read_run(run))


def _microbench() -> dict:
    benchmarks = []
    for group, base in (("incr, one thread", 0.9e-6), ("transfer, one thread", 1.6e-6)):
        for i, name in enumerate(["async", "global-lock", "message-passing", "ownership"]):
            median = base * (1 + 0.4 * i)
            benchmarks.append({"group": group, "name": f"test_x[{name}]", "params": {"name": name},
                               "extra_info": {}, "stats": {"min": median * 0.9, "max": median * 3,
                                                           "mean": median * 1.05, "median": median,
                                                           "iqr": median * 0.1, "rounds": 10000,
                                                           "ops": 1 / (median * 1.05)}})
    return {"machine_info": {"node": "bench-host"}, "benchmarks": benchmarks,
            "datetime": "2025-01-01T11:50:00", "version": "5.3.1"}



# The calibration runs (tests/test_report_calibration.py): every strategy drawn from one
# distribution unless `effect` says otherwise. Each repeat's req/s is log-normal around
# its group's rate with CALIBRATION_SIGMA: two single repeats of one server then come out
# ~10% apart typically and beyond 20% about one time in twelve, as an identical copy of a
# server did on this machine (22% apart, one repeat each).
CALIBRATION_SIGMA = 0.08
CALIBRATION = {  # name: (model, safety, language)
    "global-lock": ("threads", "safe", "python"), "ownership": ("threads", "safe", "python"),
    "message-passing": ("threads", "safe", "python"), "async": ("async", "safe", "python"),
    "global-lock-mp": ("processes", "safe", "python"), "sharded-mp": ("processes", "safe", "python"),
    "stateless": ("threads", "no-state", "python"),
    "rust-ownership": ("threads", "safe", "rust"), "rust-global-lock": ("threads", "safe", "rust")}
# Drawn only when asked for by name (`strategies`): a strategy sharing through Redis, its
# declared discipline the external store's.
CALIBRATION_STORE = {"redis-mp": ("processes", "safe", "python")}
# Drawn only when asked for by name: ownership in a process variant, the other end of the
# discipline claim in that model.
CALIBRATION_ASKED = {"ownership-mp": ("processes", "safe", "python")}
CALIBRATION_DISCIPLINE = {"redis-mp": "external-store"}
# The default profile's repeats: cpu 3 at 1 and 2 cores, hot-key 2.
CALIBRATION_REPEATS = {"cpu": 3, "hot-key": 2}


def write_calibration_run(root: Path, run_id: str, *, seed: int,
                          effect: dict[str, tuple[float, float]] | None = None,
                          repeats: dict[str, int] | None = None,
                          sigma: float = CALIBRATION_SIGMA,
                          strategies: list[str] | None = None) -> Path:
    """A run of CALIBRATION's strategies on cpu and hot-key at 1 and 2 cores, every one at
    3,000 req/s on one core and 1.5× that on two (its server CPU 1.5× too), each repeat
    drawn with ``sigma``; ``effect``: strategy -> (rate factor, speedup factor), a true
    difference; ``strategies``: a subset of CALIBRATION."""
    rng = np.random.default_rng(seed)
    chosen = {n: spec for n, spec in (CALIBRATION | CALIBRATION_STORE | CALIBRATION_ASKED).items()
              if n in (CALIBRATION if strategies is None else strategies)}
    run = root / run_id
    (run / "cells").mkdir(parents=True)
    rows, matrix = [], []
    for workload, count in (repeats or CALIBRATION_REPEATS).items():
        for strategy in chosen:
            for cores in (1, 2):
                for repeat in range(count):
                    cell = calibration_record(rng, strategy, workload, cores, repeat,
                                              effect=effect, sigma=sigma)
                    rows.append(cell)
                    matrix.append({k: getattr(cell, k) for k in ("cell_id", *ids.IDENTITY)})
    for cell in rows:
        (run / "cells" / f"{cell.cell_id}.json").write_text(json.dumps(cell.to_json()))
    declared = schema.migrate_manifest({"strategies": {
        name: {"model": model, "safety": safety, "rust": "…", "language": language, "rule": "…"}
        for name, (model, safety, language) in chosen.items()}}, 2)["strategies"]
    for name, discipline in CALIBRATION_DISCIPLINE.items():
        if name in declared:
            declared[name]["discipline"] = discipline
    manifest = {"format_version": schema.FORMAT_VERSION, "run_id": run_id, "profile": "default",
                "matrix": matrix, "strategies": declared, "status": "complete",
                "workloads": {w: {"knobs": {"cpu_us": 200, "hold_us": 50, "io_ms": 0}}
                              for w in CALIBRATION_REPEATS}}
    (run / "manifest.json").write_text(json.dumps(manifest))
    return run


def calibration_record(rng: np.random.Generator, strategy: str, workload: str, cores: int,
                       repeat: int, *, effect: dict[str, tuple[float, float]] | None = None,
                       sigma: float = CALIBRATION_SIGMA) -> CellRecord:
    """One repeat of a calibration run's cell, drawn from its group's distribution (the
    adaptive rounds' simulated runs draw their added repeats with it too)."""
    model, safety, _ = (CALIBRATION | CALIBRATION_STORE | CALIBRATION_ASKED)[strategy]
    rate, gain = (effect or {}).get(strategy, (1.0, 1.0))
    speedup = 1.5 * gain if cores == 2 else 1.0
    rps = 3000.0 * rate * speedup * float(np.exp(rng.normal(0, sigma)))
    cell = CellRecord(
        strategy=strategy, model=model, safety=safety, workload=workload,
        engine="wrk", cores=cores, users=32, repeat=repeat, status="ok",
        reason="", duration_s=1.0, requests=int(rps), rps=rps,
        p50_us=10_000, p90_us=12_000, p99_us=15_000, p999_us=20_000,
        max_us=30_000, mean_us=10_500, errors=0, server_cpu=0.97 * speedup,
        loadgen_cpu=0.3, server_cores=cores, loadgen_cores=1,
        loadgen_bound=False, shared_cpu=False, busy_machine=False,
        correct=True if safety == "safe" else None,
        lost_updates=0 if safety == "safe" else None,
        acked_incr=int(rps) if safety == "safe" else None, rss_mb=30.0,
        cpu_us=200, hold_us=50, io_ms=0,
        store_cpu=0.4 * speedup if strategy in CALIBRATION_STORE else None)
    return replace(cell, cell_id=ids.cell_id(strategy, workload, "wrk", cores, 32, repeat))
