"""Strategy registration: one decorated class in one module under servers/,
or one directory under servers/ with a strategy.toml (any language: foreign.py).

Modelled on molotov's scenarios: the decorator records the class, discovery
imports every module in the servers package and reads every manifest, and
nothing else needs editing. What a strategy is (its traits) is declared here,
by its author (traits.py), never inferred from its language or name.

Discovery has no side effects: it builds nothing. A foreign strategy whose
program is missing is registered and reported as not built (``unbuilt``);
``build`` makes it, and ``sharebench serve``, ``verify`` and a run call it.
"""
from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import foreign
from .traits import MODELS, TraitError, Traits, declare

__all__ = ["MODELS", "Strategy", "broken", "build", "discover", "get", "strategy", "unbuilt"]

@dataclass(frozen=True)
class Strategy:
    name: str
    traits: Traits
    rule: str            # the one rule of its discipline
    factory: Callable | None  # (keys, work) -> store; "processes": (keys, work, workers) -> processes.Layout;
    #                           None for a strategy in another language (see ``manifest``)
    module: str               # the Python module, or the strategy's directory
    manifest: foreign.Manifest | None = None  # how to build and start a foreign strategy

    # The traits the harness reads most, by name.
    @property
    def model(self) -> str:
        return self.traits.model

    @property
    def language(self) -> str:
        return self.traits.language

    @property
    def safe(self) -> bool:
        return self.traits.safe

    @property
    def stateful(self) -> bool:
        return self.traits.stateful

    @property
    def analogue(self) -> str:
        return self.traits.analogue

    @property
    def safety(self) -> str:
        return self.traits.safety


_REGISTRY: dict[str, Strategy] = {}


def strategy(name: str, *, model: str, rule: str, analogue: str | None = None,
             safe: bool = True, stateful: bool = True,
             parallel: bool | None = None, interpreter_lock: bool | None = None,
             collector: bool | None = None, discipline: str | None = None) -> Callable:
    """Class decorator that registers a store class as a strategy, with its traits
    (traits.py)."""
    if analogue is None:
        raise TraitError(f"strategy {name!r}: analogue= (the Rust construct it corresponds to) "
                         "is missing")
    traits = declare(name, model=model, analogue=analogue, safe=safe, stateful=stateful,
                     parallel=parallel, interpreter_lock=interpreter_lock, collector=collector,
                     discipline=discipline)

    def register(cls):
        if name in _REGISTRY and _REGISTRY[name].module != cls.__module__:
            raise ValueError(f"strategy {name!r} registered twice: "
                             f"{_REGISTRY[name].module} and {cls.__module__}")
        _REGISTRY[name] = Strategy(name, traits, rule, cls, cls.__module__)
        return cls
    return register


_BROKEN: dict[str, str] = {}  # module or directory name -> why it could not be loaded


def discover(package: str = "servers") -> dict[str, Strategy]:
    """Import every plain module of ``package``, read every strategy directory's
    manifest, and return the registry, by name. Builds nothing.

    A module that raises on import, or a directory whose manifest is malformed,
    is set aside (see ``broken()``), so one bad strategy cannot take down the
    listing, the other servers or a whole run.
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
        manifest = foreign.load(folder)
        if manifest.name in _REGISTRY:
            raise foreign.ManifestError(f"strategy {manifest.name!r} registered twice: "
                                        f"{_REGISTRY[manifest.name].module} and {folder}")
    except (foreign.ManifestError, TraitError) as exc:
        _BROKEN[folder.name] = str(exc)
        _BROKEN_FOLDERS.add(folder.name)
        return
    _LOADED.add(str(folder))
    _REGISTRY[manifest.name] = Strategy(manifest.name, manifest.traits, manifest.rule,
                                        None, str(folder), manifest)


def unbuilt(spec: Strategy) -> str:
    """'' if the strategy can be served now; else one line: what is missing, what to run.
    A Python strategy that needs a program of the system (e.g. redis-server) says so
    through its class's ``unavailable()``."""
    if spec.manifest is None:
        unavailable = getattr(spec.factory, "unavailable", None)
        return unavailable() if unavailable is not None else ""
    if foreign.is_built(spec.manifest):
        return ""
    return foreign.how_to_build(spec.manifest)


def build(spec: Strategy) -> None:
    """Build a foreign strategy whose program is missing (its output on stderr); raise
    foreign.ManifestError, one line, if that fails. A Python strategy builds nothing, but
    one missing a program of the system raises ValueError with its ``unbuilt`` line."""
    if spec.manifest is not None:
        foreign.ensure_built(spec.manifest)
    elif unbuilt(spec):
        raise ValueError(unbuilt(spec))


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
