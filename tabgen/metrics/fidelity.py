"""Fidelity: column shapes and column pair trends, with SDMetrics' QualityReport formulas.

The formulas follow ``sdmetrics`` (``ColumnShapes`` and ``ColumnPairTrends``), so that the
"Shape" and "Trend" numbers published by TabSyn, TabDiff and others (who call
``QualityReport().generate``) can be compared with ours:

* **Column shapes.** Numerical and datetime columns: ``KSComplement`` = 1 - the two-sample
  Kolmogorov-Smirnov statistic on the non-missing values (datetimes as int64 nanoseconds,
  values rounded to 14 decimals as SDMetrics does). Categorical columns: ``TVComplement`` =
  1 - ½·Σ|p_real - p_synth| over the union of the categories of both tables, missing values
  ignored. SDMetrics ignores missing values in the shape score; we do the same and report the
  missing-rate similarity ``1 - |rate_real - rate_synth|`` in separate per-column entries (and
  their mean as ``missing_similarity``).
* **Column pair trends.** Numerical/datetime x numerical/datetime: ``CorrelationSimilarity``
  = 1 - |ρ_real - ρ_synth| / 2 with Pearson's ρ on the rows where both values are present
  (NaN when a column is constant). Any pair with a categorical column:
  ``ContingencySimilarity`` = 1 - ½·Σ|P_real(a, b) - P_synth(a, b)| over the joint cells,
  missing values counted as a level of their own. A numerical/datetime column in such a pair is
  discretised with ``np.digitize`` on ``np.histogram_bin_edges(values, bins=10)``; like
  SDMetrics (checked against 0.32), each table is binned on *its own* range by default
  (``bin_edges="each"``); ``bin_edges="real"`` bins both on the real range instead, which also
  penalises a synthetic column whose range is off.
* **Averages.** Shape = mean over columns, Trend = mean over pairs, NaN entries left out. This
  is the sdmetrics 0.11 behaviour used in the papers. SDMetrics >= 0.2x's QualityReport averages
  only the pairs whose real correlation exceeds 0.5 or real Cramér's V exceeds 0.3; set
  ``real_correlation_threshold=0.5, real_association_threshold=0.3`` to reproduce that.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from ._columns import (
    check_tables,
    joint_codes,
    resolve_kinds,
    select_columns,
    to_float,
)
from ._result import MetricResult
from .similarity import (
    _category_codes,
    _contingency_breakdown,
    _correlation_breakdown,
    _discretise_pair,
    _ks_statistic,
    _tv_from_codes,
    _validate_binning,
    contingency_similarity,
    correlation_similarity,
    ks_complement,
    tv_complement,
)

__all__ = [
    "column_pair_trends",
    "column_shapes",
    "contingency_similarity",
    "correlation_similarity",
    "fidelity",
    "ks_complement",
    "tv_complement",
]

_CONTINUOUS = ("numerical", "datetime")


# --------------------------------------------------------------------------- tables
def _prepare(
    real: pd.DataFrame, synthetic: pd.DataFrame, metadata: Any
) -> tuple[dict[str, str], pd.DataFrame]:
    check_tables(real, synthetic)
    kinds = resolve_kinds(real, metadata)
    return kinds, select_columns(synthetic, real.columns)


#: The columns of :func:`column_pair_trends` that describe a pair and its trend score.
PAIR_COLUMNS = (
    "column_1",
    "column_2",
    "metric",
    "score",
    "real_correlation",
    "synthetic_correlation",
)


def _missing_rate(series: pd.Series) -> float:
    return float(series.isna().mean())


def column_shapes(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    metadata: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Per-column shape scores (KSComplement / TVComplement) and missing-rate similarity.

    Parameters
    ----------
    real, synthetic : pandas.DataFrame
        Same columns (order may differ).
    metadata : mapping, optional
        ``{column: "numerical" | "categorical" | "datetime"}``; other columns are inferred.

    Returns
    -------
    pandas.DataFrame
        One row per column: ``column``, ``kind``, ``metric``, ``score``, ``missing_real``,
        ``missing_synthetic``, ``missing_similarity`` (``1 - |rate_real - rate_synth|``).

    Examples
    --------
    >>> real = pd.DataFrame({"x": [1.0, 2.0, 3.0], "c": ["a", "b", "b"]})
    >>> column_shapes(real, real)["score"].tolist()
    [1.0, 1.0]
    """
    kinds, synthetic = _prepare(real, synthetic, metadata)
    rows = []
    for column, kind in kinds.items():
        if kind in _CONTINUOUS:
            metric = "KSComplement"
            stat = _ks_statistic(to_float(real[column], kind), to_float(synthetic[column], kind))
            score = 1.0 - stat
        else:
            metric = "TVComplement"
            (r, s), uniques = joint_codes([real[column], synthetic[column]])
            score = _tv_from_codes(r, s, len(uniques))
        miss_r = _missing_rate(real[column])
        miss_s = _missing_rate(synthetic[column])
        rows.append(
            {
                "column": column,
                "kind": kind,
                "metric": metric,
                "score": float(score),
                "missing_real": miss_r,
                "missing_synthetic": miss_s,
                "missing_similarity": 1.0 - abs(miss_r - miss_s),
            }
        )
    return pd.DataFrame(rows)


def column_pair_trends(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    metadata: Mapping[str, str] | None = None,
    num_bins: int = 10,
    bin_edges: Literal["each", "real"] = "each",
    real_correlation_threshold: float = 0.0,
    real_association_threshold: float = 0.0,
) -> pd.DataFrame:
    """Per-pair trend scores (CorrelationSimilarity / ContingencySimilarity).

    Parameters
    ----------
    real, synthetic : pandas.DataFrame
        Same columns (order may differ).
    metadata : mapping, optional
        ``{column: kind}``; other columns are inferred.
    num_bins : int, default 10
        Equal-width bins for numerical/datetime columns paired with a categorical one.
    bin_edges : {"each", "real"}, default "each"
        ``"each"``: every table is binned on its own range (SDMetrics); ``"real"``: both on
        the real range.
    real_correlation_threshold, real_association_threshold : float, default 0
        A pair contributes to the average (``contributes`` column) only if its real |ρ| /
        real Cramér's V is above the threshold. 0 keeps every pair (sdmetrics 0.11, used in
        the papers); 0.5 / 0.3 reproduce the newer SDMetrics QualityReport.

    Returns
    -------
    pandas.DataFrame
        One row per pair: ``column_1``, ``column_2``, ``metric``, ``score``,
        ``real_correlation``, ``synthetic_correlation``, ``real_association``,
        ``contributes``.

    Examples
    --------
    >>> real = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": [1.0, 2.0, 3.0, 5.0]})
    >>> column_pair_trends(real, real)["score"].tolist()
    [1.0]
    """
    _validate_binning(num_bins, bin_edges)
    for name, value in (
        ("real_correlation_threshold", real_correlation_threshold),
        ("real_association_threshold", real_association_threshold),
    ):
        if not 0 <= value <= 1:
            raise ValueError(f"{name} must be in [0, 1], got {value!r}")
    kinds, synthetic = _prepare(real, synthetic, metadata)

    floats: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    discrete: dict[str, tuple[np.ndarray, np.ndarray, int]] = {}
    for column, kind in kinds.items():
        if kind in _CONTINUOUS:
            r = to_float(real[column], kind)
            s = to_float(synthetic[column], kind)
            floats[column] = (r, s)
            discrete[column] = _discretise_pair(r, s, num_bins, bin_edges)
        else:
            discrete[column] = _category_codes(real[column], synthetic[column])

    rows = []
    for c1, c2 in itertools.combinations(kinds, 2):
        if c1 in floats and c2 in floats:
            metric = "CorrelationSimilarity"
            (rx, sx), (ry, sy) = floats[c1], floats[c2]
            score, rho_r, rho_s = _correlation_breakdown(rx, ry, sx, sy)
            assoc = np.nan
            contributes = not np.isnan(score) and (
                real_correlation_threshold <= 0 or abs(rho_r) > real_correlation_threshold
            )
        else:
            metric = "ContingencySimilarity"
            (r1, s1, k1), (r2, s2, k2) = discrete[c1], discrete[c2]
            score, assoc = _contingency_breakdown(
                r1, r2, s1, s2, k1, k2, want_association=real_association_threshold > 0
            )
            rho_r = rho_s = np.nan
            contributes = not np.isnan(score) and (
                real_association_threshold <= 0
                or (not np.isnan(assoc) and assoc > real_association_threshold)
            )
        rows.append(
            {
                "column_1": c1,
                "column_2": c2,
                "metric": metric,
                "score": float(score),
                "real_correlation": float(rho_r),
                "synthetic_correlation": float(rho_s),
                "real_association": float(assoc),
                "contributes": bool(contributes),
            }
        )
    return pd.DataFrame(rows, columns=[*PAIR_COLUMNS, "real_association", "contributes"])


def _mean_or_nan(values: pd.Series) -> float:
    values = values.dropna()
    return float(values.mean()) if len(values) else np.nan


def fidelity(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    metadata: Mapping[str, str] | None = None,
    num_bins: int = 10,
    bin_edges: Literal["each", "real"] = "each",
    real_correlation_threshold: float = 0.0,
    real_association_threshold: float = 0.0,
) -> MetricResult:
    """Shape and Trend scores (SDMetrics QualityReport formulas) with per-column/pair details.

    Parameters
    ----------
    real, synthetic : pandas.DataFrame
        Same columns. Uses every row (no subsampling).
    metadata : mapping, optional
        ``{column: kind}``; other columns are inferred.
    num_bins, bin_edges, real_correlation_threshold, real_association_threshold
        See :func:`column_pair_trends`.

    Returns
    -------
    MetricResult
        ``scores``: ``shape`` (mean column score), ``trend`` (mean contributing pair score),
        ``missing_similarity`` (mean over columns of ``1 - |rate_real - rate_synth|``).
        ``details``: ``column_shapes`` and ``column_pair_trends`` DataFrames.

    Examples
    --------
    >>> real = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "c": ["a", "b", "a", "b"]})
    >>> fidelity(real, real).scores["shape"]
    1.0
    """
    shapes = column_shapes(real, synthetic, metadata=metadata)
    trends = column_pair_trends(
        real,
        synthetic,
        metadata=metadata,
        num_bins=num_bins,
        bin_edges=bin_edges,
        real_correlation_threshold=real_correlation_threshold,
        real_association_threshold=real_association_threshold,
    )
    result = MetricResult(
        scores={
            "shape": _mean_or_nan(shapes["score"]),
            "trend": _mean_or_nan(trends.loc[trends["contributes"], "score"])
            if len(trends)
            else np.nan,
            "missing_similarity": _mean_or_nan(shapes["missing_similarity"]),
        },
        details={
            "column_shapes": shapes,
            "column_pair_trends": trends,
            "settings": {
                "num_bins": num_bins,
                "bin_edges": bin_edges,
                "real_correlation_threshold": real_correlation_threshold,
                "real_association_threshold": real_association_threshold,
            },
        },
    )
    if len(trends) == 0:
        result.notes["trend"] = "fewer than two columns: no pairs"
    elif not trends["contributes"].any():
        result.notes["trend"] = "no pair could be scored or met the thresholds"
    return result
