"""The rankings per workload, each language among its own, and one generated finding per
strategy (folded: the first screen's "what to use" is their summary); where a strategy
shared through Redis, what that cost against the in-process ones (sections/store_cost.py)."""
from __future__ import annotations

from ..analysis import PYTHON, Analysis, scaling
from ..doc import Bullets, Fold, Heading, Para, Section, Table
from ..findings import common_flags, ranking, spread_text, strategy_finding, tied_with
from ..store_cost import costs
from ..style import ms, num, ratio, spread
from .common import cores_label, legend, loadgen_caption, marked
from .store_cost import store_blocks


def rankings(an: Analysis) -> Section:
    section = Section("rankings", "2. Rankings")
    if an.run.manifest.get("status") not in (None, "complete"):
        section.add(Para(f"The run is {an.run.manifest.get('status')}: every number below comes "
                         "from the cells that finished.", "note"))
    if an.groups.empty:
        return section.add(Para("No cell finished in this run: there is nothing to rank.", "alert"))
    through_store = costs(an)
    for workload in an.workloads:
        users = an.ref_users[workload]
        engine = an.ref_engine.get(workload, "locust")
        unit = "connections" if engine == "wrk" else "users"
        section.add(Heading(f"{workload} workload, {users} {unit}, measured by {engine}"))
        shown: set[str] = set()
        for language in an.languages():
            shown |= _group(an, section, workload, language)
        section.add(*store_blocks(through_store, workload))
        planned = an.run.planned
        if len(planned):  # only what was planned for this workload can be missing from it
            expected = set(planned.loc[(planned["workload"] == workload)
                                       & (planned["users"] == users), "strategy"])
        else:
            expected = set(an.order)
        unmeasured = [s for s in an.order if s in expected
                      and s not in shown]
        if unmeasured:
            section.add(Para(f"No result at {users} users for: {', '.join(unmeasured)} "
                             "(see Validity for failed and missing cells).", "alert"))
    return section.add(legend())


def _row(an: Analysis, workload: str, rank: str, row) -> list:
    sc = scaling(an, workload, row["strategy"])
    return [rank, row["strategy"], an.model[row["strategy"]], cores_label(row["cores"]),
            marked(spread(row["rps"], row["rps_min"], row["rps_max"]), row),
            ms(row["p99_us"]), ratio(sc["speedup"]) if sc else "—", num(row["rps_per_cpu_s"])]


def _group(an: Analysis, section: Section, workload: str, language: str) -> set[str]:
    """One language's table and findings: Python's strategies ranked among themselves,
    another language's as a labelled reference group ranked only within itself."""
    users = an.ref_users[workload]
    ranked, reference = ranking(an, workload, language)
    if not ranked and not reference:
        return set()
    title = an.group_title(language)
    intro = []
    if language != PYTHON:
        unlocked = not any(an.locked(row["strategy"]) for row in ranked + reference)
        intro.append(Para(f"{title}: ranked only among themselves, never against the Python "
                          "strategies" + ("; without an interpreter lock the discipline, not the "
                                          "runtime, sets the limit" if unlocked else "") + ".", "note"))
    ties = tied_with(ranked)
    spread = spread_text(an, workload, language)
    head = "Python" if language == PYTHON else title
    lead = (f"{ranked[0]['strategy']} leads" + (f", with no measurable difference from {', '.join(ties)} "
                                                "(their repeats overlap)" if ties else "")
            if ranked else "no safe strategy ranked")
    section.add(Para(f"{head}: {lead}." + (f" Server-bound throughput of the safe strategies: {spread}."
                                          if spread else "")))
    rows = [_row(an, workload, str(rank), row) for rank, row in enumerate(ranked, 1)]
    for row in reference:
        role = ("ceiling" if an.safety[row["strategy"]] == "no-state"
                else "races under preemption, not ranked" if row["strategy"] in an.racy
                else "unsafe, not ranked")
        rows.append(_row(an, workload, role, row))
    names = [r["strategy"] for r in ranked + reference]
    what = "Safe strategies" if language == PYTHON else f"{title}: safe strategies"
    table = Table(["rank", "strategy", "model", "best at", "req/s", "p99 ms", "speedup", "req per CPU-s"],
                  rows, caption=f"{what} by throughput at their best core count ({users} users). "
                  + loadgen_caption(an.at_ref(workload)[an.at_ref(workload)["strategy"].isin(names)]),
                  numeric={4, 5, 6, 7})
    common = common_flags(an, workload)
    said = ""
    if common:
        said = ("Every " + "; every ".join(f"{int(c)}-core cell is flagged {', '.join(sorted(flags))}"
                                           for c, flags in sorted(common.items()))
                + ": see Validity; not repeated on each line.")
    # The first screen's "what to use" is the summary of these: the tables are its detail.
    section.add(Fold(f"{head}: the ranking of {len(names)} strategies, with one finding each",
                     intro + [table] + ([Para(said, "note")] if said else [])
                     + [Bullets([strategy_finding(an, workload, name, common) for name in names])]))
    return set(names)
