"""message-passing-mp — one owner process holds the store; HTTP workers send it messages.

Rust analogue: an owner task behind an `mpsc` channel with a oneshot reply,
the channel now a Unix socket between processes.
Rule: only the owner process touches the store. It handles one message at a
time from one thread (servers.core.ipc.serve_owner), so it needs no lock.

Each worker serves HTTP with a thread per connection (up to 1024;
``--workers`` is the number of worker processes, the owner comes on top).
A thread borrows one of its process's connections to the owner, sends a
32-byte frame and blocks on the 32-byte reply: every request pays a round
trip across the process boundary (benchmarks/test_process_boundary.py).

Worker death: a worker holds no state, so the leader starts a new one. A
request that was in the dead worker may or may not have reached the owner,
but its client never got an answer: nothing acknowledged is lost. The
owner's death is fatal: it held the only copy of the store.
"""
from servers import strategy
from servers.core import ipc
from servers.core.processes import Helper, Ready
from servers.core.state import PlainState
from servers.core.work import Work


@strategy("message-passing-mp", discipline="message-passing", model="processes",
          analogue="mpsc to an owner task + oneshot reply, across processes",
          rule="only the owner process touches the store; workers send it messages")
class MessagePassingMP:
    http = "threads"
    respawn = True
    why = ""

    def __init__(self, keys: int, work: Work, workers: int) -> None:
        self._keys, self._hold = keys, work.hold
        self._address = ipc.address("owner")

    def helpers(self) -> list[Helper]:
        return [Helper("owner", self._own, "it held the only copy of the store")]

    def _own(self, ready: Ready) -> None:  # runs in the owner process, after fork
        ipc.run_owner(self._address, PlainState(self._keys, self._hold), ready)

    def attach(self, index: int) -> ipc.StoreClient | ipc.AsyncStoreClient:
        """The store a worker's HTTP layer calls: blocking here, awaited in async-mp."""
        return ipc.StoreClient(self._address)
