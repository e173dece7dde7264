"""A shadow-model membership-inference attack (Shokri et al. 2017, as adapted to synthetic data
by Stadler et al. 2022 and TAPAS): the attacker trains the generator itself.

The attacker holds a sample of the population (half of the holdout) and the target records.
It splits its population sample into a *shadow pool* and a *reference*; for each of
``n_shadows`` shadow runs it trains a fresh copy of the generator on rows of the pool plus a
random half of the targets, samples a shadow release, and computes for every target the
features of the cheap attacks (distance, distance ratio, kNN density ratio against the
reference). A logistic regression learns from the shadow runs which feature values mean
"was in the training rows"; applied to the features of the *real* release it scores the
targets. Members are training rows, non-members holdout rows the attacker did not use.

The attack needs a way to train the generator (``make_synthesizer``: a callable returning an
unfitted synthesizer with ``fit`` and ``sample``), so it is run by the benchmarks with fast
models, not by the report.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from .._columns import check_frame, check_same_columns, check_tables, resolve_kinds, select_columns
from .._encode import RowSpace
from .._result import MetricResult
from .._sampling import RandomState, resolve_rng
from .mia_density import density_knn
from .mia_distance import distance, distance_ratio
from .roc import summarize

FEATURES = (distance, distance_ratio, density_knn)


def _features(points, synthetic, reference, rng) -> np.ndarray:
    return np.column_stack([f(points, synthetic, reference, rng) for f in FEATURES])


def shadow_attack(
    make_synthesizer: Callable,
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    holdout: pd.DataFrame,
    *,
    metadata: Mapping[str, str] | None = None,
    n_shadows: int = 8,
    n_targets: int = 200,
    n_bootstrap: int = 200,
    confidence: float = 0.95,
    random_state: RandomState = 0,
) -> MetricResult:
    """Shadow-model membership inference against ``synthetic`` (see the module docstring).

    Parameters
    ----------
    make_synthesizer : callable
        ``make_synthesizer(seed)`` returns an unfitted synthesizer (``fit(df)``,
        ``sample(n)``), the same kind as the one that produced ``synthetic``.
    real, synthetic, holdout : pandas.DataFrame
        Training rows, the release, real rows never seen in training (at least 40).
    metadata : mapping, optional
    n_shadows : int, default 8
    n_targets : int, default 200
        Members and non-members scored (each).
    n_bootstrap, confidence, random_state
        As in :func:`~tabgen.metrics.attacks.membership.membership_attacks`.

    Returns
    -------
    MetricResult
        ``scores``: ``shadow_auc`` (with ``_low`` / ``_high``), ``shadow_tpr_at_1pct_fpr``,
        ``shadow_tpr_at_0.1pct_fpr`` (with intervals). ``details``: settings, the shadow
        classifier's accuracy on its own shadow data.
    """
    check_tables(real, synthetic)
    check_frame(holdout, "holdout")
    check_same_columns(real, holdout, "holdout")
    if len(holdout) < 40:
        raise ValueError(f"holdout has {len(holdout)} rows; the shadow attack needs at least 40")
    if not isinstance(n_shadows, (int, np.integer)) or n_shadows < 2:
        raise ValueError(f"n_shadows must be an integer >= 2, got {n_shadows!r}")
    kinds = resolve_kinds(real, metadata)
    rng = resolve_rng(random_state)
    synthetic = select_columns(synthetic, real.columns)
    holdout = select_columns(holdout, real.columns)
    order = rng.permutation(len(holdout))
    quarter = len(holdout) // 4
    n_t = int(min(n_targets, quarter, len(real)))
    non_members = holdout.iloc[order[:n_t]]
    reference = holdout.iloc[order[quarter : 2 * quarter]]
    pool = holdout.iloc[order[2 * quarter :]]
    members = real.iloc[rng.permutation(len(real))[:n_t]]
    targets = pd.concat([members, non_members], ignore_index=True)
    space = RowSpace(kinds).fit(real)
    x_targets = space.transform(targets)
    x_ref = space.transform(reference)
    n_release = min(len(synthetic), len(pool) + len(targets))

    feats, labels = [], []
    for _ in range(int(n_shadows)):
        inside = rng.random(len(targets)) < 0.5
        train = pd.concat([pool, targets[inside]], ignore_index=True)
        model = make_synthesizer(int(rng.integers(2**31 - 1)))
        model.fit(train)
        shadow = model.sample(n_release, random_state=int(rng.integers(2**31 - 1)))
        x_shadow = space.transform(select_columns(shadow, real.columns))
        feats.append(_features(x_targets, x_shadow, x_ref, rng))
        labels.append(inside)
    X, y = np.vstack(feats), np.concatenate(labels)
    scaler = StandardScaler().fit(X)
    clf = LogisticRegression(max_iter=1000).fit(scaler.transform(X), y)

    x_release = space.transform(synthetic.iloc[rng.permutation(len(synthetic))[:n_release]])
    scores = clf.decision_function(scaler.transform(_features(x_targets, x_release, x_ref, rng)))
    stats = summarize(
        scores[:n_t], scores[n_t:], n_bootstrap=n_bootstrap, confidence=confidence, rng=rng
    )
    result = MetricResult()
    for key, value in stats.items():
        result.scores[f"shadow_{key}"] = float(value)
    result.details["shadow_settings"] = {
        "n_shadows": int(n_shadows),
        "targets_per_class": n_t,
        "shadow_pool_rows": len(pool),
        "reference_rows": len(reference),
        "release_rows": int(n_release),
        "shadow_train_accuracy": float(clf.score(scaler.transform(X), y)),
    }
    return result
