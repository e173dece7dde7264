"""Chained conditional-mean imputation: the default engine of :class:`SyntheticImputer`.

One predictor per column, fitted on the rows where that column is observed, from the *observed*
cells of the other columns and their missingness flags: gradient-boosted trees take missing
features as they are (they learn where a missing value goes), a linear model (ridge / logistic
regression) sees them at the mean plus the flags. In this first pass nothing imputed is a
feature, so a cell's prediction estimates its conditional mean given what its row shows, and
held-out cells measure its error honestly. For each column the fit compares the two models
on a held-out part of the observed cells and keeps the blend (or the mean / mode) that
predicts them best, so each table picks its own model. The first pass is then refined by
MICE-style rounds (``_rounds``): each incomplete column refitted on the completed table, with
randomised trees as a third candidate, kept only where held-out observed cells say it helps.
Multiple imputation draws the missing cells of a row one column after the other (first-pass
models), each given the row's observed cells and the cells drawn before it (a sequential
factorisation of their joint conditional), with the held-out residuals as noise.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from tabgen._progress import each
from tabgen.pipelines import _rounds

#: Levels one-hot encoded for the linear model (most frequent first); the rest share a column.
MAX_ONEHOT = 32
#: Trees treat a category as categorical up to this many levels (their binning limit).
MAX_TREE_LEVELS = 250
#: Share of a column's observed rows held out to compare the models.
HOLDOUT = 0.2
#: Observed rows needed to hold some out (fewer: a linear model, no comparison).
MIN_SPLIT = 40
#: Blend weights (on the trees) tried for categories.
CAT_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)


class ChainedModel:
    """Fit and apply the per-column predictors (internal; see :class:`SyntheticImputer`).

    Parameters
    ----------
    kinds : dict
        ``{column: "num" | "cat"}`` for the columns to model, in table order.
    seed : int
        Seeds the held-out split and the trees.
    max_rounds : int
        Refinement rounds after the first pass, at most (``tabgen.pipelines._rounds``;
        0: the first pass only).
    arms : tuple of str
        Candidate models of the rounds (``"linear"``, ``"boost"``, ``"forest"``).
    """

    max_onehot = MAX_ONEHOT
    max_tree_levels = MAX_TREE_LEVELS

    def __init__(self, kinds: dict, seed: int, max_rounds: int = _rounds.MAX_ROUNDS, arms=None):
        self.kinds = dict(kinds)
        self.names = list(kinds)
        self.seed = seed
        self.max_rounds = max_rounds
        self.arms = tuple(_rounds.ARMS if arms is None else arms)

    def is_num(self, j: int) -> bool:
        return self.kinds[self.names[j]] == "num"

    def n_levels(self, j: int) -> int:
        return 0 if self.is_num(j) else len(self.levels[self.names[j]])

    # -- encoding -----------------------------------------------------------------------------
    def _setup(self, frame: pd.DataFrame) -> None:
        self.center, self.scale, self.lo, self.hi, self.whole = {}, {}, {}, {}, {}
        self.levels = {}
        for c in self.names:
            s = frame[c]
            if self.kinds[c] == "num":
                v = pd.to_numeric(s, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
                v = v[~np.isnan(v)]
                self.center[c] = float(v.mean()) if len(v) else 0.0
                sd = float(v.std()) if len(v) > 1 else 0.0
                self.scale[c] = sd if sd > 0 else 1.0
                self.lo[c] = float(v.min()) if len(v) else 0.0
                self.hi[c] = float(v.max()) if len(v) else 0.0
                self.whole[c] = bool(len(v)) and bool(np.all(v == np.round(v)))
            else:
                counts = s.astype(object).value_counts(dropna=True)
                self.levels[c] = pd.Index(counts.index[counts.to_numpy() > 0], dtype=object)

    def encode(self, frame: pd.DataFrame) -> tuple[np.ndarray, dict]:
        """``(Z, unseen)``: numbers standardised, categories as codes (most frequent = 0),
        NaN where missing; ``unseen`` maps a column to its cells holding unseen levels."""
        Z = np.full((len(frame), len(self.names)), np.nan)
        unseen = {}
        for j, c in enumerate(self.names):
            s = frame[c]
            if self.kinds[c] == "num":
                v = pd.to_numeric(s, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
                v = np.clip(v, self.lo[c], self.hi[c])  # conditioning only
                Z[:, j] = (v - self.center[c]) / self.scale[c]
            else:
                values = s.astype(object)
                codes = self.levels[c].get_indexer(values.where(values.notna(), None))
                bad = (codes < 0) & values.notna().to_numpy()
                if bad.any():
                    unseen[c] = bad
                Z[:, j] = np.where(codes >= 0, codes, np.nan)
        return Z, unseen

    # -- features -----------------------------------------------------------------------------
    def _features(self, Z: np.ndarray, j: int):
        """``(linear, trees, categorical mask of trees)`` features of target ``j`` from the
        encoded cells ``Z`` (NaN = not observed)."""
        absent = np.isnan(Z)
        filled = np.where(absent, 0.0, Z)
        lin, tree, treecat = [], [], []
        n = len(Z)
        for k, c in enumerate(self.names):
            if k == j:
                continue
            if self.kinds[c] == "num":
                lin.append(filled[:, k : k + 1])
                tree.append(Z[:, k : k + 1])
                treecat.append(False)
                continue
            n_levels = len(self.levels[c])
            if n_levels < 2:
                continue
            width = min(n_levels, MAX_ONEHOT)
            codes = np.minimum(filled[:, k].astype(int), width - 1)
            onehot = np.zeros((n, width))
            onehot[np.arange(n), codes] = 1.0
            onehot[absent[:, k]] = 0.0
            lin.append(onehot[:, 1:])  # the most frequent level is the reference
            tree.append(Z[:, k : k + 1])
            treecat.append(n_levels <= MAX_TREE_LEVELS)
        flags = [k for k in self.flagged if k != j]
        if flags:
            lin.append(absent[:, flags].astype(float))
        lin = np.hstack(lin) if lin else np.zeros((n, 0))
        tree = np.hstack(tree) if tree else np.zeros((n, 0))
        return lin, tree, np.asarray(treecat, dtype=bool)

    # -- fit ----------------------------------------------------------------------------------
    def fit(self, frame: pd.DataFrame) -> ChainedModel:
        self._setup(frame)
        Z, _ = self.encode(frame)
        miss = np.isnan(Z)
        self.flagged = [k for k in range(len(self.names)) if miss[:, k].any()]
        self.order = sorted(range(len(self.names)), key=lambda k: (miss[:, k].mean(), k))
        rng = np.random.default_rng(self.seed)
        self._held = {}  # column -> rows of its held-out observed cells
        # complete columns get a cheap linear model, for new rows that miss them
        self.models = {j: self._fit_column(Z, j, not miss[:, j].any(), rng) for j in self.order}
        held = self._held
        del self._held
        self.rounds = _rounds.fit_rounds(
            self, Z, held, self.max_rounds, self.arms, self.seed + 104729
        )
        return self

    def _fit_column(self, Z, j, cheap, rng) -> dict:
        """One column's predictor: the blend of the linear model and the trees (or the mean /
        mode) that predicts held-out observed cells best, refitted on every observed row."""
        c = self.names[j]
        obs = np.flatnonzero(~np.isnan(Z[:, j]))
        y = Z[obs, j]
        num = self.kinds[c] == "num"
        k = 0 if num else len(self.levels[c])
        base = {
            "num": num,
            "k": k,
            "prior": _prior(y, num, k),
            "resid": _marginal_residuals(y, num),
            "w": 0.0,
            "use_prior": False,
            "const": True,
        }
        if len(obs) == 0 or (not num and len(np.unique(y)) < 2):
            return base
        lin_x, tree_x, treecat = self._features(Z[obs], j)
        if lin_x.shape[1] == 0:
            return base
        base["const"] = False
        if cheap or len(obs) < MIN_SPLIT:
            return {**base, **self._fit_pair(lin_x, tree_x, treecat, y, num, 0.0)}
        perm = rng.permutation(len(obs))
        n_hold = max(int(HOLDOUT * len(obs)), 10)
        hold, train = perm[:n_hold], perm[n_hold:]
        self._held[j] = obs[hold]
        seed = self.seed + j
        part = self._fit_pair(lin_x[train], tree_x[train], treecat, y[train], num, None, seed)
        p_lin = self._predict_one(part.get("lin"), lin_x[hold], num, k)
        p_tree = self._predict_one(part.get("tree"), tree_x[hold], num, k)
        if p_lin is None and p_tree is None:  # one level only in the training part
            return {**base, "use_prior": True}
        w, use_prior = _choose(p_lin, p_tree, y[hold], y[train], num, k)
        if use_prior:
            return {**base, "w": w, "use_prior": True}
        resid = y[hold] - _blend(p_lin, p_tree, w) if num else None
        if num:
            base["resid_weights"] = self._shift_weights(Z, j, obs[hold])
        # the models that were measured are the ones kept (no refit on the held-out rows:
        # half the cost, and the residuals stay those of the models that predict)
        kept = {key: part.get(key) for key in ("lin", "tree")}
        if w == 1.0:
            kept["lin"] = None
        if w == 0.0:
            kept["tree"] = None
        return {**base, **kept, "w": w, "resid": resid}

    def _shift_weights(self, Z, j, rows) -> np.ndarray | None:
        """Weights of the held-out residuals (``rows``) that make them look like the cells
        to fill: the odds that column ``j`` is missing given the rest of the row (weighted
        conformal prediction under covariate shift); None when missingness looks uniform."""
        from sklearn.linear_model import LogisticRegression

        target = np.isnan(Z[:, j])
        X, _, _ = self._features(Z, j)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = LogisticRegression(C=1.0, max_iter=200).fit(X, target)
        p = model.predict_proba(X[rows])[:, 1]
        odds = np.clip(p / np.clip(1 - p, 1e-6, None), 1e-3, None)
        odds = np.minimum(odds, 20 * np.median(odds))  # a few rows must not take over
        return odds / odds.sum()

    def _fit_pair(self, lin_x, tree_x, treecat, y, num, w, seed=0) -> dict:
        """The linear model (unless ``w == 1``) and the trees (unless ``w == 0``)."""
        out = {}
        if not num and len(np.unique(y)) < 2:
            return out  # a single level observed here: the prior says it
        if w is None or w < 1:
            out["lin"] = _fit_linear(lin_x, y, num)
        if (w is None or w > 0) and tree_x.shape[1] and len(y) >= MIN_SPLIT:
            out["tree"] = _fit_trees(tree_x, treecat, y, num, seed)
        return out

    def _predict_one(self, model, X, num, k):
        if model is None:
            return None
        if num:
            return model.predict(X)
        proba = np.zeros((len(X), k))
        proba[:, model.classes_.astype(int)] = model.predict_proba(X)
        return proba

    def predict(self, model: dict, Z, j) -> np.ndarray:
        """Conditional mean (numbers, standardised) or class probabilities (categories) of
        column ``j`` for the rows ``Z``."""
        n = len(Z)
        fitted = model.get("lin") is not None or model.get("tree") is not None
        if model["const"] or model["use_prior"] or not fitted:
            prior = model["prior"]
            return np.full(n, prior) if model["num"] else np.tile(prior, (n, 1))
        lin_x, tree_x, _ = self._features(Z, j)
        p_lin = self._predict_one(model.get("lin"), lin_x, model["num"], model["k"])
        p_tree = self._predict_one(model.get("tree"), tree_x, model["num"], model["k"])
        return _blend(p_lin, p_tree, model["w"])

    # -- apply --------------------------------------------------------------------------------
    def fill(self, Z: np.ndarray) -> np.ndarray:
        """Point estimate of every NaN of ``Z``: the first pass, refined by the kept rounds."""
        F = self.fill_first(Z)
        rounds = getattr(self, "rounds", [])  # model files saved before the rounds existed
        return _rounds.apply_rounds(self, rounds, Z, F) if rounds else F

    def fill_first(self, Z: np.ndarray) -> np.ndarray:
        """First-pass estimate of every NaN of ``Z``, from each row's observed cells only."""
        F = Z.copy()
        for j in each(self.order):  # advances the imputer's bar, if shown
            rows = np.isnan(Z[:, j])
            if rows.any():
                pred = self.predict(self.models[j], Z[rows], j)
                F[rows, j] = pred if self.models[j]["num"] else pred.argmax(axis=1)
        return F

    def draw(self, Z: np.ndarray, m: int, rng) -> np.ndarray:
        """``m`` stacked completions (``m * len(Z)`` rows). Column after column, each missing
        cell is drawn given its row's observed cells and the cells drawn before it: numbers
        as prediction plus a held-out residual, categories from the predicted
        probabilities."""
        F = np.tile(Z, (m, 1))
        for j in each(self.order):  # advances the imputer's bar, if shown
            rows = np.isnan(F[:, j])
            if not rows.any():
                continue
            model = self.models[j]
            pred = self.predict(model, F[rows], j)
            if model["num"]:
                resid, weights = model["resid"], model.get("resid_weights")
                pick = rng.choice(len(resid), size=len(pred), p=weights)
                F[rows, j] = pred + resid[pick]
            else:
                cum = np.cumsum(pred, axis=1)
                u = rng.random(len(pred))[:, None] * cum[:, -1:]
                F[rows, j] = np.minimum((u > cum).sum(axis=1), pred.shape[1] - 1)
        return F

    def decode(self, c: str, values: np.ndarray, draws: bool = False) -> np.ndarray:
        """Model units back to the column's values (numbers clipped to the observed range,
        whole-valued columns rounded in draws; categories as their level)."""
        if self.kinds[c] == "num":
            out = np.clip(values * self.scale[c] + self.center[c], self.lo[c], self.hi[c])
            return np.round(out) if draws and self.whole[c] else out
        return np.asarray(self.levels[c], dtype=object)[values.astype(int)]


def _blend(p_lin, p_tree, w):
    if p_tree is None:
        return p_lin
    if p_lin is None:
        return p_tree
    return w * p_tree + (1.0 - w) * p_lin


def _prior(y, num, k):
    if num:
        return float(y.mean()) if len(y) else 0.0
    counts = np.bincount(y.astype(int), minlength=k).astype(float) if len(y) else np.ones(k)
    return counts / counts.sum() if counts.sum() else np.full(k, 1.0 / max(k, 1))


def _marginal_residuals(y, num):
    return (y - y.mean()) if num and len(y) else (np.zeros(1) if num else None)


def _choose(p_lin, p_tree, y_hold, y_train, num, k):
    """Blend weight on the trees and whether the mean / mode beats every blend, on the
    held-out cells."""
    if num:
        if p_tree is None or p_lin is None:
            w = 0.0 if p_tree is None else 1.0
        else:
            d = p_tree - p_lin
            denom = float(d @ d)
            w = float(np.clip((y_hold - p_lin) @ d / denom, 0.0, 1.0)) if denom > 0 else 0.0
        err = np.mean((y_hold - _blend(p_lin, p_tree, w)) ** 2)
        return w, bool(np.mean((y_hold - y_train.mean()) ** 2) < err)
    truth = y_hold.astype(int)
    weights = (
        CAT_WEIGHTS
        if (p_tree is not None and p_lin is not None)
        else ((1.0,) if p_tree is not None else (0.0,))
    )
    best = None
    for w in weights:
        proba = _blend(p_lin, p_tree, w)
        acc = float(np.mean(proba.argmax(axis=1) == truth))
        loss = -float(np.mean(np.log(np.clip(proba[np.arange(len(truth)), truth], 1e-12, 1))))
        if best is None or (acc, -loss) > (best[1], -best[2]):
            best = (w, acc, loss)
    mode = np.bincount(y_train.astype(int), minlength=k).argmax()
    return best[0], bool(np.mean(truth == mode) > best[1])


def _fit_linear(X, y, num):
    from sklearn.linear_model import LogisticRegression, Ridge

    if num:
        return Ridge(alpha=1.0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence on separable or tiny data
        return LogisticRegression(C=1.0, max_iter=300).fit(X, y.astype(int))


def _fit_trees(X, categorical, y, num, seed):
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    params = dict(
        max_iter=200,
        learning_rate=0.1,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=10,
        categorical_features=categorical if categorical.any() else None,
        random_state=seed,
    )
    if num:
        return HistGradientBoostingRegressor(**params).fit(X, y)
    params["max_iter"] = 100  # one tree per class and iteration
    y = y.astype(int)
    try:
        return HistGradientBoostingClassifier(**params).fit(X, y)
    except ValueError:  # a level too rare for the stratified early-stopping split
        params.update(early_stopping=False, max_iter=100)
        return HistGradientBoostingClassifier(**params).fit(X, y)
