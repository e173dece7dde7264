"""Detection (C2ST): can a classifier tell real rows from synthetic ones?

Follows the protocol of SDMetrics' ``LogisticDetection``, which TabSyn and TabDiff report:
label real rows 0 and synthetic rows 1, cross-validate a classifier with
``StratifiedKFold`` (3 folds, shuffled), measure ROC-AUC on each held-out fold and report

* ``detection_<clf>_auc``: the mean fold AUC (0.5 = indistinguishable, 1 = trivially told apart);
* ``detection_score_<clf>`` = 1 - mean over folds of (2·max(AUC, 0.5) - 1), SDMetrics' score
  (1 = indistinguishable, 0 = perfectly detected).

Two classifiers: ``"lr"`` (LogisticRegression, lbfgs, on numbers standardised with the real
mean/std plus a NaN indicator and one-hot categories) and ``"gb"`` (scikit-learn's
HistGradientBoostingClassifier on raw numbers with NaN kept and ordinal category codes declared
categorical). Both tables are subsampled to the same size, at most ``max_rows`` each, so the
classes are balanced.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from ._columns import check_tables, resolve_kinds, select_columns
from ._encode import encode
from ._result import MetricResult
from ._sampling import RandomState, check_max_rows, child_seed, resolve_rng, subsample

__all__ = ["detection"]

CLASSIFIERS = ("lr", "gb")


def _detection_score(aucs: Sequence[float]) -> float:
    return float(1.0 - np.mean([2.0 * max(a, 0.5) - 1.0 for a in aucs]))


def _make_model(name: str, categorical_mask: np.ndarray, seed: int) -> Any:
    if name == "lr":
        return LogisticRegression(max_iter=1000)
    return HistGradientBoostingClassifier(
        categorical_features=categorical_mask if categorical_mask.any() else None,
        random_state=seed,
    )


def detection(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    metadata: Mapping[str, str] | None = None,
    classifiers: Sequence[str] = CLASSIFIERS,
    n_splits: int = 3,
    max_rows: int | None = 20_000,
    random_state: RandomState = 0,
) -> MetricResult:
    """Classifier two-sample test (C2ST) between real and synthetic rows.

    Parameters
    ----------
    real, synthetic : pandas.DataFrame
        Same columns; each is subsampled without replacement to
        ``min(len(real), len(synthetic), max_rows)`` rows.
    metadata : mapping, optional
        ``{column: kind}``; other columns are inferred.
    classifiers : sequence of {"lr", "gb"}, default ("lr", "gb")
        Logistic regression and/or histogram gradient boosting.
    n_splits : int, default 3
        Stratified folds.
    max_rows : int or None, default 20000
        Cap on the rows taken from each table (None: no cap).
    random_state : int, numpy Generator or None, default 0
        Seeds the subsampling, the fold split and the boosting model.

    Returns
    -------
    MetricResult
        ``scores``: ``detection_<clf>_auc`` and ``detection_score_<clf>`` for each classifier.
        ``details``: fold AUCs, rows used per class, number of features.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> real = pd.DataFrame({"x": rng.normal(size=200)})
    >>> shifted = pd.DataFrame({"x": rng.normal(5.0, size=200)})
    >>> detection(real, shifted, classifiers=["lr"]).scores["detection_lr_auc"] > 0.99
    True
    """
    check_tables(real, synthetic)
    check_max_rows(max_rows)
    classifiers = list(classifiers)
    bad = [c for c in classifiers if c not in CLASSIFIERS]
    if bad or not classifiers:
        raise ValueError(f"classifiers must be a non-empty subset of {CLASSIFIERS}, got {bad!r}")
    if not isinstance(n_splits, (int, np.integer)) or n_splits < 2:
        raise ValueError(f"n_splits must be an integer >= 2, got {n_splits!r}")
    n = min(len(real), len(synthetic), max_rows or len(real) + len(synthetic))
    if n < n_splits:
        raise ValueError(
            f"detection needs at least n_splits={n_splits} rows in each table, got {n}"
        )

    kinds = resolve_kinds(real, metadata)
    rng = resolve_rng(random_state)
    real_s = subsample(real, n, rng)
    synth_s = subsample(select_columns(synthetic, real.columns), n, rng)
    labels = np.r_[np.zeros(n, dtype=int), np.ones(n, dtype=int)]
    folds = list(
        StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=child_seed(rng)).split(
            np.zeros(2 * n), labels
        )
    )
    model_seed = child_seed(rng)

    result = MetricResult(details={"rows_per_class": n, "n_splits": n_splits})
    for name in classifiers:
        if name == "lr":
            enc = encode([real_s, synth_s], kinds, scale="std", categorical="onehot")
        else:
            enc = encode(
                [real_s, synth_s],
                kinds,
                scale="std",
                categorical="ordinal",
                nan="keep",
                max_categories=250,
            )
        features = np.vstack(enc.arrays)
        aucs = []
        for train, test in folds:
            model = _make_model(name, enc.categorical_mask, model_seed)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                model.fit(features[train], labels[train])
            proba = model.predict_proba(features[test])[:, 1]
            aucs.append(float(roc_auc_score(labels[test], proba)))
        result.scores[f"detection_{name}_auc"] = float(np.mean(aucs))
        result.scores[f"detection_score_{name}"] = _detection_score(aucs)
        result.details[f"{name}_fold_aucs"] = aucs
        result.details[f"{name}_n_features"] = features.shape[1]
    return result
