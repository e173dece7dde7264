"""Known slots of conditional sampling and inpainting in the denoiser's model space: at
sampling time they stay fixed and the denoiser fills the others."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tabgen.synthesizers.diffusion import process


def condition_slots(encoder, layout, n: int, conditions):
    """Model-space values and mask of the known slots of ``n`` rows under ``conditions``
    (``(None, None)`` when nothing is fixed); NaN in a condition leaves that cell free."""
    dim = layout.dim
    Z = np.zeros((n, dim))
    mask = np.zeros((n, dim), dtype=bool)
    rows = np.arange(n)
    for col in conditions.columns:
        values = np.asarray(conditions.encoded[col], dtype="float64")
        on = ~np.isnan(values)  # NaN: this row leaves the column free
        for s in encoder.column_spans(col):
            mask[on, s.slice] = True
            if s.role == "missing":
                Z[on, s.start] = 0.0  # a conditioned cell is observed
            elif s.kind == "softmax":
                Z[rows[on], s.start + values[on].astype(int)] = 1.0
            else:
                Z[on, s.start] = values[on]
    # columns asked to come out observed (imputation): their missing slot is known 0
    for col in getattr(conditions, "present", ()):
        for s in encoder.column_spans(col):
            if s.role == "missing":
                mask[:, s.start] = True
    if not mask.any():
        return None, None
    return process.to_model(Z, layout), mask


def observed_slots(encoder, layout, X: pd.DataFrame):
    """Model-space values and mask of the observed cells of ``X`` (the missing slot of a
    cell to fill is known: it is wanted observed)."""
    dim = layout.dim
    Z = np.zeros((len(X), dim))
    mask = np.zeros((len(X), dim), dtype=bool)
    for name, enc in encoder.encoders_.items():
        sl = encoder.slices_[name]
        if sl.stop == sl.start:
            continue
        nan = X[name].isna().to_numpy()
        if (~nan).any():
            Z[~nan, sl] = enc.transform(X[name][~nan])
            mask[~nan, sl] = True
        for s in encoder.column_spans(name):
            if s.role == "missing":  # a cell to fill is wanted observed
                Z[nan, s.start] = 0.0
                mask[nan, s.start] = True
    return process.to_model(Z, layout), mask


def fill_missing(X: pd.DataFrame, decoded: pd.DataFrame) -> pd.DataFrame:
    """``X`` with its missing cells taken from ``decoded`` (same row order)."""
    out = X.copy()
    for name in X.columns:
        nan = X[name].isna().to_numpy()
        if not nan.any():
            continue
        fill = decoded[name].to_numpy()[nan]
        col = out[name]
        try:
            col = col.copy()
            col.iloc[np.flatnonzero(nan)] = fill
        except (TypeError, ValueError):
            col = col.astype(object)
            col.iloc[np.flatnonzero(nan)] = fill
        out[name] = col
    return out
