"""The harness's hands on a server host: run there over ssh as ``python -m loadtests.machine.agent``.

``describe`` prints the host in one JSON line (name, kernel, interpreter, topology,
checkout). ``serve --cpus 0,1 -- <serve args>`` starts one server, pinned, in its own
session; ``run --cpus 0,1 --file NAME=BASE64 -- <argv>`` starts any program (a load
generator) the same way, its files written to a folder first (``{dir}`` in argv names
it). Both answer on stdout, one line each:

    pid <pid>            the process started
    out <line>           a line it printed (a server's ready line; wrk's report)
    sample <json>        its tree's counters (measure.Sample), after "sample" on stdin
    exited <status>      it ended by itself
    stopped <status>     the agent stopped its whole group ("survivors <why>" if not)

Its stdin is the watchdog: "stop", or the end of stdin (ssh closed, the connection
dropped, the harness died), or SIGTERM/SIGHUP, stops the process group and ends the
agent, whose status is then the program's own when it ended by itself. Nothing of a
cell outlives its ssh connection on that host.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from dataclasses import asdict, replace
from pathlib import Path

from loadtests.machine import measure, topology
from loadtests.machine.process_groups import Survivors, stop_group
from loadtests.machine.topology import Core, Topology

CHECKOUT = Path(__file__).resolve().parents[2]
_said = threading.Lock()


def say(line: str) -> None:
    with _said:
        try:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
        except (BrokenPipeError, ValueError):
            pass  # nobody listens any more: stdin's end stops us


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=CHECKOUT, capture_output=True, text=True,
                             timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def describe() -> dict:
    found = topology.read_or_fallback()
    connection = os.environ.get("SSH_CONNECTION", "").split()
    status = _git("status", "--porcelain")
    return {"hostname": socket.gethostname(), "kernel": f"{platform.system()} {platform.release()}",
            "python": f"{platform.python_implementation()} {platform.python_version()}",
            "logical_cores": os.cpu_count(), "topology": found.summary(),
            "cores": [asdict(core) for core in found.cores], "topology_source": found.source,
            "git_commit": _git("rev-parse", "HEAD"), "git_dirty": bool(status) if status is not None else None,
            "setup": (CHECKOUT / ".venv" / ".installed").is_file(), "checkout": str(CHECKOUT),
            "wrk": shutil.which("wrk"),
            # the address the harness reached us on: where the server listens, and is loaded
            "address": connection[2] if len(connection) == 4 else None,
            # the harness's address as this host sees it: where a server there is loaded from
            "client": connection[0] if len(connection) == 4 else None}


def topology_of(described: dict) -> Topology:
    """The Topology a ``describe`` answer carries."""
    return Topology(tuple(Core(c["package"], c["core_id"], c["node"], tuple(c["cpus"]))
                          for c in described["cores"]), described["topology_source"])


def serve(cpus: set[int], args: list[str]) -> int:
    return supervise([sys.executable, "-m", "sharebench", "serve", *args], cpus, None)


def run(cpus: set[int], files: list[str], argv: list[str]) -> int:
    with tempfile.TemporaryDirectory(prefix="sharebench-agent-") as folder:
        for item in files:
            name, _, data = item.partition("=")
            (Path(folder) / Path(name).name).write_bytes(base64.b64decode(data))
        return supervise([arg.replace("{dir}", folder) for arg in argv], cpus,
                         subprocess.STDOUT)


def supervise(argv: list[str], cpus: set[int], stderr: int | None) -> int:
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=stderr,
        stdin=subprocess.DEVNULL, start_new_session=True, text=True, errors="replace",
        preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None)
    say(f"pid {proc.pid}")

    def forward() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            say(f"out {line.rstrip()}")
        say(f"exited {proc.wait()}")

    threading.Thread(target=forward, daemon=True).start()

    def on_signal(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, on_signal)
    try:
        for line in sys.stdin:
            if line.strip() == "sample":
                found = replace(measure.sample(proc.pid, cpus), alive=proc.poll() is None)
                say(f"sample {json.dumps(asdict(found))}")
            elif line.strip() == "stop":
                break
    finally:
        ended = proc.poll()  # by itself, before we stopped it
        try:
            say(f"stopped {stop_group(proc)}")
        except Survivors as exc:
            say(f"survivors {exc}")
    if ended is None:
        return 0
    return ended if ended >= 0 else 128 - ended


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtests.machine.agent")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("describe")
    serving = sub.add_parser("serve")
    serving.add_argument("--cpus", default="")
    serving.add_argument("args", nargs=argparse.REMAINDER)
    running = sub.add_parser("run")
    running.add_argument("--cpus", default="")
    running.add_argument("--file", action="append", default=[], help="NAME=BASE64")
    running.add_argument("argv", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if args.command == "describe":
        print(json.dumps(describe()))
        return 0
    cpus = topology.parse_cpulist(args.cpus) if args.cpus else set()
    if args.command == "run":
        return run(cpus, args.file, args.argv[1:] if args.argv[:1] == ["--"] else args.argv)
    return serve(cpus, args.args[1:] if args.args[:1] == ["--"] else args.args)


if __name__ == "__main__":
    sys.exit(main())
