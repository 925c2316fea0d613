"""global-lock-mp — N worker processes, one store in shared memory, one lock around it.

Rust analogue: `Arc<Mutex<State>>` again, stretched across processes: the store
is an anonymous shared mapping every worker inherits at fork, the Mutex a
process-shared semaphore (multiprocessing's fork-context Lock).
Rule: every request, in every process, holds the one lock for its whole visit
to the store, so at most one request on the whole machine is inside it.

Layout: three int64 arrays (values, applied, sent) back to back, driven by the
same PlainState operations as the thread strategies. Each worker serves HTTP
with a thread per connection (up to 1024); ``--workers`` is the process count.

A worker's death is fatal. A semaphore does not know who holds it, so a
worker killed inside the lock leaves it held for ever and the store perhaps
half-written (a value updated, its ledger not). Rust marks such a Mutex
poisoned and refuses to hand it out; the leader cannot tell whether the dead
worker held the lock, so it treats every worker death as poisoning and stops
the server loudly.
"""
import multiprocessing

from servers import strategy
from servers.core.processes import Helper, shared_state
from servers.core.work import Work
from servers.global_lock import GlobalLock


@strategy("global-lock-mp", discipline="global-lock", model="processes",
          analogue="Arc<Mutex<State>> across processes (shared memory + process-shared lock)",
          rule="one cross-process lock around the shared-memory store")
class GlobalLockMP(GlobalLock):
    """global-lock's operations, unchanged, over shared memory and a process-shared lock."""
    http = "threads"
    respawn = False
    why = "it may have died holding the one lock (a poisoned Mutex)"

    def __init__(self, keys: int, work: Work, workers: int) -> None:
        self._state = shared_state(keys, work.hold)
        self._lock = multiprocessing.get_context("fork").Lock()

    def helpers(self) -> list[Helper]:
        return []

    def attach(self, index: int) -> "GlobalLockMP":
        return self  # everything this object holds is shared already
