"""tabgen's one row encoding (:class:`RowSpace`) and the neighbour space of the attacks.

:class:`RowSpace` is the single encoding behind every distance of the privacy measures: the
DCR / NNDR metrics (:func:`tabgen.metrics.privacy`), the nearest-neighbour attacks
(linkability, inference), the membership-inference attacks and the anonymizer's near-copy
filter all measure Euclidean distance in it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._encode import ONEHOT_WEIGHT, RowSpace
from .._neighbors import kneighbors

__all__ = ["ONEHOT_WEIGHT", "NeighbourSpace", "RowSpace", "kneighbors"]


@dataclass
class NeighbourSpace:
    """The training, holdout and synthetic tables as points of one :class:`RowSpace`
    (fitted on the training rows)."""

    real: np.ndarray
    holdout: np.ndarray
    synthetic: np.ndarray
    #: Index in ``columns`` of the column each feature comes from.
    sources: np.ndarray
    columns: list

    @classmethod
    def encode(
        cls,
        real: pd.DataFrame,
        holdout: pd.DataFrame,
        synthetic: pd.DataFrame,
        kinds: Mapping[str, str],
    ) -> NeighbourSpace:
        columns = list(kinds)
        space = RowSpace(kinds).fit(real)
        x_real, x_hold, x_syn = (space.transform(f) for f in (real, holdout, synthetic))
        sources = np.asarray([columns.index(c) for c in space.sources_], dtype=np.int64)
        return cls(x_real, x_hold, x_syn, sources, columns)

    def targets(self, n: int, rng: np.random.Generator):
        """``n`` random training rows and ``n`` random holdout rows (sorted indices) and their
        points stacked, training rows first."""
        idx_real = np.sort(rng.choice(len(self.real), n, replace=False))
        idx_hold = np.sort(rng.choice(len(self.holdout), n, replace=False))
        return idx_real, idx_hold, np.vstack([self.real[idx_real], self.holdout[idx_hold]])

    def features(self, columns) -> np.ndarray:
        """Boolean mask of the features of ``columns``."""
        return np.isin(self.sources, [self.columns.index(c) for c in columns])

    def nearest(self, points: np.ndarray, features: np.ndarray, k: int) -> np.ndarray:
        """Indices of the ``k`` nearest synthetic rows of each point, on ``features`` only."""
        synthetic = np.ascontiguousarray(self.synthetic[:, features])
        _, idx = kneighbors(synthetic, points[:, features], k)
        return idx
