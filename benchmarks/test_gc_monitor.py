"""What watching the collector costs: the gc.callbacks monitor every server process runs.

Two figures, each with and without the monitor installed: one collection of
an (almost) empty young generation, which is the callback's cost itself, and
one request through App.handle with ``--garbage 100`` (collections happen on
about one request in eight), which is its cost on the request path.
"""
from __future__ import annotations

import gc

import pytest

from servers import get
from servers.core import gcstats
from servers.core.handling import App
from servers.core.work import Work

BODY = b'{"by": 1}'


@pytest.fixture(params=["without", "with"])
def monitor(request):
    if request.param == "without":
        yield None
        return
    watcher = gcstats.Monitor(gcstats.local_slot()).install()
    yield watcher
    watcher.uninstall()


def test_one_young_collection(benchmark, monitor) -> None:
    benchmark(gc.collect, 0)


def test_one_request_leaving_garbage(benchmark, monitor) -> None:
    spec = get("global-lock")
    work = Work.create(garbage=100)
    app = App(spec, spec.factory(64, work), work, 64, 1)
    status = benchmark(app.handle, "POST", "/kv/3/incr", BODY)[0]
    assert status == 200
    if monitor is not None:  # the monitor saw the collections the garbage caused
        assert gcstats.summary([monitor.slot], "default")["collections_total"] > 0
