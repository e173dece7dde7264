"""Exact discrete noise for differential privacy: discrete Laplace and discrete Gaussian
samplers (Canonne, Kamath & Steinke, "The Discrete Gaussian for Differential Privacy",
NeurIPS 2020, Algorithms 1-3), in exact integer and rational arithmetic on a cryptographically
secure random bit source.

Why: textbook floating-point Laplace or Gaussian noise leaks through the low-order bits of
its output (Mironov, CCS 2012): the set of floats a noisy value can take depends on the true
value. Here every mechanism adds *integer* noise to an *integer* query, so the output is an
integer whose distribution is exactly the one the privacy proof assumes; no float is involved
between the random bits and the released value.

* :func:`discrete_laplace` with scale ``t``: ``P(y) ∝ exp(-|y| / t)``; added to a count with
  sensitivity 1 it is ``(1/t)``-DP (pure);
* :func:`discrete_gaussian` with variance parameter ``σ²``: ``P(y) ∝ exp(-y² / (2σ²))``;
  added to an integer vector query of L2 sensitivity ``Δ`` (independently per coordinate)
  it satisfies ``Δ² / (2σ²)``-zCDP, as the continuous Gaussian (CKS Theorem 14);
* :class:`SecureRandom`: the bit source, a deterministic random bit generator (BLAKE2b as a
  keyed PRF in counter mode) keyed with 256 bits from the operating system's CSPRNG
  (:func:`secrets.randbits`, through :func:`tabgen.privacy._mechanisms.secret_seed`); never
  keyed from ``random_state``.

Samplers use rejection: their running time depends on the random draws, not on the data
(the true counts are only added afterwards).
"""

from __future__ import annotations

import hashlib
import math
import secrets
from fractions import Fraction

import numpy as np


class SecureRandom:
    """Random bits from BLAKE2b in counter mode, keyed with a 256-bit secret.

    Parameters
    ----------
    key : int, optional
        The secret key; default 256 bits from :func:`secrets.randbits` (the DP fits key it
        with :func:`tabgen.privacy._mechanisms.secret_seed`). A fixed key gives a reproducible
        stream, for tests only.

    Examples
    --------
    >>> SecureRandom(key=1).randbits(32) == SecureRandom(key=1).randbits(32)
    True
    >>> 0 <= SecureRandom().randbelow(6) < 6
    True
    """

    def __init__(self, key: int | None = None):
        if key is None:
            key = secrets.randbits(256)
        self._key = int(key).to_bytes(64, "little", signed=False)[:64]
        self._counter = 0
        self._buffer = b""

    def _bytes(self, n: int) -> bytes:
        while len(self._buffer) < n:
            block = hashlib.blake2b(
                self._counter.to_bytes(16, "little"), key=self._key, digest_size=64
            ).digest()
            self._counter += 1
            self._buffer += block
        out, self._buffer = self._buffer[:n], self._buffer[n:]
        return out

    def randbits(self, k: int) -> int:
        """A uniform integer in ``[0, 2**k)``."""
        if k <= 0:
            return 0
        value = int.from_bytes(self._bytes((k + 7) // 8), "little")
        return value >> (8 * ((k + 7) // 8) - k)

    def randbelow(self, n: int) -> int:
        """A uniform integer in ``[0, n)`` (rejection sampling, exact)."""
        if n <= 0:
            raise ValueError(f"randbelow needs n > 0, got {n!r}")
        k = (n - 1).bit_length()
        while True:
            value = self.randbits(k)
            if value < n:
                return value


def as_secure(rng) -> SecureRandom:
    """``rng`` if it is a :class:`SecureRandom`; a numpy Generator is turned into one keyed
    from 256 of its bits (reproducible: for tests and examples, not for real releases)."""
    if isinstance(rng, SecureRandom):
        return rng
    if isinstance(rng, np.random.Generator):
        words = rng.integers(0, 2**63, size=4, dtype=np.int64)
        return SecureRandom(key=sum(int(w) << (63 * i) for i, w in enumerate(words)))
    raise TypeError(f"expected a SecureRandom or numpy Generator, got {type(rng).__name__}")


def bernoulli(p: Fraction, rng: SecureRandom) -> bool:
    """``True`` with probability ``p`` (a rational in [0, 1]), exactly."""
    return rng.randbelow(p.denominator) < p.numerator


def bernoulli_exp(gamma: Fraction, rng: SecureRandom) -> bool:
    """``True`` with probability ``exp(-gamma)`` for a rational ``gamma >= 0`` (CKS Alg. 1).

    Examples
    --------
    >>> r = SecureRandom(key=3)
    >>> hits = sum(bernoulli_exp(Fraction(1, 2), r) for _ in range(4000))
    >>> abs(hits / 4000 - math.exp(-0.5)) < 0.03
    True
    """
    if gamma < 0:
        raise ValueError(f"gamma must be >= 0, got {gamma!r}")
    while gamma > 1:
        if not _bernoulli_exp_unit(Fraction(1), rng):
            return False
        gamma -= 1
    return _bernoulli_exp_unit(gamma, rng)


def _bernoulli_exp_unit(gamma: Fraction, rng: SecureRandom) -> bool:
    """``exp(-gamma)`` for ``gamma`` in [0, 1]: the parity of the first failure of
    ``Bernoulli(gamma / k)``, ``k = 1, 2, ...``."""
    k = 1
    while bernoulli(gamma / k, rng):
        k += 1
    return k % 2 == 1


def discrete_laplace(scale: Fraction, rng: SecureRandom) -> int:
    """One draw of ``P(y) ∝ exp(-|y| / scale)`` on the integers (CKS Algorithm 2).

    Examples
    --------
    >>> r = SecureRandom(key=5)
    >>> draws = [discrete_laplace(Fraction(2), r) for _ in range(3000)]
    >>> all(isinstance(y, int) for y in draws)
    True
    """
    scale = Fraction(scale)
    if scale <= 0:
        raise ValueError(f"scale must be > 0, got {scale!r}")
    t, s = scale.numerator, scale.denominator  # scale = t / s
    while True:
        u = rng.randbelow(t)
        if not bernoulli_exp(Fraction(u, t), rng):
            continue
        v = 0
        while bernoulli_exp(Fraction(1), rng):
            v += 1
        y = (u + t * v) // s
        negative = rng.randbelow(2) == 1
        if negative and y == 0:
            continue
        return -y if negative else y


def discrete_gaussian(sigma2: Fraction, rng: SecureRandom) -> int:
    """One draw of ``P(y) ∝ exp(-y² / (2 sigma2))`` on the integers (CKS Algorithm 3:
    discrete Laplace proposals accepted with the exact Bernoulli of the ratio).

    Examples
    --------
    >>> r = SecureRandom(key=7)
    >>> isinstance(discrete_gaussian(Fraction(9), r), int)
    True
    """
    sigma2 = Fraction(sigma2)
    if sigma2 <= 0:
        raise ValueError(f"sigma2 must be > 0, got {sigma2!r}")
    t = math.isqrt(sigma2.numerator // sigma2.denominator) + 1
    while True:
        y = discrete_laplace(Fraction(t), rng)
        gamma = (abs(y) - sigma2 / t) ** 2 / (2 * sigma2)
        if bernoulli_exp(gamma, rng):
            return y


def laplace_scale(epsilon: float) -> Fraction:
    """The rational scale of the discrete Laplace for an ``epsilon``-DP count: ``1/epsilon``
    rounded *up* to a multiple of ``2**-20``, so the mechanism spends at most ``epsilon``.

    Examples
    --------
    >>> laplace_scale(0.5)
    Fraction(2, 1)
    >>> float(1 / laplace_scale(3.0)) <= 3.0
    True
    """
    exact = 1 / Fraction(epsilon)
    unit = 2**20
    return Fraction(math.ceil(exact * unit), unit)


def gaussian_variance(sigma: float) -> Fraction:
    """``sigma**2`` as a rational, rounded *up* to a multiple of ``2**-20`` (more noise, never
    less)."""
    exact = Fraction(sigma) ** 2
    unit = 2**20
    return Fraction(math.ceil(exact * unit), unit)


def add_discrete_laplace(counts, epsilon: float, rng) -> np.ndarray:
    """Integer ``counts`` plus independent discrete Laplace noise of scale
    :func:`laplace_scale` (``epsilon``), as float64 (exact integers)."""
    values = np.asarray(counts)
    if values.size and not np.all(np.equal(np.mod(values, 1), 0)):
        raise ValueError("discrete Laplace noise needs integer counts")
    secure = as_secure(rng)
    scale = laplace_scale(epsilon)
    flat = [int(v) + discrete_laplace(scale, secure) for v in values.ravel().tolist()]
    return np.asarray(flat, dtype="float64").reshape(values.shape)


def add_discrete_gaussian(values, sigma2: Fraction, rng) -> np.ndarray:
    """Integer ``values`` (int64 array) plus independent discrete Gaussian noise; int64."""
    values = np.asarray(values, dtype=np.int64)
    secure = as_secure(rng)
    flat = [int(v) + discrete_gaussian(sigma2, secure) for v in values.ravel().tolist()]
    return np.asarray(flat, dtype=np.int64).reshape(values.shape)
