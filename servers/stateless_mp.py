"""stateless-mp — the ceiling of the processes model: N worker processes, no shared state.

Rust analogue: a constant handler on every core (no `Arc`, no `Mutex`, nothing
crossing a core). Rule: touch nothing shared, in any process. It is `stateless`
served by the -mp machinery (servers/core/processes.py), so that the processes
strategies have a ceiling of their own execution model: set beside the threaded
ceiling, they would be measured against the model, not the state.

Every worker answers with its own `Stateless`: values always 0, /stats says
``"stateless": true``, so the correctness checks leave it out. A worker holds
nothing, so the leader replaces one that dies.
"""
from servers import strategy
from servers.core.processes import Helper
from servers.core.work import Work
from servers.stateless import Stateless


@strategy("stateless-mp", discipline="stateless", model="processes",
          analogue="no shared state (a constant handler on every core)",
          rule="touch nothing shared, in any process: the processes model's throughput ceiling",
          stateful=False)
class StatelessMP:
    """stateless's handler in every worker process, each its own."""
    http = "threads"
    respawn = True
    why = ""

    def __init__(self, keys: int, work: Work, workers: int) -> None:
        self._keys, self._work = keys, work

    def helpers(self) -> list[Helper]:
        return []

    def attach(self, index: int) -> Stateless:
        return Stateless(self._keys, self._work)
