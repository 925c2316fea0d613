"""Every picture of the report, drawn with matplotlib's Agg backend into PNG bytes.

Conventions kept in every plot: a title, axes labelled with units, a strategy drawn the
same way everywhere (style.make_series: colour = its discipline, marker = its model, line
= its language; the key is drawn once, by `key`), small multiples (style.facets) so no
panel holds more than style.MOST_SERIES strategies, text no smaller than the report's
body text (FONT_PT at DPI: 10 pt at 110 dpi is 15 px, the body's size, when the PNG is
shown at its own width, which WIDTH_IN keeps within the page), and a hollow marker for a
flagged cell (its number is not clean: see the Validity section).
"""
from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Any

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
from .gc import MODE_TEXT  # noqa: E402
from .style import Facet, Series, facets  # noqa: E402
from .usl import USLFit  # noqa: E402

WIDTH_IN = 10.0        # 1,100 px at DPI: within the page's 1,124 px column, never scaled down
ROW_IN = 2.5
DPI = 110
FONT_PT = 10.0         # 15.3 px at DPI: the body text is 15 px
TITLE_PT = 11.0
MOST_COLUMNS = 4       # panels side by side; more would squeeze their text
NINES = (0.5, 0.9, 0.99, 0.999)  # the marked percentiles of a latency curve
FLAGGED_NOTE = "hollow marker: flagged cell (see Validity)"
STYLE: dict[Any, float] = {"font.size": FONT_PT, "axes.titlesize": TITLE_PT, "axes.labelsize": FONT_PT,
         "xtick.labelsize": FONT_PT, "ytick.labelsize": FONT_PT, "legend.fontsize": FONT_PT,
         "figure.titlesize": TITLE_PT + 1}
matplotlib.rcParams.update(STYLE)


def _figure(rows: int, cols: int, title: str, row_in: float = ROW_IN) -> tuple[MplFigure, np.ndarray]:
    fig = MplFigure(figsize=(WIDTH_IN, row_in * rows + 0.5), dpi=DPI, layout="constrained")
    axes = np.atleast_2d(fig.subplots(rows, cols, squeeze=False))
    fig.suptitle(title, fontweight="bold")
    for ax in axes.flat:
        ax.grid(True, alpha=0.3)
    return fig, axes


class Grid:
    """Panels for (facet, metric) pairs: side by side when they all fit in a row; otherwise
    metrics down and facets across, or the reverse, whichever makes fewer rows."""

    def __init__(self, parts: list[Facet], metrics: Sequence[str], title: str,
                 row_in: float = ROW_IN) -> None:
        self.parts, self.metrics = parts, list(metrics)
        n_f, n_m = len(parts), len(self.metrics)
        if n_f * n_m <= MOST_COLUMNS or n_f == 1:  # one row when they fit side by side
            cols = min(n_f * n_m, MOST_COLUMNS)
            self._at = {(f, m): divmod(f * n_m + m, cols) for f in range(n_f) for m in range(n_m)}
            rows = math.ceil(n_f * n_m / cols)
        elif n_f > n_m and n_f <= MOST_COLUMNS:
            rows, cols = n_m, n_f
            self._at = {(f, m): (m, f) for f in range(n_f) for m in range(n_m)}
        else:
            rows, cols = n_f, n_m
            self._at = {(f, m): (f, m) for f in range(n_f) for m in range(n_m)}
        self.fig, self.axes = _figure(rows, cols, title, row_in)
        used = set(self._at.values())
        for r in range(rows):
            for c in range(cols):
                if (r, c) not in used:
                    self.axes[r][c].set_visible(False)
        for (f, m), (r, c) in self._at.items():
            label = self.metrics[m]
            head = parts[f].title
            self.axes[r][c].set_title(f"{head} · {label}" if head and label else head or label)

    def ax(self, facet: int, metric: int) -> Axes:
        r, c = self._at[(facet, metric)]
        return self.axes[r][c]

    def panels(self):
        """(facet, metric index, axes) for every panel."""
        for (f, m) in self._at:
            yield self.parts[f], m, self.ax(f, m)


def png(fig: MplFigure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


FEW_LINES = 4  # a figure with this many strategies or fewer names them in its own legend


def _notes(fig: MplFigure, extra: Sequence[Line2D] = (), flags: bool = True) -> None:
    """The figure's own marks (not the strategies: those are in the key, drawn once)."""
    handles = list(extra)
    if flags:
        handles.append(Line2D([], [], color="0.35", marker="o", linestyle="none", markersize=7,
                              markerfacecolor="white", label=FLAGGED_NOTE))
    if handles:
        # Below the axes, outside them: it can never cover a data point.
        fig.legend(handles=handles, loc="outside lower center", ncol=min(3, len(handles)),
                   frameon=False)


def key(series: list[Series]) -> MplFigure:
    """Every strategy with its colour, marker and line, in the facets the figures use."""
    parts = facets(series)
    rows = max(len(p.series) for p in parts)
    fig = MplFigure(figsize=(WIDTH_IN, 0.27 * rows + 0.75), dpi=DPI, layout="constrained")
    fig.suptitle("Key: colour = discipline, marker = model, line = language", fontweight="bold")
    axes = fig.subplots(1, len(parts), squeeze=False)[0]
    for ax, part in zip(axes, parts):
        ax.set_axis_off()
        ax.set_xlim(0, 1)
        ax.set_ylim(rows - 0.5, -0.9)
        if part.title:
            ax.text(0.0, -0.7, part.title, fontweight="bold", va="center")
        for i, s in enumerate(part.series):
            ax.plot([0.02, 0.2], [i, i], color=s.colour, linestyle=s.linestyle, linewidth=1.8, gid=s.strategy)
            ax.plot([0.11], [i], color=s.colour, marker=s.marker, markersize=7, linestyle="none",
                    gid=s.strategy)
            ax.text(0.26, i, s.strategy, va="center")
    return fig


def _log_axis(axis) -> None:
    """Log scale with plain-number ticks at 1, 2, 5 × 10^k (no 10^1 notation)."""
    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())


def _line(ax: Axes, s: Series, x: list[float], y: list[float], hollow: list[bool],
          low: list[float] | None = None, high: list[float] | None = None) -> None:
    style = s.style
    ax.plot(x, y, color=s.colour, linestyle=style["linestyle"], linewidth=1.6, gid=s.strategy)
    if low is not None and high is not None:
        yerr = np.array([np.subtract(y, low), np.subtract(high, y)])
        ax.errorbar(x, y, yerr=np.nan_to_num(yerr), fmt="none", ecolor=s.colour, capsize=3, lw=1)
    for xi, yi, h in zip(x, y, hollow):
        ax.plot([xi], [yi], color=s.colour, linestyle="none", marker=style["marker"], markersize=7,
                markeredgewidth=1.6, markeredgecolor=s.colour,
                markerfacecolor="white" if h else s.colour, zorder=3, gid=s.strategy)


def _rows(groups: pd.DataFrame, strategy: str, x: str) -> pd.DataFrame:
    return groups[(groups["strategy"] == strategy) & groups["rps"].notna()].sort_values(x)


def _drawn(series: list[Series], frame: pd.DataFrame) -> list[Series]:
    """The series with a row in this frame: a panel splits only what it will draw."""
    present = set(frame["strategy"])
    return [s for s in series if s.strategy in present]


def scaling(workload: str, users: int | None, groups: pd.DataFrame, series: list[Series],
            fits: dict[str, USLFit]) -> MplFigure:
    """Throughput vs cores (with repeat ranges and USL curves) and speedup vs cores."""
    grid = Grid(facets(_drawn(series, groups)), ["throughput", "speedup"],
                f"{workload} workload: throughput and speedup vs server cores ({users} users)",
                row_in=2.0)
    all_cores = sorted(int(c) for c in groups["cores"].dropna().unique())
    lo = all_cores[0] if all_cores else 1
    for part, metric, ax in grid.panels():
        for s in part.series:
            rows = _rows(groups, s.strategy, "cores")
            if rows.empty:
                continue
            x = rows["cores"].astype(float).tolist()
            hollow = [flagged(r) for _, r in rows.iterrows()]
            if metric == 1:
                _line(ax, s, x, (rows["rps"] / rows["rps"].iloc[0]).tolist(), hollow)
                continue
            _line(ax, s, x, rows["rps"].tolist(), hollow, rows["rps_min"].tolist(), rows["rps_max"].tolist())
            fit = fits.get(s.strategy)
            if fit is not None and fit.ok:
                curve = np.linspace(min(x), max(x), 50)
                ax.plot(curve, fit.predict(curve), color=s.colour, linewidth=0.8, alpha=0.6)
                low, high = fit.band(curve)
                if np.all(np.isfinite(low)):
                    ax.fill_between(curve, low, high, color=s.colour, alpha=0.12, linewidth=0)
        if metric == 1 and all_cores:
            ax.plot(all_cores, [c / lo for c in all_cores], color="0.5", linestyle="--", linewidth=1)
        ax.set_xlabel("server cores (count)")
        ax.xaxis.set_major_locator(FixedLocator(all_cores or [1]))
        ax.set_ylim(0, ax.get_ylim()[1] * 1.08)  # headroom: no marker sits on the frame
        ax.set_ylabel("requests/s" if metric == 0 else f"× throughput at {lo} core")
    _notes(grid.fig, [Line2D([], [], color="0.5", linestyle="--", label="linear speedup")])
    return grid.fig


def _count(x: float, _=None) -> str:
    """100, 1k, 2.5k, 10k: short enough for a narrow panel's axis."""
    return f"{x / 1000:g}k" if x >= 1000 else f"{x:g}"


def _nines(p: float) -> float:
    return -math.log10(1.0 - p)


def latency(workload: str, users: int | None, panels: dict[int, list[tuple[Series, HdrHistogram, bool]]],
            all_series: list[Series]) -> MplFigure:
    """Percentile curves p50…p99.9 on a 'nines' axis, one panel per core count (and facet)."""
    cores = sorted(panels)
    drawn = {s.strategy for c in cores for s, _, _ in panels[c]}
    grid = Grid(facets([s for s in all_series if s.strategy in drawn]),
                [f"{c} server core{'s' if c != 1 else ''}" for c in cores],
                f"{workload} workload: latency percentiles ({users} users, merged repeats)")
    xs = np.linspace(_nines(0.5), _nines(0.999), 40)
    for part, metric, ax in grid.panels():
        mine = {s.strategy for s in part.series}
        for s, histogram, is_flagged in panels[cores[metric]]:
            if s.strategy not in mine:
                continue
            ys = np.array(percentiles(histogram, [100 * (1 - 10 ** -x) for x in xs])) / 1000
            ax.plot(xs, ys, color=s.colour, linestyle=s.style["linestyle"], linewidth=1.6,
                    gid=s.strategy)
            marked = np.array(percentiles(histogram, [100 * p for p in NINES])) / 1000
            ax.plot([_nines(p) for p in NINES], marked, color=s.colour, linestyle="none",
                    marker=s.style["marker"], markersize=6,
                    markeredgewidth=1.5, markeredgecolor=s.colour,
                    markerfacecolor="white" if is_flagged else s.colour, zorder=3, gid=s.strategy)
        ax.set_yscale("log")
        _log_axis(ax.yaxis)
        ax.xaxis.set_major_locator(FixedLocator([_nines(p) for p in NINES]))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"p{100 * (1 - 10 ** -x):g}"))
        ax.set_xlabel("percentile (log 'nines' scale)")
        ax.set_ylabel("latency (ms, log)")
    _notes(grid.fig)
    return grid.fig


def by_users(workload: str, groups: pd.DataFrame, series: list[Series]) -> MplFigure:
    """Throughput, p99 and server memory vs concurrent users, per core count (and facet)."""
    cores = sorted(int(c) for c in groups["cores"].dropna().unique())
    metrics = [("rps", 1.0, "throughput (requests/s)"), ("p99_us", 1e-3, "p99 latency (ms)"),
               ("rss_mb", 1.0, "server peak RSS (MiB)")]
    panels = [(c, m) for c in cores for m in metrics]
    grid = Grid(facets(_drawn(series, groups)), [f"{c} core{'s' if c != 1 else ''}: {m[2].split(' (')[0]}"
                                                 for c, m in panels],
                f"{workload} workload: throughput, p99 latency and server memory vs concurrent users")
    users = sorted(int(u) for u in groups["users"].dropna().unique())
    for part, index, ax in grid.panels():
        c, (metric, scale, label) = panels[index]
        at_cores = groups[groups["cores"] == c]
        for s in part.series:
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
    _notes(grid.fig)
    return grid.fig


def efficiency(workload: str, users: int | None, groups: pd.DataFrame, series: list[Series]) -> MplFigure:
    """Requests per server CPU-second and peak RSS per strategy, one bar per core count."""
    cores = sorted(int(c) for c in groups["cores"].dropna().unique())
    grid = Grid(facets(_drawn(series, groups)), ["requests per server CPU-s", "server peak RSS"],
                f"{workload} workload: server efficiency and memory ({users} users)", row_in=3.4)
    width = 0.8 / max(1, len(cores))
    for part, index, ax in grid.panels():
        metric = ("rps_per_cpu_s", "rss_mb")[index]
        for i, s in enumerate(part.series):
            for j, c in enumerate(cores):
                rows = groups[(groups["strategy"] == s.strategy) & (groups["cores"] == c)]
                if rows.empty or pd.isna(rows[metric].iloc[0]):
                    continue
                row = rows.iloc[0]
                x = i + (j - (len(cores) - 1) / 2) * width
                ax.bar(x, row[metric], width * 0.92, color="white" if flagged(row) else s.colour,
                       edgecolor=s.colour, linewidth=1.6, gid=s.strategy)
                # The core count on the bar itself: readable in print, no second legend.
                ax.annotate(f"{c}c", (x, row[metric]), xytext=(0, 2), textcoords="offset points",
                            ha="center", va="bottom")
        ax.set_xticks(range(len(part.series)), [s.strategy for s in part.series], rotation=35,
                      ha="right")
        ax.set_ylabel("1/CPU-s" if index == 0 else "MiB")
        ax.margins(y=0.15)
    _notes(grid.fig, [Line2D([], [], color="0.35", linestyle="none", label="bar label: server cores")],
           flags=False)
    return grid.fig


def hockey(workload: str, frame: pd.DataFrame, series: list[Series], slo_ms: float) -> MplFigure:
    """Open loop: p99 and p99.9 (corrected) against achieved throughput, one line per
    strategy; the SLO as a grey line on the p99 panel. (p50 is in the points table.)"""
    metrics = [("p99_us", "p99"), ("p999_us", "p99.9")]
    grid = Grid(facets(_drawn(series, frame)), [label for _, label in metrics],
                f"{workload} workload: latency vs achieved throughput "
                "(open loop, corrected for coordinated omission)")
    for part, index, ax in grid.panels():
        metric, label = metrics[index]
        for s in part.series:
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
        ax.set_xlabel("achieved requests/s")
        ax.set_ylabel(f"{label} (ms, log)")
    _notes(grid.fig, [Line2D([], [], color="0.5", linestyle="--", label=f"SLO: p99 {slo_ms:g} ms")],
           flags=False)
    return grid.fig


def corrected_vs_uncorrected(workload: str, frame: pd.DataFrame, series: list[Series]) -> MplFigure:
    """The same cells' p99.9 counted from the schedule and from the send, side by side."""
    metrics = [("p999_us", "corrected"), ("p999_uncorrected_us", "uncorrected")]
    grid = Grid(facets(_drawn(series, frame)), [title for _, title in metrics],
                f"{workload} workload: p99.9 from each request's scheduled start (corrected) "
                "and from its send")
    limits: dict[str, list] = {}
    for part, index, ax in grid.panels():
        metric = metrics[index][0]
        for s in part.series:
            rows = frame[frame["strategy"] == s.strategy].sort_values("offered_rps")
            rows = rows[rows[metric].notna()]
            if rows.empty:
                continue
            _line(ax, s, rows["rps"].tolist(), (rows[metric] / 1000).tolist(),
                  [bool(r["errors"]) for _, r in rows.iterrows()])
        ax.set_yscale("log")
        _log_axis(ax.yaxis)
        ax.set_xlim(left=0)
        ax.set_xlabel("achieved requests/s")
        ax.set_ylabel("p99.9 (ms, log)")
        limits.setdefault(part.title, []).append((ax, ax.get_ylim()))
    for pair in limits.values():  # one scale per facet, so the gap between the panels shows
        shared = (min(t[0] for _, t in pair), max(t[1] for _, t in pair))
        for ax, _ in pair:
            ax.set_ylim(*shared)
    # A few lines are named in the figure's own legend: it reads without the key.
    named = ([Line2D([], [], color=s.colour, label=s.strategy, **s.style)
              for s in series] if len(series) <= FEW_LINES else [])
    _notes(grid.fig, [*named, Line2D([], [], color="0.35", marker="o", linestyle="none",
                                     markerfacecolor="white", label="hollow here: requests failed")],
           flags=False)
    return grid.fig


def connections(workload: str, frame: pd.DataFrame, series: list[Series], rate: str) -> MplFigure:
    """The connection sweep: server RSS, threads, open fds and p99 against connections."""
    metrics = [("rss_mb", 1.0, "server peak RSS (MiB)", False),
               ("server_threads", 1.0, "server threads (count)", True),
               ("server_fds", 1.0, "server open fds (count)", True),
               ("p99_us", 1e-3, "p99 latency, corrected (ms)", True)]
    grid = Grid(facets(_drawn(series, frame)), [m[2].split(" (")[0] for m in metrics],
                f"{workload} workload: cost of concurrent connections (open loop, {rate} req/s in total)")
    users = sorted(int(u) for u in frame["users"].dropna().unique())
    for part, index, ax in grid.panels():
        metric, scale, label, log = metrics[index]
        for s in part.series:
            rows = frame[(frame["strategy"] == s.strategy) & frame[metric].notna()].sort_values("users")
            if rows.empty:
                continue
            _line(ax, s, rows["users"].astype(float).tolist(), (rows[metric] * scale).tolist(),
                  [bool(r["errors"]) for _, r in rows.iterrows()])
        ax.set_xscale("log")
        ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_major_locator(FixedLocator(users or [1]))
        ax.xaxis.set_major_formatter(FuncFormatter(_count))
        ax.tick_params(axis="x", labelrotation=45)
        ax.set_xlabel("concurrent connections")
        ax.set_ylabel(label)
        if log:
            ax.set_yscale("log")
            _log_axis(ax.yaxis)
        else:
            ax.set_ylim(bottom=0)
    _notes(grid.fig, [Line2D([], [], color="0.35", marker="o", linestyle="none",
                             markerfacecolor="white", label="hollow here: requests failed")], flags=False)
    return grid.fig


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
                        else f"{found.strategy}, collector {MODE_TEXT[mode]}")
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
    fig.legend(handles=handles, loc="outside lower center", ncol=2, frameon=False)
    return fig
