"""Another host, reached through the system's OpenSSH client: the user's own config and keys.

Every command runs with BatchMode=yes, so a key the host refuses is an error, never a
password prompt. No ControlMaster: a master connection outlives the run unless someone
stops it, and a connection per server (one per cell) costs a fraction of a second.
ServerAlive probes notice a dead connection within seconds, so ssh exits (status 255)
instead of waiting forever on a host that is gone.

A command runs as ``cd <checkout> && exec <argv>`` on the host, so ``python -m ...``
there imports that host's checkout of sharebench.
"""
from __future__ import annotations

import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

PROJECT = str(Path(__file__).resolve().parents[2])
BASE_OPTIONS = ("-o", "BatchMode=yes", "-o", "ConnectTimeout=10",
                "-o", "ServerAliveInterval=2", "-o", "ServerAliveCountMax=3")
SSH_FAILED = 255  # ssh's own status: it could not connect, or the connection broke


class HostError(RuntimeError):
    """The host cannot be reached, refused the key, or its checkout cannot serve; one line."""


@dataclass(frozen=True)
class SshHost:
    name: str                                         # what ssh is given: host or config alias
    options: tuple[str, ...] = ()                     # extra ssh arguments (-p, -i, -F, -o ...)
    directory: str = PROJECT                          # its checkout of sharebench

    @property
    def python(self) -> str:
        return f"{self.directory}/.venv/bin/python"

    def command(self, argv: list[str]) -> list[str]:
        """The local argv that runs ``argv`` in the host's checkout."""
        remote = f"cd {shlex.quote(self.directory)} && exec {shlex.join(argv)}"
        return ["ssh", *BASE_OPTIONS, *self.options, self.name, remote]

    def run(self, argv: list[str], timeout: float = 60.0) -> subprocess.CompletedProcess:
        """Run ``argv`` there and wait; HostError when ssh itself failed."""
        try:
            done = subprocess.run(self.command(argv), capture_output=True, text=True,
                                  timeout=timeout, stdin=subprocess.DEVNULL,
                                  start_new_session=True)
        except subprocess.TimeoutExpired:
            raise HostError(f"ssh {self.name}: no answer within {timeout:g}s") from None
        if done.returncode == SSH_FAILED:
            raise HostError(ssh_failure(self.name, done.stderr))
        return done


def ssh_failure(name: str, stderr: str) -> str:
    """ssh's own complaint in one line, with what it means for the run."""
    lines = [line.strip() for line in stderr.strip().splitlines()
             if line.strip() and not line.startswith("Warning: Permanently added")]
    said = lines[-1] if lines else "ssh exited with status 255"
    if "Permission denied" in said:
        return (f"ssh {name}: the host refused the key ({said}); sharebench never asks for a "
                "password (BatchMode=yes): add your public key to its authorized_keys")
    return f"ssh {name}: {said}"


def parse_options(text: str | None) -> tuple[str, ...]:
    """``--ssh-options "-p 2222 -i key"`` as ssh arguments (shell words)."""
    return tuple(shlex.split(text)) if text else ()
