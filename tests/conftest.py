"""Shared fixtures: real server processes on free loopback ports."""
from __future__ import annotations

import pytest

from loadtests.server import ServerProcess
from servers import discover

STRATEGIES = discover()
STATEFUL = [name for name, spec in STRATEGIES.items() if spec.stateful]
SAFE = [name for name in STATEFUL if STRATEGIES[name].safe]
UNSAFE = [name for name in STATEFUL if not STRATEGIES[name].safe]


@pytest.fixture
def serve():
    """serve(name, *flags) starts a server; every one is stopped after the test."""
    started: list[ServerProcess] = []

    def start(name: str, *flags: str, **kwargs) -> ServerProcess:
        server = ServerProcess(name, list(flags), **kwargs).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
