"""The distance space of the near-copy filter: tabgen's one row encoding
(:class:`tabgen.metrics.attacks.space.RowSpace`), the same that the DCR / NNDR metrics and the
membership-inference attacks of the privacy report measure with."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tabgen.metrics.attacks.space import RowSpace
from tabgen.schema import Schema

NUMERIC_KINDS = ("numerical", "integer")


def metric_kind(kind: str) -> str | None:
    """A schema kind as a metric kind (``None``: not part of the distance)."""
    if kind in NUMERIC_KINDS:
        return "numerical"
    if kind in ("datetime", "categorical"):
        return kind
    return None


def row_space(frame: pd.DataFrame, kinds: dict, schema: Schema) -> RowSpace:
    """The :class:`RowSpace` of the modelled columns, fitted on ``frame`` (training rows)."""
    metric = {c: metric_kind(k) for c, k in kinds.items() if metric_kind(k) is not None}
    formats = {c: schema[c].info.get("format") for c in metric if schema[c].info.get("format")}
    return RowSpace(metric, formats).fit(frame)


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
