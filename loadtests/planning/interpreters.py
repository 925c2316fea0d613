"""The interpreter matrix (``--pythons 3.11,3.13``): which Pythons run the servers.

A name resolves through pyenv (``~/.pyenv/versions/<name>*/bin/python``, the
newest match) or is a path to a python. Each gets its own venv under
``.venv-pythons/<label>``, made on demand with what the servers import
(aiohttp, at the version requirements.lock pins); the servers find the project
through PYTHONPATH (ServerProcess sets it), so nothing is installed twice. Everything is checked before
any server starts: a missing or too-old interpreter is a PlanError.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

from loadtests.planning import PlanError

ROOT = Path(__file__).resolve().parents[2]
VENVS = ROOT / ".venv-pythons"
LOCK = ROOT / "requirements.lock"
PYENV = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
MINIMUM = (3, 11)
SERVER_NEEDS = ["aiohttp", "redis", "hiredis"]   # every third-party module servers/ imports
_PROBE = ("import json, sys, sysconfig; print(json.dumps({'version': sys.version.split()[0], "
          "'version_info': list(sys.version_info[:2]), 'executable': sys.executable, "
          "'implementation': sys.implementation.name, "
          "'gil_disabled': bool(sysconfig.get_config_var('Py_GIL_DISABLED'))}))")


@dataclass(frozen=True)
class Interpreter:
    label: str          # what cells and cells.csv call it: "3.13", or "3.13t" when free-threaded
    base: str           # the interpreter the venv was made from
    version: str        # e.g. 3.13.0
    gil_disabled: bool  # a free-threaded build (Py_GIL_DISABLED)
    implementation: str
    python: str = ""    # the venv's python, once prepared

    def to_dict(self) -> dict:
        return asdict(self)


def parse_pythons(text: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        raise PlanError(f"bad PYTHONS {text!r}: use e.g. 3.11,3.13 or /path/to/python")
    return names


def resolve(name: str) -> Interpreter:
    """A pyenv version prefix or a path -> the interpreter, probed; PlanError if unusable."""
    path = Path(name).expanduser()
    if "/" not in name:
        found = sorted((p for p in PYENV.glob(f"{name}*/bin/python")
                        if re.fullmatch(re.escape(name) + r"([.\-t].*)?", p.parent.parent.name)),
                       key=lambda p: _version_key(p.parent.parent.name))
        if not found:
            raise PlanError(f"python {name!r} not found: no {PYENV}/{name}*/bin/python "
                            f"(give a path instead, e.g. /usr/bin/python{name})")
        path = found[-1]
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise PlanError(f"python {name!r}: {path} is not an executable file")
    try:
        out = subprocess.run([str(path), "-c", _PROBE], capture_output=True, text=True,
                             timeout=30, check=True).stdout
        info = json.loads(out)
    except (subprocess.SubprocessError, OSError, ValueError) as exc:
        raise PlanError(f"python {name!r} ({path}) does not run: {exc}") from None
    if tuple(info["version_info"]) < MINIMUM:
        raise PlanError(f"python {name!r} is {info['version']}: the servers need "
                        f"{'.'.join(map(str, MINIMUM))}+")
    major_minor = ".".join(map(str, info["version_info"]))
    label = major_minor + ("t" if info["gil_disabled"] else "")
    return Interpreter(label, str(path), info["version"], info["gil_disabled"],
                       info["implementation"])


def resolve_all(text: str) -> list[Interpreter]:
    found = [resolve(name) for name in parse_pythons(text)]
    labels = [i.label for i in found]
    if len(set(labels)) != len(labels):
        raise PlanError(f"bad PYTHONS {text!r}: two names are the same interpreter ({labels})")
    return found


def _version_key(name: str) -> tuple:
    return tuple(int(part) if part.isdigit() else -1 for part in re.split(r"[.\-]", name))
