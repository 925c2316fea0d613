"""Gunther's Universal Scalability Law, fitted with scipy's bounded curve_fit, with
bootstrap confidence intervals.

    X(N) = λ·N / (1 + σ·(N − 1) + κ·N·(N − 1))

σ is contention (the serial fraction), κ coherency (the cost of keeping
shared data consistent between workers), λ the throughput of one worker.
With κ > 0 throughput peaks at N* = √((1 − σ) / κ) and then falls.

Three parameters need more distinct N than three: through three points a
curve fits exactly and says nothing of its own error, so `fit_usl` needs 4 and
refuses otherwise, saying why.

Uncertainty comes from the repeats, by bootstrap. Each core count keeps its
mean; each resample gives every point that mean times (1 + a relative deviation
drawn with replacement from all the points' deviations from their own count's
mean), then refits. The deviations are pooled across core counts because 3
repeats alone hold too little spread to resample: within-count resampling
covered the truth in 81% of 200 synthetic runs at a nominal 90%, pooled 85–88%
(tests/test_report_usl.py). They are inflated by √(m/(m−g)) for m points in g
core counts, the degrees of freedom the means used up. Where some core count
has a single repeat, the deviations are from the fitted curve instead (g = 3
parameters). Intervals are percentiles of the refits. N* is given only when
κ's interval excludes 0: otherwise the data cannot tell a peak from no peak.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import OptimizeWarning, curve_fit

MIN_POINTS = 4
LEVEL = 0.90
RESAMPLES = 400
_BOUNDS = ([0.0, 0.0, 0.0], [np.inf, 1.0, 1.0])
_NAN2 = (math.nan, math.nan)
# Below this κ adds under 0.0004% at 64 cores: zero, whatever the optimiser's last digits say.
KAPPA_ZERO = 1e-9


def usl(n: np.ndarray | float, lam: float, sigma: float, kappa: float) -> np.ndarray | float:
    """Throughput at concurrency n under the USL."""
    n = np.asarray(n, dtype=float)
    return lam * n / (1.0 + sigma * (n - 1.0) + kappa * n * (n - 1.0))


@dataclass(frozen=True)
class USLFit:
    ok: bool
    reason: str = ""                 # why there is no fit, when not ok
    lam: float = math.nan            # req/s of one core
    sigma: float = math.nan          # contention, 0..1
    kappa: float = math.nan          # coherency, >= 0
    sigma_err: float = math.nan      # one standard error, from the covariance
    kappa_err: float = math.nan
    r2: float = math.nan             # coefficient of determination on the points
    rms_pct: float = math.nan        # RMS residual as % of mean throughput: honest when R² is not
    points: int = 0
    level: float = LEVEL             # of the intervals below
    lam_ci: tuple[float, float] = _NAN2
    sigma_ci: tuple[float, float] = _NAN2
    kappa_ci: tuple[float, float] = _NAN2
    ci_method: str = ""              # "repeats" | "residuals" | why there are no intervals
    samples: np.ndarray = field(default_factory=lambda: np.empty((0, 3)), repr=False,
                                compare=False)   # the bootstrap's (λ, σ, κ), one row each

    @property
    def has_ci(self) -> bool:
        return self.ok and math.isfinite(self.kappa_ci[0])

    @property
    def kappa_is_zero(self) -> bool:
        """κ cannot be told from 0: its interval reaches 0, or there is no interval."""
        return not self.has_ci or self.kappa_ci[0] <= KAPPA_ZERO

    @property
    def peak_n(self) -> float:
        """N* = √((1 − σ)/κ); infinite when κ's interval does not exclude 0."""
        if not self.ok:
            return math.nan
        if self.kappa_is_zero:
            return math.inf
        return math.sqrt(max(0.0, 1.0 - self.sigma) / self.kappa)

    @property
    def peak_ci(self) -> tuple[float, float]:
        """N*'s interval from the bootstrap (the upper end infinite if κ reaches 0)."""
        if self.kappa_is_zero:
            return _NAN2
        lam, sigma, kappa = self.samples.T
        with np.errstate(divide="ignore"):
            peaks = np.sqrt(np.clip(1.0 - sigma, 0, None) / kappa)
        return _interval(peaks, self.level)

    def predict(self, n: np.ndarray | float) -> np.ndarray | float:
        return usl(n, self.lam, self.sigma, self.kappa)

    def band(self, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The pointwise interval of the fitted curve at each n (NaN without intervals)."""
        n = np.asarray(n, dtype=float)
        if not self.has_ci:
            return np.full(n.shape, np.nan), np.full(n.shape, np.nan)
        curves = np.array([usl(n, *row) for row in self.samples])
        tail = 50.0 * (1.0 - self.level)
        return np.percentile(curves, tail, axis=0), np.percentile(curves, 100.0 - tail, axis=0)


def _interval(values: np.ndarray, level: float) -> tuple[float, float]:
    tail = 50.0 * (1.0 - level)
    low, high = np.percentile(values, [tail, 100.0 - tail])
    return float(low), float(high)


def _fit(n: np.ndarray, x: np.ndarray, p0) -> np.ndarray | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OptimizeWarning)
            params, _ = curve_fit(usl, n, x, p0=p0, bounds=_BOUNDS, maxfev=20_000)
        return params
    except (RuntimeError, ValueError):
        return None


def fit_usl(cores: list[float] | np.ndarray, throughput: list[float] | np.ndarray,
            level: float = LEVEL, resamples: int = RESAMPLES, seed: int = 0) -> USLFit:
    """Fit X(N) on every point (repeats included); needs >= 4 distinct core counts."""
    n = np.asarray(cores, dtype=float)
    x = np.asarray(throughput, dtype=float)
    keep = np.isfinite(n) & np.isfinite(x) & (n > 0) & (x > 0)
    n, x = n[keep], x[keep]
    distinct = sorted(set(n.tolist()))
    if len(distinct) < MIN_POINTS:
        shown = ", ".join(f"{v:g}" for v in distinct) or "none"
        return USLFit(ok=False, points=len(distinct),
                      reason=f"needs throughput at {MIN_POINTS} or more core counts, "
                             f"has {len(distinct)} ({shown})")
    # λ starts at the best per-core rate seen at the smallest N; σ, κ small.
    lam0 = float(np.max(x[n == n.min()] / n.min()))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OptimizeWarning)
            params, cov = curve_fit(usl, n, x, p0=(lam0, 0.01, 0.0001), bounds=_BOUNDS,
                                    maxfev=20_000)
    except (RuntimeError, ValueError) as exc:
        return USLFit(ok=False, points=len(distinct), reason=f"the fit did not converge ({exc})")
    lam, sigma, kappa = (float(p) for p in params)
    errors = np.sqrt(np.clip(np.diag(cov), 0, None)) if np.all(np.isfinite(cov)) else [math.nan] * 3
    residual = float(np.sum((x - usl(n, *params)) ** 2))
    total = float(np.sum((x - x.mean()) ** 2))
    r2 = 1.0 - residual / total if total > 0 else math.nan
    rms_pct = 100.0 * math.sqrt(residual / len(x)) / float(x.mean())
    fit = USLFit(ok=True, lam=lam, sigma=sigma, kappa=kappa, sigma_err=float(errors[1]),
                 kappa_err=float(errors[2]), r2=r2, rms_pct=rms_pct, points=len(distinct),
                 level=level)
    return _bootstrap(fit, n, x, params, resamples, np.random.default_rng(seed))


def _bootstrap(fit: USLFit, n: np.ndarray, x: np.ndarray, params: np.ndarray,
               resamples: int, rng: np.random.Generator) -> USLFit:
    groups = [np.flatnonzero(n == value) for value in np.unique(n)]
    by_repeats = all(len(g) >= 2 for g in groups)
    if by_repeats:
        centre, used = np.empty_like(x), len(groups)
        for g in groups:
            centre[g] = x[g].mean()
    else:
        centre, used = np.asarray(usl(n, *params), dtype=float), 3
    if len(x) <= used:
        return _no_ci(fit, "too few points to resample")
    deviations = (x / centre - 1.0) * math.sqrt(len(x) / (len(x) - used))
    rows = []
    for _ in range(resamples):
        sample = centre * (1.0 + rng.choice(deviations, size=len(x)))
        refit = _fit(n, np.clip(sample, 1e-9, None), params)
        if refit is not None:
            rows.append(refit)
    if len(rows) < 0.9 * resamples:
        return _no_ci(fit, f"the bootstrap refits failed ({resamples - len(rows)} of {resamples})")
    samples = np.array(rows)
    ci = [_interval(samples[:, i], fit.level) for i in range(3)]
    return USLFit(**{**vars(fit), "lam_ci": ci[0], "sigma_ci": ci[1], "kappa_ci": ci[2],
                     "ci_method": "repeats" if by_repeats else "residuals", "samples": samples})


def _no_ci(fit: USLFit, why: str) -> USLFit:
    return USLFit(**{**vars(fit), "ci_method": f"no intervals: {why}"})
