"""Write a file so that a reader sees either the old whole file or the new one."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def write_bytes(path: Path, data: bytes, sync: bool = False) -> None:
    """Write to a hidden temporary name beside ``path``, then rename over it.

    ``sync`` flushes to disk first: a cell record must survive a crash of the
    machine, a report or a scratch file need not.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        if sync:
            fh.flush()
            os.fsync(fh.fileno())
    os.replace(tmp, path)


def write_text(path: Path, text: str, sync: bool = False) -> None:
    write_bytes(path, text.encode(), sync)


def write_json(path: Path, doc: Any, sync: bool = True) -> None:
    write_bytes(path, json.dumps(doc, indent=1).encode(), sync)
