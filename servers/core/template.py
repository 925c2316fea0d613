"""``sharebench new NAME``: write a working starting point for a new strategy.

One template per execution model (``--model threads|async|processes``), each a
complete strategy that passes ``sharebench verify`` as written (a lock, or one
event loop, around the store), and ``--language rust``: a binary in the cargo
package of servers/rust (its source, its ``[[bin]]`` entry) and the strategy's
directory with its strategy.toml; ``--language c``: a directory servers/NAME/ holding a
whole server in one C file (templates/c/), its Makefile and its strategy.toml. Its
author then replaces the discipline.
"""
from __future__ import annotations

import keyword
from pathlib import Path

from .traits import MODELS, NAME

C_TEMPLATE = Path(__file__).with_name("templates") / "c"

_HEADER = '''"""{name} — TODO: one line on the sharing discipline.

Rust analogue: TODO (e.g. `Arc<RwLock<State>>`).
Rule: TODO, the one rule every request follows. Until you change it, this is
{what}.
"""
'''

THREADS = _HEADER + '''import threading

from servers import strategy
from servers.core.state import LockedState, PlainState
from servers.core.work import Work


# Traits (servers/core/traits.py) default to what a CPython threads strategy is: the GIL,
# the cyclic collector, not parallel. Say discipline="..." if it is a form of one that exists.
@strategy("{name}", model="threads", analogue="TODO", rule="TODO: one line")
class {cls}(LockedState):
    """Built once as cls(keys, work); its methods are called from connection threads.

    LockedState holds one lock around every operation of a PlainState (the counters,
    with hold-us between read and write). Your discipline decides who may call the
    state, and when: replace the lock, or override the operations below.
    """

    def __init__(self, keys: int, work: Work) -> None:
        super().__init__(PlainState(keys, work.hold), threading.Lock())

    # Inherited, each holding the lock for its whole visit: get(key) -> int,
    # incr(key, by) -> int, transfer(src, dst, amount) -> (int, int), and totals() ->
    # Totals, which /stats serves and must be a consistent snapshot.
'''

ASYNC = _HEADER + '''from servers import strategy
from servers.core.state import LoopState, PlainState
from servers.core.work import Work


@strategy("{name}", model="async", analogue="TODO", rule="TODO: one line")
class {cls}(LoopState):
    """Built once as cls(keys, work); its methods are awaited on one aiohttp event loop.

    LoopState touches the PlainState with no await between a read and its write, so
    it needs no lock; an await there would let another task in (a lost update).
    Inherited, each ``async def``: get, incr, transfer, and totals (/stats, a
    consistent snapshot). Override them to change the discipline.
    """

    def __init__(self, keys: int, work: Work) -> None:
        super().__init__(PlainState(keys, work.hold))
'''

PROCESSES = _HEADER + '''import multiprocessing

from servers import strategy
from servers.core.processes import Helper, shared_state
from servers.core.state import LockedState
from servers.core.work import Work


# The processes protocol (servers/core/processes.py, `Layout`): the leader builds this
# class once, before any fork, as cls(keys, work, workers); forks helpers() and then
# `workers` worker processes (SO_REUSEPORT on one port), and in worker i calls attach(i)
# for the store that worker serves with. Traits default to parallel, with a GIL per process.
@strategy("{name}", model="processes", analogue="TODO", rule="TODO: one line")
class {cls}:
    http = "threads"   # each worker's HTTP layer: "threads" (a thread per connection) or "async"
    respawn = False    # True only if a worker holds no state: then a dead one is replaced
    why = "it may have died holding the lock"  # respawn False: what a worker's death loses

    def __init__(self, keys: int, work: Work, workers: int) -> None:
        # Made before the fork, so every worker inherits them: anonymous shared memory
        # (values, applied, sent) and a lock every process shares.
        self._state = shared_state(keys, work.hold)
        self._lock = multiprocessing.get_context("fork").Lock()

    def helpers(self) -> list[Helper]:
        """Processes besides the workers (an owner of the store, say): Helper(name, run, why),
        run(ready) binds what it serves, calls ready(), serves until killed; its death is fatal."""
        return []

    def attach(self, index: int) -> LockedState:
        """In worker ``index`` (0..workers-1), after the fork: the store it serves with.
        LockedState holds the lock around get, incr, transfer and totals, plain methods
        as http = "threads" calls them; http = "async" awaits ``async def`` ones."""
        return LockedState(self._state, self._lock)
'''

RUST = '''//! {name} — TODO: one line on the sharing discipline.
//!
//! Rule: TODO, the one rule every request follows. Until you change it, this is
//! rust-global-lock's: one Mutex around the whole store.
//!
//! The library (servers/rust/src/lib.rs) speaks the contract once: `state` has the
//! counters (`Slot`), their read–hold–write steps (`state::incr`, `state::transfer`)
//! and the `Store` trait a discipline implements; `threaded::main` serves it with a
//! thread per connection. Build: `make rust`; then `sharebench verify {name}`.
use std::sync::Mutex;

use sharebench::state::{{self, lock, pair, Slot, Store, Totals}};
use sharebench::work::Work;
use sharebench::{{cli, threaded}};

struct {cls} {{
    slots: Mutex<Vec<Slot>>,
    work: Work,
}}

impl Store for {cls} {{
    fn get(&self, key: usize) -> i64 {{
        lock(&self.slots)[key].value
    }}

    fn incr(&self, key: usize, by: i64) -> i64 {{
        state::incr(&mut lock(&self.slots)[key], by, &self.work)
    }}

    fn transfer(&self, src: usize, dst: usize, amount: i64) -> (i64, i64) {{
        let mut slots = lock(&self.slots);
        let (a, b) = pair(&mut slots, src, dst);
        state::transfer(a, b, amount, &self.work)
    }}

    // /stats: must be a consistent snapshot.
    fn totals(&self) -> Totals {{
        let mut totals = Totals::default();
        lock(&self.slots).iter().for_each(|slot| totals.add(slot));
        totals
    }}
}}

fn main() {{
    threaded::main(cli::parse("{name}"), |keys, work| {cls} {{
        slots: Mutex::new(vec![Slot::default(); keys]),
        work,
    }})
}}
'''

MANIFEST = '''# {name}: a Rust strategy (source: servers/rust/src/bin/{module}.rs).
name = "{name}"
language = "rust"
model = "threads"
analogue = "TODO"
rule = "TODO: one line"
# What its runtime has, said by its author: Rust has neither an interpreter lock nor a
# tracing collector. (parallel defaults to true for such a server.)
interpreter_lock = false
collector = false
# discipline = "global-lock"   # the family it is a form of (default: its name)
build = ["make", "--no-print-directory", "-C", "../..", "rust"]
serve = ["../../build/rust/release/{name}"]
'''

WHAT = {"threads": "a copy of global-lock: one lock around the whole store",
        "async": "a copy of async: one event loop, state touched only between awaits",
        "processes": "a copy of global-lock-mp: worker processes, the store in shared memory "
                     "behind one cross-process lock"}
TEMPLATES = {"threads": THREADS, "async": ASYNC, "processes": PROCESSES}


def module_name(name: str) -> str:
    return name.replace("-", "_")


def _class_name(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("-"))


def _check(name: str) -> None:
    if not NAME.match(name) or keyword.iskeyword(module_name(name)):
        raise ValueError(f"bad strategy name {name!r}: use lower-case words joined by '-', "
                         "e.g. rw-lock")


def create(name: str, folder: Path, model: str = "threads") -> Path:
    """Write ``folder/<name>.py`` for ``model``; refuse bad names and existing files."""
    _check(name)
    if model not in MODELS:
        raise ValueError(f"--model must be one of {', '.join(MODELS)}, got {model!r}")
    path = folder / f"{module_name(name)}.py"
    if path.exists():
        raise FileExistsError(f"{path} already exists")
    path.write_text(TEMPLATES[model].format(name=name, cls=_class_name(name), what=WHAT[model]))
    return path


def create_rust(name: str, servers: Path) -> list[Path]:
    """A binary in servers/rust (its source and its [[bin]] entry in Cargo.toml) and the
    strategy directory servers/<name>/ with its strategy.toml; the paths written."""
    _check(name)
    module = module_name(name)
    source = servers / "rust" / "src" / "bin" / f"{module}.rs"
    folder = servers / name
    cargo = servers / "rust" / "Cargo.toml"
    entry = f'\n[[bin]]\nname = "{name}"\npath = "src/bin/{module}.rs"\n'
    for path in (source, folder):
        if path.exists():
            raise FileExistsError(f"{path} already exists")
    text = cargo.read_text()
    if f'name = "{name}"' in text:
        raise FileExistsError(f"{cargo} already has a binary {name!r}")
    # [[bin]] entries go before [dependencies], where the others are.
    head, found, tail = text.partition("\n[dependencies]")
    if not found:
        raise ValueError(f"{cargo} has no [dependencies] table to put the [[bin]] entry before")
    source.write_text(RUST.format(name=name, cls=_class_name(name)))
    folder.mkdir()
    (folder / "strategy.toml").write_text(MANIFEST.format(name=name, module=module))
    cargo.write_text(head.rstrip("\n") + "\n" + entry + found + tail)
    return [source, cargo, folder / "strategy.toml"]


def create_c(name: str, servers: Path) -> list[Path]:
    """The strategy directory servers/<name>/: a threads server in C (one global mutex),
    its Makefile (the build step: the program goes to build/c/<name>) and its
    strategy.toml; the paths written."""
    _check(name)
    folder = servers / name
    if folder.exists():
        raise FileExistsError(f"{folder} already exists")
    folder.mkdir()
    written = []
    for template in sorted(C_TEMPLATE.iterdir()):
        path = folder / template.name
        path.write_text(template.read_text().replace("@NAME@", name))
        written.append(path)
    return written
