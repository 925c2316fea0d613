"""Sentences generated from the numbers: the findings behind the rankings, and the headlines.

No sentence here is canned: each is assembled from measured values, and its
interpretation is chosen by thresholds on those values (stated below). A
finding that rests on a flagged cell names the flag.
"""
from __future__ import annotations

import pandas as pd

from results.schema import FLAG_NAMES

from .aggregate import FLAGS, flagged, marks
from .analysis import PYTHON, Analysis, best, clean, correctness, overlap, scaling
from .style import ms, num, percent, ratio, sig

NO_GAIN = 1.15       # a speedup below this is "no gain" from the extra cores
NEAR_LINEAR = 0.80   # parallel efficiency at or above this is "near-linear"


def cores_text(n: object) -> str:
    count = int(n)  # type: ignore[call-overload]  # a count from a table: int, numpy int or float
    return f"{count} core" + ("" if count == 1 else "s")


def flag_note(rows: list[pd.Series], skip: dict[int, set[str]] | None = None) -> str:
    """'rests on flagged cells (2 cores 32 users: noisy)'; flags in `skip` (said once elsewhere) left out."""
    parts = []
    for row in rows:
        names = [FLAG_NAMES[m] for m in marks(row)
                 if FLAG_NAMES[m] not in (skip or {}).get(int(row["cores"]), set())]
        if names:
            parts.append(f"{cores_text(row['cores'])} {row['users']} users: {', '.join(names)}")
    return f"rests on flagged cells ({'; '.join(parts)})" if parts else ""


def common_flags(an: Analysis, workload: str) -> dict[int, set[str]]:
    """Flags every measured strategy carries at a core count of this workload (said once, not per line)."""
    rows = an.at_ref(workload)
    rows = rows[rows["rps"].notna()]
    out: dict[int, set[str]] = {}
    for cores, at in rows.groupby("cores"):
        sets = [{FLAG_NAMES[m] for m in marks(r)} for _, r in at.iterrows()]
        shared = set.intersection(*sets) if len(sets) > 1 else set()
        if shared:
            out[int(cores)] = shared
    return out


def _why(model: str, sc: dict, locked: bool = True) -> str:
    """The interpretation of a speedup: chosen by the flags, the CPU used, the model, thresholds."""
    speedup, efficiency, high = sc["speedup"], sc["efficiency"], sc["high"]
    if high["loadgen_bound"]:
        return (f"the load generator was the limit at {cores_text(high['cores'])}, "
                "so this speedup is a floor")
    shared = " (that core is shared with the load generator)" if high["shared_cpu"] else ""
    if speedup < 0.95:
        return "slower with more cores" + shared
    if speedup < NO_GAIN:
        busy = high["server_cpu"]
        if pd.notna(busy) and busy < 0.8:
            return (f"the server kept only {sig(busy)} cores busy: it waited rather than computed, "
                    "so more cores cannot help")
        if not locked:  # no interpreter lock (declared): what serialises is the discipline itself
            return "no interpreter lock, so the sharing discipline itself serialised the work" + shared
        if model == "threads":
            return "threads in one CPython process share one GIL, so the extra core adds no throughput"
        if model == "async":
            return "one event loop runs on one core"
        return "separate processes, yet no gain from the extra core" + shared
    if efficiency > 1.05:  # more than linear: the baseline, not the scaling, is suspect
        return (f"above linear ({percent(efficiency)} parallel efficiency): suspect noise or a "
                "handicap at the fewer cores")
    if efficiency >= NEAR_LINEAR:
        return f"near-linear ({percent(efficiency)} parallel efficiency)"
    return f"{percent(efficiency)} parallel efficiency" + shared


def is_io(an: Analysis, workload: str) -> bool:
    """The `io` workload, or any whose server waits (io_ms > 0) rather than computes."""
    if workload == "io":
        return True
    rows = an.run.cells[an.run.cells["workload"] == workload]
    return "io_ms" in rows and bool((rows["io_ms"].fillna(0) > 0).any())


def strategy_finding(an: Analysis, workload: str, strategy: str,
                     skip: dict[int, set[str]] | None = None) -> str:
    """One line for one strategy on one workload, with its numbers."""
    mine = an.at_ref(workload)
    mine = mine[mine["strategy"] == strategy]
    failed = [f"{cores_text(r['cores'])} failed ({r['reasons'] or 'no reason recorded'})"
              for _, r in mine.iterrows() if pd.isna(r["rps"])]
    top = best(an, workload, strategy)
    if top is None:
        return f"{strategy}: no result at {an.ref_users.get(workload)} users; " + ("; ".join(failed) or "no record")
    parts = [f"{strategy}: {num(top['rps'])} req/s at {cores_text(top['cores'])}, "
             f"p99 {ms(top['p99_us'])} ms, {num(top['rps_per_cpu_s'])} req per server CPU-s"]
    used = [top]
    sc = scaling(an, workload, strategy)
    if sc is not None:
        low, high = sc["low"], sc["high"]
        used = [low, high]
        parts.append(f"{ratio(sc['speedup'])} from {int(low['cores'])} to {cores_text(high['cores'])} "
                     f"({num(low['rps'])} → {num(high['rps'])} req/s); {_why(an.model[strategy], sc, an.locked(strategy))}")
    elif top["loadgen_bound"]:
        parts.append("the load generator was the limit, so req/s is a floor")
    parts += failed
    note = flag_note(used, skip)
    if note:
        parts.append(note)
    return "; ".join(parts)


def ranking(an: Analysis, workload: str,
            language: str = PYTHON) -> tuple[list[pd.Series], list[pd.Series]]:
    """(ranked safe strategies' best groups, fastest first; reference rows: stateless, unsafe),
    among the strategies of one language: Python's are ranked among themselves, another
    language's form its own reference group. Clean groups rank before flagged ones: a
    flagged figure never wins over a clean one."""
    ranked: list[pd.Series] = []
    reference: list[pd.Series] = []
    for strategy in an.order:
        if an.lang(strategy) != language:
            continue
        top = best(an, workload, strategy)
        if top is None:
            continue
        (ranked if an.ranked(strategy) else reference).append(top)
    ranked.sort(key=lambda r: (not clean(r), -r["rps"]))
    return ranked, reference


def tied_with(ranked: list[pd.Series]) -> list[str]:
    """The strategies whose repeats overlap the leader's: no measurable difference from it."""
    if not ranked:
        return []
    top = ranked[0]
    return [r["strategy"] for r in ranked[1:] if clean(r) == clean(top) and overlap(top, r)]


def spread_text(an: Analysis, workload: str, language: str = PYTHON) -> str:
    """Server-bound throughput across one language's ranked strategies at one core: the
    spread the disciplines make (loadgen-bound groups left out: their req/s is the generator's)."""
    rows = an.at_ref(workload)
    rows = rows[rows["strategy"].map(lambda s: an.lang(s) == language)]
    rows = rows[(rows["cores"] == rows["cores"].min()) & rows["rps"].notna()
                & rows["strategy"].map(an.ranked)]
    rows = rows[[clean(r) for _, r in rows.iterrows()]]
    if len(rows) < 2:
        return ""
    low, high = rows["rps"].min(), rows["rps"].max()
    return f"spread {num(low)}–{num(high)} ({ratio(high / low)}) at {cores_text(rows['cores'].min())}"


def racy_text(an: Analysis) -> str:
    """'global-lock-racy lost 61% of 9,000 increments with its server switching threads every 1 µs'."""
    parts = []
    for name, entry in an.racy.items():
        acked, lost = entry.get("acked"), entry.get("lost")
        share = (f" ({percent(lost / acked, 1)})" if isinstance(acked, (int, float)) and acked
                 and isinstance(lost, (int, float)) else "")
        interval = entry.get("switch_interval_s")
        every = f"every {float(interval) * 1e6:g} µs" if interval else "very often"
        torn = (f" and {num(entry['torn'])} of {num(entry['snapshots'])} /stats snapshots saw "
                "half a transfer" if entry.get("torn") and entry.get("snapshots") else "")
        parts.append(f"{name} lost {num(lost)} of {num(acked)} acknowledged increments{share}"
                     f"{torn} with its server switching threads {every}")
    return "; ".join(parts)


def correctness_headline(an: Analysis) -> tuple[str, str]:
    """(kind, sentence): a safe strategy that races under preemption comes first, then one
    that lost updates in its cells, as alerts."""
    table = correctness(an)
    racy = ""
    if an.racy:
        racy = (f"RACES UNDER PREEMPTION: {racy_text(an)}. Declared safe, it is racy and not "
                "ranked, whatever its benchmark cells show. ")
    if table.empty:
        return ("alert", racy + "No cell records.") if racy else \
            ("note", "No cell records: nothing to check for lost updates.")
    safe = table[(table["safety"] == "safe")]
    broken = safe[safe["lost"] > 0]
    unsafe = table[table["safety"] == "unsafe"]
    if not broken.empty:
        names = ", ".join(f"{r.strategy} lost {num(r.lost)} of {num(r.acked)} acknowledged increments"
                          for r in broken.itertuples())
        return "alert", (f"{racy}A SAFE STRATEGY LOST UPDATES: {names}. Its numbers measure a broken "
                         "implementation until this is fixed.")
    checked = int(safe["checked"].sum())
    text = f"Every safe strategy kept every update (checked in {checked} cell{'s' if checked != 1 else ''}, 0 lost)"
    if racy:
        text = (f"{racy}In the benchmark cells every safe strategy kept every update (checked in "
                f"{checked} cell{'s' if checked != 1 else ''}, 0 lost): the default switch "
                "interval hid the race")
    for r in unsafe.itertuples():
        if r.lost > 0:
            text += (f"; {r.strategy} (unsynchronised on purpose) lost {num(r.lost)} of {num(r.acked)} "
                     f"acknowledged increments ({percent(r.lost_share, 1)}), as it should")
        else:
            text += (f"; {r.strategy} (unsynchronised on purpose) lost none in {r.checked} cells: "
                     "the race went unseen")
    return ("alert" if racy else "ok"), text + "."


def flag_counts(an: Analysis) -> dict[str, int]:
    """How many groups carry each mark."""
    counts = {flag.mark: 0 for flag in FLAGS}
    for _, row in an.groups.iterrows():
        for mark in marks(row):
            counts[mark] += 1
    return counts


def validity_headline(an: Analysis) -> str:
    groups = an.groups
    n_flagged = sum(flagged(r) for _, r in groups.iterrows())
    counts = ", ".join(f"{FLAG_NAMES[m]} {n}" for m, n in flag_counts(an).items() if n)
    text = f"{n_flagged} of {len(groups)} measured cells are flagged" + (f" ({counts})" if counts else "")
    extra = []
    if len(an.run.missing):
        extra.append(f"{len(an.run.missing)} planned cell(s) without a readable record")
    unreadable = [p for p in an.run.problems if p.startswith("skipped")]
    if unreadable:
        extra.append(f"{len(unreadable)} unreadable record(s) skipped")
    if extra:
        text += "; " + ", ".join(extra)
    return text + "."


def mark_suffix(row: pd.Series) -> str:
    """' [LS]' for a flagged group, '' for a clean one: for marks inside a sentence."""
    return f" [{marks(row)}]" if flagged(row) else ""
