"""Sections 5–6: correctness (lost updates) and validity (flags, failures, gaps)."""
from __future__ import annotations

import json

import pandas as pd

from results.schema import NOISY_CV

from ..aggregate import FLAGS, flagged, marks
from ..analysis import Analysis, correctness
from ..claims import Claim
from ..claims.stats import RULE
from ..doc import Bullets, Fold, Heading, Para, Section, Table, TableCell
from ..findings import correctness_headline, validity_headline
from ..style import num, percent, sig, spread
from .common import cores_label, legend


def _correctness_cell(row) -> TableCell:
    if row.safety == "no-state":
        return TableCell("not applicable: no shared state")
    if row.checked == 0:
        return TableCell("not checked: no finished cell")
    if row.held == row.checked and row.lost == 0:
        return TableCell("held")
    if row.safety == "unsafe":
        return TableCell("FAILED, as designed", "")
    return TableCell("FAILED: a safe strategy lost updates")


def correctness_section(an: Analysis, found: list[Claim]) -> Section:
    section = Section("correctness", "6. Correctness")
    kind, headline = correctness_headline(an)
    section.add(Para(headline, kind))
    table = correctness(an)
    # Failures first (a broken safe strategy above the unsafe one), then by name.
    rank = {"safe": 0, "unsafe": 1, "no-state": 2}
    table = table.assign(_bad=(table["lost"] > 0) | (table["held"] < table["checked"]),
                         _rank=table["safety"].map(rank))
    table = table.sort_values(["_bad", "_rank", "strategy"], ascending=[False, True, True])
    rows = [[r.strategy, r.safety, r.model, str(r.checked), f"{r.held} of {r.checked}",
             num(r.lost), num(r.acked), num(r.uncertain), percent(r.lost_share, 2), _correctness_cell(r)]
            for r in table.itertuples()]
    section.add(Table(["strategy", "safety", "model", "cells checked", "invariant held", "lost updates",
                       "acknowledged increments", "unanswered increments", "lost share", "verdict"], rows,
                      caption="Invariant: the server's sum equals the increments it applied, and every "
                              "increment the clients saw acknowledged arrived (unanswered ones may or "
                              "may not have). Lost updates are in units of the increments' `by`.",
                      numeric={3, 5, 6, 7, 8}))
    lost = an.groups[an.groups["lost_updates"] > 0]
    if not lost.empty:
        rows = [[r.strategy, r.workload, str(int(r.cores)), str(r.users), num(r.lost_updates),
                 num(r.acked_incr), percent(r.lost_updates / r.acked_incr if r.acked_incr else None, 2)]
                for r in lost.sort_values(["strategy", "workload", "cores", "users"]).itertuples()]
        section.add(Heading("Where updates were lost"),
                    Table(["strategy", "workload", "cores", "users", "lost", "acknowledged", "share"],
                          rows, caption="Summed over repeats.", numeric={2, 3, 4, 5, 6}))
    races = next((c for c in found if c.id == "races"), None)
    if races is not None:
        section.add(Fold("What CPython's GIL does to the race (the races claim's answer)",
                         [Para(races.answer)]))
    return section


def _placement(an: Analysis) -> str:
    placement = an.run.manifest.get("placement") or {}
    if not placement:
        return "The manifest records no CPU placement: whether server and load generator competed is unknown."
    servers = placement.get("server_cpus") or {}
    parts = [f"{cores} → CPUs {cpus}" for cores, cpus in servers.items()] if isinstance(servers, dict) else [str(servers)]
    text = (f"Server CPUs by core count: {'; '.join(parts) or 'not recorded'}. Load generator: CPUs "
            f"{placement.get('loadgen_cpus', 'not recorded')}.")
    overlap = placement.get("shared", placement.get("overlap"))
    if isinstance(overlap, dict):
        shared = [str(k) for k, v in overlap.items() if v]
        text += (f" They overlap at {', '.join(shared)} core(s), so those cells share a CPU with the "
                 "load generator (S)." if shared else " They never overlap.")
    elif overlap is not None:
        text += f" Overlap: {overlap}."
    topo = placement.get("topology")
    if isinstance(topo, dict):
        if topo.get("fallback"):
            text += (f" The CPU topology could not be read ({topo.get('source')}): CPUs were "
                     "placed by number, so a server's cores may be SMT siblings.")
        else:
            text += (f" Machine: {topo.get('physical_cores')} physical cores, "
                     f"{topo.get('threads_per_core')} thread(s) each, {topo.get('nodes')} NUMA "
                     f"node(s); each server core is a distinct physical core up to "
                     f"{placement.get('server_share')}, none shared with the load generator's.")
    return text


def _consequence(an: Analysis, mark: str, rows: pd.DataFrame) -> str:
    if rows.empty:
        return "none in this run"
    where = ", ".join(f"{r.strategy}/{r.workload} {cores_label(r.cores)}" for r in rows.head(6).itertuples())
    more = f" and {len(rows) - 6} more" if len(rows) > 6 else ""
    consequence = {
        "L": "their req/s is a floor and their tail latency includes the generator's queueing; "
             "compare them by req per CPU-s, and a ranking they decide is not decided",
        "S": "server and generator competed for a CPU, which depresses throughput there and "
             "understates speedup to those core counts",
        "N": "a difference between strategies smaller than the min–max range is not a difference",
        "E": "req/s counts only successful requests; the failures are listed below",
        "F": "the group's numbers come from its remaining repeats, or it has none",
        "B": "something else competed for the CPUs: throughput may be low and tails long for "
             "reasons outside the strategy",
    }[mark]
    return f"{where}{more}: {consequence}"


def validity_section(an: Analysis) -> Section:
    section = Section("validity", "7. Validity")
    section.add(Para(validity_headline(an), "note"), Para(_placement(an)))
    g = an.groups
    flag_rows = []
    for flag in FLAGS:
        hit = g[g.apply(lambda r, mark=flag.mark: mark in marks(r), axis=1)] if len(g) else g
        flag_rows.append([flag.mark, flag.name, str(len(hit)), flag.meaning, _consequence(an, flag.mark, hit)])
    section.add(Table(["mark", "flag", "cells", "what it means", "which cells, and what it means for "
                       "the conclusions"], flag_rows, caption="Every mark that appears in a table "
                       "(and every hollow marker in a plot) is one of these.", numeric={2}))
    bad = g[g.apply(flagged, axis=1)] if len(g) else g
    if not bad.empty:
        severity = "FELBNS"  # the rarest, most consequential flags first; shared_cpu is systematic
        bad = bad.assign(_sev=bad.apply(lambda r: min(severity.index(m) for m in marks(r)), axis=1))
        rows = [[r["workload"], r["strategy"], str(int(r["cores"])), str(r["users"]), marks(r),
                 spread(r["rps"], r["rps_min"], r["rps_max"]), sig(r["server_cpu"]), sig(r["loadgen_cpu"]),
                 percent(r["cv"], 1), num(r["errors"]), r["reasons"]]
                for _, r in bad.sort_values(["_sev", "workload", "strategy", "cores", "users"]).iterrows()]
        section.add(Heading("Flagged cells"),
                    Table(["workload", "strategy", "cores", "users", "marks", "req/s", "server CPU",
                           "load-gen CPU", "CV of req/s", "errors", "failure"], rows,
                          caption="CPU in cores busy; CV of req/s over the ok repeats (N: "
                                  f"above {NOISY_CV:.0%}).",
                          numeric={2, 3, 5, 6, 7, 8, 9}))
    section.add(*_headroom(an), *_knobs(an), *_contract(an), *_failures(an), *_gaps(an), _repeats(an),
                Heading("How firm a verdict is", id="strength"), Para(RULE, "lead"), legend())
    return section


def _headroom(an: Analysis) -> list:
    """calibration.csv: the engines cross-checked on `cpu`, and Locust's headroom elsewhere."""
    table = an.run.calibration
    if table is None or table.empty or "headroom" not in table:
        return [Para("No calibration.csv in this run: the engines were not cross-checked "
                     "(`make calibrate` drives each server with wrk and with Locust, pinned alike).",
                     "note")]
    rows = [[str(r.get("strategy", "")), str(r.get("workload", "")), num(r.get("users")),
             num(r.get("wrk_rps")), num(r.get("locust_rps")),
             f"{r['headroom']:.2f}×" if pd.notna(r.get("headroom")) else "—",
             _agreement(r.get("agree")), str(r["note"]) if pd.notna(r.get("note")) else ""]
            for _, r in table.sort_values(["workload", "strategy"]).iterrows()]
    out: list = [Heading("The engines check each other (calibration)")]
    checked = table[table["agree"].notna()] if "agree" in table else table.iloc[0:0]
    if len(checked):
        agree = checked["agree"].astype(str).str.lower() == "true"
        out.append(Para(f"On `cpu`, where the server and not an engine is the limit, wrk and Locust "
                        f"agree within 10% for {int(agree.sum())} of {len(checked)} strategies"
                        + ("." if agree.all() else f"; they disagree for "
                           f"{', '.join(checked.loc[~agree, 'strategy'].astype(str))}."),
                        "ok" if agree.all() else "warn"))
    worst = table["headroom"].max()
    out += [Para(f"Elsewhere wrk/Locust is Locust's headroom: ≈1.0 when Locust measured the server, "
                 f"above 1 when Locust was the limit. The largest here is {worst:.2f}×."),
            Table(["strategy", "workload", "users", "wrk req/s", "Locust req/s", "wrk / Locust",
                   "agree (cpu)", "note"], rows, caption="From calibration.csv.", numeric={2, 3, 4, 5})]
    return out


def _agreement(value: object) -> str:
    text = str(value).lower()
    return {"true": "yes", "false": "NO"}.get(text, "—")


def _knobs(an: Analysis) -> list:
    """manifest knob_check: what --cpu-us really cost the server, per execution model."""
    checks = an.run.manifest.get("knob_check")
    if not isinstance(checks, list) or not checks:
        return [Para("The work knobs were not checked in this run (no knob_check in its manifest): "
                     "whether --cpu-us costs what it says is not known here.", "note")]
    rows, worst = [], 0.0
    for c in checks:
        error = c.get("error")
        if isinstance(error, (int, float)):
            worst = max(worst, abs(error))
        rows.append([str(c.get("strategy", "")), f"{c.get('asked_us', 0):g}",
                     sig(c.get("measured_us")), sig(c.get("base_us")),
                     f"{error:+.1%}" if isinstance(error, (int, float)) else str(c.get("failed", "—"))])
    kind = "ok" if worst <= 0.05 else "warn"
    return [Heading("Do the work knobs cost what they say?"),
            Para(f"Each reference strategy was started with --cpu-us 0 and with --cpu-us N, pinned "
                 f"alike, and sent the same paced reads, alternating; the difference of server CPU per "
                 f"request is what the knob cost. Largest error: {worst:.1%} (the promise: within 5%).",
                 kind),
            Table(["strategy", "--cpu-us", "measured µs", "rest of the request µs", "error"], rows,
                  caption="Server CPU from each thread's schedstat (ns), at a low fixed rate.",
                  numeric={1, 2, 3, 4})]


def _contract(an: Analysis) -> list:
    """The pre-flight contract checks recorded in the manifest, when there are any."""
    contract = an.run.manifest.get("contract")
    if not isinstance(contract, dict) or not contract:
        return []
    failed = {name: found for name, found in contract.items() if found}
    if not failed:
        return [Para(f"Contract checks before measuring: all {len(contract)} strategies passed.", "ok")]
    return [Heading("Contract failures"),
            Para(f"{len(failed)} of {len(contract)} strategies failed the contract checks and were "
                 "not measured (their cells are recorded as failed):", "alert"),
            Bullets([f"{name}: {'; '.join(map(str, found))}" for name, found in sorted(failed.items())])]


def _failures(an: Analysis) -> list:
    cells = an.run.cells
    failed = cells[cells["status"] != "ok"] if len(cells) else cells
    errors = cells[(cells["status"] == "ok") & (cells["errors"].fillna(0) > 0)] if len(cells) else cells
    blocks: list = []
    if not failed.empty:
        rows = []
        for r in failed.sort_values("cell_id").itertuples():
            record = an.run.records.get(r.cell_id)
            tail = (record.server_stderr_tail or "" if record else "").strip().splitlines()
            rows.append([r.cell_id, r.reason or "no reason recorded", tail[-1] if tail else ""])
        blocks += [Heading("Failed cells"),
                   Table(["cell", "reason", "last line of server stderr"], rows,
                         caption="A failed cell has no numbers; its group shows F.")]
    if not errors.empty:
        rows = [[r.cell_id, num(r.errors), num(r.requests),
                 json.dumps(_errors_by_kind(an, r.cell_id))]
                for r in errors.sort_values("cell_id").itertuples()]
        blocks += [Heading("Cells with failed requests"),
                   Table(["cell", "errors", "requests", "errors by kind"], rows, numeric={1, 2})]
    return blocks


def _gaps(an: Analysis) -> list:
    blocks: list = []
    missing = an.run.missing
    if len(missing):
        status = an.run.manifest.get("status", "unknown")
        blocks += [Heading("Missing cells"),
                   Para(f"{len(missing)} planned cell(s) have no readable record (run status: {status}). "
                        "They are left out of every table and plot above; a group shows the repeats "
                        "that remain.", "alert"),
                   Bullets(list(missing["cell_id"]))]
    if an.run.problems:
        blocks += [Heading("Problems reading the run"), Bullets(list(dict.fromkeys(an.run.problems)))]
    if not len(missing) and not an.run.problems:
        blocks.append(Para("Every planned cell has a readable record.", "ok"))
    return blocks


def _repeats(an: Analysis) -> Para:
    g = an.groups
    if g.empty:
        return Para("No repeats to summarise.")
    counts = g.groupby("workload")["repeats"].agg(["min", "max"])
    parts = [f"{w}: {c['min']}" + (f"–{c['max']}" if c["max"] != c["min"] else "") + " repeat(s) per cell"
             for w, c in counts.iterrows()]
    single = (g["ok"] < 2).sum()
    text = ("Repeats — " + "; ".join(parts) + ". Every figure is the median over ok repeats with "
            "its min–max beside it.")
    if single:
        text += (f" {single} cell(s) have fewer than two ok repeats: no spread, and they cannot be "
                 "judged noisy.")
    return Para(text)


def _errors_by_kind(an: Analysis, cell_id: str) -> dict[str, int]:
    record = an.run.records.get(cell_id)
    return (record.errors_by_kind or {}) if record else {}
