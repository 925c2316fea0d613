"""The shape of a run's files, written once: the load stage writes through it, the
report reads through it. It imports nothing of the project beyond results/.

What is here: the format version every manifest carries and how older formats are
migrated, the columns of cells.csv (derived from the cell record's fields,
results/record.py) and how a row is written and read back, the validity flags and
their thresholds, and the one rule for `noisy`. results/README.md explains the same
in prose; a test keeps the two in step.
"""
from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from results import ids
from results.record import FIELDS, CellRecord

# 1: round 1 (no `format_version` key, Locust only). 2: engines, `engine` in the id.
# 3: each strategy's declared traits in the manifest (`analogue` for `rust`, `parallel`,
# `interpreter_lock`, `collector`, `discipline`, ...); older runs get them by migration.
# 4: `connection_cap` in every record; `loops_per_us` gone from the manifest.
FORMAT_VERSION = 4
READABLE_VERSIONS = (1, 2, 3, 4)

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


_KINDS = {"str": "text", "int": "int", "float": "float", "bool": "bool"}


def _kind(annotation: Any) -> str:
    """A field's column kind from its annotation (``float | None`` -> float)."""
    base = str(annotation).replace(" | None", "").strip()
    if base not in _KINDS:
        raise TypeError(f"a column must be str, int, float or bool (or None), not {annotation}")
    return _KINDS[base]


# The columns of cells.csv, in order: every field of the cell record except the
# record-only ones (histograms, error kinds, pauses...).
COLUMNS: tuple[Column, ...] = tuple(
    Column(item.name, _kind(item.type), item.metadata["unit"], item.metadata["meaning"])
    for item in FIELDS if item.metadata["column"])
COLUMN_NAMES: tuple[str, ...] = tuple(column.name for column in COLUMNS)
TEXT_COLUMNS = tuple(c.name for c in COLUMNS if c.kind == "text")
BOOL_COLUMNS = tuple(c.name for c in COLUMNS if c.kind == "bool")
# identity: never fractional, never NaN in an ok cell
INT_COLUMNS = tuple(c.name for c in COLUMNS
                    if c.kind == "int" and c.name in (*ids.IDENTITY, "live_objects"))


def csv_row(record: CellRecord) -> dict[str, Any]:
    """A record as one row of cells.csv: every column, empty where None."""
    return {name: "" if value is None else value for name, value in record.columns().items()}


def _parse(kind: str, text: str) -> Any:
    if text == "":
        return None
    if kind == "text":
        return text
    if kind == "bool":
        return {"true": True, "false": False}.get(text.strip().lower())
    try:
        number = float(text)
    except ValueError:
        return None
    return int(number) if kind == "int" and number.is_integer() else number


def from_csv_row(row: dict[str, str]) -> dict[str, Any]:
    """One row of cells.csv back into record fields, typed by their column (empty: None)."""
    kinds = {column.name: column.kind for column in COLUMNS}
    return {name: _parse(kinds[name], text or "") for name, text in row.items() if name in kinds}


def cv(rps: Sequence[float]) -> float | None:
    """Coefficient of variation of a cell's repeats' throughput; None under two repeats."""
    if len(rps) < 2 or statistics.mean(rps) <= 0:
        return None
    return statistics.stdev(rps) / statistics.mean(rps)


def is_noisy(rps: Sequence[float]) -> bool:
    """The one rule for the `noisy` flag: the repeats' rps vary by more than NOISY_CV."""
    found = cv(rps)
    return found is not None and found > NOISY_CV


def mark_noisy(records: Sequence[CellRecord]) -> None:
    """Set `noisy` on every ok record from the ok repeats of its cell (same KEY, same
    --workers, same interpreter: repeats under 3.11 and 3.13 are not repeats of one cell)."""
    groups: dict[tuple, list[CellRecord]] = {}
    for record in records:
        if record.status == "ok":
            key = tuple(getattr(record, name) for name in ids.KEY) + (record.workers or 0,
                                                                      record.python or "")
            groups.setdefault(key, []).append(record)
    for group in groups.values():
        noisy = is_noisy([r.rps for r in group if r.rps is not None])
        for record in group:
            record.noisy = noisy


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

# calibration.csv (`make calibrate`): one row per strategy and workload, wrk beside Locust.
CALIBRATION_COLUMNS = ("strategy", "workload", "users", "wrk_rps", "locust_rps", "headroom", "agree",
                       "wrk_loadgen_bound", "locust_loadgen_bound", "wrk_server_cpu",
                       "locust_server_cpu", "locust_loadgen_cpu", "note")

# results/soak-<stamp>/ (`make soak`): soak.csv, every sample; summary.csv, per strategy.
SOAK_SAMPLE_COLUMNS = ("t_s", "strategy", "rss_mib", "processes", "threads", "fds", "requests",
                       "errors")
SOAK_SUMMARY_COLUMNS = ("strategy", "status", "server_pid", "duration_s", "target_rps",
                        "achieved_rps", "requests", "errors", "warmup_s", "start_rss_mib",
                        "end_rss_mib", "peak_rss_mib", "growth_mib", "growth_pct_per_hour",
                        "slope_mib_per_hour", "start_threads", "end_threads", "start_fds",
                        "end_fds", "acked_incr", "uncertain_incr", "server_sum",
                        "server_incr_applied", "server_requests", "correct")

# manifest.json: the keys a run writes (results/README.md says what each means).
MANIFEST_KEYS = ("format_version", "run_id", "profile", "description", "overrides", "command",
                 "matrix", "strategies", "workloads", "placement", "timing", "budget", "adapt", "arrivals",
                 "slo_ms", "nofile", "knob_check",
                 "environment", "broken_strategies", "contract", "races", "target", "loadgen_workers",
                 "master_port", "started", "ended", "status", "interrupted_by", "pythons")


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


# Formats 1 to 3 did not record a server's connection cap. Every thread server of those
# runs served at the threads model's default --workers (the harness never passed one),
# which CONTRACT.md gave as 1024; a -mp server's cap is left unknown.
FORMAT_3_THREAD_CAP = 1024


def migrate_identity(doc: dict[str, Any], version: int) -> dict[str, Any]:
    """A cell's identity (a stored record's or a matrix row's) of an older format."""
    if version < 2:
        doc.setdefault("engine", ids.DEFAULT_ENGINE)  # format 1: Locust measured it
    # Open-loop cells came within format 2 and carry these; every earlier cell was closed.
    doc["rate"] = doc.get("rate") or ""
    doc.setdefault("mode", ids.mode_of(doc["rate"]))
    # So did the live heap: a record without the field held none.
    doc["live_objects"] = doc.get("live_objects") or 0
    return doc


def migrate_record(doc: dict[str, Any], version: int) -> dict[str, Any]:
    """A stored record of an older format, brought to this one."""
    migrate_identity(doc, version)
    if version < 4 and "connection_cap" not in doc:
        doc["connection_cap"] = FORMAT_3_THREAD_CAP if doc.get("model") == "threads" else None
    return doc


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
    (A format-3 manifest's `loops_per_us` is read and ignored.)
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
