"""α-precision and β-recall, the "naive" variant reported by TabSyn and TabDiff.

Alaa et al., "How Faithful is Your Synthetic Data?" (ICML 2022), as computed by synthcity's
``AlphaPrecision`` on min-max-scaled data (the ``delta_precision_alpha_naive`` and
``delta_coverage_beta_naive`` keys that TabSyn's ``eval_quality.py`` keeps):

1. embed both tables in one space: numbers min-max scaled on the real data, categories one-hot
   (missing values as an extra indicator, numbers filled with the real mean);
2. centre = mean of the real embeddings; for 30 levels α in [0, 1], the radius r_α is the
   α-quantile of the real distances to the centre;
3. α-precision curve: share of synthetic rows within r_α of the centre;
4. β-recall (coverage) curve: share of real rows whose nearest synthetic row is no farther than
   their nearest other real row *and* lies within the α-quantile of the distances of those
   nearest synthetic rows to the synthetic centre;
5. score = 1 - Σ|α - curve(α)| / Σα for each curve (1 is best).

The method needs as many synthetic as real rows: both are subsampled to
``min(len(real), len(synthetic), max_rows)``. Nearest-neighbour radii shrink with the sample
size, so compare numbers computed at the same size.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ._columns import check_tables, resolve_kinds, select_columns
from ._encode import encode
from ._neighbors import kneighbors
from ._result import MetricResult
from ._sampling import RandomState, check_max_rows, resolve_rng, subsample

__all__ = ["alpha_precision_beta_recall", "precision_recall"]

N_ALPHAS = 30


def alpha_precision_beta_recall(
    real: np.ndarray, synthetic: np.ndarray, *, n_alphas: int = N_ALPHAS
) -> dict[str, object]:
    """α-precision / β-recall curves and scores on already-embedded arrays of equal length.

    Parameters
    ----------
    real, synthetic : ndarray of shape (n, d)
        Embedded rows; the same number of rows in both.
    n_alphas : int, default 30
        Number of α levels, evenly spaced in [0, 1].

    Returns
    -------
    dict
        ``alpha_precision``, ``beta_recall`` (floats) and ``alphas``,
        ``alpha_precision_curve``, ``beta_recall_curve`` (lists).

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(size=(50, 2))
    >>> scores = alpha_precision_beta_recall(x, x)
    >>> round(scores["alpha_precision"], 3), round(scores["beta_recall"], 3)
    (0.986, 0.986)
    """
    real = np.asarray(real, dtype=np.float64)
    synthetic = np.asarray(synthetic, dtype=np.float64)
    if real.ndim != 2 or synthetic.shape != real.shape:
        raise ValueError(
            f"real and synthetic must be 2-D arrays of the same shape, got {real.shape} "
            f"and {synthetic.shape}"
        )
    if len(real) < 2:
        raise ValueError("α-precision needs at least two rows")
    alphas = np.linspace(0.0, 1.0, n_alphas)
    center = real.mean(axis=0)
    radii = np.quantile(np.linalg.norm(real - center, axis=1), alphas)
    synth_to_center = np.linalg.norm(synthetic - center, axis=1)

    real_real, _ = kneighbors(real, real, 2)
    real_to_real = real_real[:, 1]  # nearest *other* real row (itself is at distance 0)
    real_synth, real_synth_idx = kneighbors(synthetic, real, 1)
    real_to_synth = real_synth[:, 0]
    closest = synthetic[real_synth_idx[:, 0]]
    closest_to_synth_center = np.linalg.norm(closest - synthetic.mean(axis=0), axis=1)
    closest_radii = np.quantile(closest_to_synth_center, alphas)

    covered = real_to_synth <= real_to_real
    precision_curve = np.array([np.mean(synth_to_center <= r) for r in radii])
    recall_curve = np.array(
        [np.mean(covered & (closest_to_synth_center <= r)) for r in closest_radii]
    )
    total = alphas.sum()
    return {
        "alpha_precision": float(1.0 - np.abs(alphas - precision_curve).sum() / total),
        "beta_recall": float(1.0 - np.abs(alphas - recall_curve).sum() / total),
        "alphas": alphas.tolist(),
        "alpha_precision_curve": precision_curve.tolist(),
        "beta_recall_curve": recall_curve.tolist(),
    }


def precision_recall(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    metadata: Mapping[str, str] | None = None,
    max_rows: int | None = 20_000,
    random_state: RandomState = 0,
) -> MetricResult:
    """α-precision and β-recall (synthcity's naive variant, as in TabSyn/TabDiff).

    Parameters
    ----------
    real, synthetic : pandas.DataFrame
        Same columns. Both are subsampled without replacement to
        ``min(len(real), len(synthetic), max_rows)`` rows (the method needs equal sizes).
    metadata : mapping, optional
        ``{column: kind}``; other columns are inferred.
    max_rows : int or None, default 20000
        Cap on the rows used (None: no cap; the cost grows with the square of the size).
    random_state : int, numpy Generator or None, default 0
        Seeds the subsampling.

    Returns
    -------
    MetricResult
        ``scores``: ``alpha_precision``, ``beta_recall`` (1 is best).
        ``details``: the curves, ``alphas`` and the number of rows used.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> real = pd.DataFrame({"x": rng.normal(size=300), "c": rng.choice(["a", "b"], 300)})
    >>> far = pd.DataFrame({"x": rng.normal(10.0, size=300), "c": ["a"] * 300})
    >>> precision_recall(real, far).scores["alpha_precision"] < 0.1
    True
    """
    check_tables(real, synthetic)
    check_max_rows(max_rows)
    kinds = resolve_kinds(real, metadata)
    rng = resolve_rng(random_state)
    n = min(len(real), len(synthetic), max_rows or len(real) + len(synthetic))
    real_s = subsample(real, n, rng)
    synth_s = subsample(select_columns(synthetic, real.columns), n, rng)
    enc = encode([real_s, synth_s], kinds, scale="minmax", categorical="onehot")
    out = alpha_precision_beta_recall(enc.arrays[0], enc.arrays[1])
    return MetricResult(
        scores={
            "alpha_precision": out.pop("alpha_precision"),
            "beta_recall": out.pop("beta_recall"),
        },
        details={**out, "rows": n},
    )
