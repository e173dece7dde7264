"""Similarity of one column or one pair of columns between the real and the synthetic table
(SDMetrics' KSComplement, TVComplement, CorrelationSimilarity, ContingencySimilarity; the
formulas are described in :mod:`tabgen.metrics.fidelity`)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.stats.contingency import association

from ._columns import (
    check_same_columns,
    joint_codes,
    to_float,
)

__all__ = [
    "contingency_similarity",
    "correlation_similarity",
    "ks_complement",
    "tv_complement",
]

_MAX_DECIMALS = sys.float_info.dig - 1  # SDMetrics rounds before the KS test


# --------------------------------------------------------------------------- single columns
def _series_to_float(values: ArrayLike) -> np.ndarray:
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    kind = "datetime" if pd.api.types.is_datetime64_any_dtype(series.dtype) else "numerical"
    return to_float(series, kind)


def _ks_statistic(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample KS statistic sup|F_a - F_b| on non-missing values (NaN if one is empty)."""
    a = np.sort(np.round(a[~np.isnan(a)], _MAX_DECIMALS))
    b = np.sort(np.round(b[~np.isnan(b)], _MAX_DECIMALS))
    if len(a) == 0 or len(b) == 0:
        return np.nan
    grid = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, grid, side="right") / len(a)
    cdf_b = np.searchsorted(b, grid, side="right") / len(b)
    return float(np.max(np.abs(cdf_a - cdf_b)))


def ks_complement(real: ArrayLike, synthetic: ArrayLike) -> float:
    """Return 1 - the two-sample Kolmogorov-Smirnov statistic (SDMetrics ``KSComplement``).

    Missing values are dropped; datetimes are compared as int64 nanoseconds.

    Parameters
    ----------
    real, synthetic : array-like or pandas.Series
        Numerical or datetime values.

    Returns
    -------
    float
        In [0, 1], 1 when the empirical distributions are identical; NaN when either side has
        no non-missing value.

    Examples
    --------
    >>> round(ks_complement([1, 2, 3], [1, 2, 4]), 4)
    0.6667
    """
    stat = _ks_statistic(_series_to_float(real), _series_to_float(synthetic))
    return float(1.0 - stat)


def _tv_from_codes(real_codes: np.ndarray, synth_codes: np.ndarray, size: int) -> float:
    r = real_codes[real_codes >= 0]
    s = synth_codes[synth_codes >= 0]
    if len(r) == 0 or len(s) == 0:
        return np.nan
    p = np.bincount(r, minlength=size) / len(r)
    q = np.bincount(s, minlength=size) / len(s)
    return float(1.0 - 0.5 * np.abs(p - q).sum())


def tv_complement(real: ArrayLike, synthetic: ArrayLike) -> float:
    """Return 1 - the total variation distance of two categorical columns (``TVComplement``).

    ``1 - ½·Σ_c |p_real(c) - p_synth(c)|`` over the union of categories; missing values are
    ignored (see ``column_shapes`` for the missing-rate similarity).

    Parameters
    ----------
    real, synthetic : array-like or pandas.Series
        Category values (any hashable type).

    Returns
    -------
    float
        In [0, 1]; NaN when either side has no non-missing value.

    Examples
    --------
    >>> tv_complement(["a", "a", "b", "b"], ["a", "b", "b", "b"])
    0.75
    """
    (r, s), uniques = joint_codes([pd.Series(real), pd.Series(synthetic)])
    return _tv_from_codes(r, s, len(uniques))


# --------------------------------------------------------------------------- column pairs
def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    mask = ~(np.isnan(x) | np.isnan(y))
    x, y = x[mask], y[mask]
    if len(x) < 2:
        return np.nan
    xc = x - x.mean()
    yc = y - y.mean()
    # Plain sums rather than np.dot: BLAS threads only add overhead on one pair of vectors.
    denom = np.sqrt((xc * xc).sum() * (yc * yc).sum())
    if not np.isfinite(denom) or denom == 0:
        return np.nan
    return float(np.clip((xc * yc).sum() / denom, -1.0, 1.0))


def _is_constant(x: np.ndarray) -> bool:
    present = x[~np.isnan(x)]
    return len(present) > 0 and bool(np.all(present == present[0]))


def _correlation_breakdown(
    rx: np.ndarray, ry: np.ndarray, sx: np.ndarray, sy: np.ndarray
) -> tuple[float, float, float]:
    if any(_is_constant(v) for v in (rx, ry, sx, sy)):
        return np.nan, np.nan, np.nan
    rho_r = _pearson(rx, ry)
    rho_s = _pearson(sx, sy)
    score = 1.0 - abs(rho_r - rho_s) / 2.0
    return float(score), rho_r, rho_s


def correlation_similarity(real: pd.DataFrame, synthetic: pd.DataFrame) -> float:
    """Return ``1 - |ρ_real - ρ_synth| / 2`` for two numerical columns (``CorrelationSimilarity``).

    Pearson's ρ is computed on the rows where both values are present; the score is NaN when a
    column is constant in either table.

    Parameters
    ----------
    real, synthetic : pandas.DataFrame
        Two columns each (numerical or datetime), same names.

    Returns
    -------
    float

    Examples
    --------
    >>> real = pd.DataFrame({"x": [1, 2, 3], "y": [1, 2, 3]})
    >>> synthetic = pd.DataFrame({"x": [1, 2, 3], "y": [3, 2, 1]})
    >>> correlation_similarity(real, synthetic)
    0.0
    """
    _check_pair_frames(real, synthetic)
    c1, c2 = real.columns
    return _correlation_breakdown(
        _series_to_float(real[c1]),
        _series_to_float(real[c2]),
        _series_to_float(synthetic[c1]),
        _series_to_float(synthetic[c2]),
    )[0]


def _check_pair_frames(real: pd.DataFrame, synthetic: pd.DataFrame) -> None:
    for name, frame in (("real", real), ("synthetic", synthetic)):
        if not isinstance(frame, pd.DataFrame) or frame.shape[1] != 2:
            raise ValueError(f"{name} must be a DataFrame with exactly two columns")
    check_same_columns(real, synthetic, "synthetic")


def _bin_codes(values: np.ndarray, edges: np.ndarray | None, num_bins: int) -> np.ndarray:
    """``np.digitize`` codes 0..num_bins+1; missing values get the code num_bins + 2."""
    codes = np.full(len(values), num_bins + 2, dtype=np.int64)
    present = ~np.isnan(values)
    if edges is not None and present.any():
        codes[present] = np.digitize(values[present], edges)
    return codes


def _edges(values: np.ndarray, num_bins: int) -> np.ndarray | None:
    present = values[~np.isnan(values)]
    if len(present) == 0:
        return None
    return np.histogram_bin_edges(present, bins=num_bins)


def _discretise_pair(
    real: np.ndarray, synth: np.ndarray, num_bins: int, bin_edges: str
) -> tuple[np.ndarray, np.ndarray, int]:
    real_edges = _edges(real, num_bins)
    synth_edges = real_edges if bin_edges == "real" else _edges(synth, num_bins)
    return (
        _bin_codes(real, real_edges, num_bins),
        _bin_codes(synth, synth_edges, num_bins),
        num_bins + 3,
    )


def _category_codes(real: pd.Series, synth: pd.Series) -> tuple[np.ndarray, np.ndarray, int]:
    """Joint category codes with missing values as the extra last code."""
    (r, s), uniques = joint_codes([real, synth])
    size = len(uniques)
    r = np.where(r < 0, size, r)
    s = np.where(s < 0, size, s)
    return r, s, size + 1


def _contingency_breakdown(
    r1: np.ndarray,
    r2: np.ndarray,
    s1: np.ndarray,
    s2: np.ndarray,
    size1: int,
    size2: int,
    want_association: bool,
) -> tuple[float, float]:
    cells = size1 * size2
    p = np.bincount(r1 * size2 + r2, minlength=cells) / len(r1)
    q = np.bincount(s1 * size2 + s2, minlength=cells) / len(s1)
    score = float(1.0 - 0.5 * np.abs(p - q).sum())
    assoc = np.nan
    if want_association:
        table = np.bincount(r1 * size2 + r2, minlength=cells).reshape(size1, size2)
        table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
        if min(table.shape) >= 2:
            assoc = float(association(table, method="cramer"))
    return score, assoc


def _validate_binning(num_bins: int, bin_edges: str) -> None:
    if not isinstance(num_bins, (int, np.integer)) or isinstance(num_bins, bool) or num_bins < 1:
        raise ValueError(f"num_bins must be a positive integer, got {num_bins!r}")
    if bin_edges not in ("each", "real"):
        raise ValueError(f"bin_edges must be 'each' or 'real', got {bin_edges!r}")


def contingency_similarity(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    continuous: Sequence[str] = (),
    num_bins: int = 10,
    bin_edges: Literal["each", "real"] = "each",
) -> float:
    """Return ``1 - ½·Σ|P_real(a, b) - P_synth(a, b)|`` (SDMetrics ``ContingencySimilarity``).

    Parameters
    ----------
    real, synthetic : pandas.DataFrame
        Two columns each, same names. Missing values are a level of their own.
    continuous : sequence of str, default ()
        Columns to discretise first (``np.histogram_bin_edges`` with ``num_bins`` equal-width
        bins, then ``np.digitize``).
    num_bins : int, default 10
    bin_edges : {"each", "real"}, default "each"
        ``"each"`` bins each table on its own range (what SDMetrics' QualityReport does);
        ``"real"`` bins both on the real range.

    Returns
    -------
    float

    Examples
    --------
    >>> real = pd.DataFrame({"a": ["x", "x", "y", "y"], "b": ["u", "v", "u", "v"]})
    >>> synthetic = pd.DataFrame({"a": ["x", "x", "y", "y"], "b": ["u", "u", "v", "v"]})
    >>> contingency_similarity(real, synthetic)
    0.5
    """
    _check_pair_frames(real, synthetic)
    _validate_binning(num_bins, bin_edges)
    unknown = [c for c in continuous if c not in real.columns]
    if unknown:
        raise ValueError(f"continuous names columns not in the data: {unknown!r}")
    codes = []
    for column in real.columns:
        if column in continuous:
            codes.append(
                _discretise_pair(
                    _series_to_float(real[column]),
                    _series_to_float(synthetic[column]),
                    num_bins,
                    bin_edges,
                )
            )
        else:
            codes.append(_category_codes(real[column], synthetic[column]))
    (r1, s1, k1), (r2, s2, k2) = codes
    return _contingency_breakdown(r1, r2, s1, s2, k1, k2, want_association=False)[0]
