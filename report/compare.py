"""Compare two runs cell by cell: ratio B/A, a significance verdict, environment differences.

Like asv, a change counts only when the repeats say it is real: a two-sided
Mann–Whitney U test on the per-repeat values of A and B. With few repeats the
test cannot reach the significance level whatever the data (3 vs 3 repeats:
the smallest possible p is 0.1), and the verdict says so rather than guess.
Like pytest-benchmark, it warns when the two runs' machines differ. Above the cells, it
lists the claims (per scope) whose outcome differs between the runs, each with both results
(what was compared, the effect and its interval, the strength: report/claims/), or says
none did: outcomes are compared, never sentences.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from scipy.stats import mannwhitneyu

from .aggregate import aggregate, marks
from .analysis import analyse, flatten
from .claims import ClaimResult, Outcome, judge
from .frames import KEY, Run, read_run
from .style import ms, num

ALPHA = 0.05
DEFAULT_THRESHOLD = 0.10
# metric: (column, True if higher is better, formatter)
METRICS: dict[str, tuple[str, bool, Callable[[object], str]]] = {
    "req/s": ("rps", True, num), "p99 ms": ("p99_us", False, ms)}
# Environment keys expected to differ between the runs one compares: noted, not warned about.
EXPECTED_TO_DIFFER = ("commit", "dirty", "load_average")


@dataclass
class Comparison:
    a: str
    b: str
    threshold: float
    rows: pd.DataFrame                      # one row per (cell, metric)
    env_warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # (A's result, B's result) per claim and scope whose outcome differs; how many compared
    changed: list[tuple[ClaimResult | None, ClaimResult | None]] = field(default_factory=list)
    claims_compared: int = 0

    @property
    def regressions(self) -> pd.DataFrame:
        return self.rows[self.rows["verdict"] == "REGRESSION"]


def _min_p(n: int, m: int) -> float:
    """The smallest two-sided exact Mann–Whitney p-value n vs m samples can give."""
    if n == 0 or m == 0:
        return 1.0
    return min(1.0, 2.0 / math.comb(n + m, n))


def _test(a: list[float], b: list[float]) -> tuple[float, str]:
    if len(a) < 2 or len(b) < 2 or _min_p(len(a), len(b)) >= ALPHA:
        return math.nan, f"too few repeats ({len(a)} vs {len(b)})"
    if set(a) == set(b) and len(set(a)) == 1:
        return 1.0, "not significant"
    p = float(mannwhitneyu(a, b, alternative="two-sided", method="exact").pvalue)
    return p, "significant" if p < ALPHA else "not significant"


def _verdict(ratio: float, higher_better: bool, significance: str, threshold: float) -> str:
    if not math.isfinite(ratio):
        return "missing"
    worse = ratio < 1 - threshold if higher_better else ratio > 1 + threshold
    better = ratio > 1 + threshold if higher_better else ratio < 1 - threshold
    if significance == "significant":
        return "REGRESSION" if worse else "improvement" if better else "within threshold"
    if worse or better:
        return f"{'worse' if worse else 'better'}?" + (" (too few repeats)" if "few" in significance
                                                      else " (not significant)")
    return "no change"


def _marks(run: Run) -> dict[tuple, str]:
    """Validity marks per cell: a ratio between flagged cells deserves less trust."""
    groups = aggregate(run)
    return {tuple(row[k] for k in KEY): marks(row) for _, row in groups.iterrows()}


def _values(run: Run) -> dict[tuple, pd.DataFrame]:
    ok = run.cells[run.cells["status"] == "ok"] if len(run.cells) else run.cells
    return {key: group for key, group in ok.groupby(KEY)} if len(ok) else {}


def environment_differences(a: dict, b: dict, expected: bool = False) -> list[str]:
    """Differences between two manifests' environments and plans; `expected` selects the
    keys that should differ (commit, load) instead of the ones that should not."""
    out = []
    for part in ("environment", "placement", "timing"):
        fa, fb = flatten(a.get(part) or {}), flatten(b.get(part) or {})
        for key in sorted(set(fa) | set(fb)):
            if fa.get(key) != fb.get(key) and key.endswith(EXPECTED_TO_DIFFER) == expected:
                out.append(f"{part}.{key}: A={fa.get(key)!r} B={fb.get(key)!r}")
    if not expected and a.get("profile") != b.get("profile"):
        out.append(f"profile: A={a.get('profile')!r} B={b.get('profile')!r}")
    return out


def compare_runs(a_dir: str | Path, b_dir: str | Path, threshold: float = DEFAULT_THRESHOLD) -> Comparison:
    a, b = read_run(a_dir), read_run(b_dir)
    va, vb = _values(a), _values(b)
    flags_a, flags_b = _marks(a), _marks(b)
    rows = []
    for key in sorted(set(va) | set(vb)):
        for metric, (column, higher_better, fmt) in METRICS.items():
            xa = va[key][column].dropna().tolist() if key in va else []
            xb = vb[key][column].dropna().tolist() if key in vb else []
            ma = float(pd.Series(xa).median()) if xa else math.nan
            mb = float(pd.Series(xb).median()) if xb else math.nan
            ratio = mb / ma if xa and xb and ma > 0 else math.nan
            p, significance = _test(xa, xb) if xa and xb else (math.nan, "missing in " + ("A" if not xa else "B"))
            rows.append(dict(zip(KEY, key)) | {
                "metric": metric, "a": fmt(ma), "b": fmt(mb), "ratio": ratio, "p": p,
                "significance": significance, "repeats": f"{len(xa)} vs {len(xb)}",
                "flags": f"{flags_a.get(key, '') or '-'} / {flags_b.get(key, '') or '-'}",
                "verdict": _verdict(ratio, higher_better, significance, threshold)})
    frame = pd.DataFrame(rows)
    comparison = Comparison(a.run_id, b.run_id, threshold, frame,
                            environment_differences(a.manifest, b.manifest))
    comparison.notes = environment_differences(a.manifest, b.manifest, expected=True)
    comparison.notes += [f"{r.run_id}: {p}" for r in (a, b) for p in r.problems]
    comparison.changed, comparison.claims_compared = changed_claims(a, b)
    return comparison


def changed_claims(a: Run, b: Run) -> tuple[list[tuple[ClaimResult | None, ClaimResult | None]], int]:
    """Per claim and scope judged in either run: the pairs whose outcomes differ (a scope
    judged in one run only counts as differing), and how many pairs were compared."""
    found_a = {(r.claim, r.scope): r for r in judge(analyse(a))}
    found_b = {(r.claim, r.scope): r for r in judge(analyse(b))}
    keys = list(dict.fromkeys([*found_a, *found_b]))
    changed = [(found_a.get(k), found_b.get(k)) for k in keys
               if _outcome(found_a.get(k)) != _outcome(found_b.get(k))]
    return changed, len(keys)


def _outcome(r: ClaimResult | None) -> Outcome | None:
    return r.outcome if r is not None else None


def _said(r: ClaimResult | None) -> str:
    return "absent" if r is None else f"{r.outcome.value} ({r.strength}, {r.effect_text()})"


def render_claims(comparison: Comparison) -> str:
    """The claims whose outcome differs, with both runs' results; or that none did."""
    if not comparison.changed:
        return (f"Claims: no outcome differs between A and B ({comparison.claims_compared} "
                "claim scopes compared).")
    lines = [f"Claims: {len(comparison.changed)} of {comparison.claims_compared} outcomes differ "
             "between A and B:"]
    for a, b in comparison.changed:
        known = a or b
        assert known is not None
        lines.append(f"- **{known.claim}** ({known.scope or 'all'}): A {_said(a)} → B {_said(b)}")
        lines += [f"  - {side}: {r.text()}" for side, r in (("A", a), ("B", b)) if r is not None]
    return "\n".join(lines)


def format_table(comparison: Comparison) -> list[str]:
    """Markdown table lines, regressions first, then by cell."""
    frame = comparison.rows
    if frame.empty:
        return ["No cell was measured in either run."]
    order = {"REGRESSION": 0, "improvement": 1}
    frame = frame.assign(_o=frame["verdict"].map(lambda v: order.get(v, 2)))
    frame = frame.sort_values(["_o", "workload", "strategy", "cores", "users", "metric"])
    lines = ["| strategy | workload | cores | users | metric | A | B | B/A | p | repeats | flags A / B | verdict |",
             "| --- | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- | --- |"]
    for r in frame.itertuples():
        ratio = f"{r.ratio:.3f}" if math.isfinite(r.ratio) else "—"
        p = f"{r.p:.3f}" if math.isfinite(r.p) else "—"
        lines.append(f"| {r.strategy} | {r.workload} | {r.cores} | {r.users} | {r.metric} | {r.a} | "
                     f"{r.b} | {ratio} | {p} | {r.repeats} | {r.flags} | {r.verdict} |")
    return lines


def render(comparison: Comparison) -> str:
    parts = [f"# sharebench compare: B={comparison.b} against A={comparison.a}",
             f"Ratios are B/A of the medians over ok repeats; significance: two-sided Mann–Whitney U "
             f"on the repeats, α = {ALPHA}; a REGRESSION is significant and beyond "
             f"{comparison.threshold:.0%} in the bad direction (lower req/s, higher p99). Flags are "
             "the report's validity marks of each side (L loadgen_bound, S shared_cpu, N noisy, "
             "E errors, F failed, B busy_machine): a ratio between flagged cells deserves less trust."]
    if comparison.env_warnings:
        parts.append("**WARNING: the runs' environments differ; a ratio may measure the machine, "
                     "not the code:**\n" + "\n".join(f"- {w}" for w in comparison.env_warnings))
    if comparison.notes:
        parts.append("Notes:\n" + "\n".join(f"- {n}" for n in comparison.notes))
    parts.append(render_claims(comparison))
    n = len(comparison.regressions)
    parts.append(f"{n} significant regression{'s' if n != 1 else ''}.")
    parts.append("\n".join(format_table(comparison)))
    return "\n\n".join(parts) + "\n"


def write_comparison(comparison: Comparison, out_dir: str | Path) -> list[Path]:
    """Write compare-<A>.md and compare-<A>.csv into out_dir (B's run directory by default)."""
    out = Path(out_dir)
    md, csv = out / f"compare-{comparison.a}.md", out / f"compare-{comparison.a}.csv"
    md.write_text(render(comparison))
    comparison.rows.to_csv(csv, index=False)
    return [md, csv]


__all__ = ["ALPHA", "Comparison", "changed_claims", "compare_runs", "environment_differences", "render",
           "render_claims", "write_comparison"]
