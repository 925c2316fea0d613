"""Every picture of the report, drawn with matplotlib's Agg backend into PNG bytes.

Conventions kept in every plot: a title, axes labelled with units, one colour
per strategy (style.colour_slots), the legend outside the axes so it never covers
data, and a hollow marker for a flagged cell (its number is not clean: see the
Validity section).
"""
from __future__ import annotations

import io
import math
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")  # no display, and identical output on every machine

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from hdrh.histogram import HdrHistogram  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure as MplFigure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullFormatter, NullLocator  # noqa: E402

from .aggregate import flagged, percentiles  # noqa: E402
from .style import Series  # noqa: E402
from .usl import USLFit  # noqa: E402

WIDTH_IN = 10.0
ROW_IN = 3.6
DPI = 110
NINES = (0.5, 0.9, 0.99, 0.999)  # the marked percentiles of a latency curve
FLAGGED_NOTE = "hollow marker: flagged cell (see Validity)"


def _figure(rows: int, cols: int, title: str) -> tuple[MplFigure, np.ndarray]:
    fig = MplFigure(figsize=(WIDTH_IN, ROW_IN * rows + 0.5), dpi=DPI, layout="constrained")
    axes = np.atleast_2d(fig.subplots(rows, cols, squeeze=False))
    fig.suptitle(title, fontsize=12, fontweight="bold")
    for ax in axes.flat:
        ax.grid(True, alpha=0.3)
    return fig, axes


def png(fig: MplFigure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _legend(fig: MplFigure, series: list[Series], extra: Sequence[Line2D] = ()) -> None:
    handles = [Line2D([], [], color=s.colour, markerfacecolor=s.colour, markersize=7,
                      label=s.strategy, **s.style) for s in series]
    handles.append(Line2D([], [], color="0.35", marker="o", linestyle="none", markersize=7,
                          markerfacecolor="white", label=FLAGGED_NOTE))
    handles.extend(extra)
    # Below the axes, outside them: it can never cover a data point, and leaves the width to the data.
    fig.legend(handles=handles, loc="outside lower center", ncol=min(4, len(handles)), fontsize=8,
               frameon=False)


def _log_axis(axis) -> None:
    """Log scale with plain-number ticks at 1, 2, 5 × 10^k (no 10^1 notation)."""
    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())


def _line(ax: Axes, s: Series, x: list[float], y: list[float], hollow: list[bool],
          low: list[float] | None = None, high: list[float] | None = None) -> None:
    style = s.style
    ax.plot(x, y, color=s.colour, linestyle=style["linestyle"], linewidth=1.6)
    if low is not None and high is not None:
        yerr = np.array([np.subtract(y, low), np.subtract(high, y)])
        ax.errorbar(x, y, yerr=np.nan_to_num(yerr), fmt="none", ecolor=s.colour, capsize=3, lw=1)
    for xi, yi, h in zip(x, y, hollow):
        ax.plot([xi], [yi], linestyle="none", marker=style["marker"], markersize=7,
                markeredgewidth=1.6, markeredgecolor=s.colour,
                markerfacecolor="white" if h else s.colour, zorder=3)


def _rows(groups: pd.DataFrame, strategy: str, x: str) -> pd.DataFrame:
    return groups[(groups["strategy"] == strategy) & groups["rps"].notna()].sort_values(x)


def scaling(workload: str, users: int | None, groups: pd.DataFrame, series: list[Series],
            fits: dict[str, USLFit]) -> MplFigure:
    """Throughput vs cores (with repeat ranges and USL curves) and speedup vs cores."""
    fig, axes = _figure(1, 2, f"{workload} workload: throughput and speedup vs server cores "
                              f"({users} users)")
    tput, speed = axes[0]
    all_cores = sorted(int(c) for c in groups["cores"].dropna().unique())
    for s in series:
        rows = _rows(groups, s.strategy, "cores")
        if rows.empty:
            continue
        x = rows["cores"].astype(float).tolist()
        hollow = [flagged(r) for _, r in rows.iterrows()]
        _line(tput, s, x, rows["rps"].tolist(), hollow, rows["rps_min"].tolist(), rows["rps_max"].tolist())
        base = rows["rps"].iloc[0]
        _line(speed, s, x, (rows["rps"] / base).tolist(), hollow)
        fit = fits.get(s.strategy)
        if fit is not None and fit.ok:
            grid = np.linspace(min(x), max(x), 50)
            tput.plot(grid, fit.predict(grid), color=s.colour, linewidth=0.8, alpha=0.6)
            low, high = fit.band(grid)
            if np.all(np.isfinite(low)):
                tput.fill_between(grid, low, high, color=s.colour, alpha=0.12, linewidth=0)
    if all_cores:
        lo = all_cores[0]
        speed.plot(all_cores, [c / lo for c in all_cores], color="0.5", linestyle="--", linewidth=1)
    for ax in (tput, speed):
        ax.set_xlabel("server cores (count)")
        ax.xaxis.set_major_locator(FixedLocator(all_cores or [1]))
        ax.set_ylim(0, ax.get_ylim()[1] * 1.08)  # headroom: no marker sits on the frame
    tput.set_ylabel("throughput (requests/s)")
    tput.set_title("throughput; bars: min–max of repeats", fontsize=10)
    speed.set_ylabel(f"speedup (× throughput at {all_cores[0] if all_cores else 1} core)")
    speed.set_title("speedup; grey dashed: linear", fontsize=10)
    _legend(fig, series, [Line2D([], [], color="0.5", linestyle="--", label="ideal linear speedup")])
    return fig


def _nines(p: float) -> float:
    return -math.log10(1.0 - p)


def latency(workload: str, users: int | None, panels: dict[int, list[tuple[Series, HdrHistogram, bool]]],
            all_series: list[Series]) -> MplFigure:
    """Percentile curves p50…p99.9 on a 'nines' axis, one panel per core count."""
    cores = sorted(panels)
    fig, axes = _figure(1, max(1, len(cores)), f"{workload} workload: latency percentiles "
                                               f"({users} users, merged repeats)")
    xs = np.linspace(_nines(0.5), _nines(0.999), 40)
    for ax, c in zip(axes[0], cores):
        for s, histogram, is_flagged in panels[c]:
            ys = np.array(percentiles(histogram, [100 * (1 - 10 ** -x) for x in xs])) / 1000
            ax.plot(xs, ys, color=s.colour, linestyle=s.style["linestyle"],
                    linewidth=1.6)
            marked = np.array(percentiles(histogram, [100 * p for p in NINES])) / 1000
            ax.plot([_nines(p) for p in NINES], marked, linestyle="none",
                    marker=s.style["marker"], markersize=6,
                    markeredgewidth=1.5, markeredgecolor=s.colour,
                    markerfacecolor="white" if is_flagged else s.colour, zorder=3)
        ax.set_yscale("log")
        _log_axis(ax.yaxis)
        ax.xaxis.set_major_locator(FixedLocator([_nines(p) for p in NINES]))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"p{100 * (1 - 10 ** -x):g}"))
        ax.set_xlabel("percentile (log 'nines' scale)")
        ax.set_ylabel("latency (ms, log scale)")
        ax.set_title(f"{c} server core{'s' if c != 1 else ''}", fontsize=10)
    _legend(fig, all_series)
    return fig


def by_users(workload: str, groups: pd.DataFrame, series: list[Series]) -> MplFigure:
    """Throughput, p99 and server memory vs concurrent users, one column per core count."""
    cores = sorted(int(c) for c in groups["cores"].dropna().unique())
    fig, axes = _figure(3, max(1, len(cores)), f"{workload} workload: throughput, p99 latency "
                                               "and server memory vs concurrent users")
    users = sorted(int(u) for u in groups["users"].dropna().unique())
    metrics = [("rps", 1.0, "throughput (requests/s)"), ("p99_us", 1e-3, "p99 latency (ms)"),
               ("rss_mb", 1.0, "server peak RSS (MiB)")]
    for col, c in enumerate(cores):
        at_cores = groups[groups["cores"] == c]
        for row, (metric, scale, label) in enumerate(metrics):
            ax = axes[row][col]
            for s in series:
                rows = _rows(at_cores, s.strategy, "users")
                rows = rows[rows[metric].notna()]
                if rows.empty:
                    continue
                _line(ax, s, rows["users"].astype(float).tolist(), (rows[metric] * scale).tolist(),
                      [flagged(r) for _, r in rows.iterrows()])
            if users and users[-1] / max(users[0], 1) >= 8:
                ax.set_xscale("log")
                ax.xaxis.set_minor_locator(NullLocator())
            ax.xaxis.set_major_locator(FixedLocator(users or [1]))
            ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:g}"))
            ax.set_xlabel("concurrent users (count)")
            ax.set_ylabel(label)
            if metric == "p99_us":
                ax.set_yscale("log")
                _log_axis(ax.yaxis)
            else:
                ax.set_ylim(bottom=0)
            if row == 0:
                ax.set_title(f"{c} server core{'s' if c != 1 else ''}", fontsize=10)
    _legend(fig, series)
    return fig


def efficiency(workload: str, users: int | None, groups: pd.DataFrame, series: list[Series]) -> MplFigure:
    """Requests per server CPU-second and peak RSS per strategy, one bar per core count."""
    cores = sorted(int(c) for c in groups["cores"].dropna().unique())
    fig, axes = _figure(1, 2, f"{workload} workload: server efficiency and memory ({users} users)")
    width = 0.8 / max(1, len(cores))
    panels = [(axes[0][0], "rps_per_cpu_s", "requests per server CPU-second (1/CPU-s)"),
              (axes[0][1], "rss_mb", "server peak RSS (MiB)")]
    for ax, metric, label in panels:
        for i, s in enumerate(series):
            for j, c in enumerate(cores):
                rows = groups[(groups["strategy"] == s.strategy) & (groups["cores"] == c)]
                if rows.empty or pd.isna(rows[metric].iloc[0]):
                    continue
                row = rows.iloc[0]
                x = i + (j - (len(cores) - 1) / 2) * width
                ax.bar(x, row[metric], width * 0.92, color="white" if flagged(row) else s.colour,
                       edgecolor=s.colour, linewidth=1.6)
                # The core count on the bar itself: readable in print, no second legend.
                ax.annotate(f"{c}c", (x, row[metric]), xytext=(0, 2), textcoords="offset points",
                            ha="center", va="bottom", fontsize=7)
        ax.set_xticks(range(len(series)), [s.strategy for s in series], rotation=30, ha="right",
                      fontsize=8)
        ax.set_ylabel(label)
        ax.set_xlabel("strategy (bar label: server cores)")
        ax.margins(y=0.12)
    axes[0][0].set_title("efficiency (honest even when the load generator was the limit)", fontsize=9)
    axes[0][1].set_title("memory", fontsize=9)
    _legend(fig, series)
    return fig


def hockey(workload: str, frame: pd.DataFrame, series: list[Series], slo_ms: float) -> MplFigure:
    """Open loop: p50, p99, p99.9 (corrected) against achieved throughput, one line per
    strategy; the SLO as a grey line on the p99 panel."""
    fig, axes = _figure(1, 3, f"{workload} workload: latency vs achieved throughput "
                              "(open loop, corrected for coordinated omission)")
    for ax, (metric, label) in zip(axes[0], [("p50_us", "p50"), ("p99_us", "p99"),
                                             ("p999_us", "p99.9")]):
        for s in series:
            rows = frame[frame["strategy"] == s.strategy].sort_values("offered_rps")
            rows = rows[rows[metric].notna()]
            if rows.empty:
                continue
            _line(ax, s, rows["rps"].tolist(), (rows[metric] / 1000).tolist(),
                  [bool(r["errors"]) for _, r in rows.iterrows()])
        if metric == "p99_us":
            ax.axhline(slo_ms, color="0.5", linestyle="--", linewidth=1)
        ax.set_yscale("log")
        _log_axis(ax.yaxis)
        ax.set_xlim(left=0)
        ax.set_xlabel("achieved throughput (requests/s)")
        ax.set_ylabel(f"{label} latency (ms, log scale)")
        ax.set_title(label, fontsize=10)
    _legend(fig, series, [Line2D([], [], color="0.5", linestyle="--", label=f"SLO: p99 {slo_ms:g} ms")])
    return fig


def corrected_vs_uncorrected(workload: str, frame: pd.DataFrame, series: list[Series]) -> MplFigure:
    """The same cells' p99.9 counted from the schedule and from the send, side by side."""
    fig, axes = _figure(1, 2, f"{workload} workload: p99.9 corrected (from each request's "
                              "scheduled start) and uncorrected (from its send)")
    tops = []
    for ax, metric, title in ((axes[0][0], "p999_us", "corrected"),
                              (axes[0][1], "p999_uncorrected_us", "uncorrected (what a "
                                                                   "closed-loop tool reports)")):
        for s in series:
            rows = frame[frame["strategy"] == s.strategy].sort_values("offered_rps")
            rows = rows[rows[metric].notna()]
            if rows.empty:
                continue
            _line(ax, s, rows["rps"].tolist(), (rows[metric] / 1000).tolist(),
                  [bool(r["errors"]) for _, r in rows.iterrows()])
        ax.set_yscale("log")
        _log_axis(ax.yaxis)
        ax.set_xlim(left=0)
        ax.set_xlabel("achieved throughput (requests/s)")
        ax.set_ylabel("p99.9 latency (ms, log scale)")
        ax.set_title(title, fontsize=10)
        tops.append(ax.get_ylim())
    shared = (min(t[0] for t in tops), max(t[1] for t in tops))
    for ax in axes[0]:
        ax.set_ylim(*shared)  # one scale, so the gap between the panels is visible
    _legend(fig, series)
    return fig


def connections(workload: str, frame: pd.DataFrame, series: list[Series], rate: str) -> MplFigure:
    """The connection sweep: server RSS, threads, open fds and p99 against connections."""
    fig, axes = _figure(2, 2, f"{workload} workload: cost of concurrent connections "
                              f"(open loop, {rate} req/s in total)")
    metrics = [("rss_mb", 1.0, "server peak RSS (MiB)", False),
               ("server_threads", 1.0, "server threads (count)", True),
               ("server_fds", 1.0, "server open file descriptors (count)", True),
               ("p99_us", 1e-3, "p99 latency, corrected (ms)", True)]
    users = sorted(int(u) for u in frame["users"].dropna().unique())
    for ax, (metric, scale, label, log) in zip(axes.flat, metrics):
        for s in series:
            rows = frame[(frame["strategy"] == s.strategy) & frame[metric].notna()].sort_values("users")
            if rows.empty:
                continue
            _line(ax, s, rows["users"].astype(float).tolist(), (rows[metric] * scale).tolist(),
                  [bool(r["errors"]) for _, r in rows.iterrows()])
        ax.set_xscale("log")
        ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_major_locator(FixedLocator(users or [1]))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:g}"))
        ax.set_xlabel("concurrent connections (count)")
        ax.set_ylabel(label)
        if log:
            ax.set_yscale("log")
            _log_axis(ax.yaxis)
        else:
            ax.set_ylim(bottom=0)
    _legend(fig, series, [Line2D([], [], color="0.35", marker="o", linestyle="none",
                                 markerfacecolor="white", label="hollow here: requests failed")])
    return fig


MODE_COLOUR = {"default": "tab:red", "off": "tab:blue", "freeze": "tab:green", "none": "0.45"}


def _heap_label(heap: int) -> str:
    if heap >= 1_000_000:
        return f"{heap / 1_000_000:g}M"
    return f"{heap / 1000:g}k" if heap >= 1000 else f"{heap}"


def gc_heap(load_note: str, sets: list, without: list, series: list[Series]) -> MplFigure:
    """The longest full collection, p99.9 and max latency against the live heap: a line per
    strategy and collector mode (colour: the mode; marker: the strategy), a server with no
    collector in grey, bars from the repeats' min to max. `sets`, `without`: gc.HeapSet.
    Heaps sit at equal steps (0 has no place on a log axis), labelled with their size."""
    fig, axes = _figure(1, 3, f"Pauses and the tail against the live heap ({load_note})")
    heaps = sorted({h for s in (*sets, *without) for h in s.heaps})
    where = {h: float(i) for i, h in enumerate(heaps)}
    markers = {s.strategy: s.style["marker"] for s in series}
    panels = [("full_pause_ms", 1, "longest full collection (ms, log scale)"),
              ("p999_us", 1000, "p99.9 latency (ms, log scale)"),
              ("max_us", 1000, "max latency (ms, log scale)")]
    drawn: dict[str, Line2D] = {}
    for ax, (metric, scale, label) in zip(axes[0], panels):
        for found in (*sets, *without):
            for mode in found.modes():
                at = [h for h in found.heaps if mode in found.by_heap[h]]
                rows = [found.by_heap[h][mode] for h in at]
                y = np.array([r[metric] for r in rows], dtype=float) / scale
                if not np.isfinite(y).any() or (metric == "full_pause_ms" and mode == "off"):
                    continue
                low = np.array([r[f"{metric}_min"] for r in rows], dtype=float) / scale
                high = np.array([r[f"{metric}_max"] for r in rows], dtype=float) / scale
                x = [where[h] for h in at]
                colour = MODE_COLOUR.get(mode, "0.45")
                marker = markers.get(found.strategy, "o")
                ax.plot(x, y, color=colour, marker=marker, linewidth=1.6, markersize=6,
                        linestyle="--" if mode == "none" else "-")
                ax.errorbar(x, y, yerr=np.nan_to_num(np.array([y - low, high - y])), fmt="none",
                            ecolor=colour, capsize=3, lw=1)
                name = (f"{found.strategy}, no collector" if mode == "none"
                        else f"{found.strategy}, collector {MODE_TEXT_PLOT[mode]}")
                drawn.setdefault(name, Line2D([], [], color=colour, marker=marker, label=name,
                                              linestyle="--" if mode == "none" else "-"))
        ax.set_xticks([where[h] for h in heaps], [_heap_label(h) for h in heaps])
        ax.set_xlim(-0.4, len(heaps) - 0.6)
        ax.set_yscale("log")
        _log_axis(ax.yaxis)
        ax.set_xlabel("live objects per server process")
        ax.set_ylabel(label)
    fig.legend(handles=list(drawn.values()), loc="outside lower center",
               ncol=min(4, max(1, len(drawn))), fontsize=8, frameon=False)
    return fig


MODE_TEXT_PLOT = {"default": "on", "off": "off", "freeze": "frozen"}


def gc_timeline(cell_id: str, x: np.ndarray, maxima_ms: np.ndarray,
                pauses: list[tuple[float, float, int]], bucket_ms: float) -> MplFigure:
    """One cell over its window: the largest latency per bucket, GC pauses marked where they
    began (a pause of a millisecond or less is thinner than the line drawn for it)."""
    fig, axes = _figure(1, 1, f"{cell_id}: latency over time, GC pauses marked")
    ax = axes[0][0]
    ax.step(x, maxima_ms, where="post", color="tab:blue", linewidth=1,
            label=f"max latency per {bucket_ms:g} ms (corrected)")
    shades = {0: "0.75", 1: "tab:orange", 2: "tab:red"}
    for start, length_ms, generation in pauses:
        ax.axvspan(start, start + max(length_ms / 1000, 0.002), color=shades.get(generation, "0.5"),
                   alpha=0.6 if generation else 0.35, linewidth=0)
    ax.set_yscale("log")
    _log_axis(ax.yaxis)
    ax.set_xlabel("time from the window's start (s)")
    ax.set_ylabel("latency (ms, log scale)")
    handles = [Line2D([], [], color="tab:blue", label=f"max latency per {bucket_ms:g} ms bucket")]
    handles += [Line2D([], [], color=shades[g], linewidth=6, alpha=0.6,
                       label=f"GC pause, generation {g}") for g in (0, 1, 2)]
    fig.legend(handles=handles, loc="outside lower center", ncol=4, fontsize=8, frameon=False)
    return fig
