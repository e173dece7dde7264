"""Refinement rounds of the chained imputer (MICE-style), chosen on held-out observed cells.

The first pass of :class:`~tabgen.pipelines._chained.ChainedModel` predicts each column from
the *observed* cells of its row only. A round refits every incomplete column on the current
completed table instead (the other columns' latest imputations plus their missingness flags),
as scikit-learn's ``IterativeImputer`` and MissForest do, so that a column can lean on a
strongly related one even in the rows where that one is missing. Each round a column may use
a linear model, boosted trees, randomised trees (ExtraTrees) or a convex blend of them,
whichever predicts its held-out cells best.

Honest held-out cells: the cells each column held out in the first pass stay hidden during
the whole fit (they are imputed like missing cells and scored, never used as a target or a
feature), so no imputation that a later model sees was computed from them. A column keeps a
round only when it lowers its held-out error (RMSE of numbers, error rate of categories), and
the rounds end when no column improves or after ``max_rounds`` (early stopping on held-out
cells). The chosen arms of every kept round are then refitted on all observed cells,
replaying the rounds in order, and :func:`apply_rounds` replays them on any rows.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np

from tabgen._progress import each

#: Rounds after the first pass, at most (early stopping usually ends sooner).
MAX_ROUNDS = 4
#: The per-column candidate models of a round.
ARMS = ("linear", "boost", "forest")
#: Randomised trees of the ``forest`` arm.
FOREST_TREES = 40
FOREST_LEAF = 5
#: A column that does not improve sits out later rounds (else it is tried again next round).
FREEZE = False
#: Training rows of a round's models, at most (a seeded sample of the observed ones).
MAX_TRAIN = 3000
#: Relative improvement of a column's held-out error that a round must bring.
TOL = 1e-3
#: Refit the chosen models on every observed cell once the rounds are chosen.
REFIT = True
#: Keep one final model per column (fitted once on every observed cell, swept as many
#: times as rounds were kept) instead of every round's models.
FINAL = False
#: Blend weight grids (simplex steps) for numbers and categories.
NUM_STEP, CAT_STEP = 0.1, 0.25


def features(chain, F: np.ndarray, miss: np.ndarray, j: int):
    """``(dense, trees, categorical mask of trees)`` features of column ``j`` from a completed
    table ``F`` (model units, categories as codes) and its missingness ``miss``: numbers as
    they are, categories one-hot (dense) or as codes (trees), plus missingness flags."""
    n = len(F)
    dense, tree, treecat = [], [], []
    for k, c in enumerate(chain.names):
        if k == j:
            continue
        if chain.kinds[c] == "num":
            dense.append(F[:, k : k + 1])
            tree.append(F[:, k : k + 1])
            treecat.append(False)
            continue
        n_levels = len(chain.levels[c])
        if n_levels < 2:
            continue
        width = min(n_levels, chain.max_onehot)
        codes = np.clip(F[:, k].astype(int), 0, width - 1)
        onehot = np.zeros((n, width))
        onehot[np.arange(n), codes] = 1.0
        dense.append(onehot[:, 1:])
        tree.append(F[:, k : k + 1])
        treecat.append(n_levels <= chain.max_tree_levels)
    flags = [k for k in chain.flagged if k != j]
    if flags:
        flag_x = miss[:, flags].astype(float)
        dense.append(flag_x)
        tree.append(flag_x)
        treecat += [False] * len(flags)
    dense = np.hstack(dense) if dense else np.zeros((n, 0))
    tree = np.hstack(tree) if tree else np.zeros((n, 0))
    return dense, tree, np.asarray(treecat, dtype=bool)


def fit_rounds(chain, Z: np.ndarray, held: dict, max_rounds: int, arms, seed: int) -> list:
    """The kept rounds: a list of ``{column index: model}`` (see the module docstring).

    ``held`` maps a column index to the rows of its held-out observed cells."""
    if max_rounds < 1 or not held:
        return []
    Zh = Z.copy()
    for j, rows in held.items():
        Zh[rows, j] = np.nan
    miss = np.isnan(Zh)
    F = chain.fill_first(Zh)
    loss = {j: _error(F[rows, j], Z[rows, j], chain.is_num(j)) for j, rows in held.items()}
    active = [j for j in chain.order if j in held]
    rounds = []
    for r in range(max_rounds):
        kept = {}
        for j in list(active):
            num, k = chain.is_num(j), chain.n_levels(j)
            target = miss[:, j]
            train, hold = _cap(np.flatnonzero(~target), seed + 7919 * r + j), held[j]
            if not num and len(np.unique(Zh[train, j])) < 2:
                active.remove(j)
                continue
            dense, tree, treecat = features(chain, F, miss, j)
            model = {"num": num, "k": k}
            preds = {}
            for arm in arms:
                fitted = _fit_arm(
                    arm, dense[train], tree[train], treecat, Zh[train, j], num, seed + 7919 * r + j
                )
                if fitted is not None:
                    model[arm] = fitted
                    preds[arm] = _predict(fitted, arm, dense[hold], tree[hold], num, k)
            weights, err = _choose(preds, Z[hold, j], num)
            if not err < loss[j] * (1 - TOL):
                if FREEZE:
                    active.remove(j)  # no better than its previous round: frozen
                continue
            model.update(weights=weights, error=err, previous=loss[j])
            for arm in set(arms) - set(weights):
                model.pop(arm, None)
            kept[j] = model
            loss[j] = err
            F[target, j] = _point(predict(model, dense[target], tree[target]), num)
            if FINAL:  # only the weights are needed: the final models are fitted below
                for arm in weights:
                    model.pop(arm)
        if not kept:
            break
        rounds.append(kept)
    if FINAL and rounds:
        final = _fit_final(chain, rounds, Z, F, held, seed)
        return [final] * len(rounds)
    if REFIT and rounds:
        _refit(chain, rounds, Z, seed)
    return rounds


def _fit_final(chain, rounds, Z, F, held, seed) -> dict:
    """One model per refined column, fitted on all its observed cells with the chain's last
    completion as features (the held-out cells back to their observed values), blending
    the arms of its last kept round; :func:`apply_rounds` sweeps them as many times as
    rounds were kept."""
    last = {}
    for kept in rounds:
        last.update(kept)
    F = F.copy()
    for j, rows in held.items():
        F[rows, j] = Z[rows, j]
    miss = np.isnan(Z)
    final = {}
    for j in chain.order:
        if j not in last:
            continue
        model = dict(last[j])
        train = _cap(np.flatnonzero(~miss[:, j]), seed + j)
        dense, tree, treecat = features(chain, F, miss, j)
        for arm in model["weights"]:
            model[arm] = _fit_arm(
                arm, dense[train], tree[train], treecat, Z[train, j], model["num"], seed + j
            )
        final[j] = model
    return final


def _refit(chain, rounds: list, Z: np.ndarray, seed: int) -> None:
    """Refit the chosen arms of every kept round on all observed cells (held-out ones
    included), replaying the rounds in order; the blend weights stay as chosen."""
    miss = np.isnan(Z)
    F = chain.fill_first(Z)
    for r, kept in enumerate(rounds):
        for j in chain.order:
            if j not in kept:
                continue
            model, target = kept[j], miss[:, j]
            train = ~target
            dense, tree, treecat = features(chain, F, miss, j)
            for arm in model["weights"]:
                model[arm] = _fit_arm(
                    arm,
                    dense[train],
                    tree[train],
                    treecat,
                    Z[train, j],
                    model["num"],
                    seed + 7919 * r + j,
                )
            if target.any():
                F[target, j] = _point(predict(model, dense[target], tree[target]), model["num"])


def _cap(rows: np.ndarray, seed: int) -> np.ndarray:
    """At most ``MAX_TRAIN`` of ``rows`` (a seeded sample, in order): bounds a round's cost."""
    if len(rows) <= MAX_TRAIN:
        return rows
    return np.sort(np.random.default_rng(seed).choice(rows, MAX_TRAIN, replace=False))


def apply_rounds(chain, rounds: list, Z: np.ndarray, F: np.ndarray) -> np.ndarray:
    """Replay the kept rounds on the rows ``Z`` (NaN = missing), starting from the first
    pass's completion ``F``; returns the refined completion."""
    miss = np.isnan(Z)
    F = F.copy()
    for kept in rounds:
        for j in each(chain.order):  # advances the imputer's bar, if shown
            rows = miss[:, j]
            if j not in kept or not rows.any():
                continue
            dense, tree, _ = features(chain, F[rows], miss[rows], j)
            F[rows, j] = _point(predict(kept[j], dense, tree), kept[j]["num"])
    return F


def predict(model: dict, dense: np.ndarray, tree: np.ndarray) -> np.ndarray:
    """Blended prediction (numbers) or class probabilities (categories) of one kept model."""
    out = 0.0
    for arm, w in model["weights"].items():
        out = out + w * _predict(model[arm], arm, dense, tree, model["num"], model["k"])
    return out


def _point(pred, num):
    return pred if num else pred.argmax(axis=1).astype(float)


def _error(pred, truth, num) -> float:
    """Held-out error of point predictions: RMSE (numbers) or error rate (categories)."""
    if num:
        return float(np.sqrt(np.mean((pred - truth) ** 2)))
    return float(np.mean(pred != truth))


def _choose(preds: dict, truth, num) -> tuple[dict, float]:
    """The convex blend of the arms' held-out predictions with the lowest error (categories:
    error rate, then log-loss) and that error."""
    names = list(preds)
    if not names:
        return {}, np.inf
    step = NUM_STEP if num else CAT_STEP
    ticks = round(1 / step)
    best = None
    for combo in itertools.product(range(ticks + 1), repeat=len(names)):
        if sum(combo) != ticks:
            continue
        w = {a: c / ticks for a, c in zip(names, combo) if c}
        blend = sum(wi * preds[a] for a, wi in w.items())
        if num:
            key = (_error(blend, truth, True), 0.0)
        else:
            p = np.clip(blend[np.arange(len(truth)), truth.astype(int)], 1e-12, 1)
            key = (_error(blend.argmax(axis=1), truth, False), -float(np.mean(np.log(p))))
        if best is None or key < best[1]:
            best = (w, key)
    return best[0], best[1][0]


def _fit_arm(arm, dense, tree, treecat, y, num, seed):
    from sklearn.ensemble import (
        ExtraTreesClassifier,
        ExtraTreesRegressor,
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
    )
    from sklearn.linear_model import LogisticRegression, Ridge

    X = tree if arm == "boost" else dense
    if X.shape[1] == 0:
        return None
    y = y if num else y.astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence on separable or tiny data
        if arm == "linear":
            return (
                Ridge(alpha=1.0).fit(X, y)
                if num
                else LogisticRegression(C=1.0, max_iter=300).fit(X, y)
            )
        if arm == "forest":
            cls = ExtraTreesRegressor if num else ExtraTreesClassifier
            return cls(
                n_estimators=FOREST_TREES, min_samples_leaf=FOREST_LEAF, n_jobs=1, random_state=seed
            ).fit(X, y)
        params = dict(
            max_iter=200 if num else 100,
            early_stopping=True,
            validation_fraction=0.1,
            n_iter_no_change=10,
            categorical_features=treecat if treecat.any() else None,
            random_state=seed,
        )
        if num:
            return HistGradientBoostingRegressor(**params).fit(X, y)
        try:
            return HistGradientBoostingClassifier(**params).fit(X, y)
        except ValueError:  # a level too rare for the stratified early-stopping split
            params.update(early_stopping=False)
            return HistGradientBoostingClassifier(**params).fit(X, y)


def _predict(model, arm, dense, tree, num, k):
    X = tree if arm == "boost" else dense
    if num:
        return model.predict(X)
    proba = np.zeros((len(X), k))
    proba[:, model.classes_.astype(int)] = model.predict_proba(X)
    return proba
