"""What a work knob really costs a server: its CPU per request at a low fixed rate.

Python's --cpu-us is a calibrated counted loop; a Rust server spins on its
thread's CPU clock. For the two to be comparable the knob must cost the same
CPU in both. This starts each strategy twice (the knob at 0 and at the value
asked), sends it requests one at a time at a fixed low rate (no queueing, no
contention), and reads the server's CPU time (user + system, its whole process
tree) before and after: the knob's cost is the difference of the two runs'
CPU per request, the HTTP and parsing overhead cancelling out. Threads that
end during the window are not counted: the one client connection (and so the
thread serving it) stays open throughout.

    python -m loadtests.knobcost [--cpu-us 300] [--rate 100] [--requests 300] NAME...
"""
from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass

from .client import Client
from .procs import members
from .server import ServerProcess


@dataclass
class Cost:
    strategy: str
    knob_us: float
    base_us: float     # CPU per request with the knob at 0
    loaded_us: float   # CPU per request with the knob set

    @property
    def knob_cost_us(self) -> float:
        return self.loaded_us - self.base_us

    @property
    def error(self) -> float:
        """The knob's measured cost relative to what it promises (0.02: 2% over)."""
        return self.knob_cost_us / self.knob_us - 1


def tree_cpu_s(leader: int) -> float:
    """CPU time of every thread of the server's process group, in nanoseconds' resolution
    (/proc/PID/task/TID/schedstat: psutil's clock ticks, 10 ms, are too coarse here)."""
    total_ns = 0
    for pid in members(leader):  # the server's process group, workers included
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except FileNotFoundError:
            continue
        for tid in tasks:
            try:
                with open(f"/proc/{pid}/task/{tid}/schedstat") as fh:
                    total_ns += int(fh.read().split()[0])
            except (FileNotFoundError, ProcessLookupError):
                continue  # a thread that ended meanwhile
    return total_ns / 1e9


def cpu_per_request(strategy: str, cpu_us: float, rate: float, requests: int,
                    cpus: set[int] | None) -> float:
    """Server CPU µs per request, `requests` GETs sent one at a time at `rate`/s."""
    with ServerProcess(strategy, ["--keys", "64", "--cpu-us", f"{cpu_us:g}"],
                       cpus=cpus) as server:
        client = Client(server.host, server.port)
        for key in range(20):  # warm up: connection, caches, lazy initialisation
            client.get(f"/kv/{key}")
        before = tree_cpu_s(server.proc.pid)
        start = time.monotonic()
        for index in range(requests):
            delay = start + index / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            status, _ = client.get(f"/kv/{index % 64}")
            assert status == 200, status
        spent = tree_cpu_s(server.proc.pid) - before
        client.close()
    return spent / requests * 1e6


def measure(strategy: str, cpu_us: float, rate: float, requests: int,
            cpus: set[int] | None = None) -> Cost:
    base = cpu_per_request(strategy, 0, rate, requests, cpus)
    loaded = cpu_per_request(strategy, cpu_us, rate, requests, cpus)
    return Cost(strategy, cpu_us, base, loaded)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("strategies", nargs="+")
    parser.add_argument("--cpu-us", type=float, default=300.0)
    parser.add_argument("--rate", type=float, default=100.0, help="requests/s (default 100)")
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--cpu", type=int, default=None, help="pin the server to this CPU")
    args = parser.parse_args(argv)
    cpus = {args.cpu} if args.cpu is not None else None
    print(f"{'strategy':<22} {'base µs/req':>12} {'with knob':>10} {'knob costs':>11} {'vs asked':>9}")
    for name in args.strategies:
        cost = measure(name, args.cpu_us, args.rate, args.requests, cpus)
        print(f"{name:<22} {cost.base_us:>12.1f} {cost.loaded_us:>10.1f} "
              f"{cost.knob_cost_us:>11.1f} {cost.error:>+9.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
