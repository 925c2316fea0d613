"""Stopping what we started: a whole process group, by its id, never by name."""
from __future__ import annotations

import os
import signal
import subprocess
import time


class Survivors(RuntimeError):
    """Processes of a group outlived SIGKILL."""


def group_alive(pgid: int) -> bool:
    """Does any process of the group still run? Zombies do not count: an orphan
    reparented to a slow init may wait seconds to be reaped, yet it is dead."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return bool(members(pgid))


def members(pgid: int) -> list[int]:
    """Pids of the group's processes that are not zombies (from /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue  # gone while we looked
        # fields after the ")" that ends the command name: state ppid pgrp ...
        state, _ppid, pgrp = stat[stat.rindex(b")") + 2:].split(b" ", 3)[:3]
        if int(pgrp) == pgid and state != b"Z":
            found.append(int(entry))
    return found


def signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


def stop_group(proc: subprocess.Popen, grace: float = 5.0) -> int | None:
    """SIGTERM the group led by ``proc`` (started with start_new_session), SIGKILL
    it after ``grace``, and wait until no process of it is left.

    Returns the leader's exit status; raises Survivors if the group will not die.
    """
    pgid = proc.pid
    signal_group(pgid, signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        signal_group(pgid, signal.SIGKILL)
        proc.wait(grace)
    deadline = time.monotonic() + grace  # children may outlive the leader briefly
    while group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if group_alive(pgid):
        signal_group(pgid, signal.SIGKILL)
        time.sleep(0.2)
        if group_alive(pgid):
            raise Survivors(f"process group {pgid} survived SIGKILL")
    return proc.returncode
