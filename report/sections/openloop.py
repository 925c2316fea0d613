"""The open-loop parts of the latency section: hockey-stick curves, capacity at the SLO,
and the connection sweep. Numbers come from report/openloop.py."""
from __future__ import annotations

import math
from functools import partial

import pandas as pd

from .. import connections, openloop, plots
from ..analysis import Analysis
from ..doc import Heading, Para, Table, TableCell
from ..style import ms, num, ratio, sig
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
    engine = sweep["engine"].iloc[0]
    sweep = sweep.assign(label=sweep.apply(connections.label, axis=1))
    usable = sweep[sweep["usable"] > 0]
    how = ("paced wrk: every connection opened at the start and held through the window, each "
           "sending about every connections / rate seconds" if engine == "wrk" else
           "Locust open-loop users, each holding its connection")
    blocks: list = [Heading(f"{workload} workload: thousands of connections"),
                    Para(f"Open loop at {rate} requests/s in total, spread over more and more "
                         f"connections ({how}): what a connection costs each strategy in "
                         "memory, threads and file descriptors, and whether it still answers in "
                         "time. Server figures are peaks of its whole process tree, sampled "
                         "from /proc every 0.25 s.")]
    drawn = connections.one_line_each(usable)
    if not drawn.empty:
        blocks.append(figure(partial(plots.connections, workload, drawn,
                                     an.series_of(set(drawn["strategy"])), str(rate)),
                             f"fig-connections-{slug(workload)}.png",
                             f"{workload}: cost of concurrent connections",
                             "Log scales except memory; hollow: some requests failed. A strategy "
                             "measured with its --workers raised is drawn with it (a thread per "
                             "connection, no cap of ours); the table has every line."))
    slo_us = openloop.slo_ms(an.run, workload) * 1000
    rows = []
    for _, r in sweep.iterrows():
        cap = (f"capped: serves {openloop.cap(r)} connections at once"
               if openloop.capped(r) else "")
        if not r["usable"]:
            why = "the load generator fell behind (G)" if r["lagging"] else (r["reasons"] or "failed")
            rows.append([r["label"], num(r["users"]), "—", "—", "—", "—", "—", "—", "—", why])
            continue
        rows.append([r["label"], num(r["users"]), f"{num(r['rps'])} of {num(r['offered_rps'])}",
                     num(r["rss_mb"], 1), num(r["server_threads"]), num(r["server_fds"]),
                     ms(r["p50_us"]), ms(r["p99_us"]), num(r["errors"]),
                     ("held" if connections.held(r, slo_us) else connections.why_not(r, slo_us))
                     + (f"; {cap}" if cap else "")])
    blocks.append(Table(["strategy", "connections", "answered req/s", "RSS MiB", "threads",
                         "open fds", "p50 ms", "p99 ms", "errors", "held the rate within the SLO?"],
                        rows,
                        caption="The connection sweep. A thread strategy serves at most --workers "
                                "connections at once (its connection cap, as its ready line said); "
                                "beyond that, further connections wait, unserved, for a thread "
                                "that never frees (clients keep theirs alive): requests on them "
                                "go unanswered, so they lower the answered rate rather than raise "
                                "p99 (which counts answered requests). A line with --workers "
                                "raised the cap, to show what a thread per connection costs.",
                        numeric={1, 2, 3, 4, 5, 6, 7, 8}))
    blocks += _cost_blocks(sweep)
    nofile = an.run.manifest.get("nofile") or {}
    if nofile:
        most = int(sweep["users"].max())
        blocks.append(Para(f"The run raised its file-descriptor limit (RLIMIT_NOFILE) from "
                           f"{nofile.get('soft_before')} to the hard limit {nofile.get('hard')} for "
                           f"every server and load generator"
                           + (f"; {most} connections need more than that, so the sweep stops short."
                              if most + 64 > int(nofile.get("hard") or 0) else "."), "note"))
    return blocks


def _cost_blocks(sweep: pd.DataFrame) -> list:
    """Per strategy: KiB and threads per open connection; then the framework's cost beside
    the execution model's on the same cells."""
    blocks: list = []
    found = connections.costs(sweep)
    if found:
        rows = [[c.label, sig(c.kib_per_connection), sig(c.threads_per_connection),
                 ", ".join(num(u) for u in c.fitted), c.why_not_fitted] for c in found]
        blocks.append(Table(["strategy", "KiB per connection", "threads per connection",
                             "fitted over connections", "note"], rows,
                            caption="What one more open connection costs: the slope of the "
                                    "server's peak RSS and of its threads over the sweep, fitted "
                                    "where every connection was served (a capped thread server's "
                                    "points beyond its cap hold connections it never serves).",
                            numeric={1, 2}))
    lines = connections.one_line_each(sweep)
    thread = next((s for s in ("global-lock", *sorted(set(lines.loc[lines["model"] == "threads",
                                                                  "strategy"])))
                   if s in set(lines["strategy"])), None)
    split = connections.splits(sweep, thread)
    if split:
        rows = []
        for sp in split:
            rows.append([num(sp.users), ratio(sp.framework), ratio(sp.model)]
                        + [f"{sig(sp.p99_ms.get(n, math.nan))} ms, {num(sp.rss_mb.get(n, math.nan), 1)} MiB"
                           for n in (*connections.FRAMEWORK, sp.thread)])
        blocks.append(Table(["connections", "framework: async / async-raw CPU per request",
                             f"model: async-raw / {thread} CPU per request",
                             "async p99, RSS", "async-raw p99, RSS", f"{thread} p99, RSS "
                             "(--workers raised where it says so)"], rows,
                            caption="HTTP framework against execution model, on the same cells: "
                                    "`async` (aiohttp) and `async-raw` share the event loop and "
                                    "the store and differ only in the HTTP code; `async-raw` and "
                                    f"`{thread}` share the HTTP code (servers/core/http1.py) and "
                                    "differ only in the execution model. At one offered rate, "
                                    "server CPU per request is what each costs.",
                            numeric={0, 1, 2}))
    return blocks
