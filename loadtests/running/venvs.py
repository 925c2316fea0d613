"""A venv per interpreter of the matrix (``--pythons``), made once with what the servers
import. Making one installs packages, so it happens when a run starts, never while planning."""
from __future__ import annotations

import subprocess
from dataclasses import asdict
from pathlib import Path

from loadtests.planning import PlanError
from loadtests.planning.interpreters import LOCK, SERVER_NEEDS, VENVS, Interpreter


def ensure(interp: Interpreter, venvs: Path = VENVS, log=print) -> Interpreter:
    """The interpreter's venv with what the servers need, made once and reused."""
    venv = venvs / interp.label
    python = venv / "bin" / "python"
    stamp = venv / ".sharebench-ready"
    ready = f"{interp.version} {' '.join(SERVER_NEEDS)}\n"  # what it was made with
    if not stamp.is_file() or stamp.read_text() != ready:
        log(f"sharebench: making {venv} for Python {interp.version} (once)")
        for cmd in ([interp.base, "-m", "venv", "--clear", str(venv)],
                    [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                     "-c", str(LOCK), *SERVER_NEEDS]):
            done = subprocess.run(cmd, capture_output=True, text=True)
            if done.returncode != 0:
                tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
                raise PlanError(f"cannot make {venv}: {' '.join(cmd[:3])}... failed: {tail[0]}")
        stamp.write_text(ready)
    return Interpreter(**{**asdict(interp), "python": str(python)})
