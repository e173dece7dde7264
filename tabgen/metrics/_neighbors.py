"""Nearest-neighbour distances with exact recomputation (exact copies get distance 0)."""

from __future__ import annotations

import numpy as np
from sklearn.neighbors import NearestNeighbors

METRICS = ("euclidean", "manhattan")


def check_metric(metric: str) -> None:
    """Raise ``ValueError`` for an unsupported distance name."""
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")


def _exact(queries: np.ndarray, reference: np.ndarray, index: np.ndarray, metric: str):
    diff = queries - reference[index]
    if metric == "manhattan":
        return np.abs(diff).sum(axis=1)
    return np.sqrt(np.einsum("ij,ij->i", diff, diff))


def kneighbors(
    reference: np.ndarray, queries: np.ndarray, k: int, metric: str = "euclidean"
) -> tuple[np.ndarray, np.ndarray]:
    """Distances and indices of the ``k`` nearest reference rows of every query row.

    The search is brute force (scikit-learn's chunked, multi-threaded kernel); the returned
    distances are then recomputed directly from the coordinates, so that identical rows get
    exactly 0 (the fast Euclidean kernel expands ||x - y||², which leaves rounding noise) and
    ties compare equal. Columns are re-sorted by the exact distance.
    """
    check_metric(metric)
    k = min(k, len(reference))
    nn = NearestNeighbors(n_neighbors=k, algorithm="brute", metric=metric)
    nn.fit(reference)
    _, index = nn.kneighbors(queries)
    dist = np.column_stack([_exact(queries, reference, index[:, j], metric) for j in range(k)])
    order = np.argsort(dist, axis=1, kind="stable")
    return np.take_along_axis(dist, order, axis=1), np.take_along_axis(index, order, axis=1)
