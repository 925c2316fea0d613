"""The preemption stress check: races the GIL hides at its default switch interval.

CPython switches threads every 5 ms by default, so a read–modify–write whose
read is outside its lock (``v = values[k]; hold; with lock: values[k] = v + by``)
is almost never interrupted between read and write: no increment lost from 16
clients on 4 hot keys, where the same server with ``sys.setswitchinterval(1e-6)``
lost most of them with a 300 us hold (README, "Races the GIL hides"). So before
a strategy is trusted, it is started with ``--switch-interval 1e-6`` (in every
process of it) and hammered (hammer.py) twice, with the hold and without:
increments and two-key transfers on a few hot keys from many threads, while
reader threads read /stats. What clients were acknowledged is compared with
/stats at the end (the sum conserved, every acknowledged increment kept), and
every snapshot read meanwhile must have sum == incr_applied (transfers
conserve the sum, so a snapshot that does not saw half a transfer). A strategy
that loses or invents updates, or shows a torn snapshot, "races under
preemption", whatever its benchmark cells show. Each run is bounded in count
and time; a server that dies or stalls is a failed check carrying its stderr
tail, never a hang.

The switch interval is an interpreter's: a server whose runtime has no
interpreter lock (its declared trait) is never given the flag, and the result
says so (``switch_interval_s`` null): there, preemption is the OS's, with
threads truly in parallel.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from loadtests.checks.hammer import THREADS, run_clients
from loadtests.machine.client import Client
from loadtests.machine.server import ServerError, ServerProcess

SWITCH_INTERVAL_S = 1e-6
HOLDS_US = (300, 0)       # with a window between read and write, and with none
KEYS = 64
OPS_PER_THREAD = 100    # bounds each run (README, "Measured here": its time per strategy)
SECONDS_PER_RUN = 8.0     # the clients stop issuing requests after this
READERS = 2               # threads reading /stats while the writers run


@dataclass
class StressRun:
    hold_us: float
    acked: int = 0           # increments acknowledged to clients (sum of `by`)
    sum: int = 0             # /stats after the run (the server started at zero)
    incr_applied: int = 0
    requests: int = 0
    lost: int = 0            # acked - sum when positive: acknowledged updates that vanished
    snapshots: int = 0       # /stats read while the clients ran
    torn: int = 0            # of them, with sum != incr_applied: half a transfer seen
    first_torn: dict | None = None
    races: bool = False
    error: str = ""          # the server died, stalled or answered errors: the check failed


def _one(name: str, hold_us: float, switch: bool, server_kwargs: dict) -> StressRun:
    run = StressRun(hold_us)
    flags = ["--keys", str(KEYS), "--hold-us", f"{hold_us:g}"]
    if switch:
        flags += ["--switch-interval", f"{SWITCH_INTERVAL_S:g}"]
    server = ServerProcess(name, flags, **server_kwargs)
    try:
        server.start()
        got = run_clients(server.host, server.port, THREADS, OPS_PER_THREAD, SECONDS_PER_RUN,
                          readers=READERS)
        run.acked, run.requests = got.acked, got.requests
        run.snapshots, run.torn, run.first_torn = got.snapshots, got.torn, got.first_torn or None
        if not server.alive():
            raise ServerError(f"{name} died under the stress check:\n{server.stderr_tail()}")
        if got.unfinished or got.errors:
            raise ServerError(f"{got.unfinished} client threads stuck, {len(got.errors)} errors "
                              f"(first: {got.errors[:1]}):\n{server.stderr_tail()}")
        status, stats = Client(server.host, server.port, timeout=10).get("/stats")
        if status != 200:
            raise ServerError(f"/stats answered {status}: {stats}")
        run.sum, run.incr_applied = stats["sum"], stats["incr_applied"]
        run.lost = max(0, run.acked - run.sum)
        # Transfers conserve the sum, so any difference is a race: lost, or invented; and a
        # snapshot read meanwhile with a difference saw an operation half done.
        run.races = run.sum != run.acked or run.sum != run.incr_applied or run.torn > 0
    except (ServerError, OSError) as exc:
        run.error = str(exc)[-2000:] or type(exc).__name__
    finally:
        try:
            server.stop()
        except ServerError as exc:
            run.error = run.error or str(exc)
    return run


def stress_strategy(name: str, interpreter_lock: bool = True, **server_kwargs) -> dict:
    """Both runs of the check for ``name``; a JSON-ready summary (the manifest keeps it).
    ``interpreter_lock``: its declared trait; only then is the server given the switch
    interval.

    ``races``: some run lost or invented updates, or a snapshot saw half a transfer;
    ``error``: some run could not be judged (the server died, stalled or answered
    errors), a failed check either way.
    """
    runs = [_one(name, hold, interpreter_lock, server_kwargs) for hold in HOLDS_US]
    return {"switch_interval_s": SWITCH_INTERVAL_S if interpreter_lock else None,
            "lost": sum(r.lost for r in runs), "acked": sum(r.acked for r in runs),
            "snapshots": sum(r.snapshots for r in runs), "torn": sum(r.torn for r in runs),
            "races": any(r.races for r in runs),
            "error": next((r.error for r in runs if r.error), ""),
            "runs": [asdict(r) for r in runs]}


def judge(result: dict, safe: bool) -> bool:
    """Does the check fail ``sharebench verify``? An error always does; a race does
    for a strategy that claims to be safe (`unsafe` races as it declares)."""
    return bool(result["error"]) or (result["races"] and safe)


def describe(result: dict) -> str:
    """For a person: what the check found (one line, unless it failed: then the
    server's stderr tail follows). It names only what the server was given."""
    if result["error"]:  # the whole text: its first line says what, the rest is stderr
        return f"stress check failed: {result['error']}"
    interval = result.get("switch_interval_s")
    given = f"switch interval {interval:g} s, " if interval else ""
    reads = (f"{result.get('torn', 0)} of {result['snapshots']} /stats snapshots saw half an "
             "operation" if "snapshots" in result else "")
    if result["races"]:
        per_hold = ", ".join(f"hold {r['hold_us']:g} us: {r['lost']} of {r['acked']}"
                             + (f", {r['torn']} torn" if r.get("torn") else "")
                             for r in result["runs"])
        return (f"races under preemption ({given}{reads or 'no reads'}): {result['lost']} of "
                f"{result['acked']} acknowledged (sum of `by`) lost ({per_hold})")
    return (f"no race under preemption (all {result['acked']} acknowledged (sum of `by`) kept"
            f"{', sum conserved' if reads else ''}, {given}{reads or 'no reads'})")
