"""DP statistics of the Gaussian copula: marginals from the released histograms and a noisy
latent correlation matrix.

The correlation is measured with the *discrete* Gaussian mechanism (Canonne, Kamath & Steinke
2020): every row's vector of normal scores ``s`` (one per encoded slot, 0 where the column is
missing) is clipped to the L2 norm ``C = sqrt(2 d)``; the upper triangle (with the diagonal) of
``s s^T``, of L2 norm at most ``C^2``, is scaled by ``q = 2^16`` and rounded to integers row by
row, so the integer sum over rows has L2 sensitivity at most ``Δ = q C^2 + sqrt(m)/2`` (``m``
entries, each rounded by at most 1/2) under adding or removing a row. Each entry gets integer
discrete Gaussian noise of variance parameter ``σ² = Δ² / (2ρ)``: ``ρ``-zCDP exactly, with no
floating-point noise. ``ρ`` comes from the accountant (:mod:`tabgen.privacy.accounting`):
the largest that, composed in zCDP with the pure-DP histograms of the domain, still converts
to the requested ``(epsilon, delta)``. The noisy second moments are turned into a latent
correlation with the same attenuation correction as the non-private copula and projected to
the nearest correlation matrix (post-processing).
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
from scipy.special import ndtr, ndtri

from tabgen._linalg import nearest_correlation
from tabgen.encoders import PiecewiseCDF
from tabgen.privacy.accounting import (
    basic_epsilon,
    pure_rho,
    zcdp_budget,
    zcdp_epsilon,
)
from tabgen.privacy.noise import add_discrete_gaussian

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


#: Scale of the integer moments (``q`` in the module docstring).
MOMENT_SCALE = 2**16


def correlation_rho(budget: dict, ledger: dict) -> tuple[float, dict]:
    """``(rho, accounting)``: the zCDP budget of the correlation and how the total
    ``(epsilon, delta)`` is accounted.

    The domain's pure-DP histograms (``ledger["pure_epsilons"]``, each ``eps²/2``-zCDP) and the
    correlation compose in zCDP and convert once at ``delta_model``; the thresholded category
    sets (``(eps_t, delta_t)``) are added by basic composition. The correlation gets the
    largest ``rho`` that keeps the total at ``epsilon``, or what basic composition alone would
    give it (its ``epsilon_model`` converted on its own) if that is larger.
    """
    epsilon, delta = budget["epsilon"], budget["delta"]
    eps_t, delta_t = ledger["thresholded_epsilon"], ledger["thresholded_delta"]
    delta_z = delta - delta_t
    rho_pure = sum(pure_rho(e) for e in ledger["pure_epsilons"])
    rho_joint = zcdp_budget(epsilon - eps_t, delta_z) - rho_pure
    rho_alone = zcdp_budget(budget["epsilon_model"], budget["delta_model"])
    rho = max(rho_joint, rho_alone)
    accounted = eps_t + zcdp_epsilon(rho_pure + rho, delta_z)
    basic = basic_epsilon([eps_t, *ledger["pure_epsilons"], zcdp_epsilon(rho, delta_z)])
    return rho, {
        "epsilon": float(min(accounted, basic)),
        "delta": float(delta),
        "epsilon_basic_composition": float(basic),
        "rho_pure_histograms": float(rho_pure),
        "rho_correlation": float(rho),
        "accountant": "zCDP (Bun-Steinke; CKS 2020 conversion) for the pure-DP histograms and "
        "the correlation, plus basic composition of the thresholded category sets",
    }


def dp_correlation(scores: np.ndarray, rho: float, rng) -> tuple[np.ndarray, dict]:
    """``(correlation, report)`` from the ``(n, d)`` normal scores, ``rho``-zCDP (see the
    module docstring); ``rng`` is the secure bit source of the noise."""
    n, d = scores.shape
    if d == 0:
        return np.zeros((0, 0)), {"sigma": 0.0, "clip_norm": 0.0}
    clip = float(np.sqrt(2.0 * d))
    norms = np.linalg.norm(scores, axis=1)
    # a hair inside the clip norm, so that float rounding never lets a row exceed it
    scaled = scores * np.minimum(1.0, clip * (1 - 1e-9) / np.maximum(norms, 1e-12))[:, None]
    iu = np.triu_indices(d)
    m = len(iu[0])
    total = np.zeros(m, dtype=np.int64)
    for start in range(0, n, 4096):  # per-row integer contributions, summed exactly
        block = scaled[start : start + 4096]
        contrib = np.rint(MOMENT_SCALE * block[:, iu[0]] * block[:, iu[1]]).astype(np.int64)
        total += contrib.sum(axis=0)
    sensitivity = Fraction(MOMENT_SCALE * 2 * d) + Fraction(math.isqrt(m) + 1, 2)
    rho_q = Fraction(rho).limit_denominator(2**40)
    if rho_q > Fraction(rho):  # round the budget down, never up
        rho_q -= Fraction(1, 2**40)
    sigma2 = sensitivity**2 / (2 * rho_q)
    sigma2 = Fraction(math.ceil(sigma2 * 2**10), 2**10)
    noisy = add_discrete_gaussian(total, sigma2, rng)
    upper = np.zeros((d, d))
    upper[iu] = noisy.astype(np.float64) / MOMENT_SCALE
    moments = (upper + np.triu(upper, 1).T) / n
    sigma = math.sqrt(float(sigma2)) / MOMENT_SCALE
    info = {"sigma": sigma, "clip_norm": clip}
    if d == 1:
        return np.eye(1), info
    var = np.clip(np.diag(moments), 1e-3, 1.0)
    corr = np.clip(moments / np.outer(var, var), -0.995, 0.995)
    return nearest_correlation(corr, floor=1e-3), info
