"""The first screen: the claims with their verdicts, the effect that carries each with its
interval, and how firm it is; what to use per workload and core count; and only those validity problems
that change a verdict (the rest are under Validity)."""
from __future__ import annotations

from ..analysis import Analysis
from ..choices import choices
from ..claims import Claim, ClaimResult
from ..doc import Heading, Para, Section, Table, TableCell
from ..findings import correctness_headline
from ..style import num, ratio

# The claims in a few words, for the table; the full statement is under The claims.
SHORT = {"discipline": "The sharing discipline decides multicore use",
         "races": "Data races are the cost of unsynchronised sharing",
         "async": "Async serves thousands of connections cheaply",
         "gc": "GC pauses reach the latency tail",
         "stateless": "Stateless handlers scale more easily"}


def answers(an: Analysis, found: list[Claim]) -> Section:
    section = Section("answers", "The claims, answered by this run")
    section.add(*_alerts(an))
    rows: list[list[str | TableCell]] = []
    for claim in found:
        for i, (verdict, result) in enumerate(first_screen_rows(claim)):
            name = f"[{SHORT.get(claim.id, claim.claim)}](#claim-{claim.id})" if i == 0 else ""
            rows.append([name, verdict, result.effect_text() if result else "—",
                         TableCell(f"{result.strength} ({result.short_basis()})" if result
                                   else "not judged")])
    section.add(Table(["claim", "verdict", "effect [interval]", "how firm (see below)"], rows,
                      caption="Effect: the ratio (or the share lost) that carries the verdict, with "
                              "its interval over the repeats; firm, moderate or weak by one rule "
                              "([how](#strength)); flagged cells are left out and counted. A "
                              "claim's scopes not judged share a row. Each claim's numbers, "
                              "conditions and sources: [The claims](#claims)."))
    section.add(Heading("What to use", id="what-to-use"), *_choices(an))
    return section


def first_screen_rows(claim: Claim) -> list[tuple[str, ClaimResult | None]]:
    """(verdict, result) per row: each judged scope, then its scopes not judged in one row
    (their reasons are under The claims); a claim judged nowhere keeps its one reason."""
    judged = [r for r in claim.results if r.measured]
    rest = [r for r in claim.results if not r.measured]
    many = len(claim.results) > 1
    rows: list[tuple[str, ClaimResult | None]] = [
        (f"{r.scope}: {r.verdict}" if many and r.scope else r.verdict, r) for r in judged]
    if len(rest) == 1:
        r = rest[0]
        rows.append((f"{r.scope}: {r.verdict}" if many and r.scope else r.verdict, r))
    elif rest:
        rows.append(("not judged: " + ", ".join(r.scope for r in rest), None))
    return rows


def _alerts(an: Analysis) -> list:
    """Only what changes a verdict or a choice: a strategy that lost updates or races under
    preemption (never ranked), and a run that did not finish."""
    out = []
    kind, headline = correctness_headline(an)
    if kind == "alert":
        out.append(Para(headline, "alert"))
    status = an.run.manifest.get("status")
    if status not in (None, "complete"):
        by = an.run.manifest.get("interrupted_by")
        out.append(Para(f"The run is {status}" + (f" (interrupted by {by})" if by else "")
                        + ": every verdict rests on the cells that finished.", "alert"))
    return out


SHOWN_TIES = 2  # names in a row of the first screen; Rankings lists every one


def _names(ties: list[str]) -> str:
    """The strategies with no measurable difference from the leader, the first few by name."""
    if len(ties) <= SHOWN_TIES:
        return ", ".join(ties) or "none"
    return f"{', '.join(ties[:SHOWN_TIES])} and {len(ties) - SHOWN_TIES} more"


def _choices(an: Analysis) -> list:
    found = choices(an)
    if not found:
        return [Para("No workload has a safe strategy measured: nothing to choose from.", "note")]
    rows: list[list[str | TableCell]] = []
    for c in found:
        leader = c.leader if c.decided else f"tie: {c.leader}"
        margin = "—"
        if c.runner_up:
            span = f" [{c.interval[0]:.2f}–{c.interval[1]:.2f}]" if c.interval else ""
            margin = f"{ratio(c.margin)}{span} over {c.runner_up}"
        rows.append([c.workload, str(c.cores), c.language.capitalize(), TableCell(leader, c.marks),
                     ("≥ " if c.bound else "") + num(c.rps), str(c.repeats), _names(c.ties), margin])
    notes = []
    limited = [c for c in found if c.bound]
    if limited:
        notes.append(Para("The load generator was the limit for " + ", ".join(
            f"{c.leader} ({c.workload}, {c.cores} core{'s' if c.cores != 1 else ''})" for c in limited)
            + ": those figures are lower bounds (≥), never ranked below one they may exceed.", "warn"))
    excluded = sorted({s for c in found for s in c.excluded})
    if excluded:
        notes.append(Para("Never recommended, having lost an update in this run: "
                          + ", ".join(excluded) + ".", "warn"))
    engines = sorted({f"{c.workload}: {c.engine}, {c.users} connections" for c in found})
    columns = ["workload", "cores", "language", "fastest safe", "req/s", "repeats", "not told apart",
               "margin over the next"]
    return [Table(columns, rows, numeric={1, 4, 5},
                  caption="Closed loop, each workload at its reference load (" + "; ".join(engines)
                          + "). Only safe strategies compete (never unsafe, racy or the stateless "
                          "ceiling, never one that lost an update), each language among its own, where "
                          "it has two or more. A leader is named only when the rule puts it ahead of "
                          "every other; otherwise \"tie\" (not told apart: the first two named; "
                          "Rankings has them all). Margin: the leader over the fastest one the rule "
                          "puts below, with its interval. Marks: [Validity](#validity). Every strategy: "
                          "[Rankings](#rankings).")] + notes
