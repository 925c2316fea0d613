"""The hosts of a run: the server's (``--server-host``) and wrk's (``--load-host``); this
one for either when not given.

Asked over ssh before anything starts: a host must answer without a password, have a
checkout of this very commit with ``make setup`` done (a load host: and wrk), and say
its topology (a server host's cores are the ones a cell's server is placed on). Each
host is described in the manifest's ``hosts`` the same way, so a report can name them.
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
    """A host that answered (a server host or a load host), and what it said."""
    host: SshHost
    described: dict

    @property
    def address(self) -> str:
        return self.described["address"]

    @property
    def topology(self) -> Topology:
        return agent.topology_of(self.described)


def connect(name: str, options: str | None, directory: str | None,
            role: str = "server") -> ServerHost:
    """The ``role`` host (server or load), checked: PlanError (one line) saying what is missing."""
    host = SshHost(name, parse_options(options), directory or agent.CHECKOUT.as_posix())
    try:
        done = host.run([host.python, "-m", "loadtests.machine.agent", "describe"])
    except HostError as exc:
        raise PlanError(str(exc)) from None
    if done.returncode != 0:
        said = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise PlanError(f"{role} host {name}: no sharebench checkout with `make setup` done at "
                        f"{host.directory} ({said}): clone it there and run `make setup`, or "
                        "give its path with --server-dir")
    described = json.loads(done.stdout)
    here = agent.describe()
    if described["git_commit"] != here["git_commit"]:
        raise PlanError(f"{role} host {name}: its checkout {host.directory} is at commit "
                        f"{str(described['git_commit'])[:12]}, this one at "
                        f"{str(here['git_commit'])[:12]}: check out the same commit there")
    if not described["setup"]:
        raise PlanError(f"{role} host {name}: `make setup` not done in {host.directory}")
    if role == "load" and not described["wrk"]:
        raise PlanError(f"load host {name}: no wrk there: `make wrk` in {host.directory}")
    if not described["address"]:
        raise PlanError(f"{role} host {name}: its address is unknown (no SSH_CONNECTION there)")
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


def manifest_hosts(server: ServerHost | None, load: ServerHost | None = None) -> dict:
    """The manifest's ``hosts``: each side's name, cores, topology, interpreter and kernel;
    the server's address (where servers listen and are loaded)."""
    keep = ("hostname", "kernel", "python", "logical_cores", "topology")

    def one(there: ServerHost | None) -> dict:
        if there is None:
            return {"name": LOCAL, **local_description()}
        return {"name": there.host.name, **{k: there.described[k] for k in keep},
                "address": there.address, "client": there.described["client"],
                "directory": there.host.directory,
                "ssh_options": list(there.host.options)}

    found = {"server": one(server), "load": one(load)}
    if server is None:  # a server here is loaded from the load host: the address it sees
        found["server"]["address"] = load.described["client"] if load else "127.0.0.1"
    return found


def host_of(manifest: dict, side: str) -> SshHost | None:
    """The ``side`` (server or load) host a manifest names (for --resume), or None: here."""
    doc = (manifest.get("hosts") or {}).get(side) or {}
    if doc.get("name", LOCAL) == LOCAL:
        return None
    return SshHost(doc["name"], tuple(doc.get("ssh_options") or ()), doc["directory"])
