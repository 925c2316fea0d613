"""The open-loop parts of the latency section: hockey-stick curves, capacity at the SLO,
and the connection sweep. Numbers come from report/openloop.py."""
from __future__ import annotations

import math
from functools import partial

import pandas as pd

from .. import openloop, plots
from ..analysis import Analysis
from ..doc import Heading, Para, Table, TableCell
from ..style import ms, num, sig
from .common import figure, slug


def _rate_text(row: pd.Series) -> str:
    return f"{row['rate']} ({num(row['offered_rps'])} req/s)" if str(row["rate"]).endswith("x") \
        else f"{num(row['offered_rps'])}"


def _left_out(frame: pd.DataFrame) -> list:
    """Cells not drawn, and why: skipped (beyond Locust), failed, or Locust fell behind."""
    notes = []
    for _, r in frame.iterrows():
        if r["lagging"]:
            notes.append(f"{r['strategy']} at {_rate_text(r)}: Locust fell behind its schedule "
                         f"(G, loadgen_lagging) in {int(r['lagging'])} of {int(r['repeats'])} "
                         "repeat(s); that latency is Locust's as much as the server's, not shown")
        if r["skipped"] or r["failed"]:
            notes.append(f"{r['strategy']} at {_rate_text(r)}: {r['reasons']}")
    return [Para("Not drawn: " + "; ".join(notes) + ".", "note")] if notes else []


def _capacity_table(an: Analysis, workload: str, frame: pd.DataFrame) -> list:
    slo = openloop.slo_ms(an.run, workload)
    found = openloop.capacity_at_slo(an.run, frame, workload, an.order)
    if not found:
        return []
    how = {"interpolated": "between the measured rates around it (linear in p99)",
           "at": "the highest rate measured that was sustained; the next was not kept at all",
           "at least": "every measured rate was sustained: a floor",
           "below": "not even the lowest rate measured was sustained: a ceiling",
           "none": "no usable point"}
    rows: list[list[str | TableCell]] = []
    rank = 0
    for c in found:
        ranked = an.ranked(c.strategy)
        if ranked:
            rank += 1
        value = ("< " if c.how == "below" else "≥ " if c.how == "at least" else "") + num(c.rate)
        spread = (f"{num(c.low)}–{num(c.high)}" if c.repeats > 1 and not math.isnan(c.low)
                  else "one repeat: spread unknown")
        verdict = ("no measurable difference from the one above (repeats overlap)"
                   if c.same_as_above else "")
        rows.append([str(rank) if ranked else "—", c.strategy, str(c.cores), str(c.users),
                     TableCell(value), spread, how[c.how], verdict])
    return [Table(["rank", "strategy", "cores", "users", "req/s at p99 ≤ SLO", "repeats' range",
                   "how", "note"], rows,
                  caption=f"Capacity at SLO on {workload}: the highest offered rate each strategy "
                          f"sustains (≥ {openloop.SUSTAINED:.0%} of it achieved) with p99 ≤ {slo:g} ms, "
                          "corrected latency. Unranked: the stateless ceiling and unsafe strategies.",
                  numeric={0, 2, 3, 4})]


def _points_table(frame: pd.DataFrame) -> Table:
    rows: list[list[str | TableCell]] = []
    for _, r in frame.sort_values(["strategy", "offered_rps"]).iterrows():
        if not r["usable"]:
            continue
        rows.append([r["strategy"], _rate_text(r), num(r["rps"]), ms(r["p50_us"]), ms(r["p99_us"]),
                     ms(r["p999_us"]), ms(r["p99_uncorrected_us"]), ms(r["p999_uncorrected_us"]),
                     sig(r["send_lag_p99_us"] / 1000), num(r["errors"])])
    return Table(["strategy", "offered", "achieved req/s", "p50 ms", "p99 ms", "p99.9 ms",
                  "p99 uncorr. ms", "p99.9 uncorr. ms", "Locust lag p99 ms", "errors"], rows,
                 caption="Every usable open-loop point: corrected percentiles count from each "
                         "request's scheduled start, uncorrected from its send.",
                 numeric=set(range(2, 10)))


def open_loop_blocks(an: Analysis) -> list:
    frame = openloop.groups(an.run)
    if frame.empty:
        return [Para("No open-loop cells in this run: every latency below is closed-loop "
                     "(users send back to back), so it describes the users' own queue at "
                     "saturation, not latency under a given load. A profile with `rates` measures "
                     "it (e.g. `make bench PROFILE=latency`).", "note")]
    blocks: list = [Para(
        "Open loop: requests start on a schedule whether or not earlier ones were answered, as "
        "real clients do, so a server's stall delays every request scheduled during it. Latency "
        "counts from each request's scheduled start (corrected for coordinated omission, as wrk2 "
        "does); Locust's own floor on this machine is about 1 ms. Curves rise slowly, then "
        "bend up sharply at the strategy's capacity: the knee is what a reader wants.")]
    shown_once = False
    sweep = openloop.sweep_rows(frame)
    for workload in sorted(frame["workload"].unique()):
        mine = frame[(frame["workload"] == workload) & ~frame.index.isin(sweep.index)]
        if mine.empty or mine.groupby("strategy")["rate"].nunique().max() < 2:
            continue
        usable = mine[mine["usable"] > 0]
        series = an.series_of(set(usable["strategy"]))
        slo = openloop.slo_ms(an.run, workload)
        blocks.append(Heading(f"{workload} workload: latency under offered load"))
        if not usable.empty:
            blocks.append(figure(partial(plots.hockey, workload, usable, series, slo),
                                 f"fig-hockey-{slug(workload)}.png",
                                 f"{workload}: latency vs achieved throughput",
                                 "Open loop, one point per offered rate (median of repeats), "
                                 "corrected latency on a log scale; hollow: some requests failed. "
                                 "Locust-lagging cells are left out."))
            if not shown_once:
                shown_once = True
                blocks.append(figure(partial(plots.corrected_vs_uncorrected, workload, usable, series),
                                     f"fig-omission-{slug(workload)}.png",
                                     f"{workload}: what coordinated omission hides",
                                     "The same cells' p99.9 counted from the schedule (left) and "
                                     "from the send (right), as a closed-loop tool would: the "
                                     "right panel misses every request that waited behind a slow one."))
        blocks += _capacity_table(an, workload, mine)
        blocks.append(_points_table(mine))
        blocks += _left_out(mine)
    return blocks + connection_blocks(an, frame, sweep)


def connection_blocks(an: Analysis, frame: pd.DataFrame, sweep: pd.DataFrame) -> list:
    if sweep.empty:
        return []
    workload, rate = sweep["workload"].iloc[0], sweep["rate"].iloc[0]
    usable = sweep[sweep["usable"] > 0]
    blocks: list = [Heading(f"{workload} workload: thousands of connections"),
                    Para(f"Open loop at {rate} requests/s in total, spread over more and more "
                         "connections, each held open through the window: what a connection costs "
                         "each strategy in memory, threads and file descriptors, and whether it "
                         "still answers in time. Server figures are peaks of its whole process "
                         "tree, sampled from /proc every 0.25 s.")]
    if not usable.empty:
        blocks.append(figure(partial(plots.connections, workload, usable,
                                     an.series_of(set(usable["strategy"])), str(rate)),
                             f"fig-connections-{slug(workload)}.png",
                             f"{workload}: cost of concurrent connections",
                             "Log scales except memory; hollow: some requests failed."))
    rows = []
    for _, r in sweep.iterrows():
        cap = (f"capped: serves {openloop.cap(r)} connections at once"
               if openloop.capped(r) else "")
        if not r["usable"]:
            why = "Locust fell behind (G)" if r["lagging"] else (r["reasons"] or "failed")
            rows.append([r["strategy"], num(r["users"]), "—", "—", "—", "—", "—", "—", why])
            continue
        rows.append([r["strategy"], num(r["users"]), f"{num(r['rps'])} of {num(r['offered_rps'])}",
                     num(r["rss_mb"], 1), num(r["server_threads"]), num(r["server_fds"]),
                     ms(r["p99_us"]), num(r["errors"]), cap])
    blocks.append(Table(["strategy", "connections", "answered req/s", "RSS MiB", "threads",
                         "open fds", "p99 ms", "errors", "design limit"], rows,
                        caption="The connection sweep. A thread strategy serves at most --workers "
                                "connections at once (its connection cap, as its ready line said); "
                                "beyond that, connections wait for a free thread: the cap, not "
                                "the load, is then the finding: requests on connections no thread "
                                "takes go unanswered, so they lower the answered rate rather than "
                                "raise p99 (which counts answered requests).",
                        numeric={1, 2, 3, 4, 5, 6, 7}))
    nofile = an.run.manifest.get("nofile") or {}
    if nofile:
        most = int(sweep["users"].max())
        blocks.append(Para(f"The run raised its file-descriptor limit (RLIMIT_NOFILE) from "
                           f"{nofile.get('soft_before')} to the hard limit {nofile.get('hard')} for "
                           f"every server and Locust"
                           + (f"; {most} connections need more than that, so the sweep stops short."
                              if most + 64 > int(nofile.get("hard") or 0) else "."), "note"))
    return blocks
