"""What the planner knows of each load engine: its name, what it costs per request (which
sizes its share of the CPUs), the rate it can keep on a schedule, and how to install it.
The engines themselves (loadtests/engines/) run the load; this is their catalogue."""
from __future__ import annotations

import math
import shutil

ENGINES = ("locust", "wrk")
INSTALL = {"wrk": "`make wrk` (apt-get install wrk) installs Debian's wrk"}
# Load-generator CPU per request, which sizes its share of the machine (placement.py),
# as measured by `make calibrate` (README, "Two engines").
CPU_US_PER_REQUEST = {"locust": 100.0, "wrk": 5.0}
# Engines that keep a schedule: Locust's open-loop users, and wrk paced by its Lua delay()
# hook (engines/wrk_paced.py: thousands of connections, each at a slow fixed pace).
OPEN_ENGINES = ("locust", "wrk")
# Open loop: the most one Locust process offers on one core while keeping its schedule
# (README, "Latency under offered load", has the measurement). A planned rate above this
# times the load-generator CPUs is skipped, never measured by another engine instead.
MAX_OPEN_RPS_PER_PROCESS = 5000
# The same for paced wrk on one core (README, "Thousands of connections").
MAX_PACED_RPS_PER_CPU = 20000
# Paced wrk: connections per wrk thread. wrk keeps its timers in a list it scans on
# every turn of its event loop, so a thread's cost grows with its connections.
CONNECTIONS_PER_WRK_THREAD = 1000
# Paced wrk: the warm-up lasts at least one interval (users / rate) and this much more,
# so that every connection has sent its first request before the window opens.
PACED_RAMP_S = 1.0


def paced_warmup(warmup: float, users: int, rate: float) -> float:
    """A paced cell's warm-up: at least one per-connection interval and the ramp."""
    return max(warmup, users / rate + PACED_RAMP_S)


def timed(engine: str, seconds: float) -> float:
    """How long ``engine`` really runs a window of ``seconds``: wrk times whole seconds
    (``-d``), at least one; Locust's windows are the harness's own, to the millisecond."""
    if engine == "wrk":
        return float(max(1, math.ceil(seconds - 1e-9)))
    return seconds


def check_engine(name: str) -> None:
    """Raise ValueError if the engine is unknown or cannot run on this machine."""
    if name not in ENGINES:
        raise ValueError(f"unknown engine {name!r}; valid: {', '.join(ENGINES)}")
    if name == "wrk" and not shutil.which("wrk"):
        raise ValueError(f"engine wrk is not installed: {INSTALL['wrk']}")
