"""A simple, deterministic numeric encoding of several tables in one feature space.

Used by detection (C2ST), α-precision/β-recall and the distance-based privacy metrics. It is
deliberately independent of tabgen's model encoders: the yardstick must not share code with
what it measures.

* numerical / datetime columns: scaled with statistics of the *reference* table (the real one):
  ``"std"`` → (x - mean) / std, ``"minmax"`` → (x - min) / (max - min);
* categorical columns: ``"onehot"`` (one indicator per category) or ``"ordinal"`` (integer
  codes, for tree models with native categorical support). The vocabulary is taken from all
  tables together (label-free), ordered by frequency; beyond ``max_categories`` the rarest
  categories share one ``__other__`` level;
* missing values: ``nan="indicator"`` fills numbers with the reference mean (after scaling)
  and adds a 0/1 ``__nan`` column; categories get their own ``__nan`` indicator (one-hot) or
  stay NaN (ordinal). ``nan="keep"`` leaves numerical NaN in place (tree models handle them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._columns import joint_codes, to_float


@dataclass
class Encoded:
    """Encoded tables sharing one feature space.

    ``categorical_mask`` flags ordinal-coded categorical features (for tree models);
    ``columns`` gives the source column of every feature and ``onehot_mask`` flags the one-hot
    indicators of categorical columns (their ``__nan`` / ``__other`` slots included), so that a
    caller can drop or reweight the features of one column without re-encoding.
    """

    arrays: list[np.ndarray]
    feature_names: list[str]
    categorical_mask: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    columns: list = field(default_factory=list)
    onehot_mask: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))


def _scale(values: list[np.ndarray], reference: np.ndarray, scale: str) -> list[np.ndarray]:
    present = reference[~np.isnan(reference)]
    if len(present) == 0:
        return [np.zeros_like(v) for v in values]
    if scale == "std":
        center, spread = present.mean(), present.std()
    elif scale == "minmax":
        center, spread = present.min(), present.max() - present.min()
    else:
        raise ValueError(f"scale must be 'std' or 'minmax', got {scale!r}")
    if not np.isfinite(spread) or spread == 0:
        spread = 1.0
    return [(v - center) / spread for v in values]


def _category_order(codes: list[np.ndarray], size: int, max_categories: int) -> np.ndarray:
    """Map raw joint codes to frequency-ordered codes; rare ones → ``max_categories``."""
    counts = np.zeros(size, dtype=np.int64)
    for c in codes:
        counts += np.bincount(c[c >= 0], minlength=size)
    order = np.argsort(-counts, kind="stable")
    rank = np.empty(size, dtype=np.int64)
    rank[order] = np.arange(size)
    return np.minimum(rank, max_categories)


def encode(
    frames: Sequence[pd.DataFrame],
    kinds: Mapping[str, str],
    *,
    scale: str = "std",
    categorical: str = "onehot",
    nan: str = "indicator",
    max_categories: int = 100,
    reference: int = 0,
) -> Encoded:
    """Encode ``frames`` (same columns) into float arrays with one shared layout."""
    if categorical not in ("onehot", "ordinal"):
        raise ValueError(f"categorical must be 'onehot' or 'ordinal', got {categorical!r}")
    if nan not in ("indicator", "keep"):
        raise ValueError(f"nan must be 'indicator' or 'keep', got {nan!r}")
    blocks: list[list[np.ndarray]] = [[] for _ in frames]
    names: list[str] = []
    cat_mask: list[bool] = []
    sources: list = []
    onehot: list[bool] = []
    lengths = [len(f) for f in frames]

    def one_feature(column, categorical: bool) -> None:
        """Record a column encoded as one feature (a number, or an ordinal category code)."""
        names.append(str(column))
        cat_mask.append(categorical)
        sources.append(column)
        onehot.append(False)

    for column, kind in kinds.items():
        if kind in ("numerical", "datetime"):
            values = [to_float(f[column], kind) for f in frames]
            scaled = _scale(values, values[reference], scale)
            any_missing = any(np.isnan(v).any() for v in scaled)
            if any_missing and nan == "indicator":
                ref = scaled[reference]
                fill = float(np.nanmean(ref)) if (~np.isnan(ref)).any() else 0.0
                for block, v in zip(blocks, scaled):
                    miss = np.isnan(v)
                    block.append(np.where(miss, fill, v)[:, None])
                    block.append(miss.astype(np.float64)[:, None])
                names += [str(column), f"{column}__nan"]
                cat_mask += [False, False]
                sources += [column, column]
                onehot += [False, False]
            else:
                for block, v in zip(blocks, scaled):
                    block.append(v[:, None])
                one_feature(column, categorical=False)
            continue

        codes, uniques = joint_codes([f[column] for f in frames])
        rank = _category_order(codes, len(uniques), max_categories)
        n_levels = int(min(len(uniques), max_categories))
        has_other = len(uniques) > max_categories
        has_missing = any((c < 0).any() for c in codes)
        # rank with a trailing slot for missing codes, so that the lookup is always in bounds
        rank_ext = np.append(rank, -1)
        if categorical == "ordinal":
            for block, c in zip(blocks, codes):
                out = rank_ext[c].astype(np.float64)  # c == -1 picks the trailing slot
                out[c < 0] = np.nan
                block.append(out[:, None])
            one_feature(column, categorical=True)
            continue
        width = n_levels + int(has_other) + int(has_missing)
        top = [uniques[i] for i in np.argsort(rank, kind="stable")[:n_levels]]
        names += [f"{column}=={v}" for v in top]
        if has_other:
            names.append(f"{column}__other")
        if has_missing:
            names.append(f"{column}__nan")
        cat_mask += [False] * width
        sources += [column] * width
        onehot += [True] * width
        for block, c, n in zip(blocks, codes, lengths):
            out = np.zeros((n, width), dtype=np.float64)
            slot = np.where(c >= 0, rank_ext[c], width - 1)
            out[np.arange(n), slot] = 1.0
            block.append(out)

    arrays = [np.hstack(block) if block else np.zeros((n, 0)) for block, n in zip(blocks, lengths)]
    return Encoded(
        arrays=arrays,
        feature_names=names,
        categorical_mask=np.asarray(cat_mask, dtype=bool),
        columns=sources,
        onehot_mask=np.asarray(onehot, dtype=bool),
    )
