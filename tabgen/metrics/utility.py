"""Machine-learning utility: train on synthetic, test on real (TSTR).

A scikit-learn ``HistGradientBoosting`` model (classifier or regressor, default settings,
seeded) is trained on the synthetic table and evaluated on a real test table that neither the
generator nor the model saw; the same model trained on the real training table gives the
"real" baseline. Features: numbers (datetimes as int64 ns) with missing values left to the
model, categories as ordinal codes declared categorical (vocabulary shared by all tables, the
rarest beyond 250 levels pooled). Rows with a missing target are dropped.

Headline metric: ROC-AUC for binary targets (positive class = the second class in sorted order),
macro-F1 for multiclass targets (accuracy also reported), R² for regression (RMSE also
reported). TabSyn tunes XGBoost on a validation split; a fixed default model is cheaper, and
since the real baseline uses the same model the *gap* between the two is what to compare.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.metrics import accuracy_score, f1_score, mean_squared_error, r2_score, roc_auc_score

from ._columns import (
    check_like,
    joint_codes,
    resolve_kinds,
    select_columns,
    to_float,
)
from ._encode import encode
from ._result import MetricResult
from ._sampling import RandomState, child_seed, resolve_rng

__all__ = ["infer_task", "utility"]

Task = Literal["auto", "binary", "multiclass", "regression", "classification"]
MAX_INTEGER_CLASSES = 20


def infer_task(target: pd.Series, kind: str | None = None) -> str:
    """Return ``"binary"``, ``"multiclass"`` or ``"regression"`` for a target column.

    Categorical targets (object, string, category, bool, or declared categorical) are
    classification; a numeric target whose values are all integers with at most 20 distinct
    levels is also classification; any other numeric target is regression.

    Examples
    --------
    >>> infer_task(pd.Series(["a", "b", "a"]))
    'binary'
    >>> infer_task(pd.Series([0.5, 1.7, 2.2]))
    'regression'
    """
    values = target.dropna()
    n_levels = values.nunique()
    if kind is None:
        is_numeric = pd.api.types.is_numeric_dtype(target.dtype) and not (
            pd.api.types.is_bool_dtype(target.dtype)
        )
        kind = "numerical" if is_numeric else "categorical"
    if kind == "numerical":
        floats = to_float(values, "numerical")
        if not (n_levels <= MAX_INTEGER_CLASSES and np.all(np.mod(floats, 1) == 0)):
            return "regression"
    elif kind == "datetime":
        return "regression"
    return "binary" if n_levels <= 2 else "multiclass"


def _sort_key_order(values: list[Any]) -> list[int]:
    """Indices that sort ``values`` (by value when comparable, else by their text)."""
    try:
        return sorted(range(len(values)), key=lambda i: values[i])
    except TypeError:
        return sorted(range(len(values)), key=lambda i: str(values[i]))


def _class_codes(
    targets: dict[str, pd.Series],
) -> tuple[dict[str, np.ndarray], list[Any]]:
    """Class codes on the classes seen in the real tables, in sorted order.

    Missing targets get -1; synthetic classes never seen in the real tables get -2.
    """
    names = list(targets)
    codes, uniques = joint_codes([targets[n] for n in names])
    seen = np.zeros(len(uniques), dtype=bool)
    for name, c in zip(names, codes):
        if name != "synthetic":
            seen[c[c >= 0]] = True
    seen_idx = np.flatnonzero(seen)
    order = _sort_key_order([uniques[i] for i in seen_idx])
    mapping = np.full(len(uniques), -2, dtype=np.int64)
    mapping[seen_idx[order]] = np.arange(len(order))
    out = {n: np.where(c >= 0, mapping[np.maximum(c, 0)], -1) for n, c in zip(names, codes)}
    return out, [uniques[i] for i in seen_idx[order]]


def _classification_metrics(
    y_true: np.ndarray, proba: np.ndarray, model_classes: np.ndarray, n_classes: int, task: str
) -> tuple[dict[str, float], dict[str, str]]:
    """Metrics with the model's probabilities mapped onto all classes (absent ones get 0)."""
    full = np.zeros((len(y_true), n_classes))
    full[:, model_classes.astype(int)] = proba
    pred = full.argmax(axis=1)
    notes = {}
    metrics = {
        "accuracy": float(accuracy_score(y_true, pred)),
        "macro_f1": float(
            f1_score(y_true, pred, average="macro", labels=np.unique(y_true), zero_division=0)
        ),
    }
    if task == "binary":
        if len(np.unique(y_true)) < 2:
            metrics["roc_auc"] = np.nan
            notes["roc_auc"] = "the test set holds a single class"
        else:
            metrics["roc_auc"] = float(roc_auc_score(y_true, full[:, 1]))
    return metrics, notes


def _fit_and_score(
    name: str,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    task: str,
    n_classes: int,
    cat_mask: np.ndarray,
    seed: int,
) -> tuple[dict[str, float], dict[str, str]]:
    cats = cat_mask if cat_mask.any() else None
    if task == "regression":
        model = HistGradientBoostingRegressor(categorical_features=cats, random_state=seed)
        model.fit(x_train, y_train)
        pred = model.predict(x_test)
        return {
            "r2": float(r2_score(y_test, pred)),
            "rmse": float(np.sqrt(mean_squared_error(y_test, pred))),
        }, {}
    present = np.unique(y_train)
    if len(present) < 2:
        nan_keys = ["accuracy", "macro_f1"] + (["roc_auc"] if task == "binary" else [])
        reason = f"the {name} training table holds a single class"
        return {k: np.nan for k in nan_keys}, {k: reason for k in nan_keys}
    model = HistGradientBoostingClassifier(categorical_features=cats, random_state=seed)
    model.fit(x_train, y_train)
    metrics, notes = _classification_metrics(
        y_test, model.predict_proba(x_test), model.classes_, n_classes, task
    )
    if len(present) < n_classes:
        notes["classes"] = (
            f"the {name} training table lacks {n_classes - len(present)} of the {n_classes} "
            "classes; they get probability 0"
        )
    return metrics, notes


def utility(
    real: pd.DataFrame | None,
    synthetic: pd.DataFrame,
    test: pd.DataFrame,
    target: str,
    *,
    task: Task = "auto",
    metadata: Mapping[str, str] | None = None,
    random_state: RandomState = 0,
) -> MetricResult:
    """Train-on-synthetic, test-on-real utility, with the train-on-real baseline beside it.

    Parameters
    ----------
    real : pandas.DataFrame or None
        The real training table, for the baseline (None: no baseline).
    synthetic : pandas.DataFrame
        The synthetic table (same columns as ``test``).
    test : pandas.DataFrame
        Real rows unseen by the generator (the holdout).
    target : str
        The column to predict.
    task : {"auto", "binary", "multiclass", "classification", "regression"}, default "auto"
        ``"auto"`` uses :func:`infer_task` on the real targets; for classification, binary or
        multiclass follows the number of classes in the real tables (training and test).
    metadata : mapping, optional
        ``{column: kind}``; other columns are inferred.
    random_state : int, numpy Generator or None, default 0
        Seeds the models.

    Returns
    -------
    MetricResult
        ``scores``: ``utility_synthetic`` and ``utility_real`` (the headline metric: ROC-AUC,
        macro-F1 or R²). ``details``: ``task``, ``metric``, all metrics per training table,
        the classes.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=400)
    >>> df = pd.DataFrame({"x": x, "y": np.where(x > 0, "pos", "neg")})
    >>> res = utility(df[:200], df[:200], df[200:], "y")
    >>> res.details["metric"], res.scores["utility_synthetic"] > 0.95
    ('roc_auc', True)
    """
    check_like(test, "test", {"synthetic": synthetic, "real": real})
    if target not in test.columns:
        raise ValueError(f"target {target!r} is not a column of the data")
    if task not in ("auto", "binary", "multiclass", "regression", "classification"):
        raise ValueError(
            f"task must be auto/binary/multiclass/classification/regression, got {task!r}"
        )
    if test.shape[1] < 2:
        raise ValueError("utility needs at least one feature column besides the target")
    reference = real if real is not None else test
    kinds = resolve_kinds(select_columns(reference, test.columns), metadata)
    if target not in kinds:
        raise ValueError(f"target {target!r} is declared an id column and cannot be predicted")
    requested = task
    if task == "auto":
        observed = test[target] if real is None else pd.concat([real[target], test[target]])
        task = infer_task(observed, kinds[target])
    rng = resolve_rng(random_state)
    seed = child_seed(rng)

    tables = {"synthetic": select_columns(synthetic, test.columns), "test": test}
    if real is not None:
        tables["real"] = select_columns(real, test.columns)
    names = list(tables)
    frames = list(tables.values())
    feature_kinds = {c: k for c, k in kinds.items() if c != target}

    notes: dict[str, str] = {}
    if task == "regression":
        target_kind = "datetime" if kinds[target] == "datetime" else "numerical"
        ys = [to_float(f[target], target_kind) for f in frames]
        keep = [~np.isnan(y) for y in ys]
        classes: list[Any] = []
    else:
        coded, classes = _class_codes({n: f[target] for n, f in zip(names, frames)})
        ys = [coded[n] for n in names]
        keep = [y >= 0 for y in ys]
        unseen = int((coded["synthetic"] == -2).sum())
        if unseen:
            notes["unseen_classes"] = (
                f"{unseen} synthetic rows with a class absent from the real data dropped"
            )
        if len(classes) < 2:
            raise ValueError(
                f"target {target!r} holds fewer than two classes in the real data; "
                "a classification utility cannot be measured"
            )
        if requested == "binary" and len(classes) > 2:
            raise ValueError(
                f"task='binary' but target {target!r} holds {len(classes)} classes in the real data"
            )
        task = "binary" if len(classes) == 2 else "multiclass"
    dropped = {
        n: int((y == -1).sum()) if task != "regression" else int((~k).sum())
        for n, y, k in zip(names, ys, keep)
    }
    dropped = {n: d for n, d in dropped.items() if d}
    if dropped:
        notes["dropped_rows"] = f"rows with a missing target dropped: {dropped}"
    frames = [f[k] for f, k in zip(frames, keep)]
    ys = [y[k] for y, k in zip(ys, keep)]
    if len(frames[names.index("test")]) == 0:
        raise ValueError(f"the test table has no row with a non-missing target {target!r}")

    enc = encode(
        frames,
        feature_kinds,
        categorical="ordinal",
        nan="keep",
        max_categories=250,
        reference=names.index("test"),
    )
    data = {n: (x, y) for n, x, y in zip(names, enc.arrays, ys)}
    x_test, y_test = data["test"]
    metric = {"binary": "roc_auc", "multiclass": "macro_f1", "regression": "r2"}[task]

    result = MetricResult(
        details={
            "task": task,
            "metric": metric,
            "target": target,
            "classes": [str(c) for c in classes],
            "rows_test": len(y_test),
        }
    )
    for name in ("synthetic", "real"):
        if name not in data:
            result.scores[f"utility_{name}"] = np.nan
            result.notes[f"utility_{name}"] = "no real training table given"
            continue
        x_train, y_train = data[name]
        if len(y_train) == 0:
            scores = {metric: np.nan}
            model_notes = {metric: f"the {name} table has no row with a non-missing target"}
        else:
            scores, model_notes = _fit_and_score(
                name,
                x_train,
                y_train,
                x_test,
                y_test,
                task,
                len(classes),
                enc.categorical_mask,
                seed,
            )
        result.details[name] = scores
        result.scores[f"utility_{name}"] = scores.get(metric, np.nan)
        for key, text in model_notes.items():
            result.notes[f"{name}_{key}"] = text
    result.notes.update(notes)
    return result
