"""One Euclidean encoding of the training, holdout and synthetic rows for the
nearest-neighbour attacks (linkability, inference)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._encode import encode
from .._neighbors import kneighbors


@dataclass
class NeighbourSpace:
    """The three tables as points of one space.

    Numbers and datetimes are min-max scaled on the training rows' range; categories are
    one-hot with the indicators scaled by 1/√2, so that a mismatch costs 1 in squared
    distance.
    """

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
        enc = encode([real, holdout, synthetic], kinds, scale="minmax", categorical="onehot")
        weights = np.where(enc.onehot_mask, math.sqrt(0.5), 1.0)
        x_real, x_hold, x_syn = (a * weights for a in enc.arrays)
        sources = np.asarray([columns.index(c) for c in enc.columns], dtype=np.int64)
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
