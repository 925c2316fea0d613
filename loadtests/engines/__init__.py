"""LoadSpec engines behind one interface (base.LoadRun): Locust and wrk.

- ``locust``: Python users (closed loop, or open loop for latency), distributed
  master/worker runs, Python scenarios. Its cost per request is what sizes it
  (README, "Two engines", for what it holds per core).
- ``wrk``: Debian's wrk (C, epoll, LuaJIT scripts): drives servers at full
  speed for a few µs of CPU per request, so throughput cells measure the server;
  given a rate, paced (wrk_paced.py): thousands of connections held open, each
  sending at a slow fixed pace.

Both take the same workload definition (planning/workloads.py); each turns it into its
own script. What the planner needs to know of each engine (its cost, the rate
it can keep, how to install it) is in planning/engine_costs.py.
"""
from __future__ import annotations

from loadtests.engines.base import LoadGenError, LoadRun, LoadSpec, Part, Stopped

__all__ = ["LoadGenError", "LoadRun", "LoadSpec", "Part", "Stopped", "create"]


def create(engine: str, load: LoadSpec) -> LoadRun:
    if engine == "wrk" and load.rate:
        from loadtests.engines.wrk_paced import PacedWrkRun
        return PacedWrkRun(load)
    if engine == "wrk":
        from loadtests.engines.wrk import WrkRun
        return WrkRun(load)
    from loadtests.engines.locust import LocustRun
    return LocustRun(load)
