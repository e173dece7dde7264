"""Gradient-boosted trees: the second density-ratio stage of the candidate selection (and
the conditionals of :mod:`~tabgen.synthesizers.postprocess.conditionals`).

The row discriminator of :mod:`~tabgen.synthesizers.postprocess.selection` is an MLP over
the rows' features; axis-aligned differences (a spike of one amount inside a band of
another, a share of rows on a ridge) are what trees find first and MLPs last. So after the
MLP is trained, the model's rows *as the MLP's selection returns them* are drawn, and a
gradient-boosting classifier (scikit-learn's ``HistGradientBoostingClassifier``, early
stopping on held-out rows) learns the training rows against them. Its log-odds estimate the
density ratio the MLP's selection leaves, ``p_real / p_selected``; a candidate is then kept
with the odds of both stages (their logits added).

The fitted trees are stored as plain arrays (no pickle: :mod:`tabgen.persistence`) and
evaluated by :class:`BoostedTrees` in numpy, level by level for all trees at once; the
export is checked against scikit-learn's own scores when it is made.
"""

from __future__ import annotations

import logging

import numpy as np

from tabgen.synthesizers.postprocess.density_ratio import balanced_weights

logger = logging.getLogger("tabgen")

#: Boosting rounds at most (early stopping on a tenth of the rows ends most fits sooner) ...
MAX_ITER = 200
#: ... their learning rate, and the size of each tree (its depth bounds the cost of a score).
LEARNING_RATE = 0.2
MAX_DEPTH = 6
MAX_LEAF_NODES = 31
#: Rounds without a better held-out loss that end the boosting.
PATIENCE = 10
#: Fewest rows in a leaf (scikit-learn's default).
MIN_SAMPLES_LEAF = 20
#: Rows scored per block (n x trees node indices at a time).
BLOCK = 1_024
_LABEL = "the selection's trees"  # their name in the errors of a damaged file
_FIELDS = ("feature", "threshold", "left", "right", "value")


class BoostedTrees:
    """A binary gradient-boosted tree ensemble as arrays: the log-odds of each row.

    Nodes of every tree are numbered in one sequence; ``roots`` are the first node of each
    tree. An inner node sends a row left when ``x[feature] <= threshold``; a leaf points to
    itself on both sides (threshold ``+inf``), so a row that reached it stays there. The
    log-odds of a row are ``baseline`` plus the values of the leaves it reaches.

    Parameters
    ----------
    feature, threshold, left, right, value : numpy.ndarray
        One entry per node (``int32``, ``float64``, ``int32``, ``int32``, ``float64``).
    roots : numpy.ndarray
        Index of each tree's root node (``int32``).
    depth : int
        Depth of the deepest leaf.
    baseline : float
        Log-odds before the first tree.
    """

    def __init__(self, feature, threshold, left, right, value, roots, depth, baseline):
        self.feature = np.asarray(feature, dtype="int32")
        self.threshold = np.asarray(threshold, dtype="float64")
        self.left = np.asarray(left, dtype="int32")
        self.right = np.asarray(right, dtype="int32")
        self.value = np.asarray(value, dtype="float64")
        self.roots = np.asarray(roots, dtype="int32")
        self.depth = int(depth)
        self.baseline = float(baseline)
        # the child of node i is _children[2 * i + (x <= threshold)]: one gather a level
        self._children = np.stack([self.right, self.left], axis=1).ravel()

    @property
    def n_trees(self) -> int:
        return len(self.roots)

    def decision(self, X: np.ndarray) -> np.ndarray:
        """Log-odds (float64) of each row of ``X`` (rows x features, no NaN)."""
        X = np.asarray(X)
        out = np.full(len(X), self.baseline)
        if self.n_trees == 0:
            return out
        for a in range(0, len(X), BLOCK):
            block = np.ascontiguousarray(X[a : a + BLOCK])
            flat = block.ravel()
            start = (np.arange(len(block)) * block.shape[1])[:, None]  # of each row in flat
            node = np.broadcast_to(self.roots, (len(block), self.n_trees))
            for _ in range(self.depth):
                go_left = flat[start + self.feature[node]] <= self.threshold[node]
                node = self._children[2 * node + go_left]
            out[a : a + BLOCK] += self.value[node].sum(axis=1)
        return out

    # -- fitting ----------------------------------------------------------------------------
    @classmethod
    def fit(cls, real: np.ndarray, fake: np.ndarray, seed: int) -> BoostedTrees | None:
        """Trees scoring "real" against "fake" (featurised rows, equal total weight to each
        side); ``None`` when no tree beat none on the held-out rows, or when scikit-learn's
        trees could not be exported (logged)."""
        X = np.vstack([real, fake])
        y = np.r_[np.ones(len(real), dtype=int), np.zeros(len(fake), dtype=int)]
        return cls.fit_labels(X, y, seed, balanced_weights(y == 1))

    @classmethod
    def fit_labels(cls, X: np.ndarray, y: np.ndarray, seed: int, sample_weight=None):
        """Trees giving the log-odds of ``y == 1`` for the rows ``X`` (0/1 labels, optional
        weights): :meth:`fit` and the binary conditionals of
        :mod:`~tabgen.synthesizers.postprocess.conditionals`. ``None`` as in :meth:`fit`."""
        from sklearn.ensemble import HistGradientBoostingClassifier

        model = HistGradientBoostingClassifier(
            max_iter=MAX_ITER,
            learning_rate=LEARNING_RATE,
            max_depth=MAX_DEPTH,
            max_leaf_nodes=MAX_LEAF_NODES,
            min_samples_leaf=MIN_SAMPLES_LEAF,
            early_stopping=True,
            validation_fraction=0.1,
            n_iter_no_change=PATIENCE,
            random_state=seed,
        )
        model.fit(X, y, sample_weight=sample_weight)
        if np.argmax(model.validation_score_) == 0:  # index 0: before the first tree
            return None  # no tree did better than none on the held-out rows: noise only
        # the rounds after the best held-out loss are kept (cutting them cost Adult .016 of
        # detection for no privacy gain on shoppers: benchmarks/RESULTS.md)
        trees = cls.from_sklearn(model)
        if trees is None:
            return None
        check = X[:: max(1, len(X) // 2_000)]
        expected = model.decision_function(check)
        if not np.allclose(trees.decision(check), expected, rtol=1e-9, atol=1e-9):
            logger.warning("boosted trees: the export disagrees with scikit-learn's; not used")
            return None
        return trees

    @classmethod
    def from_sklearn(cls, model) -> BoostedTrees | None:
        """The ensemble of a fitted binary ``HistGradientBoostingClassifier`` without
        categorical features (its private tree arrays, read here only; ``None`` where a
        version of scikit-learn stores them otherwise, or where it has no tree)."""
        fields = ("value", "feature_idx", "num_threshold", "left", "right", "is_leaf", "depth")
        try:
            nodes = [predictors[0].nodes for predictors in model._predictors]
            baseline = float(np.ravel(model._baseline_prediction)[0])
            if not nodes or any(name not in n.dtype.names for n in nodes for name in fields):
                raise KeyError("no trees, or not the expected fields")
            if any(n["is_categorical"].any() for n in nodes if "is_categorical" in n.dtype.names):
                raise ValueError("categorical splits")
        except (AttributeError, IndexError, KeyError, TypeError, ValueError) as exc:
            logger.warning("boosted trees: scikit-learn's trees could not be read (%s)", exc)
            return None
        sizes = np.array([len(n) for n in nodes], dtype="int64")
        roots = np.cumsum(sizes) - sizes
        every = np.concatenate(nodes)
        offset = np.repeat(roots, sizes)
        leaf = every["is_leaf"].astype(bool)
        own = np.arange(len(every))
        return cls(
            feature=np.where(leaf, 0, every["feature_idx"]),
            threshold=np.where(leaf, np.inf, every["num_threshold"]),
            left=np.where(leaf, own, every["left"].astype("int64") + offset),
            right=np.where(leaf, own, every["right"].astype("int64") + offset),
            value=np.where(leaf, every["value"], 0.0),
            roots=roots,
            depth=int(every["depth"].max()),
            baseline=baseline,
        )

    # -- persistence ------------------------------------------------------------------------
    def get_state(self, prefix: str) -> tuple[dict, dict]:
        """``(state, arrays)`` for a model file (arrays named ``prefix + field``)."""
        arrays = {prefix + name: getattr(self, name) for name in (*_FIELDS, "roots")}
        return {"depth": self.depth, "baseline": self.baseline}, arrays

    @classmethod
    def from_state(
        cls, state: dict, arrays: dict, prefix: str, width: int, label: str = _LABEL
    ) -> BoostedTrees:
        """Inverse of :meth:`get_state`; ``width``: the features a row has. A damaged file
        is refused: arrays of another shape or kind, indices outside the stored nodes or
        features, values that are not numbers, or trees deeper than ``depth`` says."""
        from tabgen.persistence import ModelFileError

        try:
            parts = {name: np.asarray(arrays[prefix + name]) for name in (*_FIELDS, "roots")}
        except KeyError as exc:
            raise ModelFileError(f"{label} lack the array {exc}") from None
        depth, baseline = state.get("depth"), state.get("baseline")
        if type(depth) is not int or not 0 <= depth <= 64:
            raise ModelFileError(f"{label} have an unreadable depth {depth!r}")
        if not isinstance(baseline, (int, float)) or not np.isfinite(baseline):
            raise ModelFileError(f"{label} have an unreadable baseline {baseline!r}")
        n = len(parts["feature"])
        shapes_ok = all(a.ndim == 1 for a in parts.values()) and all(
            len(parts[name]) == n for name in _FIELDS
        )
        kinds_ok = all(parts[k].dtype.kind in "iu" for k in ("feature", "left", "right", "roots"))
        kinds_ok = kinds_ok and all(parts[k].dtype.kind == "f" for k in ("threshold", "value"))
        if not (shapes_ok and kinds_ok and n > 0 and len(parts["roots"]) > 0):
            raise ModelFileError(f"{label} are damaged (arrays of another shape)")
        inside = all(parts[k].min() >= 0 and parts[k].max() < n for k in ("left", "right", "roots"))
        inside = inside and parts["feature"].min() >= 0 and parts["feature"].max() < width
        finite = np.isfinite(parts["value"]).all() and not np.isnan(parts["threshold"]).any()
        if not (inside and finite):
            raise ModelFileError(f"{label} are damaged (indices out of range)")
        trees = cls(**parts, depth=depth, baseline=float(baseline))
        reached = trees.roots
        for _ in range(depth):  # every row must stand on a leaf after ``depth`` steps
            reached = np.unique(np.r_[trees.left[reached], trees.right[reached]])
        if not ((trees.left[reached] == reached) & (trees.right[reached] == reached)).all():
            raise ModelFileError(f"{label} are damaged (deeper than stored)")
        return trees
