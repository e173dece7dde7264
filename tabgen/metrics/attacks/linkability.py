"""Linkability: a target row is linked when its nearest synthetic rows on two disjoint
column halves share a row."""

from __future__ import annotations

from typing import Any

import numpy as np

from .space import NeighbourSpace
from .statistics import _summary


def _nearest_success(idx_a: np.ndarray, idx_b: np.ndarray) -> np.ndarray:
    """Whether the neighbour sets of each row (two index arrays) share an element."""
    return (idx_a[:, :, None] == idx_b[:, None, :]).any(axis=(1, 2))


def linkability(
    space: NeighbourSpace,
    halves: tuple[list, list],
    *,
    n: int,
    n_neighbors: int,
    confidence: float,
    rng: np.random.Generator,
) -> dict[str, Any]:
    """Main, control and baseline (random synthetic rows as neighbours) linkability of ``n``
    training and ``n`` holdout rows; the summary of :func:`~.statistics._summary` plus the
    halves and the neighbours used."""
    _, _, targets = space.targets(n, rng)
    n_syn = len(space.synthetic)
    k_nn = min(n_neighbors, n_syn)
    neighbours = [space.nearest(targets, space.features(half), k_nn) for half in halves]
    linked = _nearest_success(neighbours[0], neighbours[1])
    random_sets = [
        rng.integers(0, n_syn, (n, 1))
        if k_nn == 1
        else np.stack([rng.choice(n_syn, k_nn, replace=False) for _ in range(n)])
        for _ in range(2)
    ]
    random_link = _nearest_success(*random_sets)
    summary = _summary(
        (int(linked[:n].sum()), int(linked[n:].sum()), int(random_link.sum())),
        (n, n, n),
        confidence,
    )
    summary.update({"aux_cols": [list(halves[0]), list(halves[1])], "n_neighbors": int(k_nn)})
    return summary
