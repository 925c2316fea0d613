"""The one console script: ``sharebench <command>``, one small function per command.

Stages are imported inside their command, so ``sharebench serve`` never loads
the load generator or the report, and a broken later stage cannot stop a
server from starting.
"""
from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
from pathlib import Path

EXIT_USAGE = 2


def _fail(message: str) -> int:
    print(f"sharebench: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def cmd_list(args: argparse.Namespace) -> int:
    from servers import broken, discover
    from servers.core.registry import source, unbuilt

    from . import describe
    if args.profiles or args.workloads:
        return cmd_profiles(args) if args.profiles else cmd_workloads(args)
    rows = describe.strategies()
    if args.json:
        print(json.dumps(describe.as_json(rows), indent=2))
    else:
        text = [("name", "model", "safety", "language", "parallel", "interp-lock", "collector",
                 "discipline", "rule [analogue]")]
        text += [(r.name, r.model, r.safety, r.language, describe.yes(r.parallel),
                  describe.yes(r.interpreter_lock), describe.yes(r.collector), r.discipline,
                  f"{r.rule} [{r.analogue}]") for r in rows]
        print("\n".join(describe.columns(text)))
    for spec in discover().values():
        if unbuilt(spec):
            print(f"sharebench: note: {unbuilt(spec)}", file=sys.stderr)
    for key, error in broken().items():
        print(f"sharebench: warning: {source(key)}, not listed: {error}", file=sys.stderr)
    return 0


def cmd_profiles(args: argparse.Namespace) -> int:
    from loadtests.planning import PlanError

    from . import describe
    try:
        rows = describe.profiles()
    except PlanError as exc:
        return _fail(str(exc))
    if args.json:
        print(json.dumps(describe.as_json(rows), indent=2))
        return 0
    text = [("name", "blocks", "budget", "description")]
    text += [(r.name, str(r.blocks), r.budget or "none", r.description) for r in rows]
    print("\n".join(describe.columns(text)))
    return 0


def cmd_workloads(args: argparse.Namespace) -> int:
    from . import describe
    rows = describe.workloads()
    if args.json:
        print(json.dumps(describe.as_json(rows), indent=2))
        return 0
    text = [("name", "users", "keys", "mix", "server knobs")]
    text += [(r.name, str(r.users), r.distribution, describe.mix_text(r.mix),
              describe.knobs_text(r.server)) for r in rows]
    print("\n".join(describe.columns(text)))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from servers import get
    from servers.core.serve import Options, check_options, run
    try:
        spec = get(args.strategy)
    except KeyError as exc:
        return _fail(exc.args[0])
    # parsed here, not by argparse, so that a bad value is one line (not usage + line)
    numbers: dict[str, float] = {}
    for flag, kind in (("garbage", int), ("live_objects", int), ("churn", float)):
        text = getattr(args, flag)
        try:
            numbers[flag] = kind(text)
        except ValueError:
            what = "an integer" if kind is int else "a number"
            return _fail(f"--{flag.replace('_', '-')} must be {what}, got {text!r}")
    opts = Options(port=args.port, host=args.host, workers=args.workers, keys=args.keys,
                   cpu_us=args.cpu_us, hold_us=args.hold_us, io_ms=args.io_ms,
                   garbage=int(numbers["garbage"]),
                   live_objects=int(numbers["live_objects"]), churn=numbers["churn"],
                   gc=args.gc, switch_interval=args.switch_interval)
    try:
        check_options(spec, opts)
        run(spec, opts)
    except ValueError as exc:
        return _fail(str(exc))
    except OSError as exc:  # e.g. the port is taken
        return _fail(f"cannot serve on {args.host}:{args.port}: {exc.strerror or exc}")
    return 0


def cmd_new(args: argparse.Namespace) -> int:
    from servers import discover
    from servers.core.template import create, create_c, create_rust
    folder = Path(args.dir) if args.dir else Path(__file__).resolve().parent.parent / "servers"
    model = args.model or "threads"
    if args.name in discover():
        return _fail(f"strategy {args.name!r} exists already: choose another name")
    try:
        if args.language == "rust":
            if model != "threads":
                return _fail("--language rust writes a threads strategy (the library's "
                             "threaded::main); an async one starts from "
                             "servers/rust/src/bin/async.rs")
            paths = create_rust(args.name, folder)
        elif args.language == "c":
            if model != "threads":
                return _fail("--language c writes a threads strategy (a thread per "
                             "connection, one global mutex); change its model in its source")
            paths = create_c(args.name, folder)
        else:
            paths = [create(args.name, folder, model)]
    except (ValueError, FileExistsError) as exc:
        return _fail(str(exc))
    if args.name.endswith("-mp") and model != "processes":
        print(f"sharebench: note: names ending in -mp are processes strategies by convention: "
              f"`sharebench new {args.name} --model processes` writes one", file=sys.stderr)
    build = {"rust": "`make rust`, then ", "c": f"`make -C servers/{args.name}` after an edit, "
             }.get(args.language, "")
    print(f"wrote {', '.join(map(str, paths))}: edit its discipline, then "
          f"{build}`sharebench verify {args.name}`")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from loadtests.checks import stress
    from loadtests.checks.verify import verify_strategy
    from servers import discover
    from servers.core import registry
    found = discover()
    names = _names(args) or list(found)
    unknown = [name for name in names if name not in found]
    if unknown:
        return _fail(f"unknown strategy {unknown[0]!r}; valid: {', '.join(found)}")
    failed = 0
    for name in names:
        try:
            registry.build(found[name])  # before its server starts: a build takes longer
            failures = verify_strategy(name)
        except ValueError as exc:  # its build failed: one line
            failures = [str(exc)]
        notes = []
        if not failures and found[name].stateful:  # the contract first; then races under stress
            result = stress.stress_strategy(name, found[name].traits.interpreter_lock)
            notes.append(stress.describe(result)
                         + (" (declared unsafe: expected)" if result["races"]
                            and not found[name].safe else ""))
            if stress.judge(result, found[name].safe):
                failures.append(notes.pop())
        failed += bool(failures)
        print(f"{name:<20} {'ok' if not failures else 'FAILED'}")
        for text in failures + notes:
            for line in text.splitlines():  # a server's stderr tail, indented under its check
                print(f"    {line}")
    return 1 if failed else 0


def cmd_run(args: argparse.Namespace) -> int:
    from loadtests.planning import PlanError
    from loadtests.running.run import Request, start
    from sharebench import adapt
    if args.json and not args.dry_run:
        return _fail("--json prints the plan: it goes with --dry-run")
    request = Request(
        profile=args.profile, profile_file=Path(args.profile_file), results=Path(args.results),
        strategies=args.strategies, workloads=args.workloads, cores=args.cores, users=args.users,
        repeats=args.repeats, duration=args.duration, warmup=args.warmup, engine=args.engine,
        rates=args.rates, budget=args.budget, live_objects=args.live_objects,
        loadgen_cpus=args.loadgen_cpus, target=args.target,
        loadgen_workers=args.loadgen_workers, master_port=args.master_port, pythons=args.pythons,
        resume=Path(args.run) if args.run else None, dry_run=args.dry_run,
        adapt=False if args.no_adapt else None,
        topology_root=Path(args.topology_root) if args.topology_root else None,
        machine_cores=args.machine_cores, server_host=args.server_host, load_host=args.load_host,
        server_dir=args.server_dir, ssh_options=args.ssh_options,
        argv=["sharebench", *sys.argv[1:]])
    rounds = None if args.no_adapt else adapt.Rounds(adapt.JUDGE, resumed=bool(args.run))
    try:
        if args.json:
            from .plan_json import plan_document
            print(json.dumps(plan_document(request), indent=2))
            return 0
        status = start(request, then=rounds)
    except PlanError as exc:
        return _fail(str(exc))
    if status != 0 or args.dry_run or args.no_report:
        return status
    return _report(Path(args.run) if args.run else Path(args.results) / "latest")


def cmd_calibrate(args: argparse.Namespace) -> int:
    import threading

    from loadtests.planning import profiles
    from loadtests.planning.workloads import WORKLOADS
    from loadtests.running import crosscheck, sweep
    from servers import discover
    known = list(discover())
    try:
        names = profiles.parse_names(args.strategies) if args.strategies else known
        profiles.check_names("strategy", names, known)
        duration = profiles.parse_duration(args.duration) if args.duration else 4.0
    except profiles.PlanError as exc:
        return _fail(str(exc))
    store, setup = crosscheck.target_run(Path(args.results), args.run, names, duration,
                                     ["sharebench", *sys.argv[1:]])
    stop = threading.Event()
    sweep.install_signal_handlers(stop)
    try:
        rows = crosscheck.crosscheck(names, WORKLOADS, setup, store, stop)
    finally:
        shutil.rmtree(setup.scratch, ignore_errors=True)
    print(f"sharebench: headroom written to {store.path / 'calibration.csv'}")
    if stop.is_set():
        return 130
    apart = [f"{row['strategy']}/{row['workload']}" for row in rows if row.get("agree") is False]
    if apart:
        print(f"sharebench: wrk and Locust disagree by more than {crosscheck.AGREE:.0%} on "
              f"{', '.join(apart)}: one of them is the limit there", file=sys.stderr)
        return 1
    return 0


def cmd_soak(args: argparse.Namespace) -> int:
    import threading

    from loadtests.checks import soak
    from loadtests.planning import profiles
    from servers import discover
    found = discover()
    try:
        names = (profiles.parse_names(args.strategies) if args.strategies
                 else [name for name, spec in found.items() if spec.safety == "safe"])
        profiles.check_names("strategy", names, found)
        duration = soak.parse_duration(args.duration)
    except ValueError as exc:  # PlanError and SoakError alike
        return _fail(str(exc))
    stop = threading.Event()
    soak.install_signal_handlers(stop)
    print(f"sharebench: soaking {len(names)} strategies at once for {duration:g}s, "
          f"{args.rate:g} requests/s each", flush=True)
    folder, rows = soak.run(names, {n: found[n].safety for n in names}, duration, args.rate,
                            Path(args.results), stop,
                            progress=lambda line: print(f"sharebench: {line}", flush=True))
    print(soak.table(rows))
    print(f"sharebench: soak written to {folder}")
    if stop.is_set():
        return 130
    return 0 if all(r["status"] == "ok" and r["correct"] is not False for r in rows) else 1


def cmd_report(args: argparse.Namespace) -> int:
    return _report(Path(args.run or args.run_positional or "results/latest"))


def _report(run: Path) -> int:
    import warnings

    from report import RunWarning, build_report
    from results.schema import FormatError
    if not run.is_dir():
        return _fail(f"no run at {run}: `sharebench run` writes one (results/latest is the newest)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RunWarning)  # printed below, once each
        try:
            built = build_report(run.resolve())
        except FormatError as exc:
            return _fail(str(exc))
    for problem in built.problems:
        print(f"sharebench: warning: {problem}", file=sys.stderr)
    for line in built.summary:
        print(line)
    print(f"sharebench: report: {built.html}")
    print(f"  (and {built.markdown.name}, claims.json, {len(built.images)} PNG figures beside it)")
    return 0


def cmd_claims(args: argparse.Namespace) -> int:
    """The claims judged from a run's records: a line each, or claims.json's objects."""
    from report.claims import judge_run
    from results.schema import FormatError
    run = Path(args.run or "results/latest")
    if not run.is_dir():
        return _fail(f"no run at {run}: `sharebench run` writes one (results/latest is the newest)")
    try:
        found = judge_run(run.resolve())
    except FormatError as exc:
        return _fail(str(exc))
    if args.json:
        print(json.dumps([r.to_json() for r in found], indent=2))
        return 0
    for r in found:
        interval = f" [{r.interval[0]:.3g}, {r.interval[1]:.3g}]" if r.interval else ""
        effect = f"  {r.effect:.3g}{interval}" if r.effect is not None else ""
        print(f"{r.claim} ({r.scope}): {r.outcome.value}, {r.strength}{effect}: {r.finding}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    import warnings

    from report import RunWarning, compare_runs, render_comparison, write_comparison
    for path in (args.a, args.b):
        if not Path(path).is_dir():
            return _fail(f"no run at {path}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RunWarning)  # compare lists them in its notes
        comparison = compare_runs(args.a, args.b, args.threshold)
    written = write_comparison(comparison, Path(args.b))
    if args.json:
        print(json.dumps(_comparison_document(comparison), indent=2))
    else:
        print(render_comparison(comparison))
    print(f"sharebench: comparison written to {written[0]} and {written[1].name}",
          file=sys.stderr if args.json else sys.stdout)
    return 1 if len(comparison.regressions) else 0  # CI can fail on a significant regression


def _comparison_document(comparison) -> dict:
    """compare's result as plain data: every (cell, metric) row, the regressions counted,
    the environment's differences and the claims whose verdict changed."""
    def plain(value):
        if isinstance(value, float) and not math.isfinite(value):
            return None
        return value.item() if hasattr(value, "item") else value
    rows = [{key: plain(value) for key, value in row.items()}
            for row in comparison.rows.to_dict(orient="records")]
    return {"a": comparison.a, "b": comparison.b, "threshold": comparison.threshold,
            "regressions": len(comparison.regressions), "rows": rows,
            "environment_differences": list(comparison.env_warnings),
            "notes": list(comparison.notes),
            "claims_compared": comparison.claims_compared,
            "claims_changed": [{"claim": (a or b).claim, "scope": (a or b).scope,
                                "a": a.to_json() if a else None,
                                "b": b.to_json() if b else None}
                               for a, b in comparison.changed if a or b]}


def _names(args: argparse.Namespace) -> list[str]:
    """Strategies named by --strategies (comma-separated) or, the old spelling, positionally."""
    from loadtests.planning.profiles import parse_names
    return (parse_names(args.strategies) if args.strategies else []) + list(args.names or [])


def _fraction(text: str) -> float:
    value = float(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1 (0.10 = 10%), got {text}")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _positive_rate(text: str) -> float:
    value = float(text)
    if not 0 < value <= 100_000:
        raise argparse.ArgumentTypeError(f"must be in (0, 100000], got {text}")
    return value


def _knob(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1_000_000:
        raise argparse.ArgumentTypeError(f"must be in 0..1000000, got {text}")
    return value


# Every command's exit statuses, printed under its --help and in docs/reference.md.
EXITS: dict[str, dict[int, str]] = {
    "list": {0: "listed (a strategy set aside is a warning on stderr)",
             2: "the profile file cannot be read (--profiles)"},
    "profiles": {0: "listed", 2: "the profile file cannot be read"},
    "workloads": {0: "listed"},
    "serve": {0: "stopped by SIGINT or SIGTERM",
              2: "unknown strategy, a bad option, or the port cannot be bound"},
    "new": {0: "written", 2: "a bad or taken name, or a model the language has no template for"},
    "run": {0: "every cell measured (and, unless --no-report, its report written)",
            2: "the plan refused the request (one line says why); nothing started, "
               "or the report could not be read",
            130: "interrupted by SIGINT: what was measured is kept; --run RUN finishes it",
            143: "interrupted by SIGTERM (likewise)"},
    "calibrate": {0: "wrk and Locust agree on every cpu cell",
                  1: "they disagree by more than 10% somewhere: one of them is the limit",
                  2: "a bad request", 130: "interrupted"},
    "soak": {0: "every server stayed up and correct",
             1: "a server failed to start, died or answered incorrectly",
             2: "a bad request", 130: "interrupted (what was sampled is kept)"},
    "verify": {0: "every strategy passed", 1: "a strategy failed a check",
               2: "an unknown strategy"},
    "report": {0: "written", 2: "no run there, or its records are malformed"},
    "claims": {0: "printed", 2: "no run there, or its records are malformed"},
    "compare": {0: "no significant regression", 1: "a significant regression (CI can fail on it)",
                2: "a run is missing or malformed"},
    "docs": {0: "docs/reference.md written (or, with --check, up to date)",
             1: "--check: it differs from what the code says"},
}


def exits_text(command: str) -> str:
    return "exit status:\n" + "\n".join(f"  {code:>3}  {what}"
                                        for code, what in EXITS[command].items())


def build_parser() -> argparse.ArgumentParser:
    from servers.core.heap import DEFAULT_CHURN  # a leaf module: no stage comes with it
    from sharebench import __doc__ as about

    from .describe import version
    parser = argparse.ArgumentParser(prog="sharebench", description=about,
                                     epilog="Exit status: 0 done, 1 a check or comparison "
                                            "failed, 2 a bad request (one line on stderr, "
                                            "nothing started), 130/143 interrupted. "
                                            "`sharebench COMMAND --help` lists a command's "
                                            "options and its own statuses.")
    parser.add_argument("--version", action="version", version=f"sharebench {version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name: str, help: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help, description=help, epilog=exits_text(name),
                              formatter_class=argparse.RawDescriptionHelpFormatter)

    list_ = command("list", "list registered strategies and their traits")
    list_.add_argument("--json", action="store_true", help="one JSON object per strategy")
    list_.add_argument("--profiles", action="store_true", help="list the profiles instead")
    list_.add_argument("--workloads", action="store_true", help="list the workloads instead")
    list_.set_defaults(func=cmd_list)

    profiles_ = command("profiles", "list the profiles of loadtests/planning/profiles.toml")
    profiles_.add_argument("--json", action="store_true", help="one JSON object per profile")
    profiles_.set_defaults(func=cmd_profiles)

    workloads_ = command("workloads", "list the workloads (loadtests/planning/workloads.py)")
    workloads_.add_argument("--json", action="store_true", help="one JSON object per workload")
    workloads_.set_defaults(func=cmd_workloads)

    serve = command("serve", "run one strategy until SIGINT/SIGTERM")
    serve.add_argument("strategy")
    serve.add_argument("--port", type=int, default=8000, help="0 picks a free port (printed)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--workers", type=_positive_int, default=None,
                       help="per model: thread strategies' connection cap, processes' count")
    serve.add_argument("--keys", type=_positive_int, default=1024)
    serve.add_argument("--cpu-us", type=_knob, default=0.0, help="CPU work outside the state")
    serve.add_argument("--hold-us", type=_knob, default=0.0, help="CPU work while holding it")
    serve.add_argument("--io-ms", type=_knob, default=0.0, help="simulated wait outside it")
    serve.add_argument("--garbage", default="0",
                       help="objects left in reference cycles per request (0..100000)")
    serve.add_argument("--live-objects", default="0", metavar="N",
                       help="a live heap of N tracked objects each serving process holds and "
                            "requests touch (0..10000000; servers/core/heap.py)")
    serve.add_argument("--churn", default=str(DEFAULT_CHURN), metavar="SHARE",
                       help="share of state requests that replace a batch of heap entries "
                            f"(0..1, default {DEFAULT_CHURN:g})")
    serve.add_argument("--gc", default="default", help="the cyclic collector: default, off "
                       "(gc.disable) or freeze (gc.freeze once built, collector on)")
    serve.add_argument("--switch-interval", type=float, default=None, metavar="SECONDS",
                       help="sys.setswitchinterval in every server process (1e-6 stresses races)")
    serve.set_defaults(func=cmd_serve)

    new = command("new", "write a starting strategy: a Python module, or a Rust or C program")
    new.add_argument("name")
    new.add_argument("--model", choices=["threads", "async", "processes"],
                     help="the execution model (default threads)")
    new.add_argument("--language", choices=["python", "rust", "c"], default="python",
                     help="rust: a binary in servers/rust and its strategy.toml; c: a "
                          "directory servers/NAME/ with its source, Makefile and strategy.toml")
    new.add_argument("--dir", help="the servers package to write into (default: this one)")
    new.set_defaults(func=cmd_new)

    run = command("run", "measure a sweep of cells (the benchmark), then write its report")
    run.add_argument("--profile", default="default",
                     help="a profile of loadtests/planning/profiles.toml (`sharebench profiles`)")
    run.add_argument("--strategies", help="comma-separated, replaces the profile's")
    run.add_argument("--workloads", help="comma-separated, replaces the profile's")
    run.add_argument("--cores", help="server core counts, e.g. 1,2")
    run.add_argument("--users", help="concurrent user counts, e.g. 32,400")
    run.add_argument("--repeats", help="repeats of every cell")
    run.add_argument("--duration", help="measured window per cell, e.g. 10s")
    run.add_argument("--warmup", help="unrecorded warm-up per cell, e.g. 2s")
    run.add_argument("--engine", help="load engine for every block: locust or wrk "
                     "(default: each block's own)")
    run.add_argument("--live-objects", help="live heaps for blocks that have `live_objects`, "
                     "e.g. 0,1000000 (objects each server process holds)")
    run.add_argument("--rates", help="open-loop rates for blocks that have `rates`: req/s "
                     "(e.g. 500,2000) or fractions of capacity (e.g. 0.5x,0.95x)")
    run.add_argument("--budget", help="the run's time budget, e.g. 15m, or none (default: the "
                     "profile's): the plan trims repeats, windows, rates and core points to fit")
    run.add_argument("--loadgen-cpus", help="CPUs for the load generator, e.g. 1 (default: "
                     "whole physical cores, sized by the engine's cost per request)")
    run.add_argument("--target", help="a server someone else runs, e.g. http://host:8000 "
                     "(not started, pinned or CPU-measured by the harness)")
    run.add_argument("--loadgen-workers", type=_positive_int, default=0,
                     help="Locust workers on other hosts (`make loadgen-worker MASTER=...`)")
    run.add_argument("--master-port", type=int, default=5557,
                     help="port the Locust master listens on for remote workers")
    run.add_argument("--server-host", metavar="HOST", help="start, pin, sample and stop every "
                     "server on HOST over ssh (docs/several-machines.md)")
    run.add_argument("--load-host", metavar="HOST", help="run wrk on HOST over ssh "
                     "(docs/several-machines.md)")
    run.add_argument("--server-dir", metavar="PATH", help="the other hosts' sharebench checkout "
                     "(default: this checkout's path)")
    run.add_argument("--ssh-options", metavar="ARGS", help="extra ssh arguments, e.g. "
                     "\"-p 2222 -i ~/.ssh/bench\" or \"-F ssh_config\"")
    run.add_argument("--profile-file", default=str(Path(__file__).resolve().parent.parent
                                                   / "loadtests" / "planning" / "profiles.toml"))
    run.add_argument("--results", default="results", help="where runs are written")
    run.add_argument("--run", metavar="RUN", help="finish this interrupted run: results/<id>")
    run.add_argument("--resume", dest="run", help=argparse.SUPPRESS)  # the old spelling
    run.add_argument("--no-adapt", action="store_true",
                     help="the fixed plan: no reserve, no repeats added where a verdict is "
                     "still open (default: as the profile says; docs/adaptive.md)")
    run.add_argument("--pythons", help="interpreters for the servers, e.g. 3.11,3.13 (pyenv "
                     "versions) or paths; each cell runs under each")
    run.add_argument("--dry-run", action="store_true",
                     help="print every cell, its placement and the estimated time; start nothing")
    run.add_argument("--json", action="store_true", help="with --dry-run: the plan as JSON")
    run.add_argument("--no-report", action="store_true",
                     help="measure only; `sharebench report --run RUN` builds the report later")
    run.add_argument("--topology-root", help="with --dry-run: plan on a fake sysfs tree "
                     "(a copy of /sys/devices/system)")
    run.add_argument("--machine-cores", type=_positive_int,
                     help="with --dry-run: plan for a machine of N physical cores")
    run.set_defaults(func=cmd_run)

    cal = command("calibrate", "wrk beside Locust: the harness's headroom")
    cal.add_argument("--strategies", help="comma-separated (default: all)")
    cal.add_argument("--duration", help="measured window, e.g. 4s")
    cal.add_argument("--run", help="the run to attach calibration.csv to (default: results/latest)")
    cal.add_argument("--results", default="results")
    cal.set_defaults(func=cmd_calibrate)

    soak_ = command("soak", "every safe strategy at once at a steady rate; RSS growth")
    soak_.add_argument("--strategies", help="comma-separated (default: every safe strategy)")
    soak_.add_argument("--duration", default="10m", help="e.g. 10m, 90s, 2h (default 10m)")
    soak_.add_argument("--rate", type=_positive_rate, default=200.0,
                       help="requests/s per strategy (default 200)")
    soak_.add_argument("--results", default="results", help="where soak-<stamp>/ is written")
    soak_.set_defaults(func=cmd_soak)

    verify = command("verify", "check strategies against the contract, then for races")
    verify.add_argument("--strategies", help="comma-separated (default: all)")
    verify.add_argument("names", nargs="*", help=argparse.SUPPRESS)  # the old spelling
    verify.set_defaults(func=cmd_verify)

    rep = command("report", "build report.html and report.md of a run from its records")
    rep.add_argument("--run", help="the run, results/<id> (default: results/latest)")
    rep.add_argument("run_positional", nargs="?", help=argparse.SUPPRESS)  # the old spelling
    rep.set_defaults(func=cmd_report)

    claims_ = command("claims", "the claims judged from a run's records (claims.json's "
                      "objects with --json)")
    claims_.add_argument("--run", help="the run, results/<id> (default: results/latest)")
    claims_.add_argument("--json", action="store_true", help="a list of objects, as claims.json")
    claims_.set_defaults(func=cmd_claims)

    cmp_ = command("compare", "ratios B/A per cell, with significance from the repeats")
    cmp_.add_argument("a", help="the baseline run, results/<id>")
    cmp_.add_argument("b", help="the run compared with it, results/<id>")
    cmp_.add_argument("--threshold", type=_fraction, default=0.10,
                      help="relative change that counts as a regression (default 0.10 = 10%%)")
    cmp_.add_argument("--json", action="store_true",
                      help="the comparison as JSON on stdout (the files are still written)")
    cmp_.set_defaults(func=cmd_compare)

    docs = command("docs", "write docs/reference.md from the code (strategies, profiles, "
                   "workloads, commands)")
    docs.add_argument("--check", action="store_true",
                      help="write nothing; exit 1 if docs/reference.md differs from the code")
    docs.set_defaults(func=cmd_docs)
    return parser


def cmd_docs(args: argparse.Namespace) -> int:
    from . import reference
    path = reference.PATH
    text = reference.render(build_parser())
    if args.check:
        if not path.is_file() or path.read_text() != text:
            print(f"sharebench: {path} differs from the code: `sharebench docs` rewrites it",
                  file=sys.stderr)
            return 1
        return 0
    path.write_text(text)
    print(f"sharebench: wrote {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)
