"""Gaussian helpers: a nearest correlation matrix, truncated normal draws, and exact sampling
of a multivariate normal given point and interval constraints on some coordinates."""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr, ndtri

from tabgen._linalg import nearest_correlation

__all__ = ["conditional_sample", "nearest_correlation", "truncated_normal"]


def truncated_normal(rng, mu, sigma, lo, hi) -> np.ndarray:
    """Draw from ``N(mu, sigma^2)`` truncated to ``[lo, hi]`` (arrays, broadcast), by inverse
    CDF on the lower tail for numerical accuracy."""
    mu, sigma, lo, hi = np.broadcast_arrays(
        *(np.asarray(a, dtype="float64") for a in (mu, sigma, lo, hi))
    )
    a = (lo - mu) / sigma
    b = (hi - mu) / sigma
    flip = a > 0  # work on the side where ndtr keeps relative precision
    a2 = np.where(flip, -b, a)
    b2 = np.where(flip, -a, b)
    pa, pb = ndtr(a2), ndtr(b2)
    u = pa + rng.random(pa.shape) * (pb - pa)
    with np.errstate(divide="ignore", invalid="ignore"):
        x = ndtri(u)
    x = np.where(np.isfinite(x), x, np.where(np.isfinite(a2), a2, b2))
    x = np.clip(x, a2, b2)
    x = np.where(flip, -x, x)
    return mu + sigma * x


def conditional_sample(
    rng: np.random.Generator,
    corr: np.ndarray,
    n: int,
    lo: dict[int, np.ndarray],
    hi: dict[int, np.ndarray],
    sweeps: int = 10,
) -> np.ndarray:
    """Sample ``n`` rows of ``N(0, corr)`` with coordinate ``j`` constrained to
    ``[lo[j], hi[j]]`` (per-row arrays; equal bounds fix the value).

    Constrained coordinates are drawn by Gibbs sampling from their truncated conditionals
    (exact in one sweep when a single coordinate is an interval), the free coordinates from
    the Gaussian conditional given them.
    """
    d = corr.shape[0]
    cond = sorted(lo)
    free = [j for j in range(d) if j not in lo]
    z = np.zeros((n, d))
    if not cond:
        return rng.standard_normal((n, d)) @ np.linalg.cholesky(corr).T
    zc = np.zeros((n, len(cond)))
    interval = []
    for k, j in enumerate(cond):
        point = lo[j] == hi[j]
        zc[:, k] = np.where(point, lo[j], 0.0)
        if not point.all():
            interval.append(k)
    scc = corr[np.ix_(cond, cond)]
    if interval:
        prec = np.linalg.inv(scc)
        # start from the marginal truncated draws
        for k in interval:
            j = cond[k]
            draw = truncated_normal(rng, 0.0, 1.0, lo[j], hi[j])
            zc[:, k] = np.where(lo[j] == hi[j], lo[j], draw)
        n_sweeps = 1 if len(interval) == 1 else sweeps
        for _ in range(n_sweeps):
            for k in interval:
                j = cond[k]
                qkk = prec[k, k]
                mu = -(zc @ prec[k] - qkk * zc[:, k]) / qkk
                draw = truncated_normal(rng, mu, 1.0 / np.sqrt(qkk), lo[j], hi[j])
                zc[:, k] = np.where(lo[j] == hi[j], lo[j], draw)
    z[:, cond] = zc
    if free:
        sfc = corr[np.ix_(free, cond)]
        sff = corr[np.ix_(free, free)]
        gain = np.linalg.solve(scc, sfc.T).T  # Σ_fc Σ_cc^-1
        cov = sff - gain @ sfc.T
        cov = (cov + cov.T) / 2.0
        w, v = np.linalg.eigh(cov)
        root = v * np.sqrt(np.maximum(w, 0.0))
        z[:, free] = zc @ gain.T + rng.standard_normal((n, len(free))) @ root.T
    return z
