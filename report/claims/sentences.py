"""The claims' sentences, written from their results (never the other way round): what was
found, the effect with its interval and strength, the conditions that failed and the cells
left out."""
from __future__ import annotations

import math

from ..analysis import Analysis, env_value
from . import asyncs, discipline
from .result import ClaimResult, Outcome


def _interval(r: ClaimResult) -> str:
    return f"{r.effect_text()}, {r.strength}" if r.effect is not None else r.strength


def _left(r: ClaimResult) -> str:
    if not r.left_out:
        return ""
    shown = "; ".join(f"{x.what} ({x.why})" for x in r.left_out[:6])
    more = f" and {len(r.left_out) - 6} more" if len(r.left_out) > 6 else ""
    return f" Left out: {shown}{more}."


def _failed(r: ClaimResult) -> str:
    failed = [c for c in r.conditions if not c.passed]
    if not failed:
        return ""
    head = (" Condition not met: " if r.outcome is Outcome.NOT_JUDGED
            else " Conditions not met, their cells left out: ")
    return head + "; ".join(f"{c.name} ({c.detail})" for c in failed) + "."


def generic(r: ClaimResult) -> str:
    """'CPython: supported: the discipline decides — <compared>: 1.40× [1.2–1.6], firm.'"""
    head = f"{r.scope}: " if r.scope else ""
    if r.outcome is Outcome.NOT_JUDGED:
        return f"{head}not judged: {r.finding}.{_failed(r)}{_left(r)}"
    return (f"{head}{r.verdict} — {r.compared}: {r.number} ({_interval(r)})."
            + _failed(r) + _left(r))


def discipline_answer(results: list[ClaimResult]) -> tuple[str, list[str]]:
    parts, evidence = [], []
    for r in results:
        text = generic(r)
        if r.scope == "CPython" and r.outcome is Outcome.CONTRADICTED:
            text += (" In CPython the GIL, and so the choice of threads or processes, decides "
                     "how a server uses more cores.")
        elif r.scope == "CPython" and r.outcome is Outcome.NO_DIFFERENCE:
            text += " No discipline or execution model measured gained differently from more cores."
        parts.append(text)
        evidence += discipline.evidence(r)
    return " ".join(parts), evidence


def races_answer(an: Analysis, results: list[ClaimResult]) -> tuple[str, list[str]]:
    parts = []
    for r in results:
        text = generic(r)
        if r.outcome is Outcome.SUPPORTED and r.scope == "CPython":
            text += (" In Python the race is a runtime bug the harness has to catch.")
        if r.scope == "Rust":
            text += (" Safe Rust rules out data races (undefined behaviour), not race conditions: "
                     "a read, a hold and a write back without compare-and-swap loses updates "
                     "with no data race, as rust-racy's rule states.")
        if r.detail.get("racy"):
            text += (f" Declared safe yet racing under preemption: {', '.join(r.detail['racy'])}"
                     " — never ranked.")
        rules = _rules(an, r.detail.get("unsafe") or [])
        if rules:
            text += f" The unsafe strategies state their rule: {rules}."
        if r.detail.get("safe_lost"):
            text += f" Safe strategies lost {r.detail['safe_lost']:,.0f} updates too."
        parts.append(text)
    value = env_value(an.run.manifest, "switch_interval", "switchinterval", "getswitchinterval")
    interval = f"{float(value) * 1000:g} ms in this run" if value is not None else "5 ms by default"
    parts.append("CPython's GIL makes single bytecodes atomic, not a read-modify-write: a thread "
                 "that releases the GIL inside its critical section (any I/O, a log line) lets "
                 "another interleave; with a pure-CPU critical section CPython switches threads "
                 f"only every switch interval ({interval}), so the GIL would hide the race, not "
                 "remove it.")
    evidence = [f"{r.scope}: {r.compared}: {r.number}" for r in results if r.measured]
    return " ".join(parts), evidence


def _rules(an: Analysis, names: list[str]) -> str:
    """The strategies' own rule, as the manifest recorded it (servers' @strategy rule)."""
    declared = an.run.manifest.get("strategies")
    if not isinstance(declared, dict):
        return ""
    return "; ".join(f"{n}: “{(declared.get(n) or {}).get('rule')}”" for n in names
                     if (declared.get(n) or {}).get("rule"))


def async_answer(r: ClaimResult) -> tuple[str, list[str]]:
    lines: list[asyncs.Line] = r.detail.get("lines") or []
    evidence = [f"{x.label} at {x.users:,} connections: {x.rps:,.0f} of {x.offered:,.0f} req/s, "
                f"{x.rss_mb:.1f} MiB ({x.kib_per_connection:.1f} KiB per connection), "
                f"{x.threads:,.0f} threads ({x.threads_per_connection:.2f} per connection)"
                + (" — held" if x.held else f" — did not hold: {x.why}")
                + (" [capped by --workers]" if x.capped else "") for x in lines]
    text = generic(r)
    if lines:
        counts = sorted({x.users for x in lines})
        per = []
        for users in counts:
            here = [x for x in lines if x.users == users]
            per.append(f"at {users:,}: " + ", ".join(
                f"{x.label} {'held' if x.held else 'did not'} ({x.kib_per_connection:.1f} KiB, "
                f"{x.threads_per_connection:.2f} threads per connection"
                + (", capped" if x.capped else "") + ")" for x in here))
        text += " Each model, per connection count: " + "; ".join(per) + "."
        first = r.detail.get("first_failed") or {}
        failed = [f"{name} from {users:,}" for name, users in first.items() if users]
        held = [name for name, users in first.items() if not users]
        text += (" First failed: " + (", ".join(failed) or "none")
                 + (f"; held at every count measured: {', '.join(held)}" if held else "") + ".")
        if max(counts) < asyncs.THOUSANDS:
            at = r.detail.get("decisive") or max(counts)
            text += f" The article speaks of thousands of connections; this was judged at {at:,}."
    return text + " See the connection sweep under Latency.", evidence


def stateless_answer(results: list[ClaimResult]) -> tuple[str, list[str]]:
    evidence = [f"{r.scope}: {c.what}: {c.estimate.effect:.2f}×"
                + (f" [{c.estimate.low:.2f}–{c.estimate.high:.2f}]" if c.estimate.interval
                   else " (one repeat)") + f", {c.estimate.decision.value}"
                for r in results for c in r.comparisons if not math.isnan(c.estimate.effect)]
    return (" ".join(generic(r) for r in results)
            + " Each ceiling is set against strategies of its own execution model only."), evidence
