"""Strategies in any language: a directory under servers/ holding a strategy.toml.

The manifest says what the strategy is (the same fields as the ``@strategy``
decorator), how to build it and how to start it. ``sharebench serve`` execs
the command with the contract's flags, so the server process is the binary
itself: its ready line, its signals and its exit status reach the caller
exactly as a Python server's do. A manifest that does not parse, or a build
that fails, sets the directory aside like a Python module that will not import.

    name = "rust-global-lock"
    language = "rust"
    model = "threads"                 # threads | async | processes
    analogue = "Arc<Mutex<State>>"
    rule = "one lock around the whole store"
    interpreter_lock = false          # required: does its runtime serialise code (a GIL)?
    collector = false                 # required: can a tracing collector pause it?
    discipline = "global-lock"        # optional, default: the name
    safe = true                       # optional, default true
    stateful = true                   # optional, default true
    parallel = true                   # optional; traits.py has the defaults
    build = ["make", "-C", "../..", "rust"]            # optional; run in this directory
    serve = ["../../build/rust/release/rust-global-lock"]

``interpreter_lock`` and ``collector`` are required here, unlike in Python (where the
decorator's defaults are CPython's): no default fits every other language (C and Rust
have neither, Go, Java and Node have a collector, Ruby has both).

Relative paths in ``serve`` are relative to the directory. Reading a manifest
builds nothing: a strategy whose program is missing is listed as not built,
and ``ensure_built`` (called by ``serve``, ``verify`` and a run) runs the
build; keeping it current after an edit is the build tool's job (``make
rust``). The server is started as
``serve... --name NAME --port P --host H --keys K --cpu-us U --hold-us U
--io-ms M [--workers N] [--live-objects N --churn S]`` and must speak
CONTRACT.md.
"""
from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .traits import FLAGS, MODELS, NAME, TraitError, Traits, declare

MANIFEST = "strategy.toml"
BUILD_TIMEOUT_S = 1800  # a first build from Debian's crate sources on a slow machine

_RUNTIME = ("interpreter_lock", "collector")  # what only the author can say of a runtime
_REQUIRED = {"name": str, "language": str, "model": str, "analogue": str, "rule": str,
             "serve": list, **dict.fromkeys(_RUNTIME, bool)}
_OPTIONAL = {**{flag: bool for flag in FLAGS if flag not in _RUNTIME}, "discipline": str,
             "build": list}
_WHY = {"interpreter_lock": "say whether its runtime serialises code (true for Ruby's GVL)",
        "collector": "say whether a tracing collector can pause it (true for Go, Java, Node)"}


class ManifestError(ValueError):
    """The directory cannot be a strategy: bad manifest, or its build failed."""


@dataclass(frozen=True)
class Manifest:
    name: str
    traits: Traits
    rule: str
    build: tuple[str, ...]
    serve: tuple[str, ...]   # argv, the program resolved against ``folder``
    folder: Path


def folders(package_dir: Path) -> list[Path]:
    """The strategy directories under ``package_dir``: those holding a manifest."""
    return sorted(p for p in package_dir.iterdir() if (p / MANIFEST).is_file())


def load(folder: Path) -> Manifest:
    """Read and check ``folder``/strategy.toml; raise ManifestError saying what is wrong."""
    path = folder / MANIFEST
    try:
        doc = tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ManifestError(f"{path}: {exc}") from None
    unknown = set(doc) - set(_REQUIRED) - set(_OPTIONAL)
    if unknown:
        raise ManifestError(f"{path}: unknown key(s) {', '.join(sorted(unknown))}; "
                            f"valid: {', '.join([*_REQUIRED, *_OPTIONAL])}")
    for key, kind in [*_REQUIRED.items(), *_OPTIONAL.items()]:
        if key not in doc:
            if key in _REQUIRED:
                why = f": {_WHY[key]}" if key in _WHY else ""
                raise ManifestError(f"{path}: {key!r} is missing{why}")
            continue
        if not isinstance(doc[key], kind):
            raise ManifestError(f"{path}: {key!r} must be a {kind.__name__}, got {doc[key]!r}")
    for key in ("serve", "build"):
        argv = doc.get(key, [])
        if not all(isinstance(arg, str) and arg for arg in argv) or (key == "serve" and not argv):
            raise ManifestError(f"{path}: {key!r} must be a list of non-empty strings")
    if not NAME.match(doc["name"]):
        raise ManifestError(f"{path}: name {doc['name']!r} is not lower-case-with-hyphens")
    if doc["model"] not in MODELS:
        raise ManifestError(f"{path}: model must be one of {MODELS}, got {doc['model']!r}")
    flags: dict[str, Any] = {flag: doc[flag] for flag in FLAGS if flag in doc}
    try:
        traits = declare(doc["name"], model=doc["model"], analogue=doc["analogue"],
                         language=doc["language"], discipline=doc.get("discipline"), **flags)
    except TraitError as exc:
        raise ManifestError(f"{path}: {exc}") from None
    program = doc["serve"][0]
    if "/" in program:  # a path (not a command found on PATH): relative to the directory
        program = str((folder / program).resolve())
    return Manifest(doc["name"], traits, doc["rule"], tuple(doc.get("build", ())),
                    (program, *doc["serve"][1:]), folder)


def is_built(manifest: Manifest) -> bool:
    """Can its program run now? (A command found on PATH is taken as there.)"""
    program = manifest.serve[0]
    return "/" not in program or os.access(program, os.X_OK)


def how_to_build(manifest: Manifest) -> str:
    """One line for a strategy that is not built: what is missing and what to run."""
    where = os.path.relpath(manifest.folder)
    how = (f"`{shlex.join(manifest.build)}` in {where} builds it (so do `sharebench serve`, "
           "`verify` and a run)" if manifest.build
           else f"{where}/{MANIFEST} has no 'build' command")
    return f"{manifest.name} is not built ({os.path.relpath(manifest.serve[0])} is missing): {how}"


def ensure_built(manifest: Manifest) -> None:
    """Build the strategy if its program is missing; raise ManifestError if that fails.

    The build's output goes to stderr: stdout belongs to the caller (`list`, the
    ready line of `serve`).
    """
    program = manifest.serve[0]
    if is_built(manifest):
        return
    if not manifest.build:
        raise ManifestError(f"{program} does not exist and {manifest.folder / MANIFEST} "
                            f"has no 'build' command")
    print(f"sharebench: building {manifest.name}: {' '.join(manifest.build)}",
          file=sys.stderr, flush=True)
    try:
        done = subprocess.run(manifest.build, cwd=manifest.folder, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=BUILD_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ManifestError(f"build {' '.join(manifest.build)!r} could not run: {exc}") from None
    output = done.stdout.decode("utf-8", "replace")
    sys.stderr.write(output)
    if done.returncode != 0:
        last = " | ".join(output.strip().splitlines()[-3:])
        raise ManifestError(f"build {' '.join(manifest.build)!r} failed "
                            f"(exit {done.returncode}): {last}")
    if not os.access(program, os.X_OK):
        raise ManifestError(f"build {' '.join(manifest.build)!r} succeeded but {program} "
                            f"is still missing")


def command(manifest: Manifest, name: str, port: int, host: str, workers: int | None,
            keys: int, cpu_us: float, hold_us: float, io_ms: float,
            live_objects: int = 0, churn: float = 0.0) -> list[str]:
    """The server's argv: the manifest's command and the contract's flags. The live heap's
    flags only when a heap is asked for, so a server that predates them still starts
    without one."""
    argv = [*manifest.serve, "--name", name, "--port", str(port), "--host", host,
            "--keys", str(keys), "--cpu-us", f"{cpu_us:g}", "--hold-us", f"{hold_us:g}",
            "--io-ms", f"{io_ms:g}"]
    if workers is not None:
        argv += ["--workers", str(workers)]
    if live_objects:
        argv += ["--live-objects", str(live_objects), "--churn", f"{churn:g}"]
    return argv


def exec_server(argv: list[str]) -> None:
    """Become the server: the caller's pid, process group and signals are now its own."""
    sys.stdout.flush()
    sys.stderr.flush()
    if "/" in argv[0]:
        os.execv(argv[0], argv)
    os.execvp(argv[0], argv)  # a command found on PATH
