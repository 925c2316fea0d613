"""Every registered strategy against every contract check, on a real server."""
from __future__ import annotations

import pytest

from loadtests.checks.verify import CHECKS, KEYS, Target
from loadtests.machine.client import Client
from loadtests.machine.server import ServerProcess

from .helpers import STRATEGIES

pytestmark = pytest.mark.servers  # starts real servers; make test-fast leaves it out


@pytest.fixture(scope="module", params=sorted(STRATEGIES))
def target(request):
    name = request.param
    with ServerProcess(name, ["--keys", str(KEYS)]) as server:
        client = Client(server.host, server.port)
        yield Target(client, server.host, server.port, KEYS, name, STRATEGIES[name].stateful)
        client.close()
        assert server.alive(), f"{name} died during the checks:\n{server.stderr_tail()}"


@pytest.mark.parametrize("check", list(CHECKS))
def test_contract(target: Target, check: str) -> None:
    CHECKS[check](target)
