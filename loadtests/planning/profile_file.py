"""The profile file (loadtests/planning/profiles.toml): reading it, and the names it may
use, checked against what exists, before any plan is built."""
from __future__ import annotations

import tomllib
from pathlib import Path

from loadtests.planning import PlanError
from loadtests.planning.cells import Overrides

PROFILES_FILE = Path(__file__).with_name("profiles.toml")


def load_profiles(path: Path = PROFILES_FILE) -> dict:
    try:
        return tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise PlanError(f"profile file {path} has a syntax error: {exc}") from None
    except OSError as exc:
        raise PlanError(f"cannot read profile file {path}: {exc.strerror}") from None


def check_names(kind: str, names: list[str], valid) -> None:
    for name in names:
        if name not in valid:
            why = ""
            if kind == "strategy":
                from servers import broken  # a strategy set aside says why
                from servers.core.registry import source
                found = broken()
                key = next((k for k in (name.replace("-", "_"), name) if k in found), None)
                why = f" ({source(key)}: {found[key]})" if key else ""
            raise PlanError(f"unknown {kind} {name!r}{why}; valid: {', '.join(sorted(valid))}")


def load_pairs(profile: str, overrides: Overrides, path: Path = PROFILES_FILE
               ) -> list[tuple[str, str]]:
    """The (workload, engine) pairs a plan will run: known before placement, they size
    the load generator."""
    blocks = load_profiles(path).get(profile, {}).get("blocks", [])
    return sorted({(w, overrides.engine or b.get("engine", "locust")) for b in blocks
                   for w in (overrides.workloads or b.get("workloads", []))})
