"""DP statistics of the Gaussian copula: marginals from the released histograms and a noisy
latent correlation matrix.

The correlation is measured with the Gaussian mechanism: every row's vector of normal
scores ``s`` (one per encoded slot, 0 where the column is missing) is clipped to the L2 norm
``C = sqrt(2 d)``; the upper triangle (with the diagonal) of ``sum_i s_i s_i^T`` then has L2
sensitivity ``C^2`` under adding or removing a row, and gets Gaussian noise of the analytic
Gaussian mechanism for ``(epsilon, delta)``. The noisy second moments are turned into a
latent correlation with the same attenuation correction as the non-private copula and
projected to the nearest correlation matrix (post-processing).
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr, ndtri

from tabgen._linalg import nearest_correlation
from tabgen.encoders import PiecewiseCDF
from tabgen.privacy._mechanisms import gaussian_sigma

#: Smallest probability mass kept for a category or a missing/observed state, so that every
#: released value stays a proper interval of the latent (conditions on it stay exact).
_FLOOR = 1e-6
_EPS = 1e-7


def _discrete_cdf(probs: np.ndarray) -> PiecewiseCDF:
    """Atoms at codes ``0..k-1`` with probabilities ``probs`` (floored, renormalised)."""
    p = np.maximum(np.asarray(probs, dtype="float64"), _FLOOR)
    p = p / p.sum()
    cum = np.cumsum(p)
    out = PiecewiseCDF(max_knots=max(2 * p.size, 4))
    out.q_ = np.repeat(np.arange(p.size, dtype="float64"), 2)
    out.p_ = np.empty_like(out.q_)
    out.p_[0::2] = np.concatenate([[0.0], cum[:-1]])
    out.p_[1::2] = cum
    out.p_[-1] = 1.0
    return out


def slot_marginals(encoder, domain) -> list[PiecewiseCDF]:
    """One marginal per encoded slot of the copula's encoder (standard-scaled numbers,
    ordinal category codes, missing indicators), built only from the released domain."""
    marginals = []
    for span in encoder.spans_:
        dom = domain.columns_[span.column]
        enc = encoder.encoders_[span.column]
        if span.role == "missing":
            rate = dom.missing_rate()
            marginals.append(_discrete_cdf(np.array([1.0 - rate, rate])))
        elif span.kind == "index":
            marginals.append(_discrete_cdf(dom.frequencies()))
        elif span.kind == "continuous":
            cdf = dom.cdf()
            scaled = PiecewiseCDF(max_knots=cdf.max_knots)
            scaled.q_ = (cdf.q_ - enc.mean_) / enc.std_
            scaled.p_ = cdf.p_.copy()
            marginals.append(scaled)
        else:
            raise ValueError(f"unsupported slot kind {span.kind!r} for the DP copula")
    return marginals


def bin_scores(cdf: PiecewiseCDF, x: np.ndarray) -> np.ndarray:
    """``E[z | bin of x]`` for a latent standard normal: the truncated-normal mean over the
    probability interval of the atom or histogram bin holding ``x``."""
    q, p = cdf.q_, cdf.p_
    a, b = cdf.interval(x)
    k = np.clip(np.searchsorted(q, x, side="right") - 1, 0, q.size - 2)
    seg = b <= a  # not on an atom: the histogram bin around x
    a = np.where(seg, p[k], a)
    b = np.where(seg, p[k + 1], b)
    za = ndtri(_EPS + (1 - 2 * _EPS) * a)
    zb = ndtri(_EPS + (1 - 2 * _EPS) * b)
    mass = ndtr(zb) - ndtr(za)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = (np.exp(-0.5 * za**2) - np.exp(-0.5 * zb**2)) / (np.sqrt(2 * np.pi) * mass)
    return np.where(mass > 1e-12, mean, 0.5 * (za + zb))


def dp_correlation(
    scores: np.ndarray, epsilon: float, delta: float, rng: np.random.Generator
) -> tuple[np.ndarray, dict]:
    """``(correlation, report)`` from the ``(n, d)`` normal scores (see module docstring)."""
    n, d = scores.shape
    if d == 0:
        return np.zeros((0, 0)), {"sigma": 0.0, "clip_norm": 0.0}
    clip = float(np.sqrt(2.0 * d))
    norms = np.linalg.norm(scores, axis=1)
    scaled = scores * np.minimum(1.0, clip / np.maximum(norms, 1e-12))[:, None]
    moments = scaled.T @ scaled
    sigma = gaussian_sigma(epsilon, delta, sensitivity=clip**2)
    noise = np.triu(rng.normal(0.0, sigma, size=(d, d)))
    noise = noise + np.triu(noise, 1).T
    moments = (moments + noise) / n
    if d == 1:
        return np.eye(1), {"sigma": sigma, "clip_norm": clip}
    var = np.clip(np.diag(moments), 1e-3, 1.0)
    corr = np.clip(moments / np.outer(var, var), -0.995, 0.995)
    return nearest_correlation(corr, floor=1e-3), {"sigma": sigma, "clip_norm": clip}
