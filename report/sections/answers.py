"""The first screen: the claims with their verdicts, the number that carries each and how
firm it is; what to use per workload and core count; and only those validity problems
that change a verdict (the rest are under Validity)."""
from __future__ import annotations

from ..aggregate import FLAGS
from ..analysis import Analysis
from ..choices import choices
from ..claims import Claim
from ..doc import Heading, Para, Section, Table, TableCell
from ..findings import correctness_headline
from ..style import num, ratio

# The claims in a few words, for the table; the full statement is under The claims.
SHORT = {"discipline": "The sharing discipline decides multicore use",
         "races": "Data races are the cost of unsynchronised sharing",
         "async": "Async serves thousands of connections cheaply",
         "gc": "GC pauses reach the latency tail",
         "stateless": "Stateless handlers scale more easily"}
LIMITS = {f.name for f in FLAGS if f.name in ("loadgen_bound", "errors", "failed", "busy_machine")}


def answers(an: Analysis, found: list[Claim]) -> Section:
    section = Section("answers", "The claims, answered by this run")
    section.add(*_alerts(an))
    rows: list[list[str | TableCell]] = []
    for claim in found:
        for i, j in enumerate(claim.judgements):
            name = f"[{SHORT.get(claim.id, claim.claim)}](#claim-{claim.id})" if i == 0 else ""
            verdict = f"{j.label}: {j.verdict}" if j.label and len(claim.judgements) > 1 else j.verdict
            rows.append([name, verdict, j.number, TableCell(j.firmness())])
    section.add(Table(["claim", "verdict", "the number that carries it", "how firm (see below)"], rows,
                      caption="Firm, moderate or weak from the repeats and the effect against their "
                              "spread ([how](#strength)); flagged cells left out are counted. "
                              "Each claim's numbers and sources: [The claims](#claims)."))
    section.add(Heading("What to use", id="what-to-use"), *_choices(an))
    return section


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
        rows.append([c.workload, str(c.cores), c.language.capitalize(), TableCell(c.leader, c.marks),
                     num(c.rps), _names(c.ties),
                     f"{ratio(c.margin)} over {c.runner_up}" if c.runner_up else "—"])
    notes = []
    limited = [c for c in found if "L" in c.marks]
    if limited:
        notes.append(Para("The load generator was the limit for " + ", ".join(
            f"{c.leader} ({c.workload}, {c.cores} core{'s' if c.cores != 1 else ''})" for c in limited)
            + ": those leads are floors, not decided.", "warn"))
    engines = sorted({f"{c.workload}: {c.engine}, {c.users} connections" for c in found})
    columns = ["workload", "cores", "language", "fastest safe", "req/s", "no measurable difference",
               "margin over the next"]
    return [Table(columns, rows, numeric={1, 4},
                  caption="Closed loop, each workload at its reference load (" + "; ".join(engines)
                          + "). Only safe strategies compete (never unsafe, racy or the stateless "
                          "ceiling), each language among its own, where it has two or more. No "
                          "measurable difference: repeats overlap (the first two named; "
                          "Rankings has them all). Margin: the leader's req/s over the fastest measurably "
                          "slower one. Marks: [Validity](#validity). Every strategy: "
                          "[Rankings](#rankings).")] + notes
