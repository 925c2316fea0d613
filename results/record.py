"""The cell record: one measured cell, as cells/<cell-id>.json stores it.

Every field is defined here once, with its type, unit and meaning; the columns of
cells.csv (results/schema.py) are derived from these fields, in this order, and
results/README.md says the same in prose (a test keeps them in step). Three kinds:

- ``column(...)``: stored in the record and a column of cells.csv;
- ``stored(...)``: stored in the record only (histograms, error kinds, pauses...);
- ``derived(...)``: a column of cells.csv only, decided over a cell's repeats
  together when the table is written (``noisy``), never stored in one record.

Adding a field is one line here (name, type, unit, meaning) and its row in
results/README.md; a field older records lack reads as None (results/README.md,
"Adding a field").
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from results import ids


def column(unit: str, meaning: str) -> Any:
    """A field stored in the record and shown as a column of cells.csv; None: not measured."""
    return field(default=None, metadata={"unit": unit, "meaning": meaning, "column": True,
                                         "stored": True})


def stored(unit: str, meaning: str) -> Any:
    """A field stored in the record only (too big or too nested for a table)."""
    return field(default=None, metadata={"unit": unit, "meaning": meaning, "column": False,
                                         "stored": True})


def derived(unit: str, meaning: str) -> Any:
    """A column of cells.csv decided over the repeats of a cell together, never stored."""
    return field(default=None, metadata={"unit": unit, "meaning": meaning, "column": True,
                                         "stored": False})


def identity(unit: str, meaning: str) -> Any:
    """A field naming the cell: required, stored, a column."""
    return field(metadata={"unit": unit, "meaning": meaning, "column": True, "stored": True})


@dataclass(kw_only=True)
class CellRecord:
    cell_id: str = field(default="", metadata={
        "unit": "", "meaning": "see results/ids.py (made from the identity when not given)",
        "column": True, "stored": True})
    strategy: str = identity("", "the strategy measured")
    model: str | None = column("", "its execution model: threads, async or processes")
    safety: str | None = column("", "safe, unsafe or no-state")
    workload: str = identity("", "the workload's name")
    engine: str = identity("", "the load engine that measured the cell: locust or wrk")
    python: str | None = column("", "the interpreter that served: its --pythons label (3.13, 3.13t "
                                "when free-threaded), or the harness's own major.minor")
    gil_enabled: bool | None = column("", "whether the serving interpreter's GIL was on (its /health)")
    cores: int = identity("count", "CPUs the server was pinned to")
    users: int = identity("count", "concurrent users (Locust) or connections (wrk)")
    workers: int | None = column("count", "the server's --workers when the cell set it (a thread "
                                 "server's connection cap, a process server's worker count; "
                                 "also .w<N> in the id); empty: the strategy's default")
    live_objects: int = field(default=0, metadata={
        "unit": "objects", "meaning": "the --live-objects knob: the live heap each serving process "
        "held (0: none; also .h<N> in the id)", "column": True, "stored": True})
    repeat: int = identity("index", "0-based repeat of the same cell")
    mode: str = field(default="closed", metadata={
        "unit": "", "meaning": "closed (users send back to back) or open (requests start on a "
        "schedule); follows from rate", "column": True, "stored": True})
    rate: str = field(default="", metadata={
        "unit": "", "meaning": "open loop: the planned rate, req/s or <fraction>x of capacity",
        "column": True, "stored": True})
    offered_rps: float | None = column("1/s", "open loop: the rate offered, fractions resolved")
    status: str | None = column("", "ok, failed or skipped")
    reason: str | None = column("", "why not ok (empty when ok)")
    duration_s: float | None = column("s", "length of the measured window actually observed")
    requests: int | None = column("count", "requests completed in the measured window")
    rps: float | None = column("1/s", "requests / duration_s")
    p50_us: float | None = column("µs", "latency at p50 of the measured window")
    p90_us: float | None = column("µs", "latency at p90 of the measured window")
    p99_us: float | None = column("µs", "latency at p99 of the measured window")
    p999_us: float | None = column("µs", "latency at p99.9 of the measured window")
    p9999_us: float | None = column("µs", "latency at p99.99 of the measured window")
    max_us: float | None = column("µs", "the longest latency of the measured window")
    mean_us: float | None = column("µs", "the mean latency of the measured window")
    p50_uncorrected_us: float | None = column("µs", "open loop: p50 from the actual send")
    p90_uncorrected_us: float | None = column("µs", "open loop: p90 from the actual send")
    p99_uncorrected_us: float | None = column("µs", "open loop: p99 from the actual send")
    p999_uncorrected_us: float | None = column("µs", "open loop: p99.9 from the actual send")
    send_lag_p99_us: float | None = column("µs", "open loop: the generator's own send lag at p99")
    errors: int | None = column("count", "failed requests in the window (any kind)")
    server_cpu_s: float | None = column("s", "CPU time of the server's process tree over the window")
    loadgen_cpu_s: float | None = column("s", "CPU time of the load generator's process tree "
                                         "over the window")
    server_cpu: float | None = column("cores", "server CPU seconds per second of window")
    loadgen_cpu: float | None = column("cores", "load generator CPU seconds per second of window")
    store_cpu: float | None = column("cores", "the external store's own CPU (redis-server), inside "
                                     "server_cpu; empty for a strategy without one")
    server_cores: int | None = column("count", "CPUs the server was allowed to use")
    loadgen_cores: int | None = column("count", "CPUs the load generator was allowed to use")
    server_host: str | None = column("", "the host the server ran on: local, or its --server-host")
    load_host: str | None = column("", "the host the load generator ran on: local, or its --load-host")
    rps_per_cpu_s: float | None = column("1/CPU-s", "requests per server CPU-second")
    cpu_us_per_request: float | None = column("µs", "server CPU per request")
    rss_mb: float | None = column("MiB", "peak resident memory of the server's process tree")
    server_threads: int | None = column("count", "peak threads of the server's process tree")
    server_fds: int | None = column("count", "peak open file descriptors of the server's process tree")
    loadgen_cpus_busy: float | None = column("cores", "how busy the load generator's CPUs were, "
                                             "by anyone")
    other_cpu: float | None = column("cores", "CPU on the run's CPUs used by neither side")
    busy_machine: bool | None = column("", "validity flag (schema.FLAGS): others used our CPUs")
    loadgen_bound: bool | None = column("", "validity flag (schema.FLAGS): the load generator "
                                        "was the limit")
    shared_cpu: bool | None = column("", "validity flag (schema.FLAGS): both sides shared a CPU")
    noisy: bool | None = derived("", "validity flag (schema.FLAGS): the cell's repeats vary")
    loadgen_lagging: bool | None = column("", "validity flag (schema.FLAGS): open loop, the "
                                          "generator fell behind its schedule")
    correct: bool | None = column("", "the invariant held and acknowledged increments match")
    lost_updates: int | None = column("units of by", "acknowledged increments minus the server's sum")
    acked_incr: int | None = column("units of by", "increments the clients saw acknowledged")
    uncertain_incr: int | None = column("units of by", "increments that got no answer")
    server_sum: int | None = column("units of by", "the server's sum, delta over the cell")
    server_incr_applied: int | None = column("units of by", "increments the server applied, "
                                             "delta over the cell")
    warmup_observed_s: float | None = column("s", "how long before the window the first request "
                                             "was answered")
    cpu_us: float | None = column("µs", "the server's --cpu-us knob for this cell")
    hold_us: float | None = column("µs", "the server's --hold-us knob for this cell")
    io_ms: float | None = column("ms", "the server's --io-ms knob for this cell")
    garbage: int | None = column("objects/request", "the --garbage knob: objects each request "
                                 "left in reference cycles")
    gc_mode: str | None = column("", "the server's --gc mode: default, off or freeze")
    churn: float | None = column("share", "the --churn knob: share of state requests that replace "
                                 "a page of heap entries")
    heap_objects: int | None = column("objects", "what the server said its heap held at start-up "
                                      "(/health)")
    tracked_objects: int | None = column("objects", "the objects its collector tracked at start-up "
                                         "(/health; Python only)")
    window_basis: str | None = column("", "open loop: how the measured window's length was chosen")
    gc_scope: str | None = column("", "what the gc_* figures cover: window (exactly) or cell "
                                  "(warm-up included); empty: the server reports no collector")
    gc_collections: int | None = column("count", "cyclic-collector runs, every generation and "
                                        "server process")
    gc_pause_total_ms: float | None = column("ms", "time in those collections, summed over processes")
    gc_pause_max_ms: float | None = column("ms", "the longest one of those collections")
    gc_pauses_dropped: int | None = column("count", "pauses the server's rings no longer hold "
                                           "(0: gc_pauses complete)")
    gc_full_collections: int | None = column("count", "full (generation 2) collections among "
                                             "gc_collections")
    gc_pause_max_gen0_ms: float | None = column("ms", "the longest pause of generation 0")
    gc_pause_max_gen1_ms: float | None = column("ms", "the longest pause of generation 1")
    gc_pause_max_gen2_ms: float | None = column("ms", "the longest pause of generation 2 (a full "
                                                "collection, the one a live heap lengthens)")
    gc_paused_share: float | None = column("share", "gc_pause_total_ms over the window (summed over "
                                           "processes: a multi-process server's can pass 1)")
    connection_cap: int | None = column("count", "connections the server serves at once, as its "
                                        "ready line says; empty: no cap of its own")
    # Stored in the record only.
    hdr: str | None = stored("µs", "the window's merged latency histogram (results/hdr.py)")
    hdr_uncorrected: str | None = stored("µs", "open loop: latency from the actual send")
    lag_hdr: str | None = stored("µs", "open loop: the generator's own send lag")
    errors_by_kind: dict[str, int] | None = stored("count", "failed requests of the window by kind")
    detail: str | None = stored("", "failed cells: the whole reason")
    server_stderr_tail: str | None = stored("", "the server's last stderr lines, when a cell failed")
    loadgen_detail: str | None = stored("", "the load engine's last lines, when a cell failed")
    gc_pauses: list[list[float]] | None = stored("µs", "the collector's pauses inside the window: "
                                                 "[start, pause_us, generation]")
    window_start_unix_s: float | None = stored("s", "when the measured window began (epoch)")
    latency_timeline: dict[str, Any] | None = stored("µs", "open loop: the largest latency per "
                                                     "50 ms bucket of the window")

    def __post_init__(self) -> None:
        self.rate = self.rate or ""
        self.live_objects = self.live_objects or 0
        self.mode = ids.mode_of(self.rate)
        if not self.cell_id:
            self.cell_id = ids.cell_id(self.strategy, self.workload, self.engine, self.cores,
                                       self.users, self.repeat, self.python or "", self.rate,
                                       self.workers or 0, self.live_objects or 0)

    def fill(self, *parts: Any) -> None:
        """Copy the fields of each part (a dataclass whose field names are record fields)."""
        for part in parts:
            for item in dataclasses.fields(part):
                if item.name not in FIELD_NAMES:
                    raise TypeError(f"{type(part).__name__}.{item.name} is not a cell-record field")
                setattr(self, item.name, getattr(part, item.name))

    def to_json(self) -> dict[str, Any]:
        """What cells/<cell-id>.json holds: every stored field, None included."""
        return {name: getattr(self, name) for name in STORED}

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> CellRecord:
        """A record from its stored fields (already migrated to this format). Fields it does
        not know are left out; TypeError when the identity is incomplete."""
        return cls(**{name: value for name, value in doc.items() if name in FIELD_NAMES})

    def columns(self) -> dict[str, Any]:
        """The record as one row of cells.csv, by column name (None: empty)."""
        return {name: getattr(self, name) for name in COLUMN_FIELDS}


FIELDS = dataclasses.fields(CellRecord)
FIELD_NAMES = frozenset(item.name for item in FIELDS)
STORED = tuple(item.name for item in FIELDS if item.metadata["stored"])
COLUMN_FIELDS = tuple(item.name for item in FIELDS if item.metadata["column"])
RECORD_ONLY = tuple(item.name for item in FIELDS if not item.metadata["column"])
