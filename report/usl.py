"""Gunther's Universal Scalability Law, fitted with scipy's bounded curve_fit.

    X(N) = λ·N / (1 + σ·(N − 1) + κ·N·(N − 1))

σ is contention (the serial fraction), κ coherency (the cost of keeping
shared data consistent between workers), λ the throughput of one worker.
With κ > 0 throughput peaks at N* = √((1 − σ) / κ) and then falls.

Three parameters need at least three distinct N: with two points any (σ, κ)
on a curve through them fits perfectly, so the fit would be meaningless.
`fit_usl` refuses and says why instead of returning numbers.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import curve_fit

MIN_POINTS = 3


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

    @property
    def kappa_is_zero(self) -> bool:
        """κ indistinguishable from 0: within two standard errors of it (or below 1e-12)."""
        err = self.kappa_err if math.isfinite(self.kappa_err) else 0.0
        return self.kappa <= max(1e-12, 2.0 * err)

    @property
    def peak_n(self) -> float:
        """N* = √((1 − σ)/κ); infinite when κ cannot be told from 0 (throughput never falls)."""
        if not self.ok:
            return math.nan
        if self.kappa_is_zero:
            return math.inf
        return math.sqrt(max(0.0, 1.0 - self.sigma) / self.kappa)

    def predict(self, n: np.ndarray | float) -> np.ndarray | float:
        return usl(n, self.lam, self.sigma, self.kappa)


def fit_usl(cores: list[float] | np.ndarray, throughput: list[float] | np.ndarray) -> USLFit:
    """Fit X(N); needs throughput at >= 3 distinct core counts."""
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
        params, cov = curve_fit(usl, n, x, p0=(lam0, 0.01, 0.0001),
                                bounds=([0.0, 0.0, 0.0], [np.inf, 1.0, 1.0]), maxfev=20_000)
    except (RuntimeError, ValueError) as exc:
        return USLFit(ok=False, points=len(distinct), reason=f"the fit did not converge ({exc})")
    lam, sigma, kappa = (float(p) for p in params)
    errors = np.sqrt(np.clip(np.diag(cov), 0, None)) if np.all(np.isfinite(cov)) else [math.nan] * 3
    residual = float(np.sum((x - usl(n, *params)) ** 2))
    total = float(np.sum((x - x.mean()) ** 2))
    r2 = 1.0 - residual / total if total > 0 else math.nan
    rms_pct = 100.0 * math.sqrt(residual / len(x)) / float(x.mean())
    return USLFit(ok=True, lam=lam, sigma=sigma, kappa=kappa, sigma_err=float(errors[1]),
                  kappa_err=float(errors[2]), r2=r2, rms_pct=rms_pct, points=len(distinct))
