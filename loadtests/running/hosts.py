"""The hosts of a run: the server's (``--server-host``) and the load generator's (this one).

Asked over ssh before anything starts: the server host must answer without a password,
have a checkout of this very commit with ``make setup`` done, and say its topology (its
cores are the ones a cell's server is placed on). Each host is described in the
manifest's ``hosts`` the same way, so a report can name them.
"""
from __future__ import annotations

import json
import os
import platform
import socket
from dataclasses import dataclass

from loadtests.machine import agent, topology
from loadtests.machine.ssh import HostError, SshHost, parse_options
from loadtests.machine.topology import Topology
from loadtests.planning import PlanError

LOCAL = "local"


@dataclass(frozen=True)
class ServerHost:
    """A server host that answered, and what it said."""
    host: SshHost
    described: dict

    @property
    def address(self) -> str:
        return self.described["address"]

    @property
    def topology(self) -> Topology:
        return agent.topology_of(self.described)


def connect(name: str, options: str | None, directory: str | None) -> ServerHost:
    """The server host, checked: PlanError (one line) saying what is missing."""
    host = SshHost(name, parse_options(options), directory or agent.CHECKOUT.as_posix())
    try:
        done = host.run([host.python, "-m", "loadtests.machine.agent", "describe"])
    except HostError as exc:
        raise PlanError(str(exc)) from None
    if done.returncode != 0:
        said = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise PlanError(f"server host {name}: no sharebench checkout with `make setup` done at "
                        f"{host.directory} ({said}): clone it there and run `make setup`, or "
                        "give its path with --server-dir")
    described = json.loads(done.stdout)
    here = agent.describe()
    if described["git_commit"] != here["git_commit"]:
        raise PlanError(f"server host {name}: its checkout {host.directory} is at commit "
                        f"{str(described['git_commit'])[:12]}, this one at "
                        f"{str(here['git_commit'])[:12]}: check out the same commit there")
    if not described["setup"]:
        raise PlanError(f"server host {name}: `make setup` not done in {host.directory}")
    if not described["address"]:
        raise PlanError(f"server host {name}: its address is unknown (no SSH_CONNECTION there)")
    return ServerHost(host, described)


def reachable(host: SshHost) -> str | None:
    """None when the host answers over ssh now, else why not (one line)."""
    try:
        host.run(["true"], timeout=30)
    except HostError as exc:
        return str(exc)
    return None


def local_description() -> dict:
    found = topology.read_or_fallback()
    return {"hostname": socket.gethostname(), "kernel": f"{platform.system()} {platform.release()}",
            "python": f"{platform.python_implementation()} {platform.python_version()}",
            "logical_cores": os.cpu_count(), "topology": found.summary()}


def manifest_hosts(server: ServerHost | None) -> dict:
    """The manifest's ``hosts``: each side's name, cores, topology, interpreter and kernel."""
    keep = ("hostname", "kernel", "python", "logical_cores", "topology")
    here = {"name": LOCAL, **local_description()}
    if server is None:
        return {"server": here, "load": here}
    return {"server": {"name": server.host.name, **{k: server.described[k] for k in keep},
                       "address": server.address, "directory": server.host.directory,
                       "ssh_options": list(server.host.options)},
            "load": here}


def server_host_of(manifest: dict) -> SshHost | None:
    """The server host a manifest names (for --resume), or None: the servers ran here."""
    doc = (manifest.get("hosts") or {}).get("server") or {}
    if doc.get("name", LOCAL) == LOCAL:
        return None
    return SshHost(doc["name"], tuple(doc.get("ssh_options") or ()), doc["directory"])
