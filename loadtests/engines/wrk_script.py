"""A workload as a wrk Lua script: the same mix and key distribution Locust sends.

The Lua lives in lua/ (mix.lua: the mix and key distribution both scripts share;
seeding.lua: a seed per wrk thread; closed.lua and paced.lua: the two scripts).
One Lua state runs per wrk thread. Each counts what it sent; ``done`` (run once,
in the main state) sums the threads' counts and prints one JSON line with wrk's
own summary and its whole latency histogram (value, count pairs at wrk's 1 µs
resolution), which the harness turns into the same HDR histogram Locust's
recorder writes.

Increments carry ``by = 1``: wrk cannot tell which response answered which
request, so acknowledged increments are bounded from the counts instead (see
wrk.py), and one unit per increment keeps that bound tight.
"""
from __future__ import annotations

from pathlib import Path
from string import Template

from loadtests.planning.workloads import Workload

REPORT_PREFIX = "SHAREBENCH "
LUA = Path(__file__).with_name("lua")  # the scripts' text; ${name} marks what is filled in


def _render(file: str, **values: object) -> str:
    """A Lua file of LUA with its ${...} filled in (Lua itself never writes a $)."""
    return Template((LUA / file).read_text()).substitute(values)


def _cumulative_shares(weights: list[float]) -> list[float]:
    total = sum(weights)
    out, running = [], 0.0
    for weight in weights:
        running += weight
        out.append(running / total)
    out[-1] = 1.0
    return out


def _mix(workload: Workload) -> str:
    """Lua shared by both scripts: the mix, the key distribution, and ``build(k)``, which
    makes one request on key ``k`` (a transfer's source) and says whether it increments."""
    mix = workload.mix
    total = sum(mix.values())
    p_get = mix.get("get", 0) / total
    p_incr = p_get + mix.get("incr", 0) / total
    zipf = "nil"
    if workload.distribution == "zipf":
        cum = _cumulative_shares([1 / rank ** workload.zipf_s for rank in range(1, workload.keys + 1)])
        zipf = "{" + ",".join(f"{c:.9g}" for c in cum) + "}"
    return _render("mix.lua", keys=workload.keys, p_get=f"{p_get:.9g}", p_incr=f"{p_incr:.9g}",
                   zipf=zipf)




def lua(workload: Workload) -> str:
    """Closed loop: every connection sends its next request as soon as the last is answered."""
    return _render("closed.lua", name=workload.name, mix=_mix(workload),
                   seeding=_render("seeding.lua"), report_prefix=REPORT_PREFIX)


def paced_lua(workload: Workload, interval_s: float, per_thread: int, window: tuple[float, float]
              ) -> str:
    """Open loop, paced: each connection sends every ``interval_s``, held open throughout.

    A connection sends its first request as it connects (a client connects because it
    has a request to send; a thread-per-connection server gives it a thread then).
    Once that is answered, the connection has a schedule: slots ``interval_s`` apart,
    the first ones spread evenly over one interval (``interval_s / per_thread`` apart
    in the order the first answers arrive). After each answer wrk asks ``delay()`` how
    long to wait; the wait is until the connection's next slot, or none if the slot
    has passed (the server is behind; the lateness counts, as wrk2 counts it). A
    connection whose request is never answered never sends again, so its unanswered
    requests lower the answered rate: other connections cannot take its slots.

    wrk's Lua does not say which connection calls a hook. Two things stand in: (1)
    wrk calls ``delay()`` for a connection right after ``response()`` for it, in the
    same order for every connection, so each answer hands its schedule to the next
    ``delay()`` (were two swapped, their schedules would be swapped, each still kept);
    (2) each request in flight gets a key no other request of its thread has in flight,
    and the answer names its key, so its slot and send time are found from the answer.
    Sends due in the same millisecond may pair with each other's slots: the corrected
    latency is good to about a millisecond, wrk's timer resolution.

    Three histograms (µs), over answers inside ``window`` (epoch seconds, from the
    harness): from the slot (corrected), from the send (uncorrected), and each send's
    lag behind the later of its slot and its connection's answer (the engine's own:
    its timers and its event loop)."""
    start, end = window
    return _render("paced.lua", name=workload.name, mix=_mix(workload),
                   seeding=_render("seeding.lua"), report_prefix=REPORT_PREFIX,
                   interval=f"{interval_s:.9g}", spacing=f"{interval_s / per_thread:.9g}",
                   window_start=f"{start:.6f}", window_end=f"{end:.6f}")
