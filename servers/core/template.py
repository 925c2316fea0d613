"""``sharebench new NAME``: write a working starting module for a new strategy.

The generated module is a complete strategy (a global lock) so it passes the
contract checks as written; its author then replaces the discipline.
"""
from __future__ import annotations

import keyword
import re
from pathlib import Path

_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")

TEMPLATE = '''"""{name} — TODO: one line on the sharing discipline.

Rust analogue: TODO (e.g. `Arc<RwLock<State>>`).
Rule: TODO, the one rule every request follows. Until you change it, this is a
copy of global-lock: one lock around the whole store.
"""
import threading

from servers import strategy
from servers.core.state import PlainState, Totals
from servers.core.work import Work


@strategy("{name}", model="threads", rust="TODO", rule="TODO: one line")
class {cls}:
    def __init__(self, keys: int, work: Work) -> None:
        # PlainState holds the counters and does hold-us between read and write;
        # your discipline decides who may call it, and when.
        self._state = PlainState(keys, work.hold)
        self._lock = threading.Lock()

    def get(self, key: int) -> int:
        with self._lock:
            return self._state.get(key)

    def incr(self, key: int, by: int) -> int:
        with self._lock:
            return self._state.incr(key, by)

    def transfer(self, src: int, dst: int, amount: int) -> tuple[int, int]:
        with self._lock:
            return self._state.transfer(src, dst, amount)

    def totals(self) -> Totals:
        with self._lock:
            return self._state.totals()
'''


def module_name(name: str) -> str:
    return name.replace("-", "_")


def create(name: str, folder: Path) -> Path:
    """Write ``folder/<name>.py``; refuse bad names and existing files."""
    if not _NAME.match(name) or keyword.iskeyword(module_name(name)):
        raise ValueError(f"bad strategy name {name!r}: use lower-case words joined by '-', "
                         "e.g. rw-lock")
    path = folder / f"{module_name(name)}.py"
    if path.exists():
        raise FileExistsError(f"{path} already exists")
    cls = "".join(part.capitalize() for part in name.split("-"))
    path.write_text(TEMPLATE.format(name=name, cls=cls))
    return path
