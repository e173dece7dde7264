"""Budget checks and the elementary mechanisms (discrete Laplace counts, thresholded
histograms, the analytic Gaussian calibration).

All noise is drawn by the exact discrete samplers of :mod:`tabgen.privacy.noise` from a
cryptographically secure bit source (:func:`secret_rng`); no DP noise value goes through a
floating-point sampler.

Neighbouring tables differ by one row added or removed (unbounded DP); the number of rows
``n`` is treated as public, as in Opacus and most DP libraries (it sets the sampling rate and
the default ``delta``).
"""

from __future__ import annotations

import math
import numbers
import os
import secrets

import numpy as np
from scipy.special import ndtr


def secret_seed(bits: int = 62) -> int:
    """A seed from the operating system's entropy, never from ``random_state``.

    Every random draw that a DP guarantee rests on (Laplace and Gaussian noise, the Poisson
    sampling and the gradient noise of DP-SGD) is seeded from here: a ``random_state`` is a
    parameter, saved in the model file and often published, and noise that can be
    regenerated from it protects nothing. DP fits are therefore not reproducible; the rest
    of the fit (initialisation, dequantisation, sampling) still follows ``random_state``.
    """
    return secrets.randbits(bits)


def secret_bytes_source():
    """The byte source of the DP-SGD gradient noise: :func:`os.urandom`, the operating
    system's CSPRNG (a callable ``n -> n random bytes``). Every DP-SGD run asks for its own,
    so tests can pin it per fit (``tests/conftest.py``'s ``pinned_dp_noise``)."""
    return os.urandom


def secret_rng():
    """The bit source of the DP mechanisms' noise: a
    :class:`~tabgen.privacy.noise.SecureRandom` keyed with 256 bits of :func:`secret_seed`."""
    from tabgen.privacy.noise import SecureRandom

    return SecureRandom(key=secret_seed(256))


def check_epsilon(epsilon, name: str = "epsilon") -> float:
    """Validate a privacy budget: a finite number > 0.

    Examples
    --------
    >>> check_epsilon(3)
    3.0
    """
    if isinstance(epsilon, bool) or not isinstance(epsilon, numbers.Real):
        raise TypeError(f"{name} must be a positive number, got {epsilon!r}")
    if not (math.isfinite(epsilon) and epsilon > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {epsilon!r}")
    return float(epsilon)


def default_delta(n: int) -> float:
    """``min(1e-5, 1 / (n * sqrt(n)))``: well below ``1/n`` for any table size.

    Examples
    --------
    >>> default_delta(100)
    1e-05
    >>> round(default_delta(10_000), 12)
    1e-06
    """
    return min(1e-5, 1.0 / (n * math.sqrt(n)))


def resolve_delta(delta, n: int) -> float:
    """``delta`` checked against the table size, or :func:`default_delta` for ``None``.

    A ``delta >= 1/n`` is refused: it would allow releasing one whole row at random.
    """
    if n < 2:
        raise ValueError(f"differential privacy needs at least 2 rows, got {n}")
    if delta is None:
        return default_delta(n)
    if isinstance(delta, bool) or not isinstance(delta, numbers.Real):
        raise TypeError(f"delta must be None or a number in (0, 1/n), got {delta!r}")
    if not 0 < delta < 1.0 / n:
        raise ValueError(
            f"delta must be in (0, 1/n) = (0, {1.0 / n:.3g}) for n={n} rows, got {delta!r}; "
            "leave delta=None for min(1e-5, 1/(n*sqrt(n)))"
        )
    return float(delta)


def laplace_counts(counts: np.ndarray, epsilon: float, rng) -> np.ndarray:
    """Integer counts plus *discrete* Laplace noise of scale ``1/epsilon`` (rounded up; see
    :func:`~tabgen.privacy.noise.laplace_scale`): ``epsilon``-DP for a histogram in which one
    row falls in exactly one cell (L1 sensitivity 1). Exact integers, as float64.

    ``rng`` is a :class:`~tabgen.privacy.noise.SecureRandom` (a numpy Generator is accepted
    for reproducible tests and examples).
    """
    from tabgen.privacy.noise import add_discrete_laplace

    return add_discrete_laplace(counts, epsilon, rng)


def stability_threshold(epsilon: float, delta: float) -> float:
    """Release threshold of the discrete Laplace histogram over *data-dependent* cells.

    Each cell present in the data gets discrete Laplace noise of scale ``t = 1/epsilon``
    (rounded up) and is released when the noisy count exceeds the returned integer ``k``:
    a cell held by a single row is then released when the noise is at least ``k``, which has
    probability ``p^k / (1 + p) <= delta`` with ``p = exp(-1/t)``, and the whole release is
    ``(epsilon, delta)``-DP when one row touches one cell (Korolova et al. 2009; Wilson et
    al. 2020, "Laplace partition selection", here for the discrete Laplace).

    Examples
    --------
    >>> stability_threshold(1.0, 0.5 * math.exp(-9))
    10.0
    """
    from tabgen.privacy.noise import laplace_scale

    eps = float(1 / laplace_scale(epsilon))
    p = math.exp(-eps)
    # the tiny margin keeps float rounding from ever lowering the integer threshold
    return float(max(math.ceil(math.log(1.0 / (delta * (1.0 + p))) / eps + 1e-9), 1))


def empty_cell_threshold(epsilon: float, n_cells: int, beta: float = 0.05) -> float:
    """Noisy-count threshold that an empty cell among ``n_cells`` passes with probability at
    most ``beta`` in total (union bound over ``Laplace(1/epsilon)`` tails)."""
    return math.log(max(n_cells, 1) / (2.0 * beta)) / epsilon


def gaussian_sigma(epsilon: float, delta: float, sensitivity: float = 1.0) -> float:
    """Smallest noise scale of the Gaussian mechanism that is ``(epsilon, delta)``-DP for a
    query of L2 ``sensitivity``: the *analytic* Gaussian mechanism (Balle & Wang 2018,
    Theorem 8), exact for every ``epsilon`` (the classical ``sqrt(2 log(1.25/delta))`` bound
    only holds for ``epsilon < 1``).

    Examples
    --------
    >>> s = gaussian_sigma(1.0, 1e-5)
    >>> 3.7 < s < 4.0
    True
    """
    check_epsilon(epsilon)

    def delta_of(sigma: float) -> float:
        a = sensitivity / (2.0 * sigma)
        b = epsilon * sigma / sensitivity
        return float(ndtr(a - b) - math.exp(epsilon) * ndtr(-a - b))

    lo, hi = 1e-6 * sensitivity, sensitivity
    while delta_of(hi) > delta:
        hi *= 2.0
    for _ in range(200):  # delta_of is decreasing in sigma: bisect to the boundary
        mid = 0.5 * (lo + hi)
        if delta_of(mid) > delta:
            lo = mid
        else:
            hi = mid
    return hi
