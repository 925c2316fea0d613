"""What the planner knows of each load engine: its name, what it costs per request (which
sizes its share of the CPUs), the rate it can keep on a schedule, and how to install it.
The engines themselves (loadtests/engines/) run the load; this is their catalogue."""
from __future__ import annotations

import math
import shutil

ENGINES = ("locust", "wrk")
INSTALL = {"wrk": "`make wrk` (apt-get install wrk) installs Debian's wrk"}
# Load-generator CPU per request, which sizes its share of the machine (placement.py):
# Locust's is about 100 µs, wrk's a few (README, "Two engines": `make calibrate`).
CPU_US_PER_REQUEST = {"locust": 100.0, "wrk": 5.0}
OPEN_ENGINES = ("locust",)  # engines that can keep a schedule (wrk is closed loop)
# Open loop: the most one Locust process offers on one core while keeping its schedule
# (README, "Latency under offered load", has the measurement). A planned rate above this
# times the load-generator CPUs is skipped, never measured by another engine instead.
MAX_OPEN_RPS_PER_PROCESS = 5000


def timed(engine: str, seconds: float) -> float:
    """How long ``engine`` really runs a window of ``seconds``: wrk times whole seconds
    (``-d``), at least one; Locust's windows are the harness's own, to the millisecond."""
    if engine == "wrk":
        return float(max(1, math.ceil(seconds - 1e-9)))
    return seconds


def check(name: str) -> None:
    """Raise ValueError if the engine is unknown or cannot run on this machine."""
    if name not in ENGINES:
        raise ValueError(f"unknown engine {name!r}; valid: {', '.join(ENGINES)}")
    if name == "wrk" and not shutil.which("wrk"):
        raise ValueError(f"engine wrk is not installed: {INSTALL['wrk']}")
