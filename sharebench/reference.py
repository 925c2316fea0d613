"""docs/reference.md, rendered from the code: the strategies and their traits, the
profiles, the workloads and every command's help with its exit statuses. ``sharebench
docs`` writes it; a test renders it again and fails when the file differs, so no count,
default or name in it can drift from what a run uses."""
from __future__ import annotations

import argparse
import functools

from . import describe

PATH = describe.REPO / "docs" / "reference.md"
WIDTH = 100  # the help text's width: fixed, so the file does not depend on the terminal


def render(parser: argparse.ArgumentParser) -> str:
    parts = ["# Reference", "",
             "Generated from the code by `sharebench docs`; do not edit by hand (a test fails "
             "when this file and the code disagree).", "",
             *_strategies(), *_profiles(), *_workloads(), *_commands(parser)]
    return "\n".join(parts).rstrip("\n") + "\n"


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    def line(cells: tuple[str, ...]) -> str:
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"
    return [line(header), "|" + "---|" * len(header), *map(line, rows), ""]


def _strategies() -> list[str]:
    rows = describe.strategies()
    return ["## Strategies", "",
            f"{len(rows)} registered. Each declares its traits (servers/core/traits.py); "
            "profiles select by them.", "",
            *_table(("name", "model", "language", "safety", "parallel", "interpreter lock",
                     "collector", "discipline", "analogue", "source"),
                    [(r.name, r.model, r.language, r.safety, describe.yes(r.parallel),
                      describe.yes(r.interpreter_lock), describe.yes(r.collector),
                      r.discipline, f"`{r.analogue}`", r.source) for r in rows])]


def _profiles() -> list[str]:
    rows = describe.profiles()
    return ["## Profiles", "",
            f"{len(rows)} in loadtests/planning/profiles.toml; `sharebench run --profile NAME`.",
            "",
            *_table(("name", "blocks", "budget", "warm-up", "window", "description"),
                    [(r.name, str(r.blocks), r.budget or "none", r.warmup, r.duration,
                      r.description) for r in rows])]


def _workloads() -> list[str]:
    rows = describe.workloads()
    return ["## Workloads", "",
            f"{len(rows)} in loadtests/planning/workloads.py: each names the client's mix and "
            "the server's knobs.", "",
            *_table(("name", "mix", "keys", "users", "server knobs", "description"),
                    [(r.name, describe.mix_text(r.mix), r.distribution, str(r.users),
                      describe.knobs_text(r.server), r.description) for r in rows])]


def _commands(parser: argparse.ArgumentParser) -> list[str]:
    fixed = functools.partial(argparse.RawDescriptionHelpFormatter, width=WIDTH)
    parser.formatter_class = fixed
    lines = ["## Commands", "", "```", parser.format_help().rstrip(), "```", ""]
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, sub in subparsers.choices.items():
        sub.formatter_class = fixed
        lines += [f"### sharebench {name}", "", "```", sub.format_help().rstrip(), "```", ""]
    return lines
