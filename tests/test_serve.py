"""`sharebench serve`: clean exits on signals, bound to loopback, the ready line, knobs that
cost what they say."""
from __future__ import annotations

import signal
import subprocess
import sys
import time

import psutil
import pytest

from loadtests.machine.client import Client
from servers.core.work import Work

from .helpers import STRATEGIES

pytestmark = pytest.mark.servers  # starts real servers; make test-fast leaves it out


@pytest.mark.parametrize("name", sorted(STRATEGIES))
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_exits_cleanly_on_signal(serve, name: str, sig: int) -> None:
    server = serve(name, "--keys", "8")
    assert Client(server.host, server.port).get("/health")[0] == 200
    server.proc.send_signal(sig)
    assert server.proc.wait(10) == 0, server.stderr_tail()


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_serves_on_loopback_only_by_default(serve, name: str) -> None:
    server = serve(name, "--keys", "8")
    pids = {server.proc.pid} | {c.pid for c in psutil.Process(server.proc.pid).children(True)}
    listening = [c for c in psutil.net_connections("tcp")
                 if c.status == psutil.CONN_LISTEN and c.pid in pids]
    assert listening, "no listening socket found"
    assert {c.laddr.ip for c in listening} == {"127.0.0.1"}


def test_cpu_knob_costs_what_it_says() -> None:
    """--cpu-us 1000 must cost about 1 ms of CPU (best of 20; generous bounds for busy CI)."""
    work = Work.create(cpu_us=1000)
    best = float("inf")
    for _ in range(20):
        start = time.process_time_ns()
        work.cpu()
        best = min(best, time.process_time_ns() - start)
    assert 0.5e6 < best < 2.0e6, f"--cpu-us 1000 cost {best / 1e3:.0f} us of CPU"


def test_knobs_out_of_range_are_rejected() -> None:
    with pytest.raises(ValueError, match="hold-us"):
        Work.create(hold_us=-1)


@pytest.mark.parametrize("name, flags, cap", [
    ("global-lock", [], 1024), ("global-lock", ["--workers", "64"], 64), ("async", [], None),
    ("global-lock-mp", ["--workers", "2"], 2 * 1024), ("async-mp", ["--workers", "2"], None),
    ("rust-global-lock", [], 1024), ("rust-global-lock", ["--workers", "8"], 8),
    ("rust-async", [], None)])
def test_the_ready_line_says_how_many_connections_are_served_at_once(
        serve, name: str, flags: list[str], cap: int | None) -> None:
    """A thread per connection up to --workers (per worker process for a threaded -mp
    front); an event loop or tokio's tasks take any number: no cap said."""
    assert serve(name, "--keys", "8", *flags).connection_cap == cap


def test_loops_per_us_is_refused_past_its_release() -> None:
    """The knobs watch the CPU clock; the flag the harness once passed is now a usage error
    in Python and in Rust alike, not a silent no-op."""
    done = subprocess.run([sys.executable, "-m", "sharebench", "serve", "global-lock",
                           "--port", "0", "--loops-per-us", "3"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "--loops-per-us" in done.stderr, done.stderr
    program = STRATEGIES["rust-global-lock"].manifest.serve[0]
    rust = subprocess.run([program, "--port", "0", "--keys", "8", "--loops-per-us", "3"],
                          capture_output=True, text=True, timeout=60)
    assert rust.returncode != 0 and "unknown flag" in rust.stderr, rust.stderr
