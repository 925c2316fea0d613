"""The Rust articles' claims in detail, the microbenchmarks and the environment."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from ..analysis import Analysis, flatten
from ..claims import Claim
from ..doc import Bullets, Code, Fold, Heading, Para, Section, Table
from ..style import num, sig


def microbench_section(an: Analysis) -> Section:
    section = Section("microbenchmarks", "8. Microbenchmarks")
    bench = an.run.microbench
    if not bench or not bench.get("benchmarks"):
        return section.add(Para("Not in this run: the run directory has no microbench.json. "
                                "`make microbench` measures each strategy's state core without HTTP "
                                "and writes results/microbench-<stamp>.json.", "note"))
    rows = []
    for b in bench["benchmarks"]:
        stats = b.get("stats") or {}
        per_round = (b.get("extra_info") or {}).get("ops_per_round") or 1
        median = stats.get("median")
        rows.append((b.get("group") or "", (b.get("params") or {}).get("name") or b.get("name", "?"),
                     median, stats.get("iqr"), stats.get("rounds"), per_round))
    rows.sort(key=lambda r: (r[0], r[2] if r[2] is not None else float("inf")))
    table = [[group, name, sig(median * 1e6 if median is not None else None),
              sig(iqr * 1e6 if iqr is not None else None),
              sig(median * 1e9 / per_round if median else None),
              num(per_round / median if median else None), num(rounds)]
             for group, name, median, iqr, rounds, per_round in rows]
    when = bench.get("datetime", "unknown time")
    return section.add(Table(["group", "strategy", "median µs per round", "IQR µs", "ns per operation",
                              "operations/s", "rounds"], table,
                             caption=f"pytest-benchmark figures of each strategy's state core, no HTTP "
                                     f"(taken {when}); fastest first within each group.",
                             numeric={2, 3, 4, 5, 6}))


def claims_section(an: Analysis, found: list[Claim]) -> Section:
    section = Section("claims", "1. The claims")
    section.add(Para("What the Rust articles in ../shared/seeds claim, answered from this run's numbers "
                     "in Python. A claim this run cannot answer, or cannot judge fairly, says so. Each "
                     "verdict is written from its result: the comparison that carries it, the effect "
                     "with its interval over the repeats, the conditions of a fair fight checked and "
                     "the cells left out; [how firm](#strength) follows from one rule."))
    for c in found:
        section.add(Heading(c.claim, id=f"claim-{c.id}"),
                    Para(f"Verdict: {c.verdict} ({c.strength}). {c.answer}", "lead"))
        if c.figure:
            section.add(Para(f"Drawn in [{c.figure}](#{c.figure.removesuffix('.png')}).", "note"))
        checked = [f"{r.scope or c.id}: {k.name}: {'passed' if k.passed else 'failed'}"
                   + (f" ({k.detail})" if k.detail else "") for r in c.results for k in r.conditions]
        detail = [Bullets([r.text() for r in c.results] + checked),
                  Para(f"Source: {c.source}.", "note")]
        if c.evidence:
            detail.append(Bullets(c.evidence))
        section.add(Fold(f"How it was judged, and every number behind it ({len(c.evidence)} lines)",
                         detail))
    return section


def _text(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return "—" if value is None or value == "" else str(value)


def _duration(manifest: dict) -> str:
    try:
        start = datetime.fromisoformat(str(manifest["started"]).replace("Z", "+00:00"))
        end = datetime.fromisoformat(str(manifest["ended"]).replace("Z", "+00:00"))
    except (KeyError, ValueError, TypeError):
        return "—"
    return f"{(end - start).total_seconds() / 60:.1f} min"


def environment_section(an: Analysis) -> Section:
    section = Section("environment", "9. Environment")
    m = an.run.manifest
    if not m:
        return section.add(Para("No readable manifest.json: the environment of this run is unknown, "
                                "and so is the command that reproduces it.", "alert"))
    meta = [["run id", an.run.run_id], ["profile", _text(m.get("profile"))],
            ["overrides", _text(m.get("overrides"))], ["status", _text(m.get("status"))
                                                       + (f" ({m['interrupted_by']})" if m.get("interrupted_by") else "")],
            ["started", _text(m.get("started"))], ["ended", _text(m.get("ended"))],
            ["wall time", _duration(m)]]
    meta += [[key.replace("_", " "), _text(m[key])]
             for key in ("description", "target", "loadgen_workers") if key in m]
    meta += [[f"timing: {k}", _text(v)] for k, v in (m.get("timing") or {}).items()]
    meta += [[f"placement: {k}", _text(v)] for k, v in flatten(m.get("placement") or {}).items()]
    section.add(Table(["run", "value"], meta, caption="From manifest.json."))
    workloads = m.get("workloads") or {}
    if isinstance(workloads, dict) and workloads:
        rows = []
        for name, spec in sorted(workloads.items()):
            spec = spec if isinstance(spec, dict) else {"description": spec}
            rest = {k: v for k, v in spec.items() if k != "description"}
            rows.append([name, _text(spec.get("description")), _text(rest)])
        section.add(Heading("Workloads"), Table(["workload", "description", "client mix and server knobs"], rows))
    env = flatten(m.get("environment") or {})
    if env:
        section.add(Heading("Machine and software"),
                    Table(["key", "value"], [[k, _text(v)] for k, v in env.items()]))
    section.add(Heading("Reproduce"))
    if m.get("command"):
        section.add(Para("The exact command that ran this measurement:"), Code(str(m["command"])))
    else:
        section.add(Para("The manifest records no command: this run cannot be reproduced exactly.", "alert"))
    section.add(Para("Rebuild this report from the stored records alone:"),
                Code(f"make report RUN=results/{an.run.run_id}"))
    return section
