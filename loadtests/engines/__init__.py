"""Load engines behind one interface (base.Session): Locust and wrk.

- ``locust``: Python users (closed loop, or open loop for latency), distributed
  master/worker runs, Python scenarios. About 9k req/s per core here.
- ``wrk``: Debian's wrk (C, epoll, LuaJIT scripts): drives servers at full
  speed for a few µs of CPU per request, so throughput cells measure the server.

Both take the same workload definition (workloads.py); each turns it into its
own script.
"""
from __future__ import annotations

import shutil

from .base import Load, LoadGenError, Part, Session, Stopped

ENGINES = ("locust", "wrk")
INSTALL = {"wrk": "`make wrk` (apt-get install wrk) installs Debian's wrk"}
# Load-generator CPU per request, which sizes its share of the machine (placement.py):
# Locust ~9-12k req/s per core here (`make calibrate`), ~100 µs; wrk a few µs.
CPU_US_PER_REQUEST = {"locust": 100.0, "wrk": 5.0}

__all__ = ["CPU_US_PER_REQUEST", "ENGINES", "Load", "LoadGenError", "Part", "Session", "Stopped", "check", "session"]


def check(name: str) -> None:
    """Raise ValueError if the engine is unknown or cannot run on this machine."""
    if name not in ENGINES:
        raise ValueError(f"unknown engine {name!r}; valid: {', '.join(ENGINES)}")
    if name == "wrk" and not shutil.which("wrk"):
        raise ValueError(f"engine wrk is not installed: {INSTALL['wrk']}")


def session(engine: str, load: Load) -> Session:
    if engine == "wrk":
        from .wrk import WrkSession
        return WrkSession(load)
    from .locust import LocustSession
    return LocustSession(load)
