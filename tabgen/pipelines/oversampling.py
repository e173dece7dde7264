"""Generative minority over-sampling with imbalanced-learn's ``fit_resample`` contract."""

from __future__ import annotations

import logging
from collections import Counter

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone

from tabgen._rng import check_random_state
from tabgen.pipelines._strategy import target_counts
from tabgen.schema import check_frame

logger = logging.getLogger("tabgen")

_TARGET = "__tabgen_target__"


class SyntheticOverSampler(BaseEstimator):
    """Grow minority classes with rows from a class-conditional generative model.

    One synthesizer is trained on all rows (features and class together), so minority classes
    borrow strength from the majority; each class is then sampled with the synthesizer's
    native, exact class-conditional sampling. Original rows come first, synthetic rows after
    them, as imbalanced-learn's over-samplers do; ``synthetic_mask_`` marks the new ones.

    Parameters
    ----------
    synthesizer : BaseSynthesizer, optional
        An unfitted tabgen synthesizer (cloned before use). Default:
        ``GaussianCopulaSynthesizer()``.
    sampling_strategy : float, str, dict or callable, default="auto"
        As in imbalanced-learn: a float is the desired minority/majority ratio (binary only);
        ``"minority"``, ``"not minority"``, ``"not majority"``, ``"all"``, ``"auto"`` choose
        the classes grown to the majority's size; a dict gives the desired row count per class;
        a callable maps ``y`` to such a dict. Shrinking a class is an error.
    min_class_rows : int, default=2
        Classes to grow must have at least this many rows.
    random_state : None, int or numpy.random.Generator

    Attributes
    ----------
    synthesizer_ : BaseSynthesizer
        The fitted synthesizer.
    sampling_strategy_ : dict
        Rows generated per class.
    synthetic_mask_ : ndarray of bool
        For the last ``fit_resample`` output, which rows are synthetic.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"x": rng.normal(size=120), "g": rng.choice(["a", "b"], 120)})
    >>> y = np.where(X["x"] > 1.0, "rare", "common")
    >>> X_res, y_res = SyntheticOverSampler(random_state=0).fit_resample(X, y)
    >>> pd.Series(y_res).value_counts().to_dict() == {"common": int((y == "common").sum()),
    ...                                               "rare": int((y == "common").sum())}
    True
    """

    def __init__(
        self,
        *,
        synthesizer=None,
        sampling_strategy="auto",
        min_class_rows: int = 2,
        random_state=None,
    ):
        self.synthesizer = synthesizer
        self.sampling_strategy = sampling_strategy
        self.min_class_rows = min_class_rows
        self.random_state = random_state

    def fit(self, X, y):
        """Check inputs and fit the synthesizer; returns ``self`` (imbalanced-learn API)."""
        self.fit_resample(X, y)
        return self

    def fit_resample(self, X, y):
        """Return ``(X_resampled, y_resampled)``: the input rows, then synthetic rows.

        Parameters
        ----------
        X : pandas.DataFrame or numpy.ndarray
            Features of any kind; missing cells allowed.
        y : pandas.Series or array-like
            Class labels, no missing values.

        Returns
        -------
        X_resampled, y_resampled
            Same types as the inputs (DataFrame/Series or arrays).
        """
        frame, is_array = self._check_X(X)
        labels, y_name = self._check_y(y, len(frame))
        rng = check_random_state(self.random_state)
        self.sampling_strategy_ = target_counts(self.sampling_strategy, labels)
        counts = Counter(labels.tolist())
        small = {c: counts[c] for c in self.sampling_strategy_ if counts[c] < self.min_class_rows}
        if small:
            raise ValueError(
                f"class(es) {small!r} have fewer than min_class_rows={self.min_class_rows} rows; "
                "a generative model cannot learn a class from so few examples"
            )
        target = _TARGET if _TARGET not in frame.columns else _TARGET + "_"
        joint = frame.assign(**{target: labels})
        self.synthesizer_ = self._make_synthesizer(target, rng).fit(joint)
        parts_X, parts_y = [frame], [labels]
        for cls, n in self.sampling_strategy_.items():
            logger.info("generating %d rows of class %r", n, cls)
            rows = self.synthesizer_.sample(n, conditions={target: cls}, random_state=rng)
            parts_X.append(rows.drop(columns=[target]))
            parts_y.append(pd.Series([cls] * n, dtype=labels.dtype))
        X_res = pd.concat(parts_X, ignore_index=True)
        y_res = pd.concat(parts_y, ignore_index=True)
        self.synthetic_mask_ = np.r_[
            np.zeros(len(frame), dtype=bool), np.ones(len(X_res) - len(frame), dtype=bool)
        ]
        self.n_features_in_ = frame.shape[1]
        if is_array:
            return X_res.to_numpy(dtype=np.asarray(X).dtype), y_res.to_numpy()
        y_res.name = y_name
        return X_res, y_res

    # -- helpers ----------------------------------------------------------------------------
    def _make_synthesizer(self, target, rng):
        from tabgen.synthesizers.copula import GaussianCopulaSynthesizer

        base = self.synthesizer if self.synthesizer is not None else GaussianCopulaSynthesizer()
        if not hasattr(base, "sample") or not hasattr(base, "fit"):
            raise TypeError(f"synthesizer must be a tabgen synthesizer, got {type(base).__name__}")
        model = clone(base)
        schema = dict(model.get_params().get("schema") or {})
        schema[target] = "categorical"
        seed = int(rng.integers(0, 2**31 - 1))
        return model.set_params(schema=schema, random_state=seed)

    @staticmethod
    def _check_X(X):
        is_array = isinstance(X, np.ndarray)
        frame = check_frame(X)
        return frame.reset_index(drop=True), is_array

    @staticmethod
    def _check_y(y, n):
        name = getattr(y, "name", None)
        labels = pd.Series(np.asarray(y) if not isinstance(y, pd.Series) else y.to_numpy())
        if labels.ndim != 1 or len(labels) != n:
            raise ValueError(f"y has {len(labels)} labels but X has {n} rows")
        if labels.isna().any():
            first = int(np.flatnonzero(labels.isna().to_numpy())[0])
            raise ValueError(f"y has missing labels (first at position {first}); drop or fill them")
        return labels, name
