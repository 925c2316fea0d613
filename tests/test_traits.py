"""Declared traits: defaults for the common case, a one-line error for a contradiction, the
old `rust` name still read, and the migration that gives older runs theirs (the one place
that derives a trait from a language)."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from results import schema
from servers.core import foreign
from servers.core.traits import TraitError, declare


@pytest.mark.parametrize("kwargs, expected", [
    (dict(model="threads"), dict(parallel=False, interpreter_lock=True, collector=True)),
    (dict(model="async"), dict(parallel=False, interpreter_lock=True, collector=True)),
    (dict(model="processes"), dict(parallel=True, interpreter_lock=True, collector=True)),
    (dict(model="threads", language="rust"),
     dict(parallel=True, interpreter_lock=False, collector=False)),
    (dict(model="threads", interpreter_lock=False),  # a free-threaded CPython strategy
     dict(parallel=True, interpreter_lock=False, collector=True)),
    (dict(model="threads", language="go", collector=True),
     dict(parallel=True, interpreter_lock=False, collector=True)),
])
def test_defaults_fit_the_common_case(kwargs: dict, expected: dict) -> None:
    traits = declare("x", analogue="-", **kwargs)
    assert {k: getattr(traits, k) for k in expected} == expected
    assert traits.discipline == "x" and traits.safety == "safe"


@pytest.mark.parametrize("kwargs, message", [
    (dict(model="threads", parallel=True), "parallel = true contradicts interpreter_lock"),
    (dict(model="async", parallel=True, language="python"), "in one process (model async)"),
    (dict(model="fibres"), "model must be one of"),
    (dict(model="threads", discipline="Global Lock"), "discipline 'Global Lock'"),
    (dict(model="threads", safe="yes"), "safe must be true or false"),
])
def test_contradictions_are_one_line_errors(kwargs: dict, message: str) -> None:
    with pytest.raises(TraitError, match=re.escape(message)) as raised:
        declare("x", analogue="-", **kwargs)
    assert "\n" not in str(raised.value) and "'x'" in str(raised.value)


def _manifest(tmp_path: Path, text: str) -> foreign.Manifest:
    (tmp_path / "strategy.toml").write_text('name = "x"\nlanguage = "rust"\nmodel = "threads"\n'
                                            'rule = "-"\nserve = ["./x"]\n' + text)
    return foreign.load(tmp_path)


def test_manifest_declares_traits_and_must_say_what_its_runtime_has(tmp_path: Path) -> None:
    made = _manifest(tmp_path, 'analogue = "Arc<Mutex<State>>"\ndiscipline = "global-lock"\n'
                               "collector = true\ninterpreter_lock = false\n")
    assert made.traits.analogue == "Arc<Mutex<State>>" and made.traits.discipline == "global-lock"
    assert made.traits.collector and made.traits.parallel and not made.traits.interpreter_lock
    with pytest.raises(foreign.ManifestError, match="parallel = true contradicts"):
        _manifest(tmp_path, 'analogue = "-"\ninterpreter_lock = true\nparallel = true\n'
                            "collector = false\n")
    for missing, other in (("collector", "interpreter_lock"), ("interpreter_lock", "collector")):
        with pytest.raises(foreign.ManifestError, match=f"'{missing}' is missing: say") as raised:
            _manifest(tmp_path, f'analogue = "-"\n{other} = false\n')
        assert "\n" not in str(raised.value)
    with pytest.raises(foreign.ManifestError, match="unknown key"):  # the old name of analogue
        _manifest(tmp_path, 'rust = "-"\ninterpreter_lock = false\ncollector = false\n')


def test_decorator_contradiction_sets_the_module_aside(repo_copy: Path) -> None:
    (repo_copy / "servers" / "muddled.py").write_text(
        "from servers import strategy\n\n\n"
        "@strategy('muddled', model='threads', analogue='-', rule='-', parallel=True)\n"
        "class Muddled:\n    pass\n")
    env = {**os.environ, "PYTHONPATH": str(repo_copy)}
    listed = subprocess.run([sys.executable, "-m", "sharebench", "list"], cwd=repo_copy, env=env,
                            capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0 and "muddled" not in listed.stdout.split()
    assert "servers/muddled.py failed to import, not listed: TraitError: strategy 'muddled': " \
           "parallel = true contradicts" in listed.stderr, listed.stderr


def test_older_runs_get_their_traits_by_migration() -> None:
    manifest = {"strategies": {
        "global-lock": {"model": "threads", "safety": "safe", "language": "python", "rust": "M"},
        "ownership-mp": {"model": "processes", "safety": "safe", "language": "python"},
        "rust-async": {"model": "async", "safety": "safe", "language": "rust"},
        "stateless": {"model": "threads", "safety": "no-state"},
        "mine": {"model": "threads", "safety": "unsafe"}}}
    found = schema.migrate_manifest(manifest, 2)["strategies"]
    assert found["global-lock"]["analogue"] == "M" and "rust" not in found["global-lock"]
    assert [found[n]["parallel"] for n in ("global-lock", "ownership-mp", "rust-async")] == \
        [False, True, True]
    assert found["rust-async"]["interpreter_lock"] is found["rust-async"]["collector"] is False
    assert found["ownership-mp"]["discipline"] == "ownership"
    assert found["rust-async"]["discipline"] == "event-loop" and found["mine"]["discipline"] == "mine"
    assert found["stateless"]["stateful"] is False and found["mine"]["safe"] is False
    written = {"strategies": {"x": {"model": "threads", "parallel": True}}}
    assert schema.migrate_manifest(written, 3) == {"strategies": {"x": {"model": "threads",
                                                                         "parallel": True}}}
