"""The fixed distance space of the near-copy filter."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from tabgen.schema import Schema

NUMERIC_KINDS = ("numerical", "integer")


class _DistanceSpace:
    """A fixed numeric space for nearest-neighbour distances between rows.

    Numbers and dates are scaled by the training range, categories one-hot encoded with
    weight 1/sqrt(2) (a mismatch costs 1, like a full-range numeric difference), a missing
    value is an indicator of its own. Unlike :func:`tabgen.metrics._encode.encode`, it is
    fitted once and applied batch by batch.
    """

    def fit(self, frame: pd.DataFrame, kinds: dict, schema: Schema) -> _DistanceSpace:
        self.columns = []
        self.formats = {c: schema[c].info.get("format") for c in kinds}
        for col, kind in kinds.items():
            values = frame[col]
            if kind in NUMERIC_KINDS or kind == "datetime":
                x = _as_float(values, kind, self.formats[col])
                present = x[~np.isnan(x)]
                low = float(present.min()) if len(present) else 0.0
                span = float(present.max() - low) if len(present) else 1.0
                self.columns.append((col, kind, (low, span if span > 0 else 1.0)))
            elif kind == "categorical":
                cats = pd.Index(values.dropna().unique())
                self.columns.append((col, kind, cats))
        return self

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        blocks = []
        for col, kind, info in self.columns:
            if kind == "categorical":
                codes = info.get_indexer(frame[col])
                onehot = np.zeros((len(frame), len(info) + 1))
                slot = np.where(codes >= 0, codes, len(info))
                onehot[np.arange(len(frame)), slot] = 1.0
                missing = frame[col].isna().to_numpy()
                onehot[missing, len(info)] = 1.0
                blocks.append(onehot / math.sqrt(2.0))
            else:
                low, span = info
                x = (_as_float(frame[col], kind, self.formats[col]) - low) / span
                miss = np.isnan(x)
                blocks.append(np.column_stack([np.where(miss, 0.0, x), miss.astype(float)]))
        return np.hstack(blocks) if blocks else np.zeros((len(frame), 0))


def _as_float(values: pd.Series, kind: str, fmt: str | None = None) -> np.ndarray:
    """Numbers as float; datetimes as UTC nanoseconds (float); missing as NaN."""
    if kind == "datetime":
        ts = pd.to_datetime(values, format=fmt, errors="coerce")
        if getattr(ts.dtype, "tz", None) is not None:
            ts = ts.dt.tz_convert("UTC").dt.tz_localize(None)
        out = ts.astype("datetime64[ns]").to_numpy().view("int64").astype(np.float64)
        out[ts.isna().to_numpy()] = np.nan
        return out
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
