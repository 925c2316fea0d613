"""A strategy written by `sharebench new`, for every model and in Rust, passes `sharebench
verify` with no other change."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from loadtests.checks.verify import verify_strategy

from .helpers import REPO, in_copy, sharebench

pytestmark = pytest.mark.servers  # starts real servers; make test-fast leaves it out


@pytest.mark.parametrize("model", ["threads", "async", "processes"])
def test_generated_strategy_is_listed_and_verified(repo_copy: Path, model: str) -> None:
    name = f"fresh-{model}"
    made = sharebench("new", name, "--model", model, repo=repo_copy)
    assert made.returncode == 0, made.stderr
    assert (repo_copy / "servers" / f"fresh_{model}.py").exists()
    listed = sharebench("list", repo=repo_copy)
    row = next(line.split() for line in listed.stdout.splitlines() if line.split()[0] == name)
    assert row[1] == model, row
    # `sharebench verify` as generated: the contract, then the preemption stress check
    verified = sharebench("verify", name, repo=repo_copy)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "no race under preemption" in verified.stdout, verified.stdout
    assert not (REPO / "servers" / f"fresh_{model}.py").exists()  # the real repository untouched


@pytest.mark.slow  # builds the cargo package from scratch in the copy (~30 CPU-seconds)
def test_generated_rust_strategy_builds_and_verifies(repo_copy: Path) -> None:
    shutil.copy(REPO / "Makefile", repo_copy / "Makefile")  # its build command is `make rust`
    made = sharebench("new", "rust-fresh", "--language", "rust", repo=repo_copy)
    assert made.returncode == 0, made.stderr
    cargo = (repo_copy / "servers" / "rust" / "Cargo.toml").read_text()
    assert 'name = "rust-fresh"\npath = "src/bin/rust_fresh.rs"' in cargo
    assert (repo_copy / "servers" / "rust-fresh" / "strategy.toml").is_file()
    listed = sharebench("list", repo=repo_copy)
    assert "rust-fresh is not built" in listed.stderr  # listing builds nothing
    verified = sharebench("verify", "rust-fresh", repo=repo_copy, timeout=900)  # builds, then checks
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert (repo_copy / "build" / "rust" / "release" / "rust-fresh").exists()
    assert "no race under preemption" in verified.stdout and "switch interval" not in \
        verified.stdout


@pytest.mark.skipif(shutil.which("cc") is None,
                    reason="no C compiler: `make c` installs gcc (make test does)")
def test_generated_c_strategy_builds_and_verifies(repo_copy: Path) -> None:
    """`sharebench new --language c`: a whole server in C, built by its strategy's own
    build step, speaks the contract and keeps every update under stress."""
    made = sharebench("new", "c-fresh", "--language", "c", repo=repo_copy)
    assert made.returncode == 0, made.stderr
    folder = repo_copy / "servers" / "c-fresh"
    assert sorted(p.name for p in folder.iterdir()) == ["Makefile", "server.c", "strategy.toml"]
    listed = sharebench("list", "--json", repo=repo_copy)
    row = next(r for r in json.loads(listed.stdout) if r["name"] == "c-fresh")
    assert (row["language"], row["model"], row["parallel"], row["interpreter_lock"],
            row["collector"]) == ("c", "threads", True, False, False), row
    assert "c-fresh is not built" in listed.stderr  # listing builds nothing
    verified = sharebench("verify", "--strategies", "c-fresh", repo=repo_copy, timeout=300)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "no race under preemption" in verified.stdout, verified.stdout
    assert (repo_copy / "build" / "c" / "c-fresh").exists()
    again = sharebench("new", "c-fresh", "--language", "c", repo=repo_copy)
    assert again.returncode == 2 and "exists already" in again.stderr


def test_new_refuses_a_second_rust_binary_and_an_async_one(repo_copy: Path) -> None:
    assert sharebench("new", "rust-global-lock", "--language", "rust", repo=repo_copy).returncode == 2
    refused = sharebench("new", "rust-loop", "--language", "rust", "--model", "async", repo=repo_copy)
    assert refused.returncode == 2 and "servers/rust/src/bin/async.rs" in refused.stderr
    assert not (repo_copy / "servers" / "rust-loop").exists()


@pytest.mark.parametrize("name", ["Bad_Name", "async", "1st", "a--b", "global-lock"])
def test_new_refuses_bad_or_taken_names(repo_copy: Path, name: str) -> None:
    made = sharebench("new", name, repo=repo_copy)
    assert made.returncode == 2
    assert "error:" in made.stderr


def test_serve_unknown_strategy_lists_valid_ones(repo_copy: Path) -> None:
    result = sharebench("serve", "no-such-thing", "--port", "0", repo=repo_copy)
    assert result.returncode == 2
    assert "no-such-thing" in result.stderr and "global-lock" in result.stderr


def test_serve_rejects_bad_knobs(repo_copy: Path) -> None:
    for args in (["--keys", "0"], ["--cpu-us", "-1"], ["--hold-us", "abc"]):
        result = sharebench("serve", "global-lock", "--port", "0", *args, repo=repo_copy)
        assert result.returncode == 2, (args, result.stderr)


def test_documented_example_conforms_and_keeps_updates(repo_copy: Path) -> None:
    """docs/adding-a-strategy.md's example, dropped in as written, is a correct strategy."""
    page = (REPO / "docs" / "adding-a-strategy.md").read_text()
    blocks = [b.split("```", 1)[0] for b in page.split("```python\n")[1:]]
    example = next(b for b in blocks if '@strategy("rcu"' in b)
    (repo_copy / "servers" / "rcu.py").write_text(example)
    env = in_copy(repo_copy)["env"]
    assert verify_strategy("rcu", env=env, cwd=str(repo_copy)) == []
    verified = sharebench("verify", "rcu", repo=repo_copy)  # and the stress check, reads included
    assert verified.returncode == 0 and "no race" in verified.stdout, verified.stdout
    from loadtests.checks.hammer import run_clients
    from loadtests.machine.client import Client
    from loadtests.machine.server import ServerProcess
    with ServerProcess("rcu", ["--keys", "64", "--hold-us", "300"],
                       env=env, cwd=str(repo_copy)) as server:
        got = run_clients(server.host, server.port)
        stats = Client(server.host, server.port).get("/stats")[1]
    assert not got.errors and not got.unfinished, got
    assert stats["sum"] == stats["incr_applied"] == got.acked, (got, stats)
