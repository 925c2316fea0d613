"""The Rust articles' claims (../shared/seeds), each answered from this run or marked
"not measured". The claims are stated here in one line each; the answers are
generated from the run's numbers like every other finding.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from results import ids

from . import connections, gc, openloop
from .adapters import async_judgement, gc_judgement
from .aggregate import flagged, marks
from .analysis import PYTHON, Analysis, best, clean, correctness, env_value, overlap, scaling, stress_races
from .findings import cores_text, is_io, mark_suffix, ranking
from .gc_judgement import Side, TailJudgement, compare_tails
from .judgement import STRENGTHS, Judgement, not_judged, relative_range, weakest, widest
from .style import ms, num, percent, ratio, sig, slug


@dataclass
class Claim:
    id: str
    claim: str
    source: str
    verdict: str            # one short word or phrase: supported, contradicted, not measured, ...
    answer: str             # the sentence with numbers
    evidence: list[str] = field(default_factory=list)
    section: str = ""       # where the numbers are shown
    # What the verdict rests on (report/judgement.py), one per part of the claim (e.g.
    # CPython and Rust); the verdict is written from them.
    judgements: list[Judgement] = field(default_factory=list)
    figure: str = ""        # the figure file its numbers are drawn in, when there is one
    # The async claim's own record of the connection sweep (report/connections.py): which
    # lines held at each count, costs per connection; `judgements` is read from it.
    sweep: connections.SweepJudgement | None = None
    # The GC claim's comparisons of tails per live heap (report/gc_judgement.py,
    # TailJudgement.to_dict()); `judgements` is read from it.
    tails: dict | None = None

    def judge(self, *judgements: Judgement) -> None:
        """Set the judgements and the verdict written from them: one judgement's verdict,
        or each labelled part's ("CPython: …; Rust: …")."""
        self.judgements = list(judgements)
        if len(judgements) == 1:
            self.verdict = judgements[0].verdict
        elif judgements:
            self.verdict = "; ".join(f"{j.label}: {j.verdict}" if j.label else j.verdict
                                     for j in judgements)

    @property
    def strength(self) -> str:
        return weakest(self.judgements)


SOURCES = {"own": "“Understanding Rust Ownership and Borrowing for Server Concurrency” (seeds/000)",
           "cacm": "“Leveraging Rust in High-Performance Web Services”, CACM (seeds/003)"}


def _group_range(row) -> float:
    """The relative min–max range of one group's req/s repeats (NaN with one repeat)."""
    return relative_range(row.get("rps_min"), row.get("rps_max"), row.get("rps"), row.get("ok"))


def _speedup_parts(sc: dict) -> tuple[float, int]:
    """(spread, repeats) behind a speedup: its two core counts' groups."""
    rows = (sc["low"], sc["high"])
    return widest(_group_range(r) for r in rows), int(min(r["ok"] for r in rows))


def claim_discipline(an: Analysis) -> Claim:
    claim = Claim("discipline", "The sharing discipline (ownership, locks, message passing) "
                  "decides how a server uses multiple cores.",
                  f"{SOURCES['own']}; {SOURCES['cacm']}", "not measured", "", section="scaling")
    cpython, answer = _discipline_cpython(an, claim)
    references = _discipline_reference(an, claim)
    claim.judge(cpython, *[j for j, _ in references])
    claim.answer = " ".join([f"CPython: {answer}" if references else answer]
                            + [text for _, text in references])
    if workload := next((w for w in an.workloads if an.at_ref(w)["cores"].nunique() > 1), None):
        claim.figure = f"fig-scaling-{slug(workload)}.png"
    return claim


def _discipline_cpython(an: Analysis, claim: Claim) -> tuple[Judgement, str]:
    """CPython's part: do its process variants gain from more cores where its in-process
    disciplines (threads, async: one GIL) do not? (judgement, sentence)."""
    speed: dict[str, list[tuple[str, str, float, dict]]] = {}
    flagged_high = False
    left_out = 0
    for workload in an.workloads:
        for strategy in an.order:
            sc = scaling(an, workload, strategy)
            # CPython's answer: the strategies under an interpreter lock (declared).
            if sc is None or an.safety[strategy] == "unsafe" or not an.locked(strategy):
                continue
            flagged_high |= flagged(sc["high"])
            usable = sc["measurable"] and sc["clean"]
            left_out += not sc["clean"]
            claim.evidence.append(f"{workload}: {strategy} ({an.model[strategy]}) {ratio(sc['speedup'])} "
                                  f"from {int(sc['low']['cores'])} to {cores_text(sc['high']['cores'])}"
                                  + (f" [{marks(sc['high'])}]" if flagged(sc["high"]) else "")
                                  + ("" if usable else " — not counted: " + (
                                      "flagged" if not sc["clean"] else "repeats overlap")))
            # A speedup whose repeats overlap is "no change": 1.0 for the verdict.
            speed.setdefault(an.model[strategy], []).append(
                (workload, strategy, sc["speedup"] if usable else 1.0, sc))
    what = "speedup from the fewest to the most cores"
    if not speed:
        return (not_judged("not measured", what, "CPython"),
                "Not measured in this run: every strategy was measured at one core count only.")
    in_process = [v for model in ("threads", "async") for v in speed.get(model, [])]
    procs = speed.get("processes", [])

    def top(entries):  # the largest counted speedup; among none counted, the largest measured
        return max(entries, key=lambda v: (v[2], v[3]["speedup"])) if entries else None
    top_in, top_proc = top(in_process), top(procs)
    top_value = top_in[2] if top_in else float("nan")
    if top_proc is not None and top_in is not None:
        decides = top_proc[2] > 1.0 and top_proc[2] - top_value > 0.2
        verdict = "not in CPython: the execution model decides" if decides else "no measurable difference"
        # One comparison per workload (its best process variant against its best in-process
        # discipline, or the best anywhere when it measured none at two core counts): the
        # firmest of those that agree with the verdict carries it.
        found = []
        for workload in dict.fromkeys(v[0] for v in procs):
            proc = top([v for v in procs if v[0] == workload])
            rival = top([v for v in in_process if v[0] == workload]) or top_in
            differs = proc[2] > 1.0 and proc[2] - rival[2] > 0.2
            found.append(_speedups_judgement(verdict, what, proc, rival, differs, left_out))
        agree = [j for j in found if j.differs == decides] or found
        judgement = max(agree, key=lambda j: (-STRENGTHS.index(j.strength), _finite(j.separation)))
        if decides:
            answer = (f"No in-process discipline gains measurably beyond {ratio(top_value)} with more "
                      f"cores, whatever it shares and how; the process variant {top_proc[1]} "
                      f"reaches {ratio(top_proc[2])} ({top_proc[0]}). In CPython the GIL, "
                      "and so the choice of threads vs processes, decides multicore behaviour; "
                      "the discipline decides the single-core rate.")
        else:
            answer = (f"Neither in-process disciplines (≤ {ratio(top_value)}) nor process variants "
                      f"(≤ {ratio(top_proc[2])}) gained measurably from more cores in this run "
                      "(speedups whose repeats overlap count as none).")
    else:
        only = top_in if top_in is not None else top_proc
        assert only is not None
        spread, repeats = _speedup_parts(only[3])
        judgement = Judgement("not in CPython: the GIL decides",
                              f"the best in-process {what} against none (1.00×)",
                              f"speedup {_shown(only)}", only[2], spread, repeats,
                              False, left_out, "CPython")
        answer = (f"Every discipline measured runs in one CPython process and none gains "
                  f"measurably more than {ratio(top_value)} from more cores: the GIL serialises "
                  "them all, whatever the discipline. No process variant was in this run to "
                  "show the alternative.")
    if flagged_high:
        answer += (" The higher-core cells are flagged (see Validity), which depresses "
                   "their throughput; the conclusion holds only as far as those flags allow.")
    return judgement, answer


def _disciplines_judgement(verdict: str, workload: str, top: tuple, low: tuple, apart: bool,
                           left_out: int, label: str) -> Judgement:
    """The fastest discipline's throughput against the slowest's at the most cores."""
    high_top, high_low = top[1]["high"], low[1]["high"]
    return Judgement(verdict, f"the fastest and slowest discipline's throughput at the most cores "
                     f"({workload}, {cores_text(high_top['cores'])})",
                     f"{ratio(high_top['rps'] / high_low['rps'])} ({top[0]} vs {low[0]})",
                     high_top["rps"] / high_low["rps"],
                     widest(_group_range(r) for r in (high_top, high_low)),
                     int(min(high_top["ok"], high_low["ok"])), apart, left_out, label)


def _speedups_judgement(verdict: str, what: str, proc: tuple, rival: tuple, differs: bool,
                        left_out: int) -> Judgement:
    """A process variant's speedup against an in-process discipline's (entries of
    _discipline_cpython: workload, strategy, counted speedup, scaling, ...)."""
    spreads, repeats = zip(*(_speedup_parts(v[3]) for v in (proc, rival)))
    where = proc[0] if proc[0] == rival[0] else f"{proc[0]}; {rival[1]} on {rival[0]}"
    return Judgement(verdict, f"the best process variant's {what} against the best in-process "
                     f"discipline's ({where}, {int(proc[3]['low']['cores'])}→"
                     f"{cores_text(proc[3]['high']['cores'])})",
                     f"speedup {_shown(proc)} vs {_shown(rival)}", proc[2] / rival[2], widest(spreads),
                     min(repeats), differs, left_out, "CPython")


def _finite(value: float) -> float:
    return value if value == value else -1.0  # NaN (spread unknown) sorts last


def _shown(entry: tuple) -> str:
    """'1.75× global-lock-mp', with '(not counted)' when flagged or within the repeats."""
    counted = entry[2] == entry[3]["speedup"] or (entry[3]["measurable"] and entry[3]["clean"])
    return f"{ratio(entry[3]['speedup'])} {entry[1]}" + ("" if counted else " (not counted)")


def _discipline_reference(an: Analysis, claim: Claim) -> list[tuple[Judgement, str]]:
    """The claim where no interpreter lock stands in the way (strategies that declare none,
    the Rust ones here): on each workload, do the disciplines' throughput at the most cores
    differ measurably? One (judgement, sentence) per reference language with two core counts
    measured."""
    out = []
    for language in an.languages()[1:]:
        name = language.capitalize()
        parts = []
        compared: list[tuple[str, tuple, tuple, bool]] = []  # (workload, top, low, apart)
        for workload in an.workloads:
            found = []
            for strategy in an.order:
                if (an.lang(strategy) != language or an.locked(strategy)
                        or not an.ranked(strategy)):
                    continue
                sc = scaling(an, workload, strategy)
                if sc is None:
                    continue
                usable = sc["measurable"] and sc["clean"]
                found.append((strategy, sc, usable))
                claim.evidence.append(
                    f"{workload}: {strategy} ({name}, {an.model[strategy]}) "
                    f"{num(sc['low']['rps'])} → {num(sc['high']['rps'])} req/s, {ratio(sc['speedup'])} "
                    f"from {int(sc['low']['cores'])} to {cores_text(sc['high']['cores'])}"
                    + (f" [{marks(sc['high'])}]" if flagged(sc["high"]) else "")
                    + ("" if usable else " — speedup not counted: "
                       + ("flagged" if not sc["clean"] else "repeats overlap")))
            if len(found) < 2:
                continue
            # The fastest and slowest discipline at the most cores: apart only when their
            # repeats do not overlap and both cells are clean.
            top = max(found, key=lambda f: f[1]["high"]["rps"])
            low = min(found, key=lambda f: f[1]["high"]["rps"])
            apart = (not overlap(top[1]["high"], low[1]["high"])
                     and top[1]["clean"] and low[1]["clean"])
            compared.append((workload, top, low, apart))
            speeds = ", ".join(f"{s} {ratio(sc['speedup']) if ok else 'no measurable speedup'}"
                               for s, sc, ok in found)
            cores = cores_text(top[1]["high"]["cores"])
            if apart:
                parts.append(f"on {workload} at {cores} {top[0]} {num(top[1]['high']['rps'])} req/s "
                             f"against {low[0]}'s {num(low[1]['high']['rps'])} "
                             f"({ratio(top[1]['high']['rps'] / low[1]['high']['rps'])}); speedups {speeds}")
            else:
                parts.append(f"on {workload} at {cores} no measurable difference between "
                             f"{top[0]} and {low[0]} (repeats overlap); speedups {speeds}")
        if not compared:
            continue
        # The carrying comparison: the firmest of the workloads that agree with the verdict
        # (any that decided, else all). The workloads are in the answer: a verdict names the
        # finding, so two runs that find the same thing say the same words.
        decided = any(c[3] for c in compared)
        verdict = "the discipline decides" if decided else "no measurable difference between disciplines"
        left_out = sum(not (c[1][1]["clean"] and c[2][1]["clean"]) for c in compared)
        judged = [_disciplines_judgement(verdict, workload, top, low, apart, left_out, name)
                  for workload, top, low, apart in compared if apart == decided]
        judgement = max(judged, key=lambda j: (-STRENGTHS.index(j.strength), _finite(j.separation)))
        out.append((judgement, f"{name} (no interpreter lock, so the discipline should decide): "
                    + "; ".join(parts) + "."))
    return out


def claim_races(an: Analysis) -> Claim:
    """Both sides: races seen in the benchmark cells (the default switch interval) and under
    the preemption stress check (manifest `races`, the server switching threads every 1 µs)."""
    claim = Claim("races", "Data races are the cost of unsynchronised sharing; Rust rejects them at "
                  "compile time.", f"{SOURCES['own']}; {SOURCES['cacm']}", "not measured", "",
                  section="correctness")
    table = correctness(an)
    unsafe = table[table["safety"] == "unsafe"]
    safe = table[table["safety"] == "safe"]
    stress = stress_races(an.run.manifest)
    at_default = not unsafe.empty and unsafe["checked"].sum() > 0
    if not at_default and not stress:
        claim.answer = ("Not measured in this run: no unsafe strategy with a correctness check ran, "
                        "and no preemption stress check was recorded.")
        claim.judge(not_judged("not measured", "updates lost by unsynchronised sharing"))
        return claim
    claim.evidence = [f"{r.strategy}, benchmark cells: invariant held in {r.held} of {r.checked} "
                      f"cells, lost {num(r.lost)} of {num(r.acked)} acknowledged increments "
                      f"({percent(r.lost_share, 1)})"
                      for r in table[table["safety"] != "no-state"].itertuples()]
    claim.evidence += [f"{name}, stress check: " + _stress_text(entry) for name, entry in stress.items()]
    gil = ("CPython's GIL makes single bytecodes atomic, not a read-modify-write: a thread that "
           "releases the GIL inside its critical section (any I/O, a log line) lets another thread "
           f"interleave.{_unsafe_rules(an, unsafe)} With a pure-CPU critical section CPython "
           f"switches threads only every switch interval ({_switch_interval(an)}), so the GIL "
           "would hide the race, not remove it.")
    parts = []
    lost = unsafe["lost"].sum() if at_default else 0
    if at_default:
        acked = unsafe["acked"].sum()
        bad_cells = int((unsafe["checked"] - unsafe["held"]).sum())
        if lost > 0:
            parts.append(f"At the default switch interval, in the benchmark cells, unsynchronised "
                         f"sharing lost {num(lost)} of {num(acked)} acknowledged increments "
                         f"({percent(lost / acked if acked else float('nan'), 1)}, {bad_cells} "
                         f"cell{'s' if bad_cells != 1 else ''} broke the invariant); the safe "
                         f"strategies lost {num(safe['lost'].sum())}.")
        else:
            parts.append(f"At the default switch interval the unsafe strategy lost no update in "
                         f"{int(unsafe['checked'].sum())} checked cells: scheduling luck, not safety.")
    raced = [n for n, e in stress.items() if e.get("races") is True]
    judged = [n for n, e in stress.items() if not e.get("error")]
    if stress:
        unjudged = [n for n in stress if n not in judged]
        text = (f"Under the preemption stress check (each server's switch interval "
                f"{_interval_us(stress)}), {len(raced)} of {len(judged)} strategies judged lost "
                "updates" + (": " + "; ".join(f"{n} ({_stress_text(stress[n])})" for n in raced)
                             if raced else "") + ".")
        if an.racy:
            text += (f" Declared safe yet racy: {', '.join(an.racy)} — reported as racing under "
                     "preemption and never ranked.")
        if unjudged:
            text += f" Not judged (the check failed): {', '.join(unjudged)}."
        parts.append(text)
    saw = lost > 0 or bool(raced)
    if not saw and not at_default:
        verdict = "not observed"  # no unsafe strategy ran: nothing was expected to race
    elif not saw:
        verdict = "not observed: the GIL hid the race"
    elif an.racy:
        verdict = "confirmed, and a strategy declared safe races under preemption"
    elif at_default and safe["lost"].sum() > 0:
        verdict = "confirmed, and a safe strategy failed too"
    elif lost == 0:
        verdict = "confirmed under preemption: the default switch interval hid it"
    else:
        verdict = "confirmed"
    claim.judge(_races_judgement(verdict, unsafe if at_default else unsafe.iloc[0:0], stress, raced,
                                 judged))
    if saw:
        parts.append("In Python the race is a runtime bug the harness has to catch, where Rust's "
                     "borrow checker refuses to compile it.")
    claim.answer = " ".join(parts + [gil])
    return claim


def _races_judgement(verdict: str, unsafe, stress: dict, raced: list[str],
                     judged: list[str]) -> Judgement:
    """Lost updates are an exact count: one proves the race. The carrying number is the share
    lost where it was seen: the benchmark cells' when they lost any, else the stress check's."""
    checks = int(unsafe["checked"].sum()) + len(judged)
    lost, acked = float(unsafe["lost"].sum()), float(unsafe["acked"].sum())
    where = "in the benchmark cells (default switch interval)"
    if lost == 0 and raced:
        lost = float(sum(stress[n].get("lost") or 0 for n in raced))
        acked = float(sum(stress[n].get("acked") or 0 for n in raced))
        where = "under the preemption stress check"
    share = lost / acked if acked else (0.0 if checks else float("nan"))
    return Judgement(verdict, f"updates lost by unsynchronised sharing {where}, in "
                     f"{int(unsafe['checked'].sum())} checked cells and {len(judged)} stress checks",
                     f"lost {num(lost)} of {num(acked)} ({percent(share, 1)})", share, 0.0, checks,
                     lost > 0, ratio=False, exact=True)


def _interval_us(stress: dict) -> str:
    values = {e.get("switch_interval_s") for e in stress.values() if e.get("switch_interval_s")}
    return ", ".join(f"{float(v) * 1e6:g} µs" for v in sorted(values)) if values else "very short"


def _stress_text(entry: dict) -> str:
    if entry.get("error"):
        return f"not judged: {str(entry['error']).splitlines()[0][:120]}"
    acked, lost = entry.get("acked"), entry.get("lost")
    share = (f" ({percent(lost / acked, 1)})" if isinstance(acked, (int, float)) and acked
             and isinstance(lost, (int, float)) else "")
    torn = (f"; {num(entry['torn'])} of {num(entry['snapshots'])} /stats snapshots saw half a "
            "transfer" if entry.get("torn") and entry.get("snapshots") else "")
    return (f"{'races' if entry.get('races') else 'no race'}: lost {num(lost)} of {num(acked)} "
            f"acknowledged increments{share}{torn}")


def _unsafe_rules(an: Analysis, unsafe) -> str:
    """The unsafe strategies' own rule, as the manifest recorded it (servers' @strategy rule)."""
    declared = an.run.manifest.get("strategies") or {}
    rules = [f"{name}: “{(declared.get(name) or {}).get('rule')}”" for name in unsafe["strategy"]
             if isinstance(declared, dict) and (declared.get(name) or {}).get("rule")]
    return f" The run's unsafe strategy states its rule — {'; '.join(rules)}." if rules else ""


def _switch_interval(an: Analysis) -> str:
    value = env_value(an.run.manifest, "switch_interval", "switchinterval", "getswitchinterval")
    return f"{float(value) * 1000:g} ms in this run" if value is not None else "5 ms by default"


def io_workload(an: Analysis) -> str | None:
    candidates = [w for w in an.workloads if is_io(an, w)]
    varied = [w for w in candidates if an.groups[an.groups["workload"] == w]["users"].nunique() > 1]
    for pool in (varied, candidates):
        if "io" in pool:
            return "io"
        if pool:
            return pool[0]
    return None


def _async_by_connections(an: Analysis, claim: Claim) -> bool:
    """Judge the claim on the connection sweep (open loop, many connections held open, one
    modest total rate), when the run has one: True if it did. The judgement is kept as
    data (connections.SweepJudgement, in ``claim.sweep``); the sentence is written from it."""
    sweep = openloop.sweep_rows(openloop.groups(an.run))
    if sweep.empty:
        return False
    slo = openloop.slo_ms(an.run, sweep["workload"].iloc[0])
    present = set(sweep["strategy"])
    python = [s for s in an.order if an.ranked(s) and an.lang(s) == PYTHON and s in present]
    found = connections.judge(sweep, slo,
                              [s for s in python if an.model.get(s) == "async"],
                              [s for s in python if an.model.get(s) == "threads"])
    if found is None:
        return False
    claim.sweep = found
    sweep = sweep.assign(label=sweep.apply(connections.label, axis=1))
    for users in sorted(sweep["users"].unique()):
        here = sweep[sweep["users"] == users]
        claim.evidence.append(f"{found.workload}, {num(users)} connections at {found.rate} req/s: "
                              + "; ".join(_sweep_line(r) for _, r in here.iterrows()))
    claim.verdict = found.verdict
    claim.answer = connections_sentence(found)
    return True


def _sweep_line(row) -> str:
    if not row["usable"]:
        why = "the load generator fell behind" if row["lagging"] else row["reasons"]
        return f"{row['label']} not measured ({why})"
    cap = " — over its --workers thread cap" if openloop.capped(row) else ""
    return (f"{row['label']} {num(row['rps'])} of {num(row['offered_rps'])} req/s answered, "
            f"p99 {ms(row['p99_us'])} ms, {num(row['errors'])} errors, "
            f"{num(row['rss_mb'], 1)} MiB, {num(row['server_threads'])} threads, "
            f"{num(row['server_fds'])} fds{cap}")


def connections_sentence(j: connections.SweepJudgement) -> str:
    """The claim's answer, written from its judgement alone."""
    at = j.decisive
    held = j.held.get(at, [])
    failed = j.failed.get(at, {})
    parts = [f"{name} held" for name in j.asyncs + j.threads if name in held]
    parts += [f"{name} did not ({failed[name]})" for name in j.asyncs + j.threads if name in failed]
    text = (f"At {num(at)} concurrent connections held open ({j.workload}, open loop, {j.rate} "
            f"req/s in total, paced by {j.engine}, p99 SLO {j.slo_ms:g} ms): " + "; ".join(parts)
            + f". {j.why[:1].upper()}{j.why[1:]}.")
    per = [c for c in j.costs if not math.isnan(c.kib_per_connection)]
    if per:
        text += (" Each open connection costs " + ", ".join(
            f"{c.label} {c.kib_per_connection:.1f} KiB and {c.threads_per_connection:.2f} threads"
            for c in per) + " (slopes of peak RSS and threads over "
                 + ", ".join(num(u) for u in sorted({u for c in per for u in c.fitted}))
                 + " connections, where every connection was served).")
    framework = next((s for s in reversed(j.splits) if not math.isnan(s.framework)), None)
    model = next((s for s in reversed(j.splits) if not math.isnan(s.model)), None)
    if framework is not None:
        text += (f" The HTTP framework's cost: at {num(framework.users)} connections aiohttp "
                 f"(async) spent {ratio(framework.framework)} the server CPU per request of "
                 "async-raw (the same loop and store on the threads' own parser).")
    if model is not None:
        text += (f" The execution model's: at {num(model.users)} connections async-raw spent "
                 f"{ratio(model.model)} that of {model.thread} (the same parser, a thread per "
                 "connection).")
    if at < 1000:
        text += f" The article speaks of thousands of connections; this was judged at {num(at)}."
    if j.repeats < 2:
        text += " One repeat per cell: the spread is not measured."
    if j.left_out:
        text += f" Left out: {'; '.join(j.left_out)}."
    return text + " See the connection sweep under Latency."


def claim_async(an: Analysis) -> Claim:
    claim = Claim("async", "Async/await serves thousands of concurrent connections without the "
                  "overhead of OS threads.", SOURCES["own"], "not measured", "", section="latency")
    if _async_by_connections(an, claim):
        return claim
    workload = io_workload(an)
    asyncs = [s for s in an.order if an.model[s] == "async" and an.ranked(s) and an.lang(s) == PYTHON]
    threads = [s for s in an.order if an.model[s] == "threads" and an.ranked(s) and an.lang(s) == PYTHON]
    if workload is None or not asyncs or not threads:
        claim.answer = ("Not measured in this run: it needs an I/O-bound workload (`io`) with both an "
                        "async and a thread strategy.")
        return claim
    g = an.groups[(an.groups["workload"] == workload) & an.groups["rps"].notna()]
    users = int(g["users"].max())
    at = g[g["users"] == users]
    verdicts = []
    for cores in sorted(at["cores"].unique()):
        here = at[at["cores"] == cores]
        a = here[here["strategy"].isin(asyncs)].sort_values("rps").tail(1)
        t = here[here["strategy"].isin(threads)].sort_values("rps").tail(1)
        if a.empty or t.empty:
            continue
        a, t = a.iloc[0], t.iloc[0]
        # When Locust was the limit on either side, throughput compares load generators,
        # not servers: judge the server's cost instead (requests per server CPU-second).
        bound = bool(a.get("loadgen_bound")) or bool(t.get("loadgen_bound"))
        key = "rps_per_cpu_s" if bound else "rps"
        tput, mem = a[key] / t[key], a["rss_mb"] / t["rss_mb"]
        claim.evidence.append(
            f"{workload}, {users} users, {cores_text(cores)}: {a['strategy']} {num(a['rps'])} req/s "
            f"({num(a['rps_per_cpu_s'])} per server CPU-s), p99 {ms(a['p99_us'])} ms, "
            f"{num(a['rss_mb'], 1)} MiB{mark_suffix(a)} vs best thread strategy {t['strategy']} "
            f"{num(t['rps'])} req/s ({num(t['rps_per_cpu_s'])} per server CPU-s), p99 "
            f"{ms(t['p99_us'])} ms, {num(t['rss_mb'], 1)} MiB{mark_suffix(t)} → "
            f"{'efficiency' if bound else 'throughput'} {ratio(tput)}, memory {ratio(mem)}")
        verdicts.append((cores, tput, mem, flagged(a) or flagged(t), bound))
    if not verdicts:
        claim.answer = f"Not measured in this run: no async and thread cell at {users} users side by side."
        return claim
    # Judge on the cleanest core count: fewest flags, then fewest cores.
    cores, tput, mem, dirty, bound = sorted(verdicts, key=lambda v: (v[3], v[0]))[0]
    if tput >= 0.95 and mem <= 1.0:
        claim.verdict = "supported"
    elif tput < 0.9 and mem >= 1.0:
        claim.verdict = "contradicted"
    else:
        claim.verdict = "mixed"
    what = ("requests per server CPU-second (the load generator was the limit, so "
            "throughput cannot decide)" if bound else "the throughput")
    claim.answer = (f"At {users} concurrent users on the {workload} workload ({cores_text(cores)}), "
                    f"async delivered {ratio(tput)} {what} of the best thread strategy with "
                    f"{ratio(mem)} its memory."
                    + (" These cells are flagged (see Validity)." if dirty else "")
                    + ("" if g["users"].nunique() > 1 else " Users were not varied in this run."))
    if users < 1000:
        claim.answer += f" The article speaks of thousands of connections; this run went to {users}."
    # A property of the harness, not of this run's numbers, but it bounds what they mean.
    claim.answer += (" Caveat: async strategies speak HTTP through aiohttp, thread strategies through "
                     "sharebench's own minimal parser, so part of any gap is the HTTP layer, not the "
                     "concurrency model (calibration.csv, when present, shows each server's peak under wrk).")
    return claim


def claim_gc(an: Analysis) -> Claim:
    """The tail with the collector on against the tail without one (the same strategy with
    it off, else a strategy with no collector), at each live-heap size the run measured,
    at one offered load; frozen and Rust beside. Judged from the cells whose servers
    reported their collector (report/gc.py); the judgement is kept as data."""
    claim = Claim("gc", "Garbage collection causes stop-the-world latency spikes; without a GC "
                  "latency is predictable.", f"{SOURCES['own']}; {SOURCES['cacm']}",
                  "not measured in this run", "", section="latency")
    thresholds = env_value(an.run.manifest, "gc_thresholds", "gc_threshold")
    refcount = ("CPython frees most objects at once by reference counting; its cyclic collector "
                "runs when allocation counts pass its thresholds"
                + (f" ({thresholds} in this run)" if thresholds is not None else "")
                + ", and a full collection walks every object it tracks.")
    frame = gc.cells(an.run)
    foreign = {s for s in an.order if not an.collected(s)}  # declared: no collector
    rust = gc.no_collector(an.run, foreign)
    sets = gc.comparable(gc.groups(frame), rust, {s: i for i, s in enumerate(an.order)})
    if not sets:
        claim.answer = ("Not measured in this run: no strategy was measured with its collector on "
                        "and without one (workloads gc, gc-off, gc-freeze, or a strategy with no "
                        "collector) at the same offered load"
                        + (", though its cells' collections and pauses are in the Latency section"
                           if not frame.empty else "") + ". " + refcount)
        return claim
    found = sets[0]
    judged = _heap_judgement(found, frame, rust)
    # Flagged cells of the judged workloads only (a flagged cpu cell is not the claim's).
    family = set(frame.loc[frame["knobs"] == found.knobs, "workload"])
    judged.left_out = [(cell, why) for cell, why in (frame.attrs.get("left_out", [])
                                                      + rust.attrs.get("left_out", []))
                       if (ids.parse_cell_id(cell) or {}).get("workload") in family]
    claim.tails = judged.to_dict()
    for heap in found.heaps:
        for mode, row in found.by_heap[heap].items():
            claim.evidence.append(f"{found.strategy} ({found.model}), {_heap_text(heap)}, "
                                  f"{_load_text(found)}, collector {gc.MODE_TEXT[mode]}: "
                                  + _tail_text(row))
    for name, row in _rust_rows(rust, found).items():
        claim.evidence.append(f"{name[0]} ({an.lang(name[0]).capitalize()}, no collector), "
                              f"{_heap_text(name[1])}: p99 {ms(row['p99_us'])} ms, p99.9 "
                              f"{ms(row['p999_us'])} ms, max {ms(row['max_us'])} ms ("
                              f"{_repeats(row['repeats'])})")
    claim.verdict = _gc_verdict(judged)
    mine = frame[frame["knobs"] == found.knobs]  # the judged workload's cells, every mode
    loop = ("open loop (corrected for coordinated omission)" if (mine["mode"] == "open").all()
            else "closed loop, where a user waits out a pause instead of queueing behind it: "
                 "this tail understates the pauses")
    churn = pd.to_numeric(mine.get("churn"), errors="coerce").dropna() if "churn" in mine else None
    share = (f"{num(float(churn.median()), 2)} of the requests" if churn is not None and len(churn)
             else "some requests")
    heaps = (f"each server process holding the live heap named below, {share} loading pages "
             "of entries into it" if found.heaps[-1] else "with no live heap")
    left = judged.left_out
    claim.answer = (f"Measured in {loop}, {_load_text(found)}, on the gc workloads, {heaps}. "
                    + " ".join(_heap_sentence(found, judged, rust, heap) for heap in found.heaps)
                    + " " + _gc_conclusion(judged)
                    + (f" {len(left)} cell(s) left out, flagged (their latency is not the "
                       f"server's): {', '.join(sorted({w.replace(') ', '), ') for _, w in left}))}."
                       if left else "")
                    + " " + refcount + " See the garbage-collector figures under Latency.")
    return claim


def _reference(found, frame: pd.DataFrame, rust: pd.DataFrame, heap: int) -> tuple[str, pd.DataFrame]:
    """The tail without a collector at this heap: the same strategy with it off, else a
    strategy with none, at the same offered load."""
    off = _cells_of(frame, found, heap, "off")
    if not off.empty:
        return f"{found.strategy}, collector off", off
    for strategy, mine in gc.at_load(rust, found, heap).groupby("strategy", sort=True):
        return f"{strategy} (no collector)", mine
    return "", pd.DataFrame()


def _cells_of(frame: pd.DataFrame, found, heap: int, mode: str) -> pd.DataFrame:
    at = gc.at_load(frame, found, heap)
    return at[(at["strategy"] == found.strategy) & (at["gc_mode"] == mode)]


def _side(label: str, cells: pd.DataFrame, metric: str) -> Side:
    values = pd.to_numeric(cells[metric], errors="coerce")
    keep = values.notna()
    return Side(label, [str(c) for c in cells.loc[keep, "cell_id"]],
                [float(v) for v in values[keep]])


def _no_full(cells: pd.DataFrame) -> str:
    """Why cells with the collector on say nothing about full collections, if they do not."""
    counts = pd.to_numeric(cells.get("full_collections"), errors="coerce") if len(cells) else None
    if counts is None or counts.isna().all():
        return ""  # a record from before full collections were counted: judged as it is
    empty = int((counts.fillna(0) == 0).sum())
    return (f"no full collection fell inside {empty} of {len(cells)} windows: the tail there "
            "says nothing about full collections" if empty else "")


def _heap_judgement(found, frame: pd.DataFrame, rust: pd.DataFrame) -> TailJudgement:
    judged = TailJudgement("gc", f"{found.strategy}: p99.9 with the collector on (and frozen) against "
                       f"the tail without a collector at each live-heap size, {_load_text(found)}",
                       "p999_us")
    for heap in found.heaps:
        label, reference = _reference(found, frame, rust, heap)
        if reference.empty:
            judged.notes.append(f"{_heap_text(heap)}: no cell without a collector to compare with")
            continue
        ref = _side(label, reference, "p999_us")
        for mode in ("default", "freeze"):
            mine = _cells_of(frame, found, heap, mode)
            if mine.empty:
                continue
            side = _side(f"{found.strategy}, collector {gc.MODE_TEXT[mode]}", mine, "p999_us")
            pauses = _side(side.label, mine, "full_pause_ms")  # what the tail is set against
            judged.comparisons.append(compare_tails({"live_objects": heap, "collector": gc.MODE_TEXT[mode]},
                                            "p999_us", side, ref, _no_full(mine),
                                            {"full_pause_ms": pauses}))
    on = [c for c in judged.comparisons if c.at["collector"] == "on" and c.judged]
    exceeding = [c for c in on if c.exceeds]
    reversed_ = [c for c in on if compare_tails(c.at, c.metric, c.b, c.a).exceeds]
    if exceeding:
        judged.finding, judged.at = "exceeds", {"live_objects": exceeding[0].at["live_objects"]}
    elif reversed_:
        judged.finding, judged.at = "reversed", {"live_objects": reversed_[0].at["live_objects"]}
    elif on:
        judged.finding, judged.at = "no measurable difference", {"live_objects": on[-1].at["live_objects"]}
    return judged


def _gc_verdict(judged: TailJudgement) -> str:
    heap = (judged.at or {}).get("live_objects")
    if judged.finding == "exceeds":
        return (f"supported: from {_heap_text(heap)} the collector's pauses reach the tail" if heap
                else "supported: the collector's pauses reach the tail even with no live heap")
    if judged.finding == "reversed":
        return "contradicted: the tail was worse without the collector"
    if judged.finding == "no measurable difference":
        return (f"no measurable difference up to {_heap_text(heap)}" if heap
                else "no measurable difference with no live heap")
    return "not measured in this run"


def _heap_text(heap) -> str:
    return f"{int(heap):,} live objects" if heap else "no live heap"


def _rust_rows(rust: pd.DataFrame, found) -> dict[tuple[str, int], pd.Series]:
    rows = {}
    for heap in found.heaps:  # at the set's load and workload, as the comparison reads them
        for _, row in gc.groups(gc.at_load(rust, found, heap)).iterrows():
            rows[(str(row["strategy"]), heap)] = row
    return rows


def _heap_sentence(found, judged: TailJudgement, rust: pd.DataFrame, heap: int) -> str:
    """What one heap size showed: the collector's full collections, the tail on against
    without, frozen, and a strategy with no collector beside."""
    at = found.by_heap[heap]
    parts = []
    on = at.get("default")
    for c in judged.comparisons:
        if c.at["live_objects"] != heap:
            continue
        row = at["default" if c.at["collector"] == "on" else "freeze"]
        count = (f" ({num(row['full_collections'])} in a window)"
                 if math.isfinite(row["full_collections"]) else "")
        pause = (f"longest full collection {sig(row['full_pause_ms'])} ms{count}"
                 if math.isfinite(row["full_pause_ms"]) else "")
        tail = (f"p99.9 {_span(c.a)} ms against {_span(c.b)} ms ({c.b.label}, "
                f"{_repeats(c.a.repeats)} against {c.b.repeats})")
        if not c.judged:
            word = f"not judged: {c.why_not}"
        elif c.exceeds:
            word = "above it beyond the repeats' spread"
        else:
            word = ("no measurable difference (repeats overlap)" if c.a.low <= c.b.high
                    else "no measurable difference (apart by less than the repeats' spread)")
        parts.append(f"collector {c.at['collector']}: " + ", ".join(x for x in (pause, tail) if x)
                     + f" — {word}")
    if not parts and on is not None:
        parts.append("collector on: " + _tail_text(on))
    for (strategy, h), row in _rust_rows(rust, found).items():
        if h == heap and not any(strategy in c.b.label for c in judged.comparisons
                                 if c.at["live_objects"] == heap):
            parts.append(f"{strategy} holding the same heap with no collector: p99.9 "
                         f"{ms(row['p999_us'])} ms")
    return f"At {_heap_text(heap)}: " + "; ".join(parts) + "."


def _span(side: Side) -> str:
    if side.repeats > 1 and ms(side.low) != ms(side.high):
        return f"{ms(side.median)} ({ms(side.low)}–{ms(side.high)})"
    return ms(side.median)


def _gc_conclusion(judged: TailJudgement) -> str:
    heap = (judged.at or {}).get("live_objects")
    if judged.finding == "exceeds":
        first = next(c for c in judged.comparisons if c.at == {"live_objects": heap, "collector": "on"})
        below = [c.at["live_objects"] for c in judged.comparisons
                 if c.at["collector"] == "on" and c.judged and c.at["live_objects"] < heap]
        where = (f"not at {', '.join(_heap_text(h) for h in below)}" if below
                 else "the smallest heap that could be judged")
        return (f"The collector's pauses exceed the tail without it from {_heap_text(heap)} "
                f"({where}): p99.9 {ms(first.a.median)} against {ms(first.b.median)} ms, the "
                f"longest full collection {sig(first.beside['full_pause_ms'].median)} ms (median over "
                f"{first.a.repeats} repeats).")
    if judged.finding == "reversed":
        return f"The tail was worse without the collector, at {_heap_text(heap)}."
    if judged.finding == "no measurable difference":
        return (f"None did, up to {_heap_text(heap)} (the largest heap judged)." if heap
                else "They did not, with no live heap (the only size judged).")
    return "No heap size could be judged."


def _load_text(found) -> str:
    rate = f"{found.rate} req/s offered" if found.rate and not found.rate.endswith("x") else (
        f"{found.rate} of capacity offered" if found.rate else "closed loop")
    return f"{rate}, {cores_text(found.cores)}, {found.users} users"


def _repeats(n) -> str:
    return f"{int(n)} repeat{'s' if n != 1 else ''}"


def _tail_text(row) -> str:
    full = (f", longest full collection {sig(row['full_pause_ms'])} ms"
            if "full_pause_ms" in row and math.isfinite(row["full_pause_ms"]) else "")
    return (f"p99 {ms(row['p99_us'])} ms, p99.9 {ms(row['p999_us'])} ms, max {ms(row['max_us'])} ms, "
            f"{num(row['collections_per_s'])} collections/s, longest pause "
            f"{sig(row['gc_pause_max_ms'])} ms{full}, {percent(row['paused_share'], 2)} of the window "
            f"paused, RSS {num(row['rss_mb'])} MiB ({_repeats(row['repeats'])})")


def claim_stateless(an: Analysis) -> Claim:
    claim = Claim("stateless", "Stateless handlers scale more easily than shared state.",
                  SOURCES["own"], "not measured", "", section="summary")
    ceilings = [s for s in an.order if an.safety[s] == "no-state"]
    what = "the stateless ceiling's throughput against the best safe strategy's"
    if not ceilings:
        claim.answer = "Not measured in this run: no stateless strategy ran."
        claim.judge(not_judged("not measured", what))
        return claim
    ceiling = ceilings[0]
    rows = []
    for workload in an.workloads:
        ranked, _ = ranking(an, workload)
        top = best(an, workload, ceiling)
        if top is None or not ranked:
            continue
        lead = top["rps"] / ranked[0]["rps"]
        sc_c, sc_s = scaling(an, workload, ceiling), scaling(an, workload, ranked[0]["strategy"])
        text = (f"{workload}: {ceiling} {num(top['rps'])} req/s{mark_suffix(top)} = {ratio(lead)} the best safe "
                f"strategy ({ranked[0]['strategy']} {num(ranked[0]['rps'])} req/s)")
        if sc_c is not None and sc_s is not None:
            text += f"; speedup {ratio(sc_c['speedup'])} vs {ratio(sc_s['speedup'])}"
        claim.evidence.append(text)
        # Ahead or behind only when the repeats do not overlap; a flagged group decides nothing.
        apart = not overlap(top, ranked[0]) and clean(top) and clean(ranked[0])
        rows.append((lead, apart, workload, top, ranked[0]))
    if not rows:
        claim.answer = "Not measured in this run: no workload has both a stateless and a safe result."
        claim.judge(not_judged("not measured", what))
        return claim
    ahead = [r for r in rows if r[1] and r[0] > 1]
    behind = [r for r in rows if r[1] and r[0] < 1]
    if ahead and not behind and len(ahead) == len(rows):
        verdict = "supported"
    elif behind and not ahead:
        verdict = "contradicted"
    elif not ahead and not behind:
        verdict = "no measurable difference"
    else:
        verdict = "mixed"
    # The carrying comparison is the weakest link: the smallest lead.
    lead, apart, workload, top, safe = min(rows, key=lambda r: r[0])
    claim.judge(Judgement(verdict, f"{what} on {workload}, where its lead is smallest",
                          f"{ratio(lead)} ({ceiling} vs {safe['strategy']})", lead,
                          widest(_group_range(r) for r in (top, safe)), int(min(top["ok"], safe["ok"])),
                          apart, sum(not (clean(r[3]) and clean(r[4])) for r in rows)))
    leads = [r[0] for r in rows]
    bound = any(bool(r[3]["loadgen_bound"]) for r in rows)
    level = [r[2] for r in rows if not r[1]]
    claim.answer = (f"With no state to share, {ceiling} served {ratio(min(leads))}–{ratio(max(leads))} the "
                    "throughput of the best safe strategy: the ceiling any sharing discipline pays against."
                    + (f" On {', '.join(level)} the difference is not measurable (repeats overlap, or "
                       "a flagged cell)." if level else "")
                    + (" Some of its cells were load-generator bound, so the true ceiling is higher." if bound else ""))
    return claim


def claims(an: Analysis) -> list[Claim]:
    """The five claims, each with the judgements its verdict rests on."""
    found_async, found_gc = claim_async(an), claim_gc(an)
    found_async.judge(async_judgement(an, found_async))
    found_gc.judge(gc_judgement(found_gc))
    if found_gc.judgements[0].measured:
        found_gc.figure = "fig-gc-heap.png"
    sweep = openloop.sweep_rows(openloop.groups(an.run))
    # The sections draw the sweep's figure from the lines that kept their default --workers.
    if (found_async.judgements[0].measured and not sweep.empty
            and ((sweep["usable"] > 0) & (sweep["workers"] == 0)).any()):
        found_async.figure = f"fig-connections-{slug(sweep['workload'].iloc[0])}.png"
    return [claim_discipline(an), claim_races(an), found_async, found_gc, claim_stateless(an)]

