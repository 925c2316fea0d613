"""CPU time and memory of a whole process tree (a server and its workers, or Locust's)."""
from __future__ import annotations

import os
from dataclasses import dataclass

import psutil


def tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of the tree's live processes (children included once reaped)."""
    total = 0.0
    for proc in tree(pid):
        try:
            times = proc.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


def rss_mb(pid: int) -> float:
    total = 0
    for proc in tree(pid):
        try:
            total += proc.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total / 2**20


def threads_and_fds(pid: int) -> tuple[int, int]:
    """Threads and open file descriptors of the tree (what a connection costs a server)."""
    threads = fds = 0
    for proc in tree(pid):
        try:
            threads += proc.num_threads()
            fds += proc.num_fds()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return threads, fds


def cpus_busy_seconds(cpus: set[int]) -> float:
    """Busy time of these CPUs, by any process (from /proc/stat; 10 ms ticks).

    A load generator can be the limit without using 90% of its core itself:
    another process may be taking the rest. Whether its CPUs were busy, by
    anyone, is what tells that it could not have gone faster.
    """
    hz = os.sysconf("SC_CLK_TCK")
    busy = 0
    with open("/proc/stat") as fh:
        for line in fh:
            name, *fields = line.split()
            if name.startswith("cpu") and name[3:].isdigit() and int(name[3:]) in cpus:
                ticks = [int(f) for f in fields[:8]]  # user nice system idle iowait irq softirq steal
                busy += sum(ticks) - ticks[3] - ticks[4]
    return busy / hz


def cpu_seconds_exact(pid: int) -> float:
    """CPU seconds of the tree's live threads at nanosecond resolution (from each
    thread's /proc schedstat), for short measurements where 10 ms ticks are too
    coarse. Threads that exit between two readings take their time with them:
    measure over persistent connections."""
    total = 0
    for proc in tree(pid):
        try:
            tids = os.listdir(f"/proc/{proc.pid}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                with open(f"/proc/{proc.pid}/task/{tid}/schedstat") as fh:
                    total += int(fh.read().split()[0])
            except (OSError, ValueError, IndexError):
                pass
    return total / 1e9


@dataclass
class Sample:
    """A server tree's counters at one instant, read on the host it runs on."""
    cpu_s: float         # user + system CPU seconds of the tree
    rss_mb: float
    threads: int
    fds: int
    cpus_busy_s: float   # busy time of the CPUs it is pinned to, by anyone
    alive: bool


def sample(pid: int, cpus: set[int]) -> Sample:
    threads, fds = threads_and_fds(pid)
    return Sample(cpu_seconds(pid), rss_mb(pid), threads, fds, cpus_busy_seconds(cpus),
                  psutil.pid_exists(pid))
