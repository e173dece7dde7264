"""The safeguards of the anonymized export, as named steps (see the package docstring).

Each step learns from the training rows only; :class:`NearCopyFilter` compares the generated
rows with them.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from tabgen.metrics._neighbors import kneighbors
from tabgen.pipelines.anonymization.distance import NUMERIC_KINDS, _as_float, row_space
from tabgen.schema import Schema

RARE_VALUE = "_RARE_"
#: Present values a column needs before its k-th extremes are released as bounds.
_MIN_BOUND_VALUES = 20


def split_holdout(frame: pd.DataFrame, n_hold: int, rng: np.random.Generator):
    """1. Holdout: ``(train, holdout, train_rows)``, ``n_hold`` random rows kept out, both in
    input order; ``train_rows`` are the training rows' positions in ``frame``."""
    order = rng.permutation(len(frame))
    holdout = frame.iloc[np.sort(order[:n_hold])].reset_index(drop=True)
    train_rows = np.sort(order[n_hold:])
    train = frame.iloc[train_rows].reset_index(drop=True)
    return train, holdout, train_rows


def fake_columns(train: pd.DataFrame, pii_columns: dict, *, dp: bool, min_count: int) -> dict:
    """2. PII and keys: a fitted :class:`~tabgen.pii.FakeColumn` per PII column.

    In DP mode nothing is measured on the real values: canonical formats only, no missing
    rate, no IPv6 share.
    """
    from tabgen.pii import FakeColumn

    fakes = {}
    for col, kind in pii_columns.items():
        if dp:
            fake = FakeColumn(kind, min_count=len(train) + 1).fit(train[col])
            fake.facts_.update({k: 0.0 for k in ("missing_rate", "ipv6_share") if k in fake.facts_})
        else:
            fake = FakeColumn(kind, min_count=max(int(min_count), 1)).fit(train[col])
        fakes[col] = fake
    return fakes


def rare_categories(train: pd.DataFrame, kinds: dict, threshold: int) -> tuple[dict, dict]:
    """3. Rare categories: ``(kept, merged)``, the categories kept per column that has rare
    ones, and how many were merged into :data:`RARE_VALUE`."""
    kept, merged = {}, {}
    if threshold <= 1:
        return kept, merged
    for col, kind in kinds.items():
        if kind == "categorical":
            counts = train[col].value_counts(dropna=True)
            rare = counts.index[counts < threshold]
            if len(rare):
                kept[col] = set(counts.index[counts >= threshold])
                merged[col] = len(rare)
    return kept, merged


def robust_bounds(train: pd.DataFrame, kinds: dict, schema: Schema, rng) -> dict:
    """4. Robust numeric bounds: ``{column: (low, high)}`` for numbers and dates."""
    bounds = {}
    for col, kind in kinds.items():
        if kind in NUMERIC_KINDS or kind == "datetime":
            found = _robust_bounds(train[col], schema[col], rng)
            if found is not None:
                bounds[col] = found
    return bounds


def _robust_bounds(col: pd.Series, spec, rng: np.random.Generator):
    x = _as_float(col, spec.kind, spec.info.get("format"))
    ordered = np.sort(x[~np.isnan(x)])
    if len(ordered) == 0:
        return None
    if len(ordered) >= _MIN_BOUND_VALUES:
        k = int(rng.integers(5, 8))
    else:
        k = max(1, math.ceil(len(ordered) / 4))
    low, high = ordered[k - 1], ordered[len(ordered) - k]
    if spec.kind == "datetime":
        return pd.Timestamp(int(low)), pd.Timestamp(int(high))  # UTC, naive
    if spec.kind == "integer":
        return int(low), int(high)
    return float(low), float(high)


def protect(frame: pd.DataFrame, kept: dict, bounds: dict, schema: Schema) -> pd.DataFrame:
    """Steps 3 and 4 applied to a table (training rows and holdout alike); a copy."""
    out = frame.copy()
    for col, categories in kept.items():
        out[col] = _merge_rare(out[col], categories)
    return clip(out, bounds, schema)


def clip(frame: pd.DataFrame, bounds: dict, schema: Schema) -> pd.DataFrame:
    """Step 4 on ``frame`` in place (generated rows); returns it."""
    for col, (low, high) in bounds.items():
        if col in frame.columns:
            frame[col] = _clip_column(frame[col], low, high, schema[col])
    return frame


class NearCopyFilter:
    """5. Near-copies: a generated row is rejected when it equals a training row or lies
    closer to its nearest training row than the ``quantile`` of the holdout rows' distances
    to theirs (``None``: exact copies only).

    Distances are measured in tabgen's one row encoding
    (:class:`~tabgen.metrics.attacks.space.RowSpace`) fitted on the (protected) training rows,
    the space of the DCR metric and the membership attacks of the report.
    """

    def __init__(self, quantile: float | None):
        self.quantile = quantile

    def fit(self, train: pd.DataFrame, holdout: pd.DataFrame, kinds: dict, schema: Schema):
        self.space_ = row_space(train, kinds, schema)
        self.train_points_ = self.space_.transform(train)
        d_hold, _ = kneighbors(self.train_points_, self.space_.transform(holdout), 1)
        self.holdout_distances_ = d_hold[:, 0]
        if self.quantile is None:
            self.threshold_ = 0.0
        else:
            self.threshold_ = float(np.quantile(self.holdout_distances_, self.quantile))
        return self

    def keep(self, rows: pd.DataFrame) -> np.ndarray:
        """Boolean mask of the rows far enough from every training row."""
        dist, _ = kneighbors(self.train_points_, self.space_.transform(rows), 1)
        d = dist[:, 0]
        return (d > 0) & ~(d < self.threshold_)


def _merge_rare(col: pd.Series, kept: set) -> pd.Series:
    rare = col.notna() & ~col.isin(kept)
    if not rare.any():
        return col
    if isinstance(col.dtype, pd.CategoricalDtype):
        if RARE_VALUE not in col.cat.categories:
            col = col.cat.add_categories([RARE_VALUE])
        col = col.mask(rare, RARE_VALUE)
        # the dtype's category list would still name the rare values: drop them from it too
        unused = [c for c in col.cat.categories if c not in kept and c != RARE_VALUE]
        return col.cat.remove_categories(unused)
    if pd.api.types.is_string_dtype(col.dtype) and not pd.api.types.is_object_dtype(col.dtype):
        return col.mask(rare, RARE_VALUE)
    return col.astype(object).mask(rare, RARE_VALUE)


def _clip_column(col: pd.Series, low, high, spec) -> pd.Series:
    if spec.kind != "datetime":
        return col.clip(lower=low, upper=high)
    fmt = spec.info.get("format")
    if pd.api.types.is_datetime64_any_dtype(col.dtype):
        tz = getattr(col.dtype, "tz", None)
        if tz is not None:  # bounds are naive UTC
            low, high = (
                low.tz_localize("UTC").tz_convert(tz),
                high.tz_localize("UTC").tz_convert(tz),
            )
        return col.clip(lower=low, upper=high)
    parsed = pd.to_datetime(col, format=fmt, errors="coerce")
    clipped = parsed.clip(lower=low, upper=high)
    changed = parsed.notna() & (clipped != parsed)
    if not changed.any():
        return col
    text = clipped.dt.strftime(fmt) if fmt else clipped.astype(str)
    return col.mask(changed, text)
