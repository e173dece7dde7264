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


#: Weight of a one-hot indicator in :class:`RowSpace`: a category mismatch flips two
#: indicators, so it costs ``2 · (1/√2)² = 1`` in squared distance, like a full-range
#: numeric difference.
ONEHOT_WEIGHT = 1.0 / np.sqrt(2.0)


def _row_floats(values: pd.Series, kind: str, fmt: str | None) -> np.ndarray:
    """Numbers as float, datetimes as UTC nanoseconds; unparsable or missing cells NaN."""
    if kind == "datetime":
        if pd.api.types.is_datetime64_any_dtype(values.dtype):
            ts = values
        else:
            ts = pd.to_datetime(values, format=fmt if fmt else "mixed", errors="coerce")
        if getattr(ts.dtype, "tz", None) is not None:
            ts = ts.dt.tz_convert("UTC").dt.tz_localize(None)
        out = ts.astype("datetime64[ns]").to_numpy().view("int64").astype(np.float64)
        out[ts.isna().to_numpy()] = np.nan
        return out
    if pd.api.types.is_bool_dtype(values.dtype):
        values = values.astype("float64")
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


class RowSpace:
    """The one row encoding of tabgen's distance-based privacy measures.

    Fitted once on a reference table (the training rows) and applied to any table with the
    same columns, batch by batch, so that the anonymizer's near-copy filter, the DCR / NNDR
    metrics and the membership-inference attacks measure the same distance:

    * numbers and datetimes min-max scaled on the reference range (a constant column keeps
      span 1), a missing value as 0 plus a 0/1 indicator;
    * categories one-hot over the reference's categories, each indicator weighted by
      :data:`ONEHOT_WEIGHT` = 1/√2 (a mismatch costs 1 in squared distance, as much as a
      full-range numeric difference); a missing value and a category the reference never
      had share one extra slot.

    Parameters
    ----------
    kinds : mapping
        ``{column: "numerical" | "datetime" | "categorical"}``; other kinds are left out.
    formats : mapping, optional
        ``{column: strftime format}`` for datetimes stored as text.

    Examples
    --------
    >>> ref = pd.DataFrame({"x": [0.0, 10.0], "c": ["a", "b"]})
    >>> space = RowSpace({"x": "numerical", "c": "categorical"}).fit(ref)
    >>> space.transform(pd.DataFrame({"x": [5.0], "c": ["b"]})).round(3).tolist()
    [[0.5, 0.0, 0.0, 0.707, 0.0]]
    """

    def __init__(self, kinds: Mapping[str, str], formats: Mapping[str, str] | None = None):
        self.kinds = dict(kinds)
        self.formats = dict(formats or {})

    def fit(self, reference: pd.DataFrame) -> RowSpace:
        """Learn ranges and category lists from ``reference``; returns ``self``."""
        self.columns_ = []
        for col, kind in self.kinds.items():
            values = reference[col]
            if kind in ("numerical", "datetime"):
                x = _row_floats(values, kind, self.formats.get(col))
                present = x[~np.isnan(x)]
                low = float(present.min()) if len(present) else 0.0
                span = float(present.max() - low) if len(present) else 1.0
                self.columns_.append((col, kind, (low, span if span > 0 else 1.0)))
            elif kind == "categorical":
                cats = pd.Index(pd.unique(values.dropna().to_numpy(dtype=object)))
                self.columns_.append((col, kind, cats))
        return self

    @property
    def sources_(self) -> list:
        """The source column of every feature, in feature order."""
        out = []
        for col, kind, info in self.columns_:
            out += [col] * (len(info) + 1 if kind == "categorical" else 2)
        return out

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """``frame`` as points of the space (a float array, one row per row)."""
        blocks = []
        n = len(frame)
        for col, kind, info in self.columns_:
            if kind == "categorical":
                values = frame[col]
                codes = info.get_indexer(pd.Index(values.to_numpy(dtype=object)))
                onehot = np.zeros((n, len(info) + 1))
                slot = np.where(codes >= 0, codes, len(info))
                slot[values.isna().to_numpy()] = len(info)
                onehot[np.arange(n), slot] = ONEHOT_WEIGHT
                blocks.append(onehot)
            else:
                low, span = info
                x = (_row_floats(frame[col], kind, self.formats.get(col)) - low) / span
                miss = np.isnan(x)
                blocks.append(np.column_stack([np.where(miss, 0.0, x), miss.astype(float)]))
        return np.hstack(blocks) if blocks else np.zeros((n, 0))
