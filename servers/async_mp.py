"""async-mp — one aiohttp event loop per worker process; one owner process holds the store.

Rust analogue: a multi-threaded tokio runtime whose tasks cannot share an
`Rc<RefCell<_>>` across cores, so they talk to one owner task over channels.
Rule: an event loop never blocks. A worker reaches the store only by an
awaited message on an asyncio stream — no cross-process lock, no shared
memory: waiting for a lock another process holds would stall every
connection on the loop.

How the loops share the store: the owner is message-passing-mp's (one
thread, one message at a time, servers.core.ipc.serve_owner). Each loop
keeps one Unix-socket stream to it and pipelines: a request's frame goes out
at once and its reply resolves a future, first-in first-out, because the
owner answers one connection's frames in order. ``--workers`` is the number
of event loops (one per process); the owner comes on top.

Worker death: a loop holds no state, so the leader starts a new one; a
request in the dead loop was never answered, so nothing acknowledged is
lost. The owner's death is fatal: it held the only copy of the store.
"""
from servers import strategy
from servers.core import ipc
from servers.message_passing_mp import MessagePassingMP


@strategy("async-mp", discipline="event-loop", model="processes",
          analogue="tokio tasks on many cores + an owner task behind channels",
          rule="event loops never block: the store is an owner process behind awaited streams")
class AsyncMP(MessagePassingMP):
    """message-passing-mp's owner process, with event loops in front instead of threads."""
    http = "async"

    def attach(self, index: int) -> ipc.AsyncStoreClient:
        return ipc.AsyncStoreClient(self._address)
