"""The shape of a run's files, written once: the load stage writes through it, the
report reads through it. A leaf module: it imports nothing of the project, so both
sides (and tests) can use it without importing each other.

What is here: the format version every manifest carries, the cell-id format, the
cell record's fields (each column of cells.csv with its type, unit and meaning;
the record-only fields beside them), the validity flags and their thresholds.
results/README.md explains the same in prose; a test keeps the two in step.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# 1: round 1 (no `format_version` key, Locust only). 2: engines, `engine` in the id.
# 3: each strategy's declared traits in the manifest (`analogue` for `rust`, `parallel`,
# `interpreter_lock`, `collector`, `discipline`, ...); older runs get them by migration.
FORMAT_VERSION = 3
READABLE_VERSIONS = (1, 2, 3)

Record = dict[str, Any]  # one cell record, as stored in cells/<cell-id>.json

# Thresholds behind the validity flags (the report explains each with these numbers).
BUSY = 0.9            # a side using >= 90% of what it can use is saturated
OTHER_CPU = 0.1       # other processes using more than this many cores of ours: busy machine
NOISY_CV = 0.10       # repeats whose rps varies by more than this (CV): noisy
# Open loop: the generator kept its schedule if it sent at least this share of the offered
# rate (when its CPUs were busy) and its own send lag stayed under LAG_P99_US at p99. Not
# relative to the cell's latency: a starved Locust inflates that latency too.
ACHIEVED_SHARE = 0.95
LAG_P99_US = 5_000


class FormatError(ValueError):
    """A run written in a format this version cannot read; the message says what to do."""


@dataclass(frozen=True)
class Column:
    name: str
    kind: str       # text | int | float | bool
    unit: str
    meaning: str


def _cols(kind: str, unit: str, meaning: str, *names: str) -> list[Column]:
    return [Column(name, kind, unit, meaning) for name in names]


# The columns of cells.csv, in order. Every one is also a field of the cell record,
# except `noisy` (a property of a cell's repeats together, set when cells.csv is rebuilt).
COLUMNS: tuple[Column, ...] = tuple(
    _cols("text", "", "see CELL_ID", "cell_id")
    + _cols("text", "", "the strategy, its execution model and safety", "strategy", "model", "safety")
    + _cols("text", "", "the workload's name", "workload")
    + _cols("text", "", "the load engine that measured the cell: locust or wrk", "engine")
    + _cols("text", "", "the interpreter that served: its --pythons label (3.13, 3.13t when "
            "free-threaded), or the harness's own major.minor", "python")
    + _cols("bool", "", "whether the serving interpreter's GIL was on (its /health)", "gil_enabled")
    + _cols("int", "count", "CPUs the server was pinned to", "cores")
    + _cols("int", "count", "concurrent users (Locust) or connections (wrk)", "users")
    + _cols("int", "objects", "the --live-objects knob: the live heap each serving process "
            "held (0: none)", "live_objects")
    + _cols("int", "index", "0-based repeat of the same cell", "repeat")
    + _cols("text", "", "closed (users send back to back) or open (requests start on a schedule)",
            "mode")
    + _cols("text", "", "open loop: the planned rate, req/s or <fraction>x of capacity", "rate")
    + _cols("float", "1/s", "open loop: the rate offered, fractions resolved", "offered_rps")
    + _cols("text", "", "ok, failed or skipped; why", "status", "reason")
    + _cols("float", "s", "length of the measured window actually observed", "duration_s")
    + _cols("int", "count", "requests completed in the measured window", "requests")
    + _cols("float", "1/s", "requests / duration_s", "rps")
    + _cols("float", "µs", "latency percentiles of the measured window", "p50_us", "p90_us",
            "p99_us", "p999_us", "p9999_us", "max_us", "mean_us")
    + _cols("float", "µs", "open loop: latency from the actual send (not corrected)",
            "p50_uncorrected_us", "p90_uncorrected_us", "p99_uncorrected_us",
            "p999_uncorrected_us")
    + _cols("float", "µs", "open loop: the generator's own send lag at p99", "send_lag_p99_us")
    + _cols("int", "count", "failed requests in the window (any kind)", "errors")
    + _cols("float", "s", "CPU time of each side's process tree over the window",
            "server_cpu_s", "loadgen_cpu_s")
    + _cols("float", "cores", "CPU seconds per second of window", "server_cpu", "loadgen_cpu")
    + _cols("int", "count", "CPUs each side was allowed to use", "server_cores", "loadgen_cores")
    + _cols("float", "1/CPU-s", "requests per server CPU-second", "rps_per_cpu_s")
    + _cols("float", "µs", "server CPU per request (server_cpu_s / requests)", "cpu_us_per_request")
    + _cols("float", "MiB", "peak resident memory of the server's process tree", "rss_mb")
    + _cols("int", "count", "peak threads and open file descriptors of the server's process tree",
            "server_threads", "server_fds")
    + _cols("float", "cores", "how busy the load generator's CPUs were, by anyone", "loadgen_cpus_busy")
    + _cols("float", "cores", "CPU on the run's CPUs used by neither side", "other_cpu")
    + _cols("bool", "", "validity flags (see FLAGS)", "busy_machine", "loadgen_bound",
            "shared_cpu", "noisy", "loadgen_lagging")
    + _cols("bool", "", "the invariant held and acknowledged increments match", "correct")
    + _cols("int", "units of by", "acknowledged increments minus the server's sum", "lost_updates")
    + _cols("int", "units of by", "what correct and lost_updates come from", "acked_incr",
            "uncertain_incr", "server_sum", "server_incr_applied")
    + _cols("float", "s", "how long before the window the first request was answered",
            "warmup_observed_s")
    + _cols("float", "µs/µs/ms", "the server's work knobs for this cell", "cpu_us", "hold_us", "io_ms")
    + _cols("int", "objects/request", "the --garbage knob: objects each request left in "
            "reference cycles", "garbage")
    + _cols("text", "", "the server's --gc mode: default, off or freeze", "gc_mode")
    + _cols("float", "share", "the --churn knob: share of state requests that replace a page "
            "of heap entries", "churn")
    + _cols("int", "objects", "what the server said it held at start-up (/health): its heap's "
            "objects; those its collector tracked (Python only)", "heap_objects", "tracked_objects")
    + _cols("text", "", "open loop: how the measured window's length was chosen", "window_basis")
    + _cols("text", "", "what the gc_* figures cover: window (exactly) or cell (warm-up "
            "included); empty: the server reports no collector", "gc_scope")
)
# The garbage collector's figures of a cell (loadtests/running/gcwindow.py fills them).
GC_COLUMNS: tuple[Column, ...] = tuple(
    _cols("int", "count", "cyclic-collector runs, every generation and server process",
          "gc_collections")
    + _cols("float", "ms", "time in those collections, summed over processes; the longest one",
            "gc_pause_total_ms", "gc_pause_max_ms")
    + _cols("int", "count", "pauses the server's rings no longer hold (0: gc_pauses complete)",
            "gc_pauses_dropped")
    + _cols("int", "count", "full (generation 2) collections among gc_collections",
            "gc_full_collections")
    + _cols("float", "ms", "the longest pause of each generation", "gc_pause_max_gen0_ms",
            "gc_pause_max_gen1_ms", "gc_pause_max_gen2_ms")
    + _cols("float", "share", "gc_pause_total_ms over the window (summed over processes: a "
            "multi-process server's can pass 1)", "gc_paused_share")
)
COLUMNS += GC_COLUMNS
COLUMN_NAMES: tuple[str, ...] = tuple(column.name for column in COLUMNS)
TEXT_COLUMNS = tuple(c.name for c in COLUMNS if c.kind == "text")
BOOL_COLUMNS = tuple(c.name for c in COLUMNS if c.kind == "bool")
# identity: never fractional, never NaN in an ok cell
INT_COLUMNS = ("cores", "users", "repeat", "live_objects")

# Fields of a record that are not columns of cells.csv.
RECORD_ONLY = ("hdr", "hdr_uncorrected", "lag_hdr", "errors_by_kind", "detail",
               "server_stderr_tail", "loadgen_detail", "gc_pauses", "window_start_unix_s",
               "latency_timeline")

# One measurement, repeats aside: what the report groups by.
KEY = ["strategy", "workload", "engine", "cores", "users", "live_objects", "mode", "rate"]
# and `rate` (open loop) and `live_objects` (a live heap), each absent from ids without one
IDENTITY = ("strategy", "workload", "engine", "cores", "users", "repeat")
DEFAULT_ENGINE = "locust"  # what a format-1 run was measured with

# <strategy>.<workload>.<engine>.c<cores>.u<users>[.h<live>][.o<rate>].r<repeat>[.py<label>];
# format 1 had no engine part. `.h<live>` marks a server holding a live heap of that many
# objects (--live-objects); cells without one have none, so their ids are as before.
# `.o<rate>` marks an open-loop cell: `o2000` offers 2000 req/s, `o0.85x` 0.85 of the
# strategy's capacity measured earlier in the run; closed cells have none. A run over
# several interpreters (--pythons) adds .py<label>, e.g. ...r0.py3.13.
CELL_ID = "{strategy}.{workload}.{engine}.c{cores}.u{users}{heap}{open}.r{repeat}"
RATE = r"\d+(?:\.\d+)?x?"
_ID = re.compile(r"^(?P<strategy>[^.]+)\.(?P<workload>[^.]+)(?:\.(?P<engine>[a-z0-9]+))?"
                 r"\.c(?P<cores>\d+)\.u(?P<users>\d+)(?:\.h(?P<live_objects>\d+))?"
                 r"(?:\.o(?P<rate>" + RATE + r"))?"
                 r"\.r(?P<repeat>\d+)(?:\.py(?P<python>\S+))?$")


def cell_id(strategy: str, workload: str, engine: str, cores: int, users: int, repeat: int,
            python: str = "", rate: str = "", live_objects: int = 0) -> str:
    base = CELL_ID.format(strategy=strategy, workload=workload, engine=engine, cores=cores,
                          users=users, repeat=repeat, open=f".o{rate}" if rate else "",
                          heap=f".h{live_objects}" if live_objects else "")
    return f"{base}.py{python}" if python else base


def mode_of(rate: str) -> str:
    return "open" if rate else "closed"


def parse_cell_id(text: str) -> dict[str, Any] | None:
    """The identity fields of a cell id (either format); None if it is not one."""
    match = _ID.match(text)
    if not match:
        return None
    found: dict[str, Any] = {"cell_id": text, **match.groupdict()}
    found["engine"] = found["engine"] or DEFAULT_ENGINE
    found["rate"] = found["rate"] or ""
    found["mode"] = mode_of(found["rate"])
    found["live_objects"] = found["live_objects"] or 0
    if not found["python"]:
        del found["python"]
    for name in ("cores", "users", "repeat", "live_objects"):
        found[name] = int(found[name])
    return found


@dataclass(frozen=True)
class Flag:
    mark: str
    name: str
    meaning: str


# The order marks are printed in; the report's Validity section explains each.
FLAGS = (
    Flag("L", "loadgen_bound", "the load generator was the limit, not the server: rps is a floor "
         "and latency includes the generator's own queueing"),
    Flag("S", "shared_cpu", "server and load generator shared a CPU, so each slowed the other"),
    Flag("N", "noisy", f"repeats vary by more than {NOISY_CV:.0%} (coefficient of variation of rps)"),
    Flag("E", "errors", "some requests failed in the measured window"),
    Flag("F", "failed", "at least one repeat of this cell failed and has no numbers"),
    Flag("G", "loadgen_lagging", "open loop: the generator fell behind its schedule (sent under "
         f"{ACHIEVED_SHARE:.0%} of the offered rate on busy CPUs, or its own send lag p99 over "
         f"{LAG_P99_US / 1000:g} ms, or none of its schedule ran in the window): the "
         "latency is not the server's and is not reported"),
    Flag("B", "busy_machine", "other processes used the run's CPUs during the window: "
         "the machine was not quiet"),
)
FLAG_NAMES = {flag.mark: flag.name for flag in FLAGS}
# Flags that keep a cell out of rankings, speedups and claim verdicts. shared_cpu is not
# among them: on a machine of few cores every top core count shares one with the load
# generator, which the report says once; noise is judged from the repeats' spread instead.
DISQUALIFYING = ("loadgen_bound", "errors", "failed", "busy_machine")
MARKS = {flag.name: flag.mark for flag in FLAGS}

# manifest.json: the keys a run writes (results/README.md says what each means).
MANIFEST_KEYS = ("format_version", "run_id", "profile", "description", "overrides", "command",
                 "matrix", "strategies", "workloads", "placement", "timing", "budget", "arrivals",
                 "slo_ms",
                 "nofile", "loops_per_us",
                 "environment", "broken_strategies", "contract", "races", "target", "loadgen_workers",
                 "master_port", "started", "ended", "status", "pythons")


def blank_record(**identity: Any) -> Record:
    """A record with every column present (None: not measured yet) and the given identity."""
    record: Record = dict.fromkeys(COLUMN_NAMES)
    record.update(identity)
    record["rate"] = identity.get("rate") or ""
    record["mode"] = mode_of(record["rate"])
    record["live_objects"] = identity.get("live_objects") or 0
    if all(record.get(name) is not None for name in IDENTITY):
        record["cell_id"] = cell_id(record["strategy"], record["workload"], record["engine"],
                                    record["cores"], record["users"], record["repeat"],
                                    python=identity.get("python") or "", rate=record["rate"],
                                    live_objects=record["live_objects"])
    return record


def csv_row(record: Record) -> dict[str, Any]:
    """A record as one row of cells.csv: every column, empty where None."""
    return {name: "" if record.get(name) is None else record.get(name) for name in COLUMN_NAMES}


def format_version(manifest: dict[str, Any]) -> int:
    """The format a manifest was written in (1 when it predates the key)."""
    version = manifest.get("format_version", 1)
    return version if isinstance(version, int) else -1


def check_readable(manifest: dict[str, Any], where: str) -> int:
    """Raise FormatError unless this version can read (or migrate) the run."""
    version = format_version(manifest)
    if version not in READABLE_VERSIONS:
        raise FormatError(f"{where} was written in result format {manifest.get('format_version')!r}; "
                          f"this sharebench reads formats {', '.join(map(str, READABLE_VERSIONS))}: "
                          "rebuild its report with the sharebench version that wrote it")
    return version


def migrate_record(record: Record, version: int) -> Record:
    """A record of an older format, brought to this one (format 1: Locust measured it)."""
    if version < 2:
        record.setdefault("engine", DEFAULT_ENGINE)
    # Open-loop cells came within format 2 and carry these; every earlier cell was closed.
    record["rate"] = record.get("rate") or ""
    record.setdefault("mode", mode_of(record["rate"]))
    # So did the live heap: a record without the field held none.
    record["live_objects"] = record.get("live_objects") or 0
    return record


# The sharing-discipline families of the strategies that existed before format 3, for
# migrating their runs; any other strategy's family is its own name (as it defaults to).
_FAMILIES = {"global-lock-mp": "global-lock", "rust-global-lock": "global-lock",
             "ownership-mp": "ownership", "rust-ownership": "ownership",
             "message-passing-mp": "message-passing", "rust-message-passing": "message-passing",
             "async": "event-loop", "async-mp": "event-loop", "rust-async": "event-loop",
             "unsafe": "unsynchronised", "rust-racy": "unsynchronised"}


def migrate_manifest(manifest: dict[str, Any], version: int) -> dict[str, Any]:
    """A manifest of an older format, its strategies given the traits format 3 declares.

    The one place that derives traits: before format 3 the harness read a strategy's
    language as its traits (Python: the GIL and the cyclic collector, parallel only as
    processes; any other language: neither, and parallel), and that is what those runs
    measured under. Nothing else infers a trait; a format-3 manifest is left as written.
    """
    strategies = manifest.get("strategies")
    if version >= 3 or not isinstance(strategies, dict):
        return manifest
    for name, entry in strategies.items():
        if not isinstance(entry, dict):
            continue
        language = str(entry.get("language") or "python")
        python = language == "python"
        safety = entry.get("safety", "safe")
        entry.setdefault("language", language)
        entry.setdefault("analogue", entry.pop("rust", ""))
        entry.setdefault("safe", safety != "unsafe")
        entry.setdefault("stateful", safety != "no-state")
        entry.setdefault("interpreter_lock", python)
        entry.setdefault("collector", python)
        entry.setdefault("parallel", entry.get("model") == "processes" or not python)
        entry.setdefault("discipline", _FAMILIES.get(str(name), str(name)))
    return manifest
