"""Shared statistics of the attacks: Wilson intervals, residual risk, one attack's summary."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.stats import norm


def _z(confidence: float) -> float:
    """Two-sided normal quantile: 1.96 for a 95 % interval."""
    return float(norm.ppf(1.0 - (1.0 - confidence) / 2.0))


def wilson_interval(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score estimate of a success rate and its half-width.

    ``rate = (k + z²/2) / (n + z²)`` and ``error = z / (n + z²) · sqrt(k(n - k)/n + z²/4)``,
    with ``z`` the *two-sided* normal quantile of ``confidence`` (1.96 for 0.95), so that
    ``rate ± error`` is the usual Wilson interval.

    Parameters
    ----------
    k : int
        Successes, ``0 <= k <= n``.
    n : int
        Trials. With ``n == 0`` both numbers are NaN.
    confidence : float, default 0.95

    Returns
    -------
    rate, error : float

    Examples
    --------
    >>> rate, error = wilson_interval(30, 100)
    >>> round(rate, 4), round(error, 4)
    (0.3074, 0.0884)
    """
    _check_confidence(confidence)
    if n < 0 or k < 0 or k > n:
        raise ValueError(f"need 0 <= k <= n, got k={k!r}, n={n!r}")
    if n == 0:
        return float("nan"), float("nan")
    z = _z(confidence)
    z2 = z * z
    rate = (k + z2 / 2.0) / (n + z2)
    error = z / (n + z2) * math.sqrt(k * (n - k) / n + z2 / 4.0)
    return float(rate), float(error)


def residual_risk(
    attack: tuple[float, float], control: tuple[float, float]
) -> tuple[float, float, float]:
    """Risk left once what the population alone reveals (the control attack) is removed.

    ``risk = (a - c) / (1 - c)`` for the attack rate ``a`` and control rate ``c``; the error
    ``sqrt((e_a / (1 - c))² + (e_c (1 - a) / (1 - c)²)²)`` propagates both rates' errors. The
    interval ``(risk - error, risk + error)`` and then the risk itself are clipped to [0, 1].
    A control rate of 1 leaves nothing to measure: risk 0, interval (0, 0).

    Parameters
    ----------
    attack, control : (rate, error)
        Success rates and half-widths, e.g. from :func:`wilson_interval`.

    Returns
    -------
    risk, low, high : float
        NaN when a rate is NaN.

    Examples
    --------
    >>> risk, low, high = residual_risk((0.5, 0.05), (0.2, 0.04))
    >>> round(risk, 4), round(low, 4), round(high, 4)
    (0.375, 0.3051, 0.4449)
    """
    a, e_a = attack
    c, e_c = control
    if any(math.isnan(v) for v in (a, e_a, c, e_c)):
        return float("nan"), float("nan"), float("nan")
    if c >= 1.0:
        return 0.0, 0.0, 0.0
    risk = (a - c) / (1.0 - c)
    error = math.sqrt((e_a / (1.0 - c)) ** 2 + (e_c * (1.0 - a) / (1.0 - c) ** 2) ** 2)
    low = min(max(risk - error, 0.0), 1.0)
    high = min(max(risk + error, 0.0), 1.0)
    return float(min(max(risk, 0.0), 1.0)), float(low), float(high)


def _summary(k: tuple[int, int, int], n: tuple[int, int, int], confidence: float) -> dict[str, Any]:
    """Rates, errors and the residual risk of one attack from its success counts."""
    out: dict[str, Any] = {}
    rates = {}
    for name, kk, nn in zip(("attack", "control", "baseline"), k, n):
        rate, error = wilson_interval(int(kk), int(nn), confidence)
        rates[name] = (rate, error)
        out[f"{name}_rate"] = rate
        out[f"{name}_error"] = error
        out[f"{name}_successes"] = int(kk)
    out["n_attacks"] = int(n[0])
    out["n_control"] = int(n[1])
    out["n_baseline"] = int(n[2])
    risk, low, high = residual_risk(rates["attack"], rates["control"])
    out.update({"risk": risk, "risk_low": low, "risk_high": high})
    return out


def null_upper_bounds(
    k_attack: np.ndarray,
    k_control: np.ndarray,
    n: np.ndarray,
    confidence: float,
    rng: np.random.Generator,
    draws: int = 2000,
) -> tuple[np.ndarray, np.ndarray]:
    """Residual risks and upper bounds that a release leaking nothing would get, ``draws``
    times, for attacks with these success counts (one column per attack).

    Under "no leak" the main and control attacks succeed equally often given the release, so
    each attack's main and control counts are redrawn as independent binomials with ``n``
    trials and the pooled rate ``(k_attack + k_control) / 2n``, and scored exactly as the
    measured ones (Wilson rates, :func:`residual_risk`). Returns ``(risk, high)``, arrays of
    shape ``(draws, attacks)``. Where the control rate is near 1 (a secret the other columns
    nearly determine, such as Adult's education_num given education) the residual risk divides
    by ``1 - control`` and even a leak-free release gets wide upper bounds; their quantiles are
    the floor a measured upper bound is compared with.
    """
    n = np.asarray(n, dtype=float)
    p = (np.asarray(k_attack) + np.asarray(k_control)) / (2.0 * n)
    shape = (int(draws), len(n))
    rates = []
    z = _z(confidence)
    z2 = z * z
    for _ in range(2):
        k = rng.binomial(n.astype(np.int64), p, size=shape).astype(float)
        rate = (k + z2 / 2.0) / (n + z2)
        error = z / (n + z2) * np.sqrt(k * (n - k) / n + z2 / 4.0)
        rates.append((rate, error))
    (a, e_a), (c, e_c) = rates
    risk = (a - c) / (1.0 - c)
    error = np.sqrt((e_a / (1.0 - c)) ** 2 + (e_c * (1.0 - a) / (1.0 - c) ** 2) ** 2)
    return np.clip(risk, 0.0, 1.0), np.clip(risk + error, 0.0, 1.0)


def _check_confidence(confidence: float) -> None:
    if not isinstance(confidence, (int, float, np.floating)) or not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be a number in (0, 1), got {confidence!r}")
