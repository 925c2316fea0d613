"""What the harness holds, read from the code: strategies, profiles, workloads and the
version, as typed rows first, then as text or JSON. ``sharebench list``, ``profiles``,
``workloads``, ``--version`` and the generated reference (reference.py) all read these,
so a table in the docs cannot disagree with what a run uses."""
from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def version() -> str:
    """The package's version, and the git commit when run from a checkout (``+dirty`` when
    the tree has uncommitted changes): two hosts of one run must print the same."""
    try:
        number = metadata.version("sharebench")
    except metadata.PackageNotFoundError:
        from sharebench import __version__ as number
    if not (REPO / ".git").exists():
        return number
    try:
        commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short=12", "HEAD"],
                                capture_output=True, text=True, timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain",
                                "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return number
    return f"{number} (commit {commit}{'+dirty' if dirty else ''})"


@dataclass(frozen=True)
class StrategyRow:
    name: str
    model: str
    language: str
    safety: str
    parallel: bool
    interpreter_lock: bool
    collector: bool
    discipline: str
    analogue: str
    rule: str
    source: str      # its module, or its directory (a strategy in another language)


def strategies() -> list[StrategyRow]:
    from servers import discover
    rows = []
    for spec in discover().values():
        source = (str(Path(spec.module).relative_to(REPO)) if spec.manifest is not None
                  else spec.module.replace(".", "/") + ".py")
        t = spec.traits
        rows.append(StrategyRow(spec.name, t.model, t.language, t.safety, t.parallel,
                                t.interpreter_lock, t.collector, t.discipline, t.analogue,
                                spec.rule, source))
    return rows


@dataclass(frozen=True)
class ProfileRow:
    name: str
    description: str
    blocks: int
    budget: str        # "" when the profile has none
    warmup: str
    duration: str


def profiles(path: Path | None = None) -> list[ProfileRow]:
    from loadtests.planning import profiles as planning
    doc = planning.load_profiles(path or planning.PROFILES_FILE)
    return [ProfileRow(name, str(body.get("description", "")), len(body.get("blocks", [])),
                       str(body.get("budget", "")), str(body.get("warmup", "2s")),
                       str(body.get("duration", "5s")))
            for name, body in doc.items() if isinstance(body, dict)]


@dataclass(frozen=True)
class WorkloadRow:
    name: str
    description: str
    mix: dict[str, float]
    distribution: str
    users: int
    server: dict[str, float | str]   # the server knobs it sets


def workloads() -> list[WorkloadRow]:
    from loadtests.planning.workloads import WORKLOADS
    return [WorkloadRow(w.name, w.description, dict(w.mix), w.distribution, w.users,
                        dict(w.server)) for w in WORKLOADS.values()]


def as_json(rows: list) -> list[dict]:
    return [asdict(row) for row in rows]


def yes(flag: bool) -> str:
    return "yes" if flag else "no"


def mix_text(mix: dict[str, float]) -> str:
    total = sum(mix.values())
    return ", ".join(f"{op} {weight / total:.0%}" for op, weight in mix.items())


def knobs_text(server: dict[str, float | str]) -> str:
    return ", ".join(f"{k} {v:g}" if not isinstance(v, str) else f"{k} {v}"
                     for k, v in server.items()) or "none"


def columns(rows: Sequence[tuple[str, ...]]) -> list[str]:
    """Plain-text columns, the last one left ragged (it holds sentences)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return ["  ".join(f"{cell:<{w}}" for cell, w in zip(row, widths)) + f"  {row[-1]}"
            for row in rows]
