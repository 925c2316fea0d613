"""Strategy registration: one decorated class in one module under servers/,
or one directory under servers/ with a strategy.toml (any language: foreign.py).

Modelled on molotov's scenarios: the decorator records the class, discovery
imports every module in the servers package and reads every manifest, and
nothing else needs editing.
"""
from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import foreign

MODELS = ("threads", "async", "processes")


@dataclass(frozen=True)
class Strategy:
    name: str
    model: str           # threads | async | processes
    rust: str            # the Rust analogue the articles talk about
    rule: str            # the one rule of its discipline
    safe: bool           # False: races on purpose; never ranked
    stateful: bool       # False: touches no shared state; no correctness check
    factory: Callable | None  # (keys, work) -> store; "processes": (keys, work, workers) -> processes.Layout;
    #                           None for a strategy in another language (see ``manifest``)
    module: str               # the Python module, or the strategy's directory
    language: str = "python"
    manifest: foreign.Manifest | None = None  # how to build and start a foreign strategy

    @property
    def safety(self) -> str:
        if not self.stateful:
            return "no-state"
        return "safe" if self.safe else "unsafe"


_REGISTRY: dict[str, Strategy] = {}


def strategy(name: str, *, model: str, rust: str, rule: str,
             safe: bool = True, stateful: bool = True) -> Callable:
    """Class decorator that registers a store class as a strategy."""
    if model not in MODELS:
        raise ValueError(f"strategy {name!r}: model must be one of {MODELS}, got {model!r}")

    def register(cls):
        if name in _REGISTRY and _REGISTRY[name].module != cls.__module__:
            raise ValueError(f"strategy {name!r} registered twice: "
                             f"{_REGISTRY[name].module} and {cls.__module__}")
        _REGISTRY[name] = Strategy(name, model, rust, rule, safe, stateful, cls, cls.__module__)
        return cls
    return register


_BROKEN: dict[str, str] = {}  # module or directory name -> why it could not be loaded
VALID_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


def discover(package: str = "servers") -> dict[str, Strategy]:
    """Import every plain module of ``package``, read every strategy directory's
    manifest, and return the registry, by name.

    A module that raises on import, or a directory whose manifest is malformed
    or whose build fails, is set aside (see ``broken()``), so one bad strategy
    cannot take down the listing, the other servers or a whole run.
    """
    pkg = importlib.import_module(package)
    for info in pkgutil.iter_modules(pkg.__path__):
        if info.ispkg or info.name.startswith("_") or info.name in _BROKEN:
            continue
        try:
            importlib.import_module(f"{package}.{info.name}")
        except Exception as exc:  # anything a module author's code may raise
            _BROKEN[info.name] = f"{type(exc).__name__}: {exc}"
    for folder in foreign.folders(Path(pkg.__path__[0])):
        if folder.name not in _BROKEN and str(folder) not in _LOADED:
            _load_foreign(folder)
    return dict(sorted(_REGISTRY.items()))


_LOADED: set[str] = set()          # strategy directories already registered
_BROKEN_FOLDERS: set[str] = set()  # the keys of _BROKEN that are directories


def _load_foreign(folder: Path) -> None:
    try:
        manifest = foreign.load(folder, MODELS, VALID_NAME.match)
        if manifest.name in _REGISTRY:
            raise foreign.ManifestError(f"strategy {manifest.name!r} registered twice: "
                                        f"{_REGISTRY[manifest.name].module} and {folder}")
        foreign.ensure_built(manifest)
    except foreign.ManifestError as exc:
        _BROKEN[folder.name] = str(exc)
        _BROKEN_FOLDERS.add(folder.name)
        return
    _LOADED.add(str(folder))
    _REGISTRY[manifest.name] = Strategy(manifest.name, manifest.model, manifest.rust,
                                        manifest.rule, manifest.safe, manifest.stateful,
                                        None, str(folder), manifest.language, manifest)


def broken() -> dict[str, str]:
    """Strategies set aside: module (or directory) name -> the error."""
    discover()
    return dict(_BROKEN)


def source(key: str) -> str:
    """Where a strategy set aside by ``broken()`` lives, and what went wrong, in words."""
    if key in _BROKEN_FOLDERS:
        return f"servers/{key}/{foreign.MANIFEST} was set aside"
    return f"servers/{key}.py failed to import"


def get(name: str) -> Strategy:
    found = discover()
    if name in found:
        return found[name]
    for key in (name.replace("-", "_"), name):
        if key in _BROKEN:
            raise KeyError(f"strategy {source(key)}: {_BROKEN[key]}")
    raise KeyError(f"unknown strategy {name!r}; valid: {', '.join(found)}")
