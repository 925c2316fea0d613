"""The Locust engine: one cell's Locust as real processes, in their own process group.

One Locust process per load-generator core (``--processes`` forks workers that
report to a local master). The harness learns the measured window from
window.json and collects one report per user-running process.
"""
from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import cast

from loadtests.engines.base import LoadGenError, LoadSpec, Part, Stopped
from loadtests.machine.measure import Sample
from loadtests.machine.process_groups import stop_group
from loadtests.machine.remote import AgentSession
from loadtests.machine.server import ServerError, tail
from loadtests.machine.ssh import SshHost

LOCUSTFILE = Path(__file__).resolve().with_name("locustfile.py")
START_TIMEOUT_S = 30.0


class LocustRun:
    """``processes`` run users: local forked workers, or workers on other hosts
    (``remote``: then only a master runs here, on ``master_port``)."""

    def __init__(self, load: LoadSpec, drain: float = 0.5) -> None:
        self.load = load
        self.url, self.workload, self.users = load.url, load.workload, load.users
        self.warmup, self.duration, self.out = load.warmup, load.duration, load.out
        self.cpus, self.processes, self.remote = load.cpus, load.processes, load.remote
        self.master_port = load.master_port
        self.drain = drain
        self.proc: subprocess.Popen | None = None
        self.host = load.host  # where its workers run over ssh (then ``remote``); None: here
        self._workers: AgentSession | None = None

    def sample(self) -> Sample | None:
        """Its workers' tree on the load host (None: they run here, sampled by pid)."""
        if self._workers is None:
            return None
        try:
            return self._workers.sample()
        except ServerError as exc:
            raise LoadGenError(str(exc)) from None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def command(self) -> list[str]:
        spawn_rate = max(1.0, self.users / max(0.5, self.warmup / 2))  # all up by mid warm-up
        run_time = math.ceil(START_TIMEOUT_S + self.warmup + self.duration + self.drain + 10)
        cmd = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
               "--host", self.url, "--users", str(self.users), "--spawn-rate", f"{spawn_rate:g}",
               "--run-time", f"{run_time}s",  # a backstop: the harness stops it sooner
               "--stop-timeout", "2", "--only-summary", "--loglevel", "WARNING",
               "--exit-code-on-error", "0",
               "--sb-workload", json.dumps(self.workload.client_config()),
               "--sb-warmup", str(self.warmup), "--sb-duration", str(self.duration),
               "--sb-drain", str(self.drain), "--sb-out", str(self.out)]
        if self.load.rate:
            cmd += ["--sb-rate", f"{self.load.rate / self.users:.6g}",
                    "--sb-arrivals", self.load.arrivals]
        if self.remote:
            cmd += ["--master", "--expect-workers", str(self.processes),
                    "--master-bind-port", str(self.master_port)]
        elif self.processes > 1:
            # the forked workers dial --master-port, the master binds --master-bind-port
            cmd += ["--processes", str(self.processes), "--master-bind-port", str(self.master_port),
                    "--master-port", str(self.master_port)]
        return cmd

    def start(self) -> LocustRun:
        self.out.mkdir(parents=True, exist_ok=True)
        self._log = open(self.out / "locust.log", "wb")
        cpus = self.cpus
        self.proc = subprocess.Popen(
            self.command(), stdout=self._log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
            preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus and not self.host else None)
        if self.host:
            self._start_workers(self.host)
        return self

    def _start_workers(self, host: SshHost) -> None:
        """``processes`` workers on the load host, under the agent, dialling this master."""
        self._workers = AgentSession(host, "locust workers").start(
            ["run", "--cpus", ",".join(str(c) for c in sorted(self.cpus or ())), "--",
             host.python, "-m", "locust", "-f", "loadtests/engines/locustfile.py", "--worker",
             "--processes", str(self.processes), "--master-host", self.load.master_host,
             "--master-port", str(self.master_port), "--loglevel", "WARNING"])

    def bind_failed(self) -> bool:
        """Did the master find its port taken (someone bound it since we chose it)?"""
        path = self.out / "locust.log"
        return path.exists() and "Address already in use" in path.read_text(errors="replace")

    def log_tail(self, lines: int = 15) -> str:
        path = self.out / "locust.log"
        return tail(path.read_text(errors="replace"), lines) if path.exists() else ""

    def _wait_file(self, pattern: str, count: int, deadline: float,
                   stop: threading.Event) -> list[Path]:
        assert self.proc is not None, "start() first"
        while True:
            found = sorted(self.out.glob(pattern))
            if len(found) >= count:
                return found
            if self.proc.poll() is not None:
                raise LoadGenError(f"locust exited with status {self.proc.returncode} "
                                   f"(has {len(found)} of {count} {pattern}):\n{self.log_tail()}")
            if self._workers is not None and self._workers.returncode() is not None:
                said = "\n".join([*self._workers.output[-10:], self._workers.stderr_tail()])
                raise LoadGenError(f"locust workers on {self._workers.host.name} exited with "
                                   f"status {self._workers.returncode()}:\n{said}")
            if time.time() > deadline:
                raise LoadGenError(f"locust hung: {len(found)} of {count} {pattern} after "
                                   f"waiting:\n{self.log_tail()}")
            if stop.wait(0.05):
                raise Stopped()

    def window(self, stop: threading.Event) -> tuple[float, float]:
        """Wait for the master to fix the measured window; return (start, end) epochs."""
        timeout = START_TIMEOUT_S * (4 if self.remote else 1)  # remote workers reconnect
        path = self._wait_file("window.json", 1, time.time() + timeout, stop)[0]
        doc = json.loads(path.read_text())
        return doc["start"], doc["end"]

    def reports(self, stop: threading.Event, end: float) -> list[Part]:
        """One report per user-running process, due ``drain`` after the window."""
        deadline = end + self.drain + 15.0
        paths = self._wait_file("part-*.json", self.processes, deadline, stop)
        return [cast(Part, json.loads(path.read_text())) for path in paths]

    def stop(self, grace: float = 5.0) -> None:
        """Stop the whole Locust process group (raises procs.Survivors if it will not die)."""
        if self._workers is not None:
            try:
                self._workers.stop(grace)
            except ServerError as exc:
                raise LoadGenError(str(exc)) from None
        if self.proc is not None:
            try:
                stop_group(self.proc, grace)
            finally:
                self._log.close()


def free_port() -> int:
    """A port free right now. Another process may take it before Locust binds it:
    the caller retries on another port (LoadGen.bind_failed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
