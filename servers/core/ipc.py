"""Messages between a server's own processes: fixed frames over Unix sockets.

Every message, request or reply, is one 32-byte struct: an op code (a status
in a reply), padding, three signed 64-bit integers. Nothing is pickled: a
frame is parsed by struct.unpack and can only ever become four integers, and
fixed frames need no length prefix (measured in benchmarks/, they are also
cheaper than pickle).

Sockets live in Linux's abstract namespace (no file to clean up if the leader
is SIGKILLed) under a name carrying the leader's pid. Only the server's own
processes may talk: a listener drops any peer outside its process group
(SO_PEERCRED), so no client can reach these frames at all.

Three modules, one per concern: ipc_transport.py (the frame, addresses, the
peer check), ipc_client.py (channels, and the store as calls), ipc_owner.py
(serving a listener, and the store's RPC). This module is the one name the
strategies import, so that what crosses the process boundary is found in one
place (tests/test_ipc_boundary.py looks for it).

Two ways to serve a listener, one per discipline:
  * serve_owner: one thread, one message at a time, replies in arrival order
    per connection — the owner of message-passing-mp and async-mp.
  * serve_sessions: a thread per connection with per-connection state, so a
    handler may block (on a key lock) and hold locks across messages — the
    shards of ownership-mp.
"""
from __future__ import annotations

from .ipc_client import AsyncChannel, AsyncStoreClient, Channel, Peers, StoreClient
from .ipc_owner import Session, run_owner, serve_owner, serve_sessions, store_handler
from .ipc_transport import (
                            CONNECT_TIMEOUT_S,
                            FAILED,
                            FRAME,
                            GET,
                            INCR,
                            OK,
                            TOTALS,
                            TRANSFER,
                            Handler,
                            IpcError,
                            Reply,
                            address,
                            recv_exact,
                            same_group,
                            unix_connect,
                            unix_listener,
)

__all__ = ["AsyncChannel", "AsyncStoreClient", "CONNECT_TIMEOUT_S", "Channel", "FAILED", "FRAME",
           "GET", "Handler", "INCR", "IpcError", "OK", "Peers", "Reply", "Session", "StoreClient",
           "TOTALS", "TRANSFER", "address", "recv_exact", "run_owner", "same_group",
           "serve_owner", "serve_sessions", "store_handler", "unix_connect", "unix_listener"]
