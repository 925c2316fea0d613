"""SIGINT and SIGTERM for long runs (a sweep, a soak): both set one event and say so once."""
from __future__ import annotations

import signal
import sys
import threading
from typing import Any


def install(stop: threading.Event, doing: str) -> dict[int, Any]:
    """The first signal prints what stopping means (``doing``) and sets ``stop``; a second
    only repeats it: we are already stopping. ``stop.signal`` names the last one."""
    def handler(signum: int, _frame: object) -> None:
        if not stop.is_set():
            print(f"\nsharebench: {signal.Signals(signum).name}: {doing}", file=sys.stderr,
                  flush=True)
        stop.signal = signal.Signals(signum).name  # type: ignore[attr-defined]
        stop.set()
    return {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
