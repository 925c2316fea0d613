"""Strategy registration: one decorated class in one module under servers/.

Modelled on molotov's scenarios: the decorator records the class, discovery
imports every module in the servers package, and nothing else needs editing.
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from typing import Callable

MODELS = ("threads", "async", "processes")


@dataclass(frozen=True)
class Strategy:
    name: str
    model: str           # threads | async | processes
    rust: str            # the Rust analogue the articles talk about
    rule: str            # the one rule of its discipline
    safe: bool           # False: races on purpose; never ranked
    stateful: bool       # False: touches no shared state; no correctness check
    factory: Callable    # (keys, work) -> store; for "processes": (keys, work, workers) -> Plan
    module: str

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


_BROKEN: dict[str, str] = {}  # module name -> why it could not be imported


def discover(package: str = "servers") -> dict[str, Strategy]:
    """Import every plain module of ``package`` and return the registry, by name.

    A module that raises on import is set aside (see ``broken()``), so one bad
    strategy cannot take down the listing, the other servers or a whole run.
    """
    pkg = importlib.import_module(package)
    for info in pkgutil.iter_modules(pkg.__path__):
        if info.ispkg or info.name.startswith("_") or info.name in _BROKEN:
            continue
        try:
            importlib.import_module(f"{package}.{info.name}")
        except Exception as exc:  # anything a module author's code may raise
            _BROKEN[info.name] = f"{type(exc).__name__}: {exc}"
    return dict(sorted(_REGISTRY.items()))


def broken() -> dict[str, str]:
    """Strategy modules that failed to import: module name -> the error."""
    discover()
    return dict(_BROKEN)


def get(name: str) -> Strategy:
    found = discover()
    if name in found:
        return found[name]
    module = name.replace("-", "_")
    if module in _BROKEN:
        raise KeyError(f"strategy module servers/{module}.py failed to import: {_BROKEN[module]}")
    raise KeyError(f"unknown strategy {name!r}; valid: {', '.join(found)}")
