"""The command line as users script it: --version, JSON output, the listings, exit statuses
written under every command's --help, one spelling for strategies and runs (the old ones
still read), the plan refusing a knob a strategy cannot take, and docs/reference.md
rendered from the code."""
from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

import pytest

from loadtests.planning import profiles
from loadtests.planning.workloads import WORKLOADS
from report import RunWarning
from servers import discover
from sharebench import __version__, reference
from sharebench.cli import EXITS, build_parser, main

from .report_run import write_run


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_version_names_the_package_and_the_commit(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    out = capsys.readouterr().out
    assert done.value.code == 0 and out.startswith(f"sharebench {__version__}")
    if (Path(__file__).resolve().parent.parent / ".git").exists():
        assert "(commit " in out, out


def test_list_json_is_one_object_per_strategy_with_its_traits(capsys) -> None:
    assert main(["list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    found = discover()
    assert [row["name"] for row in listed] == list(found)
    for row in listed:
        traits = found[row["name"]].traits
        assert (row["model"], row["parallel"], row["interpreter_lock"], row["collector"],
                row["discipline"], row["safety"]) == (traits.model, traits.parallel,
                                                     traits.interpreter_lock, traits.collector,
                                                     traits.discipline, traits.safety)


def test_profiles_and_workloads_are_listed_from_the_code(capsys) -> None:
    assert main(["profiles", "--json"]) == 0
    assert [p["name"] for p in json.loads(capsys.readouterr().out)] == \
        list(profiles.load_profiles())
    assert main(["list", "--workloads", "--json"]) == 0
    assert [w["name"] for w in json.loads(capsys.readouterr().out)] == list(WORKLOADS)
    assert main(["workloads"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in WORKLOADS)


def test_dry_run_json_is_the_plan(capsys, tmp_path: Path) -> None:
    assert main(["run", "--profile", "quick", "--dry-run", "--json",
                 "--results", str(tmp_path)]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["profile"] == "quick" and plan["strategies"] == ["global-lock", "unsafe"]
    assert len(plan["cells"]) == 2 and len({c["id"] for c in plan["cells"]}) == 2
    assert plan["estimate_s"] > 0 and not any(tmp_path.iterdir())  # nothing written
    assert main(["run", "--json", "--results", str(tmp_path)]) == 2  # only with --dry-run


def test_plan_refuses_a_worker_count_an_event_loop_cannot_take(tmp_path: Path, capsys) -> None:
    """A block's workers = 20000 over an async strategy: refused in one line, naming the
    strategies and the server's own reason, before anything starts."""
    toml = tmp_path / "p.toml"
    toml.write_text('[p]\ndescription = "x"\n[[p.blocks]]\n'
                    'strategies = ["global-lock", "async", "async-raw"]\n'
                    'workloads = ["io"]\ncores = [1]\nworkers = 20000\n')
    results = tmp_path / "results"
    assert main(["run", "--profile", "p", "--profile-file", str(toml),
                 "--results", str(results)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "async, async-raw" in err and "one event loop" in err and "global-lock," not in err
    assert not results.exists()
    toml.write_text(toml.read_text().replace('"async", "async-raw"', '"ownership"'))
    assert main(["run", "--profile", "p", "--profile-file", str(toml), "--dry-run",
                 "--results", str(results)]) == 0  # threads take a raised connection cap


def test_every_command_documents_its_exit_statuses() -> None:
    commands = _subparsers(build_parser())
    assert set(commands) == set(EXITS)
    for name, sub in commands.items():
        text = sub.format_help()
        assert "exit status:" in text, name
        assert all(f"{code:>3}  " in text for code in EXITS[name]), name
        assert 0 in EXITS[name], name


def test_old_spellings_still_read_but_are_hidden() -> None:
    parser = build_parser()
    assert parser.parse_args(["verify", "a", "b"]).names == ["a", "b"]
    assert parser.parse_args(["verify", "--strategies", "a,b"]).strategies == "a,b"
    assert parser.parse_args(["run", "--resume", "results/x"]).run == "results/x"
    assert parser.parse_args(["report", "results/x"]).run_positional == "results/x"
    assert parser.parse_args(["report", "--run", "results/x"]).run == "results/x"
    commands = _subparsers(parser)
    assert "--resume" not in commands["run"].format_help()
    assert "names" not in commands["verify"].format_help()
    assert "--loops-per-us" not in commands["serve"].format_help()


def test_verify_refuses_an_unknown_strategy_either_way(capsys) -> None:
    assert main(["verify", "--strategies", "no-such"]) == 2
    assert main(["verify", "no-such"]) == 2
    assert capsys.readouterr().err.count("unknown strategy 'no-such'") == 2


def test_compare_json(tmp_path: Path, capsys) -> None:
    a = write_run(tmp_path, "20250101-120000-default", repeats=5, damaged=False, seed=1)
    b = write_run(tmp_path, "20250102-120000-default", repeats=5, damaged=False, seed=2,
                  rps_scale={"global-lock.cpu.c1": 0.80})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RunWarning)
        status = main(["compare", "--json", str(a), str(b)])
    document = json.loads(capsys.readouterr().out)
    assert status == 1 and document["regressions"] >= 1
    assert document["a"] == a.name and document["b"] == b.name
    worse = [r for r in document["rows"] if r["verdict"] == "REGRESSION"]
    assert any(r["strategy"] == "global-lock" and r["cores"] == 1 for r in worse), worse


def test_reference_matches_the_code() -> None:
    """docs/reference.md is rendered from the code; `sharebench docs` rewrites it."""
    assert reference.PATH.read_text() == reference.render(build_parser()), \
        "docs/reference.md is out of date: run `sharebench docs`"


@pytest.mark.parametrize("agree, status", [(True, 0), (False, 1), (None, 0)])
def test_calibrate_exits_1_when_the_engines_disagree(monkeypatch, tmp_path: Path, capsys,
                                                     agree, status: int) -> None:
    """The measuring is the cross-check's (test_sweep.py measures it for real); here, the
    exit status the command derives from its rows."""
    from loadtests.running import crosscheck
    rows = [{"strategy": "stateless", "workload": "cpu", "agree": agree}]
    monkeypatch.setattr(crosscheck, "crosscheck", lambda *args, **kwargs: rows)
    assert main(["calibrate", "--strategies", "stateless", "--results", str(tmp_path)]) == status
    assert ("disagree" in capsys.readouterr().err) == (status == 1)
