"""A strategy in another language: a directory with a strategy.toml, added to a copy
of the repository with no other file edited, is listed, served, verified against
the contract and keeps every update; a malformed manifest or a failing build is
set aside with its error while everything else still lists and serves."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from loadtests.checks.hammer import run_clients
from loadtests.checks.verify import verify_strategy
from loadtests.machine.client import Client
from loadtests.machine.server import ServerProcess
from servers import discover

from .helpers import REPO, copy_repo, in_copy, sharebench

BINARY = REPO / "build" / "rust" / "release" / "rust-global-lock"  # built by `make rust`

pytestmark = [pytest.mark.servers,  # starts real servers; make test-fast leaves it out
              pytest.mark.skipif(not os.access(BINARY, os.X_OK),
                                reason=f"{BINARY} is missing: run `make rust`")]

GOOD = f'''# a copy of rust-global-lock under another name, from a manifest alone
name = "copied-lock"
language = "rust"
model = "threads"
analogue = "Arc<Mutex<State>>"
discipline = "global-lock"
rule = "one Mutex around the whole store"
interpreter_lock = false
collector = false
serve = ["{BINARY}"]
'''

# Built on first use: the build copies the binary in beside the manifest.
BUILT_ON_DEMAND = f'''name = "built-lock"
language = "rust"
model = "threads"
analogue = "Arc<Mutex<State>>"
rule = "one Mutex around the whole store"
interpreter_lock = false
collector = false
build = ["cp", "{BINARY}", "server"]
serve = ["./server"]
'''

MALFORMED = '''name = "half-written"
model = "threads
'''

UNKNOWN_KEY = '''name = "typo-key"
language = "rust"
model = "threads"
analogue = "-"
rule = "-"
interpreter_lock = false
collector = false
serve = ["/bin/true"]
saef = false
'''

BUILD_FAILS = '''name = "never-builds"
language = "c"
model = "threads"
analogue = "-"
rule = "-"
interpreter_lock = false
collector = false
build = ["sh", "-c", "echo 'injected: the compiler refused' >&2; exit 3"]
serve = ["./never-built"]
'''


@pytest.fixture
def foreign_repo(tmp_path: Path) -> Path:
    """A copy of the project with strategy directories added: good, built on demand, broken."""
    copy = copy_repo(tmp_path / "repo")
    manifests = {"copied-lock": GOOD, "built-lock": BUILT_ON_DEMAND, "half-written": MALFORMED,
                 "typo-key": UNKNOWN_KEY, "never-builds": BUILD_FAILS,
                 "no-runtime": GOOD.replace("copied-lock", "no-runtime")
                                   .replace("interpreter_lock = false\n", "")}
    for folder, text in manifests.items():
        (copy / "servers" / folder).mkdir()
        (copy / "servers" / folder / "strategy.toml").write_text(text)
    return copy


def test_rust_strategies_are_registered_as_foreign() -> None:
    found = discover()
    rust = {name: spec for name, spec in found.items() if spec.language == "rust"}
    assert set(rust) >= {"rust-global-lock", "rust-ownership", "rust-message-passing",
                         "rust-async", "rust-racy"}, sorted(found)
    assert all(spec.factory is None and spec.manifest is not None for spec in rust.values())
    assert rust["rust-racy"].safety == "unsafe" and rust["rust-async"].model == "async"


def test_directory_strategy_is_listed_verified_and_keeps_updates(foreign_repo: Path) -> None:
    listed = sharebench("list", repo=foreign_repo, timeout=120)
    assert listed.returncode == 0, listed.stderr
    rows = {line.split()[0]: line.split() for line in listed.stdout.splitlines()}
    # its declared traits, from its manifest: defaults for a language without a GIL
    assert rows["copied-lock"][1:8] == ["threads", "safe", "rust", "yes", "no", "no",
                                        "global-lock"], rows["copied-lock"]
    assert "global-lock" in rows  # the Python strategies are still there
    env = in_copy(foreign_repo)["env"]
    assert verify_strategy("copied-lock", env=env, cwd=str(foreign_repo)) == []
    with ServerProcess("copied-lock", ["--keys", "64", "--hold-us", "300"],
                       env=env, cwd=str(foreign_repo)) as server:
        assert server.proc.pid == Client(server.host, server.port).get("/health")[1]["pid"], \
            "sharebench serve must exec the server, so that signals reach it directly"
        got = run_clients(server.host, server.port)
        stats = Client(server.host, server.port).get("/stats")[1]
    assert not got.errors and not got.unfinished, got
    assert stats["sum"] == stats["incr_applied"] == got.acked, (got, stats)


def test_listing_builds_nothing_and_serving_builds_on_first_use(foreign_repo: Path) -> None:
    program = foreign_repo / "servers" / "built-lock" / "server"
    listed = sharebench("list", repo=foreign_repo, timeout=120)
    assert "built-lock" in listed.stdout.split(), listed.stderr
    assert not program.exists(), "listing must not build"
    notes = [line for line in listed.stderr.splitlines() if "built-lock is not built" in line]
    assert len(notes) == 1 and "`cp " in notes[0], listed.stderr  # one line: what to run
    with ServerProcess("built-lock", ["--keys", "64"], start_timeout=60,
                       **in_copy(foreign_repo)) as server:
        assert Client(server.host, server.port).get("/health")[1]["strategy"] == "built-lock"
    assert program.exists()
    again = sharebench("list", repo=foreign_repo, timeout=120)
    assert "built-lock is not built" not in again.stderr


def test_broken_manifests_and_builds_are_set_aside(foreign_repo: Path) -> None:
    listed = sharebench("list", repo=foreign_repo, timeout=120)
    assert listed.returncode == 0, listed.stderr
    names = [line.split()[0] for line in listed.stdout.splitlines()]
    assert "copied-lock" in names and "global-lock" in names
    for bad in ("half-written", "typo-key"):
        assert bad not in names
        assert f"servers/{bad}/strategy.toml was set aside" in listed.stderr, listed.stderr
    assert "unknown key(s) saef" in listed.stderr
    # a foreign runtime's traits have no default: a manifest without them is set aside
    assert "servers/no-runtime/strategy.toml was set aside" in listed.stderr
    assert "'interpreter_lock' is missing: say whether its runtime" in listed.stderr
    # A build that fails is found when it runs, never by listing: serve says why, one line.
    assert "never-builds" in names and "never-builds is not built" in listed.stderr
    assert "injected: the compiler refused" not in listed.stderr.splitlines()  # never ran
    served = sharebench("serve", "never-builds", "--port", "0", repo=foreign_repo, timeout=120)
    assert served.returncode == 2
    error = [line for line in served.stderr.splitlines() if line.startswith("sharebench: error")]
    assert len(error) == 1 and "exit 3" in error[0], served.stderr
    assert "injected: the compiler refused" in served.stderr


def test_foreign_server_rejects_bad_flags_before_starting(foreign_repo: Path) -> None:
    for args in (["--keys", "0"], ["--cpu-us", "-1"], ["--workers", "0"]):
        result = sharebench("serve", "copied-lock", "--port", "0", *args, repo=foreign_repo, timeout=120)
        assert result.returncode == 2 and "error:" in result.stderr, (args, result.stderr)
