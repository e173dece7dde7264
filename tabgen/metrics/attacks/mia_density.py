"""Density-ratio membership-inference attacks in the style of DOMIAS (van Breugel et al.,
AISTATS 2023).

The score of a candidate ``x`` is ``log p_G(x) - log p_R(x)``: the density of the synthetic
rows at ``x`` over the density of a *reference* sample of real rows from the population (the
half of the holdout that is not used as non-members). A generator that overfits puts extra
mass around its training rows, which the ratio picks up even where the population itself is
dense (a plain distance attack is blind there). Two density estimators, both in the shared
row encoding:

* ``density_knn``: k-nearest-neighbour densities, ``p(x) ∝ 1 / (n r_k(x)^D)``; the ratio's
  ranking is that of ``log r_k^ref(x) - log r_k^syn(x)`` (constants and the dimension ``D``
  do not change the ROC), with ``k = 5``: local overfitting at the scale of a few rows;
* ``density_kde``: Gaussian kernel densities (Scott's bandwidth, DOMIAS' KDE variant) on the
  first principal components (at most 10) of the synthetic and reference rows, since a KDE
  in the full one-hot space is degenerate.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import gaussian_kde

from .._neighbors import kneighbors
from .mia_distance import TINY

#: Neighbours of the kNN density.
K = 5
#: Principal components kept for the KDE and rows of each density sample.
KDE_COMPONENTS = 10
KDE_ROWS = 5000


def density_knn(candidates, synthetic, reference, rng, k: int = K) -> np.ndarray:
    """Scores of the ``density_knn`` attack (higher: more likely a member)."""
    k_syn = min(k, len(synthetic))
    k_ref = min(k, len(reference))
    d_syn, _ = kneighbors(synthetic, candidates, k_syn)
    d_ref, _ = kneighbors(reference, candidates, k_ref)
    return np.log(d_ref[:, -1] + TINY) - np.log(d_syn[:, -1] + TINY)


def density_kde(candidates, synthetic, reference, rng) -> np.ndarray:
    """Scores of the ``density_kde`` attack (higher: more likely a member)."""
    syn = _rows(synthetic, rng)
    ref = _rows(reference, rng)
    pool = np.vstack([syn, ref])
    center = pool.mean(axis=0)
    # principal directions of the attacker's data (synthetic + reference), not of members
    _, s, vt = np.linalg.svd(pool - center, full_matrices=False)
    keep = s > 1e-9 * max(s.max(initial=0.0), 1e-300)
    basis = vt[keep][:KDE_COMPONENTS].T
    if basis.shape[1] == 0:
        return np.zeros(len(candidates))
    # a little jitter keeps the covariance of discrete components invertible
    jitter = 1e-6 * rng.standard_normal((len(syn), basis.shape[1]))
    jitter_ref = 1e-6 * rng.standard_normal((len(ref), basis.shape[1]))
    p_syn = gaussian_kde(((syn - center) @ basis + jitter).T)
    p_ref = gaussian_kde(((ref - center) @ basis + jitter_ref).T)
    points = ((candidates - center) @ basis).T
    return p_syn.logpdf(points) - p_ref.logpdf(points)


def _rows(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    if len(x) <= KDE_ROWS:
        return x
    return x[np.sort(rng.choice(len(x), KDE_ROWS, replace=False))]
