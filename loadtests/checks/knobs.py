"""Do the work knobs mean what they say? Server CPU per request at a low fixed rate.

Each strategy is started twice on one server CPU, with ``--cpu-us 0`` and with
``--cpu-us N``, and sent the same paced sequence of reads over one persistent
connection; the difference of the server's CPU per request is what the knob
cost. Measured once per run for a reference strategy of each language, and
shown under Validity with its error against N.
"""
from __future__ import annotations

import time

from loadtests.machine import measure
from loadtests.machine.client import Client
from loadtests.machine.server import ServerError, ServerProcess

KNOB_US = 300.0
REQUESTS = 2000
RATE = 1000.0     # requests/s per server: a third of what --cpu-us 300 allows, so nothing queues
TOLERANCE = 0.05  # the knob's promise: within 5% of what it says


def _cpu_us_per_request(servers: list[ServerProcess]) -> list[float]:
    """Server CPU per request of each server, sent alternating paced reads, so that
    whatever disturbs the machine meanwhile disturbs every server alike."""
    clients = [Client(server.host, server.port) for server in servers]
    try:
        for _ in range(20):  # each connection's thread exists and the code paths are warm
            for client in clients:
                client.get("/kv/1")
        pids = [server.proc.pid for server in servers if server.proc is not None]
        before = [measure.cpu_seconds_exact(pid) for pid in pids]
        start = time.perf_counter()
        for n in range(REQUESTS):
            for client, server in zip(clients, servers):
                time.sleep(max(0.0, start + n / RATE - time.perf_counter()))
                status, _ = client.get(f"/kv/{n % 64}")
                if status != 200:
                    raise ServerError(f"{server.strategy}: GET answered {status} in the knob check")
        after = [measure.cpu_seconds_exact(pid) for pid in pids]
    finally:
        for client in clients:
            client.close()
    return [(b - a) / REQUESTS * 1e6 for a, b in zip(before, after)]


def cpu_knob_cost(strategy: str, cpus: set[int] | None) -> dict:
    """The cost of ``--cpu-us KNOB_US`` in ``strategy``, and its error against the knob."""
    common = ["--keys", "64"]
    with ServerProcess(strategy, common, cpus=cpus) as base_server, \
            ServerProcess(strategy, [*common, "--cpu-us", f"{KNOB_US:g}"], cpus=cpus) as knob_server:
        base, loaded = _cpu_us_per_request([base_server, knob_server])
    cost = loaded - base
    return {"strategy": strategy, "knob": "cpu_us", "asked_us": KNOB_US,
            "measured_us": round(cost, 1), "base_us": round(base, 1),
            "error": round(cost / KNOB_US - 1, 4), "within": abs(cost / KNOB_US - 1) <= TOLERANCE,
            "requests": REQUESTS, "rate": RATE}
