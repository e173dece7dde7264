"""Generative imputation: every missing cell drawn from the model given its row's observed cells."""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.utils.validation import check_is_fitted

from tabgen._progress import pass_verbose
from tabgen._rng import check_random_state
from tabgen._tags import table_input_tags
from tabgen.schema import ARROW_ATTR, check_frame, check_n_features, is_table, restore_arrow

logger = logging.getLogger("tabgen")


class SyntheticImputer(TransformerMixin, BaseEstimator):
    """Fill missing cells of any column kind with a conditional generative model.

    The synthesizer is fitted on the incomplete table itself (it models where values are
    missing as well as the values). ``transform`` conditions the model on the observed cells
    of each row and draws the missing ones: ``n_draws`` completions are averaged (numbers;
    integers are rounded) or voted (categories, booleans; ties go to the first draw) into one
    point estimate. :meth:`transform_multiple` returns ``m`` independent completions for
    multiple imputation (Rubin's rules).

    Parameters
    ----------
    synthesizer : BaseSynthesizer, optional
        Unfitted tabgen synthesizer that supports inpainting (conditions on any set of
        observed cells, natively): the copula, diffusion and VAE models. Cloned. Default:
        ``GaussianCopulaSynthesizer()``, which fits in seconds. For the lowest error use
        ``DiffusionSynthesizer(cond_fraction=1.0)`` (every training row then teaches the
        conditionals that imputation asks for) with ``n_draws`` of 30 or more; it takes
        minutes on a few thousand rows. The imputation benchmark compares it with the
        copula and MissForest-style imputation (``benchmarks/RESULTS.md``,
        ``impute_6ds_flags_d100``).
    n_draws : int, default=10
        Completions combined into the point estimate of :meth:`transform`. The mean of the
        draws estimates each cell's conditional mean, so more draws lower its Monte Carlo
        error (the RMSE); the cost of :meth:`transform` grows in proportion.
    add_indicator : bool, default=False
        Append ``missingindicator_<col>`` boolean columns for the columns that had missing
        cells at fit time.
    random_state : None, int or numpy.random.Generator
    verbose : bool, default=False
        Show progress bars on stderr (the synthesizer's training); ``False`` prints
        nothing of its own and leaves the synthesizer's ``verbose`` as set.

    Attributes
    ----------
    synthesizer_ : BaseSynthesizer
        The fitted model.
    feature_names_in_ : ndarray of str
        Columns seen in ``fit``.
    indicator_columns_ : list
        Columns that had missing cells in ``fit``.

    Notes
    -----
    A column entirely missing at fit time cannot be learned: it is kept as it is (still
    missing) and a warning says so. Observed numbers outside the training range are clipped
    to it *for conditioning only* (the cell itself is returned unchanged); a category unseen
    in ``fit`` does not condition its row (with a warning).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=300)
    >>> df = pd.DataFrame({"x": x, "y": 2 * x + rng.normal(scale=0.1, size=300)})
    >>> df.loc[:29, "y"] = np.nan
    >>> filled = SyntheticImputer(random_state=0).fit_transform(df)
    >>> bool(filled["y"].notna().all())
    True
    """

    def __init__(
        self,
        *,
        synthesizer=None,
        n_draws: int = 10,
        add_indicator: bool = False,
        random_state=None,
        verbose: bool = False,
    ):
        self.synthesizer = synthesizer
        self.n_draws = n_draws
        self.add_indicator = add_indicator
        self.random_state = random_state
        self.verbose = verbose

    # -- fit --------------------------------------------------------------------------------
    def fit(self, X, y=None):
        """Fit the synthesizer on ``X`` (which may have missing cells)."""
        if not isinstance(self.n_draws, (int, np.integer)) or self.n_draws < 1:
            raise ValueError(f"n_draws must be a positive integer, got {self.n_draws!r}")
        frame = self._as_frame(X, fitting=True)
        rng = check_random_state(self.random_state)
        empty = [c for c in frame.columns if frame[c].isna().all()]
        if empty:
            warnings.warn(
                f"column(s) {empty!r} are entirely missing: nothing to learn, they stay missing",
                UserWarning,
                stacklevel=2,
            )
        from tabgen.synthesizers.copula import GaussianCopulaSynthesizer

        base = self.synthesizer if self.synthesizer is not None else GaussianCopulaSynthesizer()
        if not base.capabilities.inpainting:
            raise ValueError(
                f"{type(base).__name__} cannot condition a row on any set of observed cells "
                "without rejection, which imputation needs; use a synthesizer that can "
                "(e.g. GaussianCopulaSynthesizer or DiffusionSynthesizer)"
            )
        self.synthesizer_ = clone(base).set_params(random_state=int(rng.integers(0, 2**31 - 1)))
        pass_verbose(self.synthesizer_, self.verbose)
        self.synthesizer_.fit(frame)
        self.feature_names_in_ = np.asarray([str(c) for c in frame.columns], dtype=object)
        self.columns_ = list(frame.columns)
        self.n_features_in_ = len(self.columns_)
        self.indicator_columns_ = [c for c in frame.columns if frame[c].isna().any()]
        self._sampling_rng = np.random.default_rng(int(rng.integers(0, 2**31 - 1)))
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        table_input_tags(tags.input_tags)
        return tags

    # -- transform --------------------------------------------------------------------------
    def transform(self, X):
        """Return ``X`` with every missing cell filled (point estimate over ``n_draws``)."""
        check_is_fitted(self, "synthesizer_")
        frame, was_array = self._checked(X)
        draws = self._draws(frame, self.n_draws, self._sampling_rng)
        out = _combine(frame, draws, self._fillable(frame))
        return self._finish(out, frame, was_array)

    def transform_multiple(self, X, m: int = 5, random_state=None) -> list:
        """``m`` independent completions of ``X`` (multiple imputation).

        Returns
        -------
        list of DataFrame (or arrays, for array input)
        """
        check_is_fitted(self, "synthesizer_")
        if not isinstance(m, (int, np.integer)) or m < 1:
            raise ValueError(f"m must be a positive integer, got {m!r}")
        frame, was_array = self._checked(X)
        rng = self._sampling_rng if random_state is None else check_random_state(random_state)
        draws = self._draws(frame, m, rng)
        return [self._finish(d, frame, was_array) for d in draws]

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self, "synthesizer_")
        names = list(self.feature_names_in_)
        if self.add_indicator:
            names += [f"missingindicator_{c}" for c in self.indicator_columns_]
        return np.asarray(names, dtype=object)

    # -- helpers ----------------------------------------------------------------------------
    def _as_frame(self, X, fitting=False):
        if fitting:
            return check_frame(X).reset_index(drop=True)
        return check_n_features(self, X, check_frame(X), self.columns_)

    def _checked(self, X):
        was_array = not is_table(X)
        frame = self._as_frame(X)
        unknown = [c for c in frame.columns if c not in self.columns_]
        missing = [c for c in self.columns_ if c not in frame.columns]
        if unknown or missing:
            raise ValueError(
                f"X must have the columns seen in fit; unseen: {unknown!r}, absent: {missing!r}"
            )
        return frame[self.columns_], was_array

    def _fillable(self, frame) -> list:
        schema = self.synthesizer_.schema_
        return [c for c in self.columns_ if schema[c].kind not in ("constant", "id")]

    def _conditions(self, frame) -> pd.DataFrame:
        """Observed cells usable as conditions (NaN = free)."""
        model = self.synthesizer_
        conds = {}
        rules = getattr(model, "constraints_", None)
        for col in self.columns_:
            values = frame[col].astype(object).where(frame[col].notna(), None)
            if rules is not None and col in rules.transformed_columns:
                conds[col] = values.to_numpy(dtype=object)  # mapped by the constraints
                continue
            if not model.can_condition_on(col):
                continue
            enc = model.encoder_.encoders_[col]
            if model.schema_[col].kind == "categorical":
                seen = set(map(_key, enc.categories_))
                unseen = values.notna() & ~values.map(lambda v, seen=seen: _key(v) in seen)
                if unseen.any():
                    warnings.warn(
                        f"column {col!r} holds categories unseen in fit (e.g. "
                        f"{values[unseen].iloc[0]!r}); those cells do not condition their rows",
                        UserWarning,
                        stacklevel=3,
                    )
                    values = values.where(~unseen, None)
            else:
                numeric = pd.to_numeric(values, errors="coerce").astype("float64")
                values = (
                    numeric.clip(enc.min_, enc.max_).astype(object).where(numeric.notna(), None)
                )
            conds[col] = values.to_numpy(dtype=object)
        return pd.DataFrame(conds, index=frame.index)

    def _draws(self, frame, m, rng) -> list:
        fill = self._fillable(frame)
        rows = np.flatnonzero(frame[fill].isna().any(axis=1).to_numpy())
        draws = [frame.copy() for _ in range(m)]
        if len(rows) == 0:
            return draws
        cond = self._conditions(frame.iloc[rows])
        logger.info("imputing %d incomplete rows, %d draw(s)", len(rows), m)
        # all draws in one call: rows sharing a missingness pattern are sampled together
        stacked = pd.concat([cond] * m, ignore_index=True)
        sampled = self.synthesizer_.sample(None, stacked, rng, fill_missing=True)
        for k in range(m):
            part = sampled.iloc[k * len(rows) : (k + 1) * len(rows)]
            for col in fill:
                holes = frame[col].iloc[rows].isna().to_numpy()
                if holes.any():
                    column = draws[k][col].copy()
                    column.iloc[rows[holes]] = part[col].to_numpy()[holes]
                    draws[k][col] = column
        return draws

    def _finish(self, out, frame, was_array):
        out = restore_arrow(out, frame.attrs.get(ARROW_ATTR, {}))  # Arrow-backed input
        if self.add_indicator:
            for col in self.indicator_columns_:
                out[f"missingindicator_{col}"] = frame[col].isna().to_numpy()
        return out.to_numpy() if was_array else out


def _key(v):
    return (type(v) is bool, v)


def _combine(frame: pd.DataFrame, draws: list, fill: list) -> pd.DataFrame:
    """Point estimate over draws: mean for numbers (rounded for integers), mode otherwise."""
    if len(draws) == 1:
        return draws[0]
    out = frame.copy()
    for col in fill:
        holes = frame[col].isna().to_numpy()
        if not holes.any():
            continue
        stacked = [d[col].to_numpy()[holes] for d in draws]
        dtype = frame[col].dtype
        numeric = pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
        if numeric:
            mean = np.nanmean(np.vstack([np.asarray(s, dtype="float64") for s in stacked]), axis=0)
            if pd.api.types.is_integer_dtype(dtype) or _whole(frame[col]):
                mean = np.round(mean)
            values = mean
        else:
            table = pd.DataFrame(np.vstack([np.asarray(s, dtype=object) for s in stacked]).T)
            values = table.mode(axis=1, dropna=False).iloc[:, 0].to_numpy()
        column = out[col].copy()
        column.iloc[np.flatnonzero(holes)] = values
        out[col] = column
    return out


def _whole(series: pd.Series) -> bool:
    vals = series.dropna().to_numpy(dtype="float64")
    return bool(len(vals)) and bool(np.all(vals == np.round(vals)))
