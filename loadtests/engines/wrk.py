"""The wrk engine: Debian's wrk (C, epoll) drives a cell at full speed.

wrk has no warm-up of its own, so a cell is two wrk runs over fresh
connections: an unrecorded warm-up run, then the measured run, whose own
summary (requests, duration, errors, latency histogram) is the window's. wrk
times whole seconds (``-d``), so windows are rounded up to whole seconds and
the record carries the duration wrk itself measured.

Latency: wrk records each response's time from the moment its request was
written, in 1 µs buckets up to ``--timeout``; a response slower than that
counts as a timeout error. It is closed-loop latency (each connection waits
for its answer before sending again), like Locust's closed-loop users.

Correctness without per-request identity: wrk's Lua cannot match a response to
its request, so the script counts requests and increments sent, and wrk counts
responses and non-2xx answers. At most (sent - answered) + non-2xx increments
went unacknowledged, so the acknowledged increments are at least
sent_incr - that, and the server's sum must lie between that and sent_incr.
"""
from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

from loadtests.engines.base import LoadGenError, LoadSpec, Part, Stopped
from loadtests.engines.wrk_script import REPORT_PREFIX, lua
from loadtests.machine.measure import Sample
from loadtests.machine.process_groups import stop_group
from loadtests.machine.remote import AgentSession
from loadtests.machine.server import ServerError, tail
from loadtests.machine.ssh import SshHost
from loadtests.planning.engine_costs import timed
from results import hdr

TIMEOUT_S = 5        # wrk keeps a 1 µs bucket per µs up to this: 40 MB of histogram
START_SLACK_S = 30.0


def whole_seconds(seconds: float) -> int:
    return int(timed("wrk", seconds))  # the planner's estimate counts the same


class WrkRun:
    remote = False

    def __init__(self, load: LoadSpec) -> None:
        self.load = load
        self.host = load.host
        self._session: AgentSession | None = None
        self.cpus = load.cpus
        self.threads = max(1, min(load.processes, load.users))
        self.proc: subprocess.Popen | None = None
        self._log: Path | None = None
        self._warmup: dict | None = None
        self._started = 0.0

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def command(self, seconds: int, folder: str | None = None) -> list[str]:
        script = f"{folder}/workload.lua" if folder else str(self.load.out / "workload.lua")
        return [shutil.which("wrk") or "wrk" if not folder else "wrk", f"-t{self.threads}",
                f"-c{self.load.users}", f"-d{seconds}s", f"--timeout={TIMEOUT_S}s", "-s", script,
                self.load.url]

    def _spawn(self, seconds: int, name: str) -> None:
        self._log = self.load.out / f"wrk-{name}.log"
        if self.host:
            self._spawn_there(self.host, seconds)
            return
        cpus = self.cpus
        with open(self._log, "wb") as log:
            self.proc = subprocess.Popen(
                self.command(seconds), stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
                preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None)

    def _spawn_there(self, host: SshHost, seconds: int) -> None:
        """wrk on the load host under the agent, its script sent along; back once it runs
        (the window is timed from here, so ssh's connection time is not in it)."""
        if self._session is not None:
            self._session.stop()
        script = base64.b64encode((self.load.out / "workload.lua").read_bytes()).decode()
        cpus = ",".join(str(c) for c in sorted(self.cpus or ()))
        self._session = session = AgentSession(host, "wrk").start(
            ["run", "--cpus", cpus, "--file", f"workload.lua={script}", "--",
             *self.command(seconds, "{dir}")])
        deadline = time.monotonic() + START_SLACK_S
        while True:
            try:
                line = session.next(max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                raise LoadGenError(f"wrk did not start on {host.name} within {START_SLACK_S:g}s") from None
            if line is None:
                raise LoadGenError(str(session.lost("before loading")))
            if line.startswith("pid "):
                return

    def _status(self) -> int | None:
        if self._session is not None:
            return self._session.returncode()
        assert self.proc is not None
        return self.proc.poll()

    def sample(self) -> Sample | None:
        """wrk's tree on the load host (None: it runs here, sampled by its pid)."""
        if self._session is None:
            return None
        try:
            return self._session.sample()
        except ServerError as exc:
            raise LoadGenError(str(exc)) from None

    def start(self) -> WrkRun:
        if not self.host and not shutil.which("wrk"):
            raise LoadGenError("wrk is not installed: `make wrk` installs Debian's wrk")
        self.load.out.mkdir(parents=True, exist_ok=True)
        (self.load.out / "workload.lua").write_text(lua(self.load.workload))
        self._started = time.time()
        self._spawn(whole_seconds(self.load.warmup), "warmup")
        return self

    def _finish(self, deadline: float, stop: threading.Event) -> dict:
        """Wait for the running wrk to exit and return its report line."""
        while (status := self._status()) is None:
            if time.time() > deadline:
                raise LoadGenError(f"wrk hung past its duration:\n{self.log_tail()}")
            if stop.wait(0.05):
                raise Stopped()
        if self._session is not None and self._log is not None:  # its output came over ssh
            self._log.write_text("\n".join([*self._session.output, self._session.stderr_tail()]))
        text = self._log.read_text(errors="replace") if self._log else ""
        lines = [line for line in text.splitlines() if line.startswith(REPORT_PREFIX)]
        if status != 0 or not lines:
            raise LoadGenError(f"wrk exited with status {status} and no report "
                               f"(killed, or its script failed):\n{self.log_tail()}")
        try:
            return json.loads(lines[-1][len(REPORT_PREFIX):])
        except ValueError as exc:
            raise LoadGenError(f"wrk's report does not parse ({exc}):\n{self.log_tail()}") from None

    def window(self, stop: threading.Event) -> tuple[float, float]:
        """Run the warm-up to its end, then start the measured run: its (start, end)."""
        warmup = whole_seconds(self.load.warmup)
        self._warmup = self._finish(self._started + warmup + START_SLACK_S, stop)
        duration = whole_seconds(self.load.duration)
        self._spawn(duration, "measure")
        start = time.time()
        # The CPU window sits inside the run: wrk connects first and stops at its end.
        return start + 0.05, start + duration - 0.05

    def reports(self, stop: threading.Event, end: float) -> list[Part]:
        measured = self._finish(end + START_SLACK_S, stop)
        warm = self._warmup or {}
        histogram = hdr.new()
        for value, count in measured["latency"]:
            histogram.record_value(hdr.clamp_us(value), count)
        errors = {("non-2xx" if kind == "status" else kind): count
                  for kind, count in measured["errors"].items() if count}
        acked = uncertain = 0
        for run in (warm, measured):
            if not run:
                continue
            unanswered = max(0, run["sent"] - run["requests"])
            unacked = min(run["sent_incr"], unanswered + run["errors"]["status"])
            acked += run["sent_incr"] - unacked
            uncertain += unacked  # each may have been applied: the sum can be up to acked + these
        return [{"requests": measured["requests"], "duration": measured["duration_us"] / 1e6,
                 "errors": errors, "acked_incr": acked, "uncertain_incr": uncertain,
                 "first_request": self._started, "hdr": hdr.encode(histogram)}]

    def stop(self, grace: float = 5.0) -> None:
        if self._session is not None:
            try:
                self._session.stop(grace)
            except ServerError as exc:
                raise LoadGenError(str(exc)) from None
        if self.proc is not None and self.proc.poll() is None:
            stop_group(self.proc, grace)

    def bind_failed(self) -> bool:
        return False

    def log_tail(self, lines: int = 15) -> str:
        if self._log is None or not self._log.exists():
            return ""
        text = self._log.read_text(errors="replace")
        kept = [line for line in text.splitlines() if not line.startswith(REPORT_PREFIX)]
        return tail("\n".join(kept), lines)
