"""Open-file limits: thousands of connections need thousands of descriptors, on both sides."""
from __future__ import annotations

import resource

FD_MARGIN = 64  # descriptors a process needs besides its connections (logs, pipes, modules)


def fd_limit() -> int:
    """What this process (and its children, which inherit it) may raise its limit to."""
    return resource.getrlimit(resource.RLIMIT_NOFILE)[1]


def raise_fd_limit() -> dict:
    """Soft RLIMIT_NOFILE up to the hard limit, inherited by every server and Locust."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return {"soft_before": soft, "soft": hard, "hard": hard}
