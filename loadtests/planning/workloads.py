"""Workloads, defined once: each names both the client mix and the server knobs."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

# The gc workloads' churn (servers/core/heap.py): half the requests load a page of entries
# into the live heap the cell gives the server, so full collections come every few thousand
# requests at a million live objects, and a window of a few seconds holds some.
GC_CHURN = 0.5


# A single-process server's own CPU per request before any work knob: what its
# best `make calibrate` cell under wrk implies (README, "Two engines").
SERVER_BASE_US = 16.0


@dataclass(frozen=True)
class Workload:
    name: str
    description: str                      # one line, shown in the report
    mix: dict[str, float]                 # op -> weight: get, incr, transfer
    keys: int = 1024
    distribution: str = "uniform"         # uniform | zipf
    zipf_s: float = 1.1                   # skew of the zipf distribution
    users: int = 32                       # default concurrent users
    # cpu_us, hold_us, io_ms, garbage, churn (numbers); gc (a mode: default | off | freeze)
    server: dict[str, float | str] = field(default_factory=dict)

    def knob(self, name: str) -> float:
        """A numeric server knob (cpu_us, hold_us, io_ms, garbage); 0 when not set."""
        return float(self.server.get(name, 0))

    @property
    def gc_mode(self) -> str:
        return str(self.server.get("gc", "default"))

    @property
    def server_us(self) -> float:
        """Server CPU per request, estimated: the HTTP layer's own cost plus the knobs'
        CPU work (io_ms is waiting, not CPU). Sizes the load generator's share."""
        return SERVER_BASE_US + self.knob("cpu_us") + self.knob("hold_us")

    def server_flags(self) -> list[str]:
        flags = ["--keys", str(self.keys)]
        for knob, value in sorted(self.server.items()):
            text = value if isinstance(value, str) else f"{value:g}"
            flags += [f"--{knob.replace('_', '-')}", text]
        return flags

    def client_config(self) -> dict:
        """What the load generator needs to know (sent to every Locust process)."""
        return {"name": self.name, "mix": self.mix, "keys": self.keys,
                "distribution": self.distribution, "zipf_s": self.zipf_s}

    def to_dict(self) -> dict:
        return asdict(self)


WORKLOADS: dict[str, Workload] = {w.name: w for w in [
    Workload("read-heavy", "95% reads, 5% increments, uniform keys, no server work: "
             "measures per-request overhead (usually load-generator bound)",
             {"get": 95, "incr": 5}),
    Workload("write-heavy", "50% reads, 50% increments, uniform keys, 20 us held per write",
             {"get": 50, "incr": 50}, server={"hold_us": 20}),
    Workload("hot-key", "20% reads, 80% increments, Zipf-skewed keys (s=1.1), 50 us held per "
             "write: contention on a few keys", {"get": 20, "incr": 80},
             distribution="zipf", server={"hold_us": 50}),
    Workload("transfer", "50% two-key transfers, 50% reads, uniform keys, 20 us held per "
             "transfer: multi-key atomicity", {"get": 50, "transfer": 50},
             server={"hold_us": 20}),
    Workload("cpu", "50% reads, 50% increments, 300 us of CPU per request outside the state, "
             "10 us held: the server, not Locust, is the bottleneck; shows multicore scaling",
             {"get": 50, "incr": 50}, server={"cpu_us": 300, "hold_us": 10}),
    Workload("io", "90% reads, 10% increments, a 10 ms wait per request outside the state, "
             "hundreds of users: many cheap concurrent connections", {"get": 90, "incr": 10},
             users=400, server={"io_ms": 10}),
    # The GC trio: one workload three ways, differing only in the collector's mode, so
    # the matrix compares the tail with the collector on, off and frozen with no new axis.
    # The heap it walks is the cell's `live_objects`; 300 us of CPU per request keeps the
    # server's capacity within what one Locust process offers on a schedule, so open-loop
    # cells can run near it (fractions of it).
    *(Workload(name, f"50% reads, 50% increments, uniform keys, 300 us of CPU per request, "
               f"10 us held; half the requests load a page of entries into the live heap "
               f"(churn {GC_CHURN:g}); collector {how}",
               {"get": 50, "incr": 50},
               server={"cpu_us": 300, "hold_us": 10, "churn": GC_CHURN, "gc": mode})
      for name, mode, how in (("gc", "default", "on (CPython's default thresholds)"),
                              ("gc-off", "off", "off (gc.disable(): the churn's cycles pile up)"),
                              ("gc-freeze", "freeze", "on, the built heap frozen (gc.freeze())"))),
]}


def collector_on(name: str) -> str:
    """The workload that differs from ``name`` only in running the collector as CPython
    sets it (``name`` itself when it does). The collector's modes are compared at one
    offered rate and window, taken from this one's cells."""
    mine = WORKLOADS[name]
    if mine.server.get("gc", "default") == "default":
        return name

    def rest(w: Workload) -> Workload:
        return replace(w, name="", description="",
                       server={k: v for k, v in w.server.items() if k != "gc"})
    for other in WORKLOADS.values():
        if other.server.get("gc", "default") == "default" and rest(other) == rest(mine):
            return other.name
    return name
