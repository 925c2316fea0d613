"""What a strategy is, declared once by its author: the traits the harness reads.

Nothing in the harness infers these from a strategy's language or name: the
profiles select by them (loadtests/planning/profiles.toml), a cell reads
``parallel`` to know how many cores a saturated server can use, and the report
reads ``interpreter_lock`` and ``collector`` to say what limits a server and
``discipline`` to colour a family of strategies alike.

    model             threads | async | processes
    language          what it is written in ("python", "rust", ...)
    safe              False: races on purpose, never ranked
    stateful          False: touches no shared state, no correctness check
    parallel          its request handling can use more than one core at once
    interpreter_lock  its runtime serialises the execution of code (CPython's GIL)
    collector         a tracing or cyclic garbage collector can pause it
    analogue          the Rust construct it corresponds to
    discipline        the sharing discipline's family, shared by its forms in every
                      model and language (global-lock, global-lock-mp and
                      rust-global-lock are all "global-lock")

Defaults fit the common case: a Python strategy has the GIL and the cyclic
collector and runs in parallel only as processes; a strategy in another
language has neither and runs in parallel. A contradiction (parallel, yet one
process under an interpreter lock) is a one-line error.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass

MODELS = ("threads", "async", "processes")
PYTHON = "python"
NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
# The flags a profile can select on, beside model, language and discipline.
FLAGS = ("safe", "stateful", "parallel", "interpreter_lock", "collector")
# Every trait a profile block may select on (loadtests/planning/profiles.py).
SELECTABLE = ("model", "language", "discipline", *FLAGS)


class TraitError(ValueError):
    """A declaration that cannot be right; the message names the strategy and the trait."""


@dataclass(frozen=True)
class Traits:
    model: str
    language: str
    safe: bool
    stateful: bool
    parallel: bool
    interpreter_lock: bool
    collector: bool
    analogue: str
    discipline: str

    @property
    def safety(self) -> str:
        if not self.stateful:
            return "no-state"
        return "safe" if self.safe else "unsafe"

    def to_dict(self) -> dict:
        """The manifest's `strategies` entry (with the safety role the report ranks by)."""
        return {**asdict(self), "safety": self.safety}


def declare(name: str, *, model: str, analogue: str, language: str = PYTHON, safe: bool = True,
            stateful: bool = True, parallel: bool | None = None,
            interpreter_lock: bool | None = None, collector: bool | None = None,
            discipline: str | None = None) -> Traits:
    """The traits of strategy ``name``: the defaults filled in, then checked."""
    if model not in MODELS:
        raise TraitError(f"strategy {name!r}: model must be one of {', '.join(MODELS)}, "
                         f"got {model!r}")
    python = language == PYTHON
    lock = python if interpreter_lock is None else interpreter_lock
    found = Traits(
        model=model, language=language, safe=safe, stateful=stateful,
        parallel=(model == "processes" or not lock) if parallel is None else parallel,
        interpreter_lock=lock, collector=python if collector is None else collector,
        analogue=analogue, discipline=discipline or name)
    for flag in FLAGS:
        if not isinstance(getattr(found, flag), bool):
            raise TraitError(f"strategy {name!r}: {flag} must be true or false, "
                             f"got {getattr(found, flag)!r}")
    if not NAME.match(found.discipline):
        raise TraitError(f"strategy {name!r}: discipline {found.discipline!r} is not "
                         "lower-case-with-hyphens")
    if found.parallel and found.interpreter_lock and model != "processes":
        raise TraitError(f"strategy {name!r}: parallel = true contradicts interpreter_lock = "
                         f"true in one process (model {model}): its lock serialises the "
                         "handlers; declare model processes, or no interpreter lock")
    return found
