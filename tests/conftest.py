"""Shared fixtures: real server processes on free loopback ports."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from loadtests.machine.client import Client
from loadtests.machine.server import ServerProcess

from .fuzzing import ANSWER_TIMEOUT_S, COUNTS, KEYS, Fuzzed, Ledger, assert_still_serving
from .helpers import STRATEGIES, copy_repo


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


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    return copy_repo(tmp_path / "repo")


@pytest.fixture(scope="session")
def built_report(tmp_path_factory: pytest.TempPathFactory):
    """The synthetic run and its report, built once for every report test that reads it."""
    from report import build_report
    from report.frames import RunWarning

    from .report_run import write_run
    run = write_run(tmp_path_factory.mktemp("results"))
    with pytest.warns(RunWarning):  # the corrupt record is named in a warning
        built = build_report(run)
    return run, built


@pytest.fixture(scope="module", params=sorted(STRATEGIES))
def fuzzed(request) -> Iterator[Fuzzed]:
    """One server per strategy for a fuzz module. After the module's last use, whichever
    test that was: /health answers, the books balance, nothing crashed inside (a failure
    there is an error of the fixture, not of the test that happened to run last)."""
    name = request.param
    with ServerProcess(name, ["--keys", str(KEYS)]) as server:
        client = Client(server.host, server.port, timeout=ANSWER_TIMEOUT_S)
        fz = Fuzzed(name, server, client, Ledger(STRATEGIES[name].stateful),
                    COUNTS.setdefault(name, Counter()))
        yield fz
        assert_still_serving(fz)
        client.close()


def pytest_terminal_summary(terminalreporter) -> None:
    """The number of fuzzed requests per strategy (tests/fuzzing.py), after the run."""
    reporter = terminalreporter
    if COUNTS:
        reporter.write_sep("-", "fuzzed requests per strategy")
        for name, counts in sorted(COUNTS.items()):
            detail = ", ".join(f"{test} {n}" for test, n in sorted(counts.items()))
            reporter.write_line(f"{name:<20} {sum(counts.values()):>5}  ({detail})")
