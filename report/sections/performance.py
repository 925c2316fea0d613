"""Sections 2–4: multicore scaling (with USL), latency, efficiency and memory."""
from __future__ import annotations

import math
from functools import partial

import pandas as pd

from .. import interpreters, plots
from ..aggregate import flagged, merged_histogram, percentiles
from ..analysis import Analysis, logical_cores, scaling
from ..doc import Heading, Para, Section, Table, TableCell
from ..style import MOST_SERIES, ms, num, percent, ratio, sig, spread
from ..usl import MIN_POINTS, USLFit
from .common import KEY, cores_label, figure, loadgen_caption, marked, slug
from .gc import gc_blocks
from .openloop import open_loop_blocks

LATENCY_POINTS = (50.0, 90.0, 99.0, 99.9)


def _usl_blocks(an: Analysis, workload: str) -> list:
    fits = {s: an.fits[(workload, s)] for s in an.order if (workload, s) in an.fits}
    if fits and not any(f.ok for f in fits.values()):
        counts = sorted(int(c) for c in an.at_ref(workload)["cores"].dropna().unique())
        machine = logical_cores(an.run.manifest)
        shown = ", ".join(map(str, counts))
        plural = "s" if len(counts) != 1 else ""
        # "On this machine" only when the machine, not the plan, is what limited the core counts.
        where = (f"on this machine: it has {machine} logical cores, so the run measured "
                 f"{len(counts)} core count{plural} ({shown})"
                 if machine is not None and machine < MIN_POINTS and len(counts) >= machine else
                 f"for this run: it measured {len(counts)} core count{plural} ({shown})")
        return [Para(f"Universal Scalability Law fit not possible {where}. The law has three "
                     f"parameters (λ, σ contention, κ coherency) and needs throughput at "
                     f"{MIN_POINTS} or more core counts; through 3 points a curve fits exactly and "
                     "says nothing of its own error, so a fitted N* would be meaningless and none "
                     "is printed.", "note")]
    rows : list[list[str | TableCell]] = []
    measured = an.at_ref(workload)["cores"].max()
    for strategy, fit in fits.items():
        if fit.ok:
            rows.append([strategy, _with_ci(fit.sigma, fit.sigma_ci, 3),
                         _with_ci(fit.kappa, fit.kappa_ci, 4), _peak(fit, measured),
                         f"{fit.r2:.3f}", f"{fit.rms_pct:.1f}%", str(fit.points), num(fit.lam)])
        else:
            rows.append([strategy, TableCell(f"not possible: {fit.reason}"), "", "", "", "", str(fit.points), ""])
    level = next((f.level for f in fits.values() if f.ok), 0.9)
    return [Table(["strategy", "σ contention", "κ coherency", "peak N* (cores)", "R²", "RMS error",
                   "core counts", "λ req/s per core"], rows,
                  caption=f"USL fit per strategy (scipy curve_fit, bounds σ∈[0,1], κ≥0, over every ok "
                          f"repeat; needs {MIN_POINTS}+ core counts). Brackets: {level:.0%} bootstrap "
                          "confidence intervals from the repeats (report/usl.py says how). "
                          "N* = √((1−σ)/κ) is the core count where throughput is predicted "
                          "to peak, given only when κ's interval excludes 0. Fit quality: R² near 1 "
                          "means the law explains the variation, but "
                          "a flat line has little variation to explain, so R² is low there; the RMS "
                          "error (as % of mean throughput) says how far the points lie from the curve.",
                  numeric={3, 4, 5, 6, 7})]


def _with_ci(value: float, ci: tuple[float, float], places: int) -> str:
    if not math.isfinite(ci[0]):
        return f"{value:.{places}f} (no interval)"
    return f"{value:.{places}f} [{ci[0]:.{places}f}, {ci[1]:.{places}f}]"


def _peak(fit: USLFit, measured: float) -> str:
    if not fit.has_ci:
        return f"not given: {fit.ci_method.removeprefix('no intervals: ')}"
    if math.isinf(fit.peak_n):
        return "none: κ's interval includes 0"
    low, high = fit.peak_ci
    beyond = f" (extrapolated beyond {int(measured)})" if fit.peak_n > measured else ""
    return f"{sig(fit.peak_n)} [{sig(low)}, {sig(high)}]{beyond}"


def scaling_section(an: Analysis) -> Section:
    section = Section("scaling", "3. Multicore scaling")
    section.add(Para("Throughput against the number of CPUs the server was pinned to, at each "
                     "workload's reference user count. Speedup is throughput over throughput at the "
                     "fewest cores; parallel efficiency is speedup over the ratio of cores (100% = "
                     "linear)."))
    if an.series and not (an.groups.empty and an.run.open_cells.empty):  # a figure will need it
        section.add(figure(partial(plots.key, an.series), KEY, "Key to the strategies",
                           "Every figure draws a strategy this way: colour = its sharing discipline "
                           "(as the run's manifest declares it; a strategy with none declared is its "
                           "own), marker = its execution model, line = its language. Panels split by "
                           "language and model where one would hold more than "
                           f"{MOST_SERIES} strategies."))
    for workload in an.workloads:
        users = an.ref_users[workload]
        rows = an.at_ref(workload)
        section.add(Heading(f"{workload} workload, {users} users"))
        fits = {s: an.fits[(workload, s)] for s in an.order if (workload, s) in an.fits}
        cores = sorted(int(c) for c in rows["cores"].dropna().unique())
        if len(cores) > 1:
            draw = partial(plots.scaling, workload, users, rows, an.series_of(rows["strategy"]), fits)
            section.add(figure(draw, f"fig-scaling-{slug(workload)}.png",
                               f"{workload}: throughput and speedup vs cores",
                               "Lines: median over repeats; bars: min–max; thin curves: USL fit where "
                               "possible, shaded: its bootstrap confidence band. " + loadgen_caption(rows)))
        else:
            section.add(Para(f"Measured at {cores_label(cores[0]) if cores else 'no'} core count only: "
                             "no scaling to plot for this workload.", "note"))
        table : list[list[str | TableCell]] = []
        for strategy in an.order:
            mine = rows[rows["strategy"] == strategy]
            if mine.empty:
                continue
            line: list[str | TableCell] = [strategy, an.model[strategy]]
            for c in cores:
                at = mine[mine["cores"] == c]
                if at.empty:
                    line.append(TableCell("missing"))
                elif pd.isna(at.iloc[0]["rps"]):
                    line.append(marked("failed", at.iloc[0]))
                else:
                    r = at.iloc[0]
                    line.append(marked(spread(r["rps"], r["rps_min"], r["rps_max"]), r))
            sc = scaling(an, workload, strategy)
            line += [ratio(sc["speedup"]) if sc else "—", percent(sc["efficiency"]) if sc else "—"]
            table.append(line)
        section.add(Table(["strategy", "model"] + [f"req/s at {cores_label(c)}" for c in cores]
                          + ["speedup", "efficiency"], table,
                          caption=f"Throughput by core count, {users} users; strategies in ranking order "
                                  "(safe, then the stateless ceiling, then unsafe).",
                          numeric=set(range(2, 4 + len(cores)))))
        section.add(*_usl_blocks(an, workload))
    section.add(*_interpreter_blocks(an))
    return section


def _interpreter_blocks(an: Analysis) -> list:
    """The interpreter axis, when the run has one: every other Python against the first."""
    names = interpreters.labels(an.run)
    if not names:
        return []
    table = interpreters.compare_pythons(an.run)
    pythons = an.run.manifest.get("pythons") or {}
    builds = "; ".join(f"{n}: {pythons.get(n, {}).get('version', '?')}"
                       + (" free-threaded" if pythons.get(n, {}).get("gil_disabled") else "")
                       for n in names)
    rows = [[r["workload"], r["strategy"], str(r["cores"]), str(r["users"]), num(r["reference_rps"]),
             num(r["other_rps"]), ratio(r["ratio"]), r["repeats"], r["other_gil"], r["verdict"]]
            for _, r in table.iterrows()]
    return [Heading("Interpreters"),
            Para(f"This run measured every cell under {len(names)} interpreters ({builds}). "
                 f"Every other section shows Python {names[0]}; this table compares the others "
                 "with it, cell by cell (exact Mann–Whitney over the repeats; where they overlap, "
                 "no measurable difference)."),
            Table(["workload", "strategy", "cores", "users", f"req/s {names[0]}", "req/s other",
                   "ratio", "repeats", "GIL enabled (other)", "verdict"], rows,
                  caption="Medians over ok repeats; ratio = other / reference.",
                  numeric={4, 5, 6})]


def _latency_rows(an: Analysis, workload: str) -> tuple[dict, list]:
    rows = an.at_ref(workload)
    panels: dict[int, list] = {}
    table : list[list[str | TableCell]] = []
    for strategy in an.order:
        for _, r in rows[rows["strategy"] == strategy].sort_values("cores").iterrows():
            histogram = merged_histogram(an.run, r["cell_ids"])
            series = an.series_of([strategy])[0]
            if histogram is not None:
                panels.setdefault(int(r["cores"]), []).append((series, histogram, flagged(r)))
                values = percentiles(histogram, list(LATENCY_POINTS))
                source, count = "merged histogram", num(histogram.get_total_count())
                top = histogram.get_max_value()
            elif pd.notna(r["p99_us"]):
                values = [r["p50_us"], r["p90_us"], r["p99_us"], r["p999_us"]]
                source, count, top = "cells.csv medians (no histogram)", "—", r["max_us"]
            else:
                table.append([strategy, str(int(r["cores"])), marked("failed", r), "", "", "", "", "", ""])
                continue
            table.append([strategy, str(int(r["cores"]))] + [marked(ms(v), r) for v in values]
                         + [ms(top), count, source])
    table.sort(key=lambda line: (int(str(line[1])), _sortable(line[4])))
    return panels, table


def _sortable(cell) -> float:
    text = cell.text if isinstance(cell, TableCell) else str(cell)
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return math.inf


def latency_section(an: Analysis) -> Section:
    section = Section("latency", "4. Latency")
    section.add(*open_loop_blocks(an))
    section.add(*gc_blocks(an))
    section.add(Para("Closed-loop latency at saturation, from the merged HDR histograms of each "
                     "cell's repeats: each user sends its next request when the last is answered, "
                     "so the server is always busy and latency is mostly the users' own queue "
                     "(Little's law: users / throughput). It also hides stalls (coordinated "
                     "omission). It includes the load generator's own delays: where the load "
                     "generator was the limit (L) the tail is partly the generator's queue."))
    for workload in an.workloads:
        users = an.ref_users[workload]
        section.add(Heading(f"{workload} workload, {users} users: closed loop at saturation"))
        panels, table = _latency_rows(an, workload)
        shown = an.at_ref(workload)
        if panels:
            strategies = {s.strategy for p in panels.values() for s, _, _ in p}
            draw = partial(plots.latency, workload, users, panels, an.series_of(strategies))
            section.add(figure(draw, f"fig-latency-{slug(workload)}.png",
                               f"{workload}: latency percentiles",
                               "Percentile curves p50…p99.9 on a 'nines' axis; markers at p50, p90, p99, "
                               "p99.9. " + loadgen_caption(shown)))
        else:
            section.add(Para("No latency histogram in this workload's records: no percentile curve.", "alert"))
        section.add(Table(["strategy", "cores", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms",
                           "requests", "source"], table,
                          caption=f"Latency percentiles at {users} users, sorted by cores then p99.",
                          numeric={1, 2, 3, 4, 5, 6, 7}))
        every = an.groups[an.groups["workload"] == workload]
        if every["users"].nunique() > 1:
            section.add(*_by_users(an, workload, every))
    return section


def _by_users(an: Analysis, workload: str, every: pd.DataFrame) -> list:
    users = sorted(int(u) for u in every["users"].dropna().unique())
    top = users[-1]
    rows = []
    for (cores, strategy), mine in every.groupby(["cores", "strategy"]):
        at = {int(r["users"]): r for _, r in mine.iterrows()}
        line: list = [strategy, str(int(cores))]
        for u in users:
            r = at.get(u)
            line.append(TableCell("missing") if r is None else
                        marked(num(r["rps"]) if pd.notna(r["rps"]) else "failed", r))
        for u in users:
            r = at.get(u)
            line.append("—" if r is None else ms(r["p99_us"]))
        line.append("—" if top not in at else num(at[top]["rss_mb"], 1))
        rps_top = at[top]["rps"] if top in at and pd.notna(at[top]["rps"]) else -1
        rows.append((int(cores), -rps_top, line))
    rows.sort(key=lambda t: (t[0], t[1]))
    columns = (["strategy", "cores"] + [f"req/s at {u} users" for u in users]
               + [f"p99 ms at {u} users" for u in users] + [f"RSS MiB at {top} users"])
    return [Heading(f"{workload} workload: latency vs concurrent users"),
            figure(partial(plots.by_users, workload, every, an.series_of(every["strategy"])),
                   f"fig-users-{slug(workload)}.png", f"{workload}: by concurrent users",
                   "Throughput, p99 latency and server memory as the number of concurrent users "
                   "grows, one column per core count. " + loadgen_caption(every)),
            Table(columns, [line for _, _, line in rows],
                  caption=f"By core count, fastest at {top} users first.",
                  numeric=set(range(1, len(columns))))]


def efficiency_section(an: Analysis) -> Section:
    section = Section("efficiency", "5. Efficiency and memory")
    section.add(Para("Requests per server CPU-second divide the work done by the CPU the server "
                     "actually used, so they stay comparable when the load generator, not the server, "
                     "was the limit (where req/s only gives a floor). Memory is the peak resident set of "
                     "the server's whole process tree."))
    for workload in an.workloads:
        users = an.ref_users[workload]
        rows = an.at_ref(workload)
        section.add(Heading(f"{workload} workload, {users} users"))
        draw = partial(plots.efficiency, workload, users, rows, an.series_of(rows["strategy"]))
        section.add(figure(draw, f"fig-efficiency-{slug(workload)}.png",
                           f"{workload}: efficiency and memory",
                           "Bars: medians; a hollow bar is a flagged cell. " + loadgen_caption(rows)))
        table = []
        for _, r in rows.sort_values(["cores", "rps_per_cpu_s"], ascending=[True, False]).iterrows():
            table.append([r["strategy"], str(int(r["cores"])),
                          marked(spread(r["rps_per_cpu_s"], r["rps_per_cpu_s_min"], r["rps_per_cpu_s_max"]), r),
                          sig(r["server_cpu"]), num(r["rss_mb"], 1), sig(r["loadgen_cpu"]), _limit(r)])
        section.add(Table(["strategy", "cores", "req per server CPU-s", "server CPU (cores busy)",
                           "RSS MiB", "load-gen CPU (cores busy)", "what limited it"], table,
                          caption=f"{users} users, by core count, most efficient first.",
                          numeric={1, 2, 3, 4, 5}))
    return section


def _limit(r: pd.Series) -> str:
    if pd.isna(r["rps"]):
        return "failed"
    if r["loadgen_bound"]:
        return "load generator"
    # 80%: the CPU figure is sampled over the window and includes idle gaps between requests.
    if pd.notna(r["server_cpu"]) and r["server_cpu"] >= 0.8 * r["cores"]:
        return "server CPU"
    if pd.notna(r["server_cpu"]) and r["model"] != "processes" and r["server_cpu"] >= 0.8:
        return "server CPU (one interpreter)"
    return "neither: waiting"
