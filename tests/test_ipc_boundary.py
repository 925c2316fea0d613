"""The -mp process boundary: only the server's own processes speak across it.

Two halves of one claim (servers/core/ipc.py, processes.py):
* nothing under servers/ unpickles: no pickle, marshal or other object
  serialiser is imported, and none of multiprocessing's pickling channels
  (Queue, Pipe, Manager, Pool, connection.Listener/Client) is used, so a frame
  can only ever become integers (struct.unpack);
* an IPC listener drops any peer outside the server's process group: a real
  connection from this test process, with well-formed frames that would
  change the store, gets no reply and changes nothing.
"""
from __future__ import annotations

import ast
import inspect
import socket
from pathlib import Path

import pytest

from loadtests.machine.client import Client
from servers.core import ipc

from .helpers import STRATEGIES

pytestmark = pytest.mark.servers  # starts real servers; make test-fast leaves it out

SERVERS = Path(__file__).resolve().parent.parent / "servers"
SERIALISERS = {"pickle", "_pickle", "cPickle", "marshal", "shelve", "dill", "cloudpickle",
               "jsonpickle", "copyreg", "multiprocessing.connection", "multiprocessing.managers",
               "multiprocessing.queues", "multiprocessing.reduction", "multiprocessing.pool"}
PICKLING = {"Queue", "SimpleQueue", "JoinableQueue", "Pipe", "Manager", "Pool", "Listener",
            "Client", "ProcessPoolExecutor", "connection", "managers", "queues", "reduction"}
ACCEPTING = 0x10000  # __SO_ACCEPTCON in /proc/net/unix's Flags: a listening socket


def unpickling_uses(source: str) -> list[str]:
    """Every import or use of a serialiser that would unpickle what a peer sent."""
    tree = ast.parse(source)
    mp_names: set[str] = set()   # names bound to the multiprocessing module
    contexts: set[str] = set()   # expressions assigned a multiprocessing context
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in SERIALISERS or alias.name.split(".")[0] in SERIALISERS:
                    found.append(f"import {alias.name}")
                if alias.name.startswith("multiprocessing"):
                    mp_names.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module in SERIALISERS or node.module.split(".")[0] in SERIALISERS:
                found.append(f"from {node.module} import ...")
            if node.module.startswith(("multiprocessing", "concurrent")):
                found += [f"from {node.module} import {a.name}" for a in node.names
                          if a.name in PICKLING]
        elif isinstance(node, ast.Assign) and _is_context_call(node.value):
            contexts.update(ast.unparse(target) for target in node.targets)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in PICKLING:
            base = node.value
            if _is_context_call(base) or ast.unparse(base) in mp_names | contexts:
                found.append(ast.unparse(node))
    return found


def _is_context_call(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and (
        (isinstance(node.func, ast.Attribute) and node.func.attr == "get_context")
        or (isinstance(node.func, ast.Name) and node.func.id == "get_context"))


@pytest.mark.parametrize("source", [
    "import pickle", "from pickle import loads", "import marshal", "import dill",
    "import multiprocessing.connection", "from multiprocessing.connection import Listener",
    "from multiprocessing import Queue", "import multiprocessing as mp\nq = mp.Queue()",
    "import multiprocessing\nctx = multiprocessing.get_context('fork')\na, b = ctx.Pipe()",
    "import multiprocessing\nself.q = multiprocessing.get_context('fork').SimpleQueue()",
    "import multiprocessing\nself.ctx = multiprocessing.get_context()\nself.ctx.Manager()",
    "from concurrent.futures import ProcessPoolExecutor"])
def test_the_scanner_finds_unpickling(source: str) -> None:
    assert unpickling_uses(source), source


@pytest.mark.parametrize("source", [
    "import multiprocessing\nlock = multiprocessing.get_context('fork').Lock()",
    "import queue\nq = queue.SimpleQueue()", "import json\njson.loads('1')",
    "import struct\nstruct.unpack('<q', data)", "sock.recv(32)"])
def test_the_scanner_lets_the_rest_be(source: str) -> None:
    assert not unpickling_uses(source), source


def test_no_server_module_unpickles() -> None:
    modules = sorted(SERVERS.rglob("*.py"))
    assert len(modules) > 10 and SERVERS / "core" / "ipc.py" in modules
    found = {str(path.relative_to(SERVERS)): uses for path in modules
             if (uses := unpickling_uses(path.read_text()))}
    assert not found, f"servers/ must not unpickle anything a peer sent: {found}"


def ipc_listeners(leader: int) -> list[str]:
    """The server's listening Unix sockets: ipc.address names them for the leader's pid."""
    prefix = f"@sharebench-{leader}-"
    found = []
    with open("/proc/net/unix") as table:
        next(table)
        for line in table:
            fields = line.split()
            if len(fields) >= 8 and int(fields[3], 16) & ACCEPTING and fields[7].startswith(prefix):
                found.append("\0" + fields[7][1:])
    return found


def uses_ipc(name: str) -> bool:
    module = inspect.getmodule(STRATEGIES[name].factory)
    return any(value is ipc for value in vars(module).values())


def refused(address: str) -> bool:
    """Connect from outside the server's process group and send frames that would change
    the store; True if the listener closed on us without a reply."""
    frames = b"".join(ipc.FRAME.pack(op, key, 1000, (key + 1) % 8)
                      for key in range(8) for op in (ipc.INCR, ipc.TRANSFER))
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(5.0)
        sock.connect(address)  # the kernel accepts; the server then checks who we are
        try:
            sock.sendall(frames)
            return sock.recv(ipc.FRAME.size) == b""
        except (ConnectionResetError, BrokenPipeError):
            return True
        except TimeoutError:
            return False


# Stateful ones: an outsider's frame would change a store; a stateless one has none to change.
@pytest.mark.parametrize("name", sorted(n for n, s in STRATEGIES.items()
                                        if s.model == "processes" and s.stateful))
def test_ipc_listeners_refuse_outsiders(serve, name: str) -> None:
    server = serve(name, "--keys", "8")
    listeners = ipc_listeners(server.proc.pid)
    if uses_ipc(name):
        assert listeners, f"{name} uses servers.core.ipc, yet no listener was found"
    for address in listeners:
        assert refused(address), f"{name}: {address[1:]} answered a process outside its group"
    client = Client(server.host, server.port)
    assert client.get("/stats")[1]["incr_applied"] == 0, "an outsider's frame was applied"
    for key in range(8):  # the server's own processes still get through (forwarded keys too)
        assert client.post(f"/kv/{key}/incr", {"by": 2})[0] == 200
    doc = client.get("/stats")[1]
    assert doc["sum"] == doc["incr_applied"] == 16, doc
