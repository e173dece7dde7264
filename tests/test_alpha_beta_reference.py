"""α-precision / β-recall against a case computed by hand (issue #27's cross-check: the
reference implementation, synthcity, pins ``torch<2.3`` and would replace the benchmark
environment's torch (``pip install --dry-run synthcity`` in /work/venv-anon), so its published
formulas are applied by hand to a table small enough to follow every step).

Reference: synthcity ``metrics/eval_statistical.py`` ``AlphaPrecision.metrics`` (the "naive"
variant TabSyn reports): radii are ``np.quantile`` (linear) of the real rows' distances to the
real centre at 30 levels α in [0, 1]; a synthetic row is precise at level α inside radius
r_α; a real row is covered when its nearest synthetic row is no farther than its nearest other
real row and lies within the α-quantile of those nearest synthetic rows' distances to the
synthetic centre; score = 1 - Σ|α - curve(α)| / Σα.
"""

from __future__ import annotations

import numpy as np
import pytest

from tabgen.metrics.precision_recall import alpha_precision_beta_recall


def test_alpha_precision_and_beta_recall_match_the_hand_computed_case():
    real = np.array([[0.0], [1.0], [2.0], [3.0]])
    synthetic = np.array([[0.0], [1.0], [2.0], [10.0]])
    out = alpha_precision_beta_recall(real, synthetic)
    alphas = np.arange(30) / 29
    # real centre 1.5: real distances [1.5, .5, .5, 1.5], so r_α runs from .5 (α = 0) to 1.5,
    # reached at α = 2/3 (linear quantiles of 4 values); synthetic distances [1.5, .5, .5, 8.5]
    # -> precision .5 below α = 2/3 (i <= 19) and .75 from there on (the row at 10 never)
    precision = np.where(alphas < 2 / 3, 0.5, 0.75)
    # every real row is covered (nearest synthetic rows 0, 1, 2, 2 at distances 0, 0, 0, 1 <=
    # nearest other real row, 1); their distances to the synthetic centre 3.25 are
    # [3.25, 2.25, 1.25, 1.25]: radii 1.25 up to α = 1/3, 2.25 at α = 2/3, 3.25 at α = 1
    # -> recall .5 below α = 2/3, .75 from there, 1.0 at α = 1
    recall = np.where(alphas < 2 / 3, 0.5, 0.75)
    recall[-1] = 1.0
    assert out["alpha_precision_curve"] == pytest.approx(precision.tolist())
    assert out["beta_recall_curve"] == pytest.approx(recall.tolist())
    # Σα = 15 for 30 levels
    expected_p = 1 - np.abs(alphas - precision).sum() / 15
    assert out["alpha_precision"] == pytest.approx(expected_p)
    assert out["beta_recall"] == pytest.approx(expected_p + 0.25 / 15)
    # by hand: Σ|α - .5| over i <= 19 is 3.8793 + .4310, Σ|α - .75| over i >= 20 is 1.1207
    assert out["alpha_precision"] == pytest.approx(1 - 5.4310 / 15, abs=1e-4)
