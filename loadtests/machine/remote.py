"""Processes on another host, each under the agent (agent.py) over one ssh connection.

``AgentSession`` speaks the agent's line protocol: it starts a program there, asks for
samples, and stops it. ``HostServer`` is one strategy server on the server host, with
the face of ServerProcess (start, alive, sample, stop, stderr_tail, url), so a cell
measures it alike. The ssh client runs in its own process group here and is stopped by
it; on the host, the agent stops its program's group when told to, or when the
connection ends for any reason.
"""
from __future__ import annotations

import json
import queue
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field

from loadtests.machine.measure import Sample
from loadtests.machine.process_groups import Survivors, stop_group
from loadtests.machine.server import CAP, READY, ServerError, not_serving, tail
from loadtests.machine.ssh import SSH_FAILED, SshHost, ssh_failure

ANSWER_S = 15.0  # a sample over a live connection takes milliseconds; this much means it is gone


class HostLost(ServerError):
    """The connection to a host broke (or never opened): ssh's own words."""


class AgentSession:
    """One program under the agent on ``host``; ``what`` names it in messages."""

    def __init__(self, host: SshHost, what: str) -> None:
        self.host, self.what = host, what
        self.proc: subprocess.Popen | None = None
        self.output: list[str] = []        # the program's own lines ("out ..."), in order
        self.exited: int | None = None     # its status, once it ended by itself
        self.ended = threading.Event()     # the agent's stdout closed: the session is over
        self._stderr = tempfile.TemporaryFile()
        self._lines: queue.Queue[str | None] = queue.Queue()

    def start(self, agent_args: list[str]) -> AgentSession:
        argv = [self.host.python, "-m", "loadtests.machine.agent", *agent_args]
        self.proc = subprocess.Popen(self.host.command(argv), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self._stderr, text=True,
                                     errors="replace", start_new_session=True)
        threading.Thread(target=self._read, daemon=True).start()
        return self

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            line = line.rstrip("\n")
            if line.startswith("out "):
                self.output.append(line[4:])
            elif line.startswith("exited "):
                self.exited = int(line.split()[1])
            self._lines.put(line)
        self.ended.set()
        self._lines.put(None)

    def next(self, timeout: float) -> str | None:
        """The agent's next line; None when the session is over; TimeoutError."""
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError from None
        if line is None:
            self._lines.put(None)  # every later reader sees the end too
        return line

    def lost(self, when: str) -> ServerError:
        """The session ended: ssh's complaint if it failed, else the program's."""
        assert self.proc is not None
        try:
            code = self.proc.wait(5)
        except subprocess.TimeoutExpired:
            code = None
        if code == SSH_FAILED:
            return HostLost(f"{ssh_failure(self.host.name, self.stderr_tail())} ({self.what} {when})")
        if self.exited is not None:
            return ServerError(not_serving(self.what, self.exited, self.stderr_tail()))
        return HostLost(f"ssh {self.host.name}: the connection ended ({self.what} {when}):\n"
                        f"{self.stderr_tail()}")

    def ask(self, command: str) -> str:
        assert self.proc is not None and self.proc.stdin is not None
        try:
            self.proc.stdin.write(command + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError):
            raise self.lost("while measured") from None
        deadline = time.monotonic() + ANSWER_S
        while True:
            try:
                line = self.next(max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                raise HostLost(f"ssh {self.host.name}: no answer to {command!r} within "
                               f"{ANSWER_S:g}s") from None
            if line is None:
                raise self.lost("while measured")
            if line.startswith(command + " "):
                return line[len(command) + 1:]

    def sample(self) -> Sample:
        return Sample(**json.loads(self.ask("sample")))

    def returncode(self) -> int | None:
        """The program's status once it ended by itself (its output is all in by then),
        or the agent's once the session is over (255: ssh failed); None while it runs."""
        if self.exited is not None:
            return self.exited
        if self.proc is None or not self.ended.is_set():
            return None
        return self.proc.poll()

    def stderr_tail(self, lines: int = 15) -> str:
        self._stderr.seek(0)
        return tail(self._stderr.read().decode("utf-8", "replace"), lines)

    def stop(self, grace: float = 5.0) -> int | None:
        """Ask the agent to stop its program's group and wait for its word; then stop
        the local ssh client's group whatever happened."""
        if self.proc is None:
            return None
        said = None
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write("stop\n")
            self.proc.stdin.close()
            deadline = time.monotonic() + 3 * grace
            while said is None and time.monotonic() < deadline:
                line = self.next(max(0.0, deadline - time.monotonic()))
                if line is None:
                    break
                if line.startswith(("stopped ", "survivors ")):
                    said = line
        except (BrokenPipeError, ValueError, OSError, TimeoutError):
            pass  # the connection is gone: the agent's stdin ended, and it stopped the program
        try:
            stop_group(self.proc, grace)
        except Survivors as exc:
            raise ServerError(f"{self.what}: ssh client: {exc}") from None
        if said and said.startswith("survivors "):
            raise ServerError(f"{self.what} on {self.host.name}: {said[10:]}")
        return int(said.split()[1]) if said and said.startswith("stopped ") else None


@dataclass
class HostServer:
    strategy: str
    server_host: SshHost
    address: str                                    # where it listens, and is loaded
    args: list[str] = field(default_factory=list)
    cpus: set[int] | None = None
    start_timeout: float = 20.0
    port: int = 0
    workers: int = 0
    connection_cap: int | None = None
    proc: subprocess.Popen | None = None            # the local ssh client

    @property
    def host(self) -> str:
        return self.address

    @property
    def url(self) -> str:
        return f"http://{self.address}:{self.port}"

    def start(self) -> HostServer:
        cpus = ",".join(str(c) for c in sorted(self.cpus or ()))
        self._session = AgentSession(self.server_host, self.strategy).start(
            ["serve", "--cpus", cpus, "--", self.strategy, "--port", "0", "--host", self.address,
             *self.args])
        self.proc = self._session.proc
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        session = self._session
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            try:
                line = session.next(0.2)
            except TimeoutError:
                continue
            if line is None:
                raise session.lost("before serving")
            match = READY.search(line.encode())
            if match:
                self.port, self.workers = int(match[3]), int(match[5])
                cap = CAP.search(line.encode())
                self.connection_cap = int(cap[1]) if cap else None
                return
            if session.exited is not None:
                time.sleep(0.2)  # its stderr comes over the same connection
                raise ServerError(not_serving(self.strategy, session.exited, self.stderr_tail()))
        raise ServerError(f"{self.strategy} did not report ready on {self.server_host.name} "
                          f"within {self.start_timeout}s:\n{self.stderr_tail()}")

    def sample(self) -> Sample:
        return self._session.sample()

    def alive(self) -> bool:
        if self.proc is None or self.proc.poll() is not None or self._session.exited is not None:
            return False
        try:
            return self.sample().alive
        except ServerError:
            return False

    def stderr_tail(self, lines: int = 15) -> str:
        return self._session.stderr_tail(lines)

    def stop(self, grace: float = 5.0) -> int | None:
        if self.proc is None:
            return None
        return self._session.stop(grace)
