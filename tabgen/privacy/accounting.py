"""Privacy accounting in zero-concentrated DP (zCDP; Bun & Steinke 2016), with the tight
conversion to ``(epsilon, delta)`` of Canonne, Kamath & Steinke (2020).

ρ-zCDP composes by adding the ρ's, which is much tighter than adding epsilons when several
mechanisms are combined: a pure ``epsilon``-DP mechanism (the discrete Laplace counts) is
``epsilon²/2``-zCDP, the discrete Gaussian with L2 sensitivity ``Δ`` and variance parameter
``σ²`` is ``Δ²/(2σ²)``-zCDP, and the total converts back to ``(epsilon, delta)`` once.
Mechanisms that are only ``(epsilon, delta)``-DP (the thresholded category sets) are added on
top by basic composition.

Conversion: ρ-zCDP implies ``(ε, δ)``-DP for every ``α > 1`` with
``ε = αρ + (log(1/δ) + (α-1) log(1 - 1/α) - log α) / (α - 1)`` (CKS 2020, Corollary 13); the
minimum over a fine grid of ``α`` is taken (every ``α`` gives a valid bound).
"""

from __future__ import annotations

import math

import numpy as np

_ALPHAS = np.concatenate([1.0 + np.geomspace(1e-4, 1.0, 400), np.geomspace(2.0, 1e5, 2000)])


def zcdp_epsilon(rho: float, delta: float) -> float:
    """The smallest ``epsilon`` (on the grid of orders) for which ``rho``-zCDP gives
    ``(epsilon, delta)``-DP.

    Examples
    --------
    >>> round(zcdp_epsilon(0.5, 1e-5), 3)  # vs rho + 2 sqrt(rho log(1/delta)) = 5.298
    4.728
    >>> zcdp_epsilon(0.0, 1e-5)
    0.0
    """
    if rho < 0 or not 0 < delta < 1:
        raise ValueError(f"need rho >= 0 and 0 < delta < 1, got rho={rho!r}, delta={delta!r}")
    if rho == 0:
        return 0.0
    a = _ALPHAS
    eps = a * rho + (math.log(1.0 / delta) + (a - 1) * np.log1p(-1.0 / a) - np.log(a)) / (a - 1)
    return float(max(np.min(eps), 0.0))


def zcdp_budget(epsilon: float, delta: float) -> float:
    """The largest ``rho`` whose :func:`zcdp_epsilon` at ``delta`` is at most ``epsilon``
    (bisection, rounded down).

    Examples
    --------
    >>> rho = zcdp_budget(1.0, 1e-6)
    >>> zcdp_epsilon(rho, 1e-6) <= 1.0 < zcdp_epsilon(rho * 1.01, 1e-6)
    True
    """
    if epsilon <= 0:
        return 0.0
    lo, hi = 0.0, max(epsilon, 1.0)
    while zcdp_epsilon(hi, delta) <= epsilon:
        hi *= 2.0
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        if zcdp_epsilon(mid, delta) <= epsilon:
            lo = mid
        else:
            hi = mid
    return lo


def pure_rho(epsilon: float) -> float:
    """zCDP of an ``epsilon``-DP mechanism: ``epsilon² / 2`` (Bun & Steinke, Prop. 1.4)."""
    return 0.5 * float(epsilon) ** 2


def gaussian_rho(sensitivity: float, sigma: float) -> float:
    """zCDP of the (discrete) Gaussian mechanism: ``Δ² / (2σ²)``."""
    return 0.5 * (float(sensitivity) / float(sigma)) ** 2


def basic_epsilon(epsilons) -> float:
    """Basic composition: the epsilons add."""
    return float(sum(epsilons))
