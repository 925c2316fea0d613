"""The report's open-loop numbers from a hand-written run: where each number comes from is
known, so capacity at SLO, the overlap verdict and the exclusions can be checked exactly.
(Real servers and Locust produce open-loop runs in tests/test_open_loop.py.)"""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from report import build_report, openloop
from report.analysis import analyse
from report.frames import read_run
from results import ids, schema
from results.record import CellRecord

SLO_MS = 20.0


def _record(strategy: str, rate: str, repeat: int, offered: float, rps: float, p99_ms: float,
            lagging: bool = False, users: int = 64, workload: str = "cpu") -> CellRecord:
    threads = strategy != "async"
    return CellRecord(strategy=strategy, workload=workload, engine="locust", cores=1, users=users,
                      repeat=repeat, rate=rate, model="threads" if threads else "async",
                      safety="safe", status="ok", reason="", offered_rps=offered, rps=rps,
                      requests=int(rps * 3), duration_s=3.0, p50_us=1000, p90_us=2000,
                      p99_us=int(p99_ms * 1000), p999_us=int(p99_ms * 1500),
                      p50_uncorrected_us=900, p99_uncorrected_us=1500, p999_uncorrected_us=1800,
                      send_lag_p99_us=300, errors=0, loadgen_lagging=lagging, rss_mb=30.0,
                      server_threads=5, server_fds=70, connection_cap=1024 if threads else None)


def _run(root: Path, records: list[CellRecord]) -> Path:
    run = root / "20260101-000000-latency"
    (run / "cells").mkdir(parents=True)
    manifest = {"format_version": schema.FORMAT_VERSION, "run_id": run.name, "profile": "latency",
                "slo_ms": {"cpu": SLO_MS}, "status": "complete",
                "matrix": [{k: getattr(r, k) for k in ("cell_id", *ids.IDENTITY, "rate")}
                           for r in records],
                "strategies": {"global-lock": {"model": "threads", "safety": "safe"},
                               "async": {"model": "async", "safety": "safe"}}}
    (run / "manifest.json").write_text(json.dumps(manifest))
    for r in records:
        (run / "cells" / f"{r.cell_id}.json").write_text(json.dumps(r.to_json()))
    return run


def _curve(strategy: str, repeat: int, p99s: list[float], scale: float = 1.0) -> list[CellRecord]:
    rates = [("500", 500.0), ("1000", 1000.0), ("1500", 1500.0), ("2000", 2000.0)]
    return [_record(strategy, rate, repeat, offered, offered * (1 if p99 < 100 else 0.9),
                    p99 * scale) for (rate, offered), p99 in zip(rates, p99s)]


def test_capacity_interpolates_between_the_rates_around_the_slo(tmp_path: Path) -> None:
    # global-lock: p99 10 ms at 1000, 30 ms at 1500 -> SLO 20 ms at 1250 req/s.
    records = _curve("global-lock", 0, [5, 10, 30, 200])
    # async: every rate under the SLO except the last, which is not even sustained.
    records += _curve("async", 0, [2, 3, 4, 150])
    run = read_run(_run(tmp_path, records))
    assert run.cells.empty and len(run.open_cells) == 8, "open cells stay out of closed tables"
    frame = openloop.groups(run)
    found = openloop.capacity_at_slo(run, frame, "cpu", ["async", "global-lock"])
    by = {c.strategy: c for c in found}
    assert by["global-lock"].how == "interpolated"
    assert by["global-lock"].rate == pytest.approx(1250.0)
    assert by["async"].how == "at" and by["async"].rate == 1500.0
    assert [c.strategy for c in found] == ["async", "global-lock"]


def test_overlapping_repeats_are_no_measurable_difference(tmp_path: Path) -> None:
    records = (_curve("global-lock", 0, [5, 10, 30, 200]) + _curve("global-lock", 1, [5, 18, 22, 200])
               + _curve("async", 0, [5, 12, 25, 200]) + _curve("async", 1, [5, 10, 35, 200]))
    run = read_run(_run(tmp_path, records))
    found = openloop.capacity_at_slo(run, openloop.groups(run), "cpu", ["async", "global-lock"])
    assert len(found) == 2 and all(c.repeats == 2 for c in found)
    assert found[1].same_as_above, [(c.strategy, c.low, c.high) for c in found]


def test_lagging_cells_are_never_used(tmp_path: Path) -> None:
    records = _curve("global-lock", 0, [5, 10, 30, 200])
    # A lagging cell claiming a p99 under the SLO at 1500 must not move the capacity.
    records[2] = _record("global-lock", "1500", 0, 1500.0, 1500.0, 1.0, lagging=True)
    run = read_run(_run(tmp_path, records))
    frame = openloop.groups(run)
    row = frame[frame["rate"] == "1500"].iloc[0]
    assert row["usable"] == 0 and row["lagging"] == 1 and math.isnan(row["p99_us"])
    found = openloop.capacity_at_slo(run, frame, "cpu", ["global-lock"])
    # Without it, the next point (2000) was not even sustained: capacity stays at 1000.
    assert (found[0].rate, found[0].how) == (1000.0, "at")


def test_report_has_the_curves_the_capacity_table_and_the_connection_sweep(tmp_path: Path) -> None:
    records = _curve("global-lock", 0, [5, 10, 30, 200]) + _curve("async", 0, [2, 3, 4, 150])
    for users in (100, 2000):
        for strategy in ("global-lock", "async"):
            # Over its thread cap, global-lock answers only part of the rate, fast: p99 alone
            # would call that a success.
            short = strategy == "global-lock" and users > 1024
            records.append(_record(strategy, "500", 0, 500.0, 100.0 if short else 500.0, 5.0,
                                   users=users, workload="io"))
    built = build_report(_run(tmp_path, records))
    text = built.markdown.read_text()
    assert "Capacity at SLO on cpu" in text and "fig-hockey-cpu.png" in text
    assert "fig-omission-cpu.png" in text and "fig-connections-io.png" in text
    assert "capped: serves 1024 connections at once" in text
    # only open-loop cells: the latency section shows them, and no closed-loop curve
    assert "No open-loop cells in this run" not in text and "closed loop at saturation" not in text
    an = analyse(read_run(built.html.parent))
    from report.claims import Outcome, claims
    claim = next(c for c in claims(an) if c.id == "async")
    (result,) = claim.results
    # global-lock serves 1024 of 2,000 connections: a cap we set, not threads failing
    assert result.outcome is Outcome.NOT_JUDGED, result.text()
    assert not result.conditions[0].passed and "capped at 2,000" in result.conditions[0].detail
    assert any(x.what == "global-lock at 2,000 connections" for x in result.left_out)
    assert "capped" in claim.answer, claim.answer
    assert any("100 of 500 req/s" in line for line in claim.evidence), claim.evidence
