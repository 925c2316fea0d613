"""The run's identity in one line: what ran, where, when, and how much of it is clean."""
from __future__ import annotations

from datetime import datetime

from ..aggregate import flagged
from ..analysis import Analysis, env_value, logical_cores


def _minutes(manifest: dict) -> str:
    try:
        start = datetime.fromisoformat(str(manifest["started"]).replace("Z", "+00:00"))
        end = datetime.fromisoformat(str(manifest["ended"]).replace("Z", "+00:00"))
    except (KeyError, ValueError, TypeError):
        return ""
    return f"{(end - start).total_seconds() / 60:.0f} min"


def identity(an: Analysis) -> str:
    m = an.run.manifest
    cells = an.run.cells
    every = len(cells) + len(an.run.open_cells)
    failed = int((cells["status"] != "ok").sum()) if len(cells) else 0
    n_flagged = sum(flagged(r) for _, r in an.groups.iterrows())
    status = str(m.get("status") or "status unknown")
    took = _minutes(m)
    parts = [f"profile {m.get('profile') or '?'}",
             str(m.get("started") or "")[:16].replace("T", " "),
             f"{status}{', ' + took if took else ''}",
             f"{every} cells, {n_flagged} of {len(an.groups)} groups flagged"
             + (f", {failed} failed" if failed else "")
             + (f", {len(an.run.missing)} missing" if len(an.run.missing) else "")]
    cpu, cores = env_value(m, "cpu_model"), logical_cores(m)
    if cpu or cores:
        parts.append(", ".join(str(x) for x in (cpu, f"{cores} logical cores" if cores else None) if x))
    python = env_value(m, "python")
    if python:
        parts.append(str(python))
    hosts = m.get("hosts") or {}
    server, load = hosts.get("server") or {}, hosts.get("load") or {}
    if server.get("name", "local") != load.get("name", "local"):
        parts.append(f"server on {server['name']} ({server.get('hostname')}), load on "
                     f"{load.get('name')} ({load.get('hostname')})")
    commit = env_value(m, "git_commit", "commit")
    if commit:
        parts.append(f"commit {str(commit)[:8]}" + (" (dirty)" if env_value(m, "git_dirty") else ""))
    return " · ".join(p for p in parts if p)
