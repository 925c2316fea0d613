"""The -mp transport: fixed 32-byte frames over abstract Unix sockets, peers checked.

Every message, request or reply, is one struct: an op code (a status in a
reply), padding, three signed 64-bit integers. Nothing is pickled: a frame is
parsed by struct.unpack and can only ever become four integers, and fixed
frames need no length prefix. same_group is the check every listener applies
(ipc_owner.py) so that only the server's own processes are ever answered.
"""
from __future__ import annotations

import os
import socket
import struct
import time
from collections.abc import Callable

FRAME = struct.Struct("<B7xqqq")  # op or status, padding, three int64
OK, FAILED = 0, 1
GET, INCR, TRANSFER, TOTALS = 1, 2, 3, 4  # the store's ops; strategies add theirs above 15
CONNECT_TIMEOUT_S = 5.0  # a peer worker may still be starting when the first request lands

Reply = tuple[int, int, int]
Handler = Callable[[int, int, int, int], Reply]  # (op, a, b, c) -> reply


class IpcError(RuntimeError):
    """A peer answered FAILED or went away: a bug or a dead process, never a client error."""


def address(tag: str, index: int = 0) -> str:
    """A Unix address unique to this server; call it in the leader (it names the leader's pid)."""
    return f"\0sharebench-{os.getpid()}-{tag}-{index}"


def unix_listener(addr: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(addr)
    sock.listen(1024)
    return sock


def unix_connect(addr: str, timeout: float = CONNECT_TIMEOUT_S) -> socket.socket:
    """Connect, retrying while the peer has not bound its listener yet."""
    deadline = time.monotonic() + timeout
    while True:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(addr)
            return sock
        except (ConnectionRefusedError, FileNotFoundError):
            sock.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def same_group(conn: socket.socket) -> bool:
    """Is the peer one of this server's processes (same process group)?"""
    pid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))[0]
    try:
        return os.getpgid(pid) == os.getpgrp()
    except ProcessLookupError:
        return False


def recv_exact(sock: socket.socket, size: int) -> bytes:
    data = sock.recv(size, socket.MSG_WAITALL)
    while len(data) < size:  # MSG_WAITALL may still return short, e.g. on a signal
        more = sock.recv(size - len(data), socket.MSG_WAITALL)
        if not more:
            raise IpcError("peer closed the connection mid-frame")
        data += more
    return data
