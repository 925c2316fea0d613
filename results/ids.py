"""A cell's identity and its id: the name of its record file and its row in cells.csv.

``<strategy>.<workload>.<engine>.c<cores>.u<users>[.w<workers>][.h<live>][.o<rate>].r<repeat>[.py<label>]``;
format 1 had no engine part. ``.w<workers>`` marks a cell that gave the server
--workers (e.g. a thread server's connection cap raised). ``.h<live>`` marks a
server holding a live heap of that many objects (--live-objects, e.g. ``h1000000``);
cells without one have none. ``.o<rate>`` marks an
open-loop cell: ``o2000`` offers 2000 req/s, ``o0.85x`` 0.85 of the strategy's
capacity measured earlier in the run; closed cells have none. A run over several
interpreters (--pythons) adds ``.py<label>``, e.g. ``...r0.py3.13``.
"""
from __future__ import annotations

import re
from typing import Any

DEFAULT_ENGINE = "locust"  # what a format-1 run was measured with
# The fields that name one measured cell (with `rate` for an open-loop cell, `python`
# under --pythons), and the ones that name it without its repeat: what the report groups by.
IDENTITY = ("strategy", "workload", "engine", "cores", "users", "repeat")
KEY = ["strategy", "workload", "engine", "cores", "users", "live_objects", "mode", "rate"]

CELL_ID = "{strategy}.{workload}.{engine}.c{cores}.u{users}{workers}{heap}{open}.r{repeat}"
RATE_PATTERN = r"\d+(?:\.\d+)?x?"  # a planned rate as an id writes it: 2000, 12.5, 0.85x
_ID = re.compile(r"^(?P<strategy>[^.]+)\.(?P<workload>[^.]+)(?:\.(?P<engine>[a-z0-9]+))?"
                 r"\.c(?P<cores>\d+)\.u(?P<users>\d+)(?:\.w(?P<workers>\d+))?"
                 r"(?:\.h(?P<live_objects>\d+))?"
                 r"(?:\.o(?P<rate>" + RATE_PATTERN + r"))?"
                 r"\.r(?P<repeat>\d+)(?:\.py(?P<python>\S+))?$")


def cell_id(strategy: str, workload: str, engine: str, cores: int, users: int, repeat: int,
            python: str = "", rate: str = "", workers: int = 0, live_objects: int = 0) -> str:
    base = CELL_ID.format(strategy=strategy, workload=workload, engine=engine, cores=cores,
                          users=users, repeat=repeat, open=f".o{rate}" if rate else "",
                          workers=f".w{workers}" if workers else "",
                          heap=f".h{live_objects}" if live_objects else "")
    return f"{base}.py{python}" if python else base


def mode_of(rate: str) -> str:
    return "open" if rate else "closed"


def parse_cell_id(text: str) -> dict[str, Any] | None:
    """The identity fields of a cell id (either format); None if it is not one."""
    match = _ID.match(text)
    if not match:
        return None
    found: dict[str, Any] = {"cell_id": text, **match.groupdict()}
    found["engine"] = found["engine"] or DEFAULT_ENGINE
    found["rate"] = found["rate"] or ""
    found["mode"] = mode_of(found["rate"])
    found["live_objects"] = int(found["live_objects"] or 0)
    if not found["python"]:
        del found["python"]
    if found["workers"]:
        found["workers"] = int(found["workers"])
    else:
        del found["workers"]
    for name in ("cores", "users", "repeat"):
        found[name] = int(found[name])
    return found
