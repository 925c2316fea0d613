"""A strategy written by `sharebench new` passes the contract with no other change."""
from __future__ import annotations

from pathlib import Path

import pytest

from loadtests.checks.verify import verify_strategy

from .helpers import REPO, in_copy, sharebench

pytestmark = pytest.mark.servers  # starts real servers; make test-fast leaves it out



def test_generated_strategy_is_listed_and_conforms(repo_copy: Path) -> None:
    made = sharebench("new", "fresh-idea", repo=repo_copy, timeout=60)
    assert made.returncode == 0, made.stderr
    assert (repo_copy / "servers" / "fresh_idea.py").exists()
    listed = sharebench("list", repo=repo_copy, timeout=60)
    assert any(line.split()[0] == "fresh-idea" for line in listed.stdout.splitlines()), listed.stdout
    env = in_copy(repo_copy)["env"]
    assert verify_strategy("fresh-idea", env=env, cwd=str(repo_copy)) == []
    # the real repository is untouched
    assert not (REPO / "servers" / "fresh_idea.py").exists()


@pytest.mark.parametrize("name", ["Bad_Name", "async", "1st", "a--b", "global-lock"])
def test_new_refuses_bad_or_taken_names(repo_copy: Path, name: str) -> None:
    made = sharebench("new", name, repo=repo_copy, timeout=60)
    assert made.returncode == 2
    assert "error:" in made.stderr


def test_serve_unknown_strategy_lists_valid_ones(repo_copy: Path) -> None:
    result = sharebench("serve", "no-such-thing", "--port", "0", repo=repo_copy, timeout=60)
    assert result.returncode == 2
    assert "no-such-thing" in result.stderr and "global-lock" in result.stderr


def test_serve_rejects_bad_knobs(repo_copy: Path) -> None:
    for args in (["--keys", "0"], ["--cpu-us", "-1"], ["--hold-us", "abc"]):
        result = sharebench("serve", "global-lock", "--port", "0", *args, repo=repo_copy, timeout=60)
        assert result.returncode == 2, (args, result.stderr)


def test_readme_worked_example_conforms_and_keeps_updates(repo_copy: Path) -> None:
    """The README's "Adding a strategy" example, dropped in as written, is a correct strategy."""
    readme = (REPO / "README.md").read_text()
    blocks = [b.split("```", 1)[0] for b in readme.split("```python\n")[1:]]
    example = next(b for b in blocks if '@strategy("rw-lock"' in b)
    (repo_copy / "servers" / "rw_lock.py").write_text(example)
    env = in_copy(repo_copy)["env"]
    assert verify_strategy("rw-lock", env=env, cwd=str(repo_copy)) == []
    from loadtests.checks.hammer import run_clients
    from loadtests.machine.client import Client
    from loadtests.machine.server import ServerProcess
    with ServerProcess("rw-lock", ["--keys", "64", "--hold-us", "300"],
                       env=env, cwd=str(repo_copy)) as server:
        got = run_clients(server.host, server.port)
        stats = Client(server.host, server.port).get("/stats")[1]
    assert not got.errors and not got.unfinished, got
    assert stats["sum"] == stats["incr_applied"] == got.acked, (got, stats)
