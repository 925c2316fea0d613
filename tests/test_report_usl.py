"""The USL fit recovers known σ and κ, its bootstrap intervals cover the truth at about
their nominal rate, and it refuses when the points cannot determine them."""
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
    ([1, 2, 4], [3000.0, 5900.0, 11000.0]),   # three points: a curve through them, no error
    ([1, 1, 2, 2, 4, 4], [3000.0, 3010.0, 5900.0, 5950.0, 11000.0, 11100.0]),
    ([1, 2], [3000.0, 3100.0]),
    ([1, 1, 1, 2, 2, 2], [3000.0, 3010.0, 2990.0, 3100.0, 3090.0, 3120.0]),  # repeats add no N
    ([1], [3000.0]),
    ([], []),
])
def test_fewer_than_four_core_counts_is_not_a_fit(cores, throughput) -> None:
    fit = fit_usl(cores, throughput)
    assert not fit.ok and math.isnan(fit.sigma) and math.isnan(fit.peak_n)
    assert f"has {len(set(cores))}" in fit.reason and "4 or more core counts" in fit.reason


def test_failed_points_are_ignored() -> None:
    fit = fit_usl([1, 2, 4, 8, 16], [1000.0, float("nan"), 0.0, 5000.0, 9000.0])
    assert not fit.ok and fit.points == 3


@pytest.mark.slow  # many fits or seeds: make test-fast leaves it out
def test_report_prints_the_fit_when_the_machine_allows_it(tmp_path) -> None:
    import warnings

    from report import RunWarning, build_report

    from .report_run import write_run
    run = write_run(tmp_path, cores_list=(1, 2, 4, 8), machine=16, repeats=2, damaged=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RunWarning)
        html = build_report(run).html.read_text()
    scaling = html[html.index('<section id="scaling">'):html.index('<section id="latency">')]
    scaling = re.sub(r"<td[^>]*>", "<td>", scaling)
    assert "fit not possible" not in scaling
    assert "<th>σ contention</th>" in scaling and "peak N* (cores)" in scaling
    row = scaling[scaling.index("<td>global-lock-mp</td><td>0."):]  # the USL row: σ first
    assert re.match(r"<td>global-lock-mp</td><td>0\.\d+ \[0\.\d+, 0\.\d+\]</td>", row), row[:200]


GEOMETRIC = np.array([1, 2, 4, 8, 16, 32, 64])  # what `cores = "all"` measures on a big machine


def _noisy_run(seed: int, sigma: float, kappa: float, noise: float = 0.03, repeats: int = 3):
    rng = np.random.default_rng(1000 + seed)
    cores = np.repeat(GEOMETRIC, repeats)
    return cores, usl(cores, 1000.0, sigma, kappa) * rng.normal(1.0, noise, cores.size)


@pytest.mark.slow  # many fits or seeds: make test-fast leaves it out
def test_intervals_cover_the_truth_at_about_their_nominal_rate() -> None:
    """200 synthetic runs, 3 repeats at each of 7 core counts, 3% noise: the 90%
    intervals must contain the true σ and κ in at least 80% of them (a bootstrap
    from 3 repeats runs a little under its nominal rate), and not in all of them
    (intervals wide enough to always cover would say nothing)."""
    sigma, kappa, seeds = 0.05, 0.001, 200
    covered = {"sigma": 0, "kappa": 0}
    for seed in range(seeds):
        fit = fit_usl(*_noisy_run(seed, sigma, kappa), resamples=100, seed=seed)
        assert fit.ok and fit.ci_method == "repeats" and fit.level == 0.9
        covered["sigma"] += fit.sigma_ci[0] <= sigma <= fit.sigma_ci[1]
        covered["kappa"] += fit.kappa_ci[0] <= kappa <= fit.kappa_ci[1]
    for name, count in covered.items():
        assert 0.80 * seeds <= count < seeds, (name, count / seeds)


def test_a_peak_is_given_only_when_kappas_interval_excludes_zero() -> None:
    peaked = fit_usl(*_noisy_run(1, 0.05, 0.001))
    assert peaked.kappa_ci[0] > 0 and math.isfinite(peaked.peak_n)
    low, high = peaked.peak_ci
    assert low <= math.sqrt(0.95 / 0.001) <= high  # ≈ 30.8 cores



@pytest.mark.slow  # many fits or seeds: make test-fast leaves it out
def test_noise_rarely_invents_a_peak() -> None:
    """Amdahl's law (κ = 0) with 3% noise: a 90% interval's lower end is above 0 in
    about 5% of runs by chance; more than 12% of 100 would mean noise invents peaks."""
    invented = 0
    for seed in range(100):
        fit = fit_usl(*_noisy_run(seed, 0.2, 0.0), resamples=100, seed=seed)
        invented += math.isfinite(fit.peak_n)
        if math.isinf(fit.peak_n):
            assert math.isnan(fit.peak_ci[0])
    assert invented <= 12, invented


def test_band_brackets_the_fitted_curve() -> None:
    fit = fit_usl(*_noisy_run(2, 0.05, 0.001))
    grid = np.linspace(1, 64, 30)
    low, high = fit.band(grid)
    assert np.all(low <= fit.predict(grid) * 1.001) and np.all(fit.predict(grid) <= high * 1.001)
    assert np.all(high - low > 0)
    truth = usl(grid, 1000.0, 0.05, 0.001)
    assert np.mean((low <= truth) & (truth <= high)) > 0.5


def test_single_repeats_resample_the_residuals() -> None:
    rng = np.random.default_rng(4)
    throughput = usl(N, 1000.0, 0.05, 0.001) * rng.normal(1.0, 0.02, N.size)
    fit = fit_usl(N, throughput)
    assert fit.ci_method == "residuals"
    assert fit.sigma_ci[0] <= 0.05 <= fit.sigma_ci[1] and fit.kappa_ci[0] <= 0.001 <= fit.kappa_ci[1]


def test_same_seed_same_intervals() -> None:
    run = _noisy_run(5, 0.05, 0.001)
    assert fit_usl(*run).kappa_ci == fit_usl(*run).kappa_ci
