"""Density-ratio selection of generated rows, shared by the models' candidate selection
(:mod:`tabgen.synthesizers.postprocess.selection`) and the over-sampler's selection of
synthetic rows (:mod:`tabgen.pipelines.oversampling`).

A classifier between real rows and generated rows gives odds ``d / (1 - d)`` that estimate
the density ratio ``p_real(x) / p_model(x)``; keeping generated rows with probability
proportional to it moves them towards the real distribution (discriminator rejection
sampling, Azadi et al., 2019). Both users cap the ratio at its 99th percentile
(:func:`cap`), so that a few extreme ratios cannot take every row, then either keep one
of ``k`` candidates per row (:func:`pick_per_row`) or ``n`` of ``m`` draws without
replacement (:func:`pick_without_replacement`). Numpy only: no torch.
"""

from __future__ import annotations

import numpy as np

#: Ratios (or log-ratios) above this quantile of their batch are capped at it.
CAP_QUANTILE = 0.99


def cap(values: np.ndarray, q: float = CAP_QUANTILE) -> np.ndarray:
    """``values`` capped at their ``q`` quantile (ratios or log-ratios: the cap is taken on
    the scale it is given)."""
    return np.minimum(values, np.quantile(values, q))


def balanced_weights(is_real: np.ndarray) -> np.ndarray:
    """Sample weights giving the real (``True``) and generated rows equal total weight,
    averaging 1."""
    is_real = np.asarray(is_real, dtype=bool)
    n_real = int(is_real.sum())
    return np.where(is_real, 0.5 / n_real, 0.5 / (len(is_real) - n_real)) * len(is_real)


def pick_per_row(logits: np.ndarray, k: int, u: np.ndarray) -> np.ndarray:
    """For ``n = len(logits) // k`` output rows, the index of the candidate kept for each.

    Candidate ``j`` of output row ``i`` is ``i + j * n``; it is kept with probability
    proportional to ``exp(logit)`` (the density ratio), the logits capped first
    (:func:`cap`). ``u``: ``n`` uniform draws in [0, 1).

    Examples
    --------
    >>> import numpy as np
    >>> pick_per_row(np.array([0.0, 0.0, -50.0, 50.0]), 2, np.array([0.5, 0.5])).tolist()
    [0, 3]
    """
    n = len(logits) // k
    z = cap(logits).reshape(k, n)
    w = np.exp(z - z.max(axis=0, keepdims=True))
    cum = np.cumsum(w, axis=0)
    u = np.asarray(u, dtype="float64") * cum[-1]
    choice = np.minimum((cum < u[None, :]).sum(axis=0), k - 1)
    return np.arange(n) + choice * n


def pick_without_replacement(log_weight: np.ndarray, n: int, rng) -> tuple[np.ndarray, float]:
    """Sorted indices of ``n`` draws kept without replacement with probability proportional
    to ``exp(log_weight)`` (Efraimidis-Spirakis keys), and the effective sample size of the
    weights (``(sum w)^2 / sum w^2``: how many draws they amount to)."""
    weight = np.exp(log_weight - log_weight.max())  # the largest is 1
    keys = np.log(rng.uniform(size=len(weight))) / np.maximum(weight, 1e-300)
    keep = np.sort(np.argsort(-keys, kind="stable")[:n])
    return keep, float(weight.sum() ** 2 / (weight**2).sum())
