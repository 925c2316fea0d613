"""The USL fit recovers known σ and κ, and refuses when the points cannot determine them."""
from __future__ import annotations

import math
import re

import numpy as np
import pytest

from report.usl import fit_usl, usl

N = np.arange(1, 33)


def test_recovers_sigma_and_kappa_exactly() -> None:
    fit = fit_usl(N, usl(N, 1000.0, 0.05, 0.001))
    assert fit.ok and fit.points == 32
    assert fit.sigma == pytest.approx(0.05, abs=1e-6)
    assert fit.kappa == pytest.approx(0.001, abs=1e-8)
    assert fit.lam == pytest.approx(1000.0, rel=1e-6)
    assert fit.peak_n == pytest.approx(math.sqrt(0.95 / 0.001), rel=1e-4)  # ≈ 30.8 cores
    assert fit.r2 == pytest.approx(1.0)


def test_recovers_sigma_and_kappa_through_noise_and_repeats() -> None:
    rng = np.random.default_rng(3)
    cores = np.repeat(N, 3)  # three repeats per core count, 2% noise each
    throughput = usl(cores, 1000.0, 0.05, 0.001) * rng.normal(1.0, 0.02, cores.size)
    fit = fit_usl(cores, throughput)
    assert fit.ok and fit.points == 32
    assert abs(fit.sigma - 0.05) < 3 * fit.sigma_err + 0.005
    assert abs(fit.kappa - 0.001) < 3 * fit.kappa_err + 0.0001
    assert 27 < fit.peak_n < 35
    assert fit.r2 > 0.98


def test_no_coherency_cost_means_no_peak() -> None:
    fit = fit_usl(N, usl(N, 500.0, 0.2, 0.0))  # Amdahl's law: κ = 0
    assert fit.ok and fit.kappa == pytest.approx(0.0, abs=1e-9) and math.isinf(fit.peak_n)


def test_bounds_keep_parameters_physical() -> None:
    superlinear = N * 1000.0 * (1 + 0.01 * N)  # faster than linear: no USL with σ, κ ≥ 0
    fit = fit_usl(N, superlinear)
    assert fit.ok and fit.sigma >= 0 and fit.kappa >= 0


@pytest.mark.parametrize("cores, throughput", [
    ([1, 2], [3000.0, 3100.0]),
    ([1, 1, 1, 2, 2, 2], [3000.0, 3010.0, 2990.0, 3100.0, 3090.0, 3120.0]),  # repeats add no N
    ([1], [3000.0]),
    ([], []),
])
def test_fewer_than_three_core_counts_is_not_a_fit(cores, throughput) -> None:
    fit = fit_usl(cores, throughput)
    assert not fit.ok and math.isnan(fit.sigma) and math.isnan(fit.peak_n)
    assert f"has {len(set(cores))}" in fit.reason and "3 or more core counts" in fit.reason


def test_failed_points_are_ignored() -> None:
    fit = fit_usl([1, 2, 4, 8], [1000.0, float("nan"), 0.0, 5000.0])
    assert not fit.ok and fit.points == 2


def test_report_prints_the_fit_when_the_machine_allows_it(tmp_path) -> None:
    import warnings

    from report import RunWarning, build_report

    from .test_report_fixture import write_run
    run = write_run(tmp_path, cores_list=(1, 2, 4, 8), machine=16, repeats=2, damaged=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RunWarning)
        html = build_report(run).html.read_text()
    scaling = html[html.index('<section id="scaling">'):html.index('<section id="latency">')]
    scaling = re.sub(r"<td[^>]*>", "<td>", scaling)
    assert "fit not possible" not in scaling
    assert "<th>σ contention</th>" in scaling and "peak N* (cores)" in scaling
    row = scaling[scaling.index("<td>global-lock-mp</td><td>0."):]  # the USL row: σ first
    assert "±" in row[:200]
