"""Start and stop one strategy server as a real process in its own process group.

Everything that runs a server (the tests, ``sharebench verify``, the sweep)
goes through ServerProcess, so "processes you start, you stop" is written once:
stop() signals the whole group and checks that nothing in it survived.
"""
from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from loadtests.machine import measure
from loadtests.machine.measure import Sample
from loadtests.machine.process_groups import Survivors, stop_group

PROJECT = str(Path(__file__).resolve().parents[2])
READY = re.compile(rb"serving (\S+) on http://(\S+):(\d+) pid=(\d+) workers=(\d+)")
CAP = re.compile(rb" connection_cap=(\d+)")  # optional: a server with no cap of its own omits it


class ServerError(RuntimeError):
    """The server did not start or did not stop; the message has its stderr tail."""


def tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


def not_serving(strategy: str, status: int | None, stderr: str) -> str:
    """Why a server exited before its ready line, its own last words on the first line:
    a cell's reason keeps only that line (the tail follows for its detail)."""
    last = stderr.strip().splitlines()[-1:] or ["(nothing on stderr)"]
    return f"{strategy} exited with status {status} before serving: {last[0]}\n{stderr}"


@dataclass
class ServerProcess:
    strategy: str
    args: list[str] = field(default_factory=list)  # extra `serve` flags, e.g. ["--hold-us", "200"]
    host: str = "127.0.0.1"
    cpus: set[int] | None = None                    # CPU affinity for the server
    env: dict[str, str] | None = None
    python: str | None = None                       # the interpreter; default: the harness's
    cwd: str | None = None
    start_timeout: float = 20.0
    port: int = 0
    workers: int = 0                                # from the ready line (per model: CONTRACT.md)
    connection_cap: int | None = None               # from the ready line; None: no cap said
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> ServerProcess:
        cmd = [self.python or sys.executable, "-m", "sharebench", "serve", self.strategy,
               "--port", "0", "--host", self.host, *self.args]
        self._stderr = tempfile.TemporaryFile()
        cpus = self.cpus
        env = self.env
        if self.python and self.python != sys.executable and env is None:
            # another interpreter's venv holds only what servers import: the project
            # itself comes from this checkout
            env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
            env["PYTHONPATH"] = os.pathsep.join(p for p in (PROJECT, env.get("PYTHONPATH")) if p)
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=self._stderr, stdin=subprocess.DEVNULL,
            start_new_session=True,  # own process group: stop() reaches every child
            env=env, cwd=self.cwd,
            preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None  # start() made them
        proc, stdout = self.proc, self.proc.stdout
        deadline = time.monotonic() + self.start_timeout
        line = b""
        while time.monotonic() < deadline:
            ready, _, _ = select.select([stdout], [], [], 0.1)
            if ready:
                line = stdout.readline()
                match = READY.search(line)
                if match:
                    self.port, self.workers = int(match[3]), int(match[5])
                    cap = CAP.search(line)
                    self.connection_cap = int(cap[1]) if cap else None
                    return
            if proc.poll() is not None:
                raise ServerError(not_serving(self.strategy, proc.returncode, self.stderr_tail()))
        raise ServerError(f"{self.strategy} did not report ready within {self.start_timeout}s "
                          f"(last line {line!r}):\n{self.stderr_tail()}")

    def stderr_tail(self, lines: int = 15) -> str:
        self._stderr.seek(0)
        return tail(self._stderr.read().decode("utf-8", "replace"), lines)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def sample(self) -> Sample | None:
        """Its tree's CPU, memory and threads now, and how busy its CPUs are."""
        if self.proc is None:
            return None
        return measure.sample(self.proc.pid, self.cpus or set())

    def stop(self, grace: float = 5.0) -> int | None:
        """Stop the server's whole process group; raise ServerError if any of it survives."""
        if self.proc is None:
            return None
        try:
            code = stop_group(self.proc, grace)
        except Survivors as exc:
            raise ServerError(f"{self.strategy}: {exc}") from None
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        return code

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

