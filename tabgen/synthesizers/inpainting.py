"""The one inpainting path: the missing cells of rows drawn given each row's observed cells.

:class:`Inpainting` (a base of :class:`~tabgen.synthesizers.base.BaseSynthesizer`) gives
every model whose ``capabilities.inpainting`` is true the public :meth:`~Inpainting.inpaint`.
It turns the observed cells into per-row conditions (a missing cell is a free cell of its
row) and samples through ``sample(conditions=..., fill_missing=True)``, the path that
conditional sampling, the rules, the post-processors and the imputer
(:class:`~tabgen.pipelines.SyntheticImputer`) share; no model has its own.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import pandas as pd

from tabgen._rng import check_random_state
from tabgen.schema import check_frame

__all__ = ["Inpainting", "fill_holes"]


def _key(v):
    return (type(v) is bool, v)  # True and 1 are different categories


def fill_holes(X: pd.DataFrame, values: pd.DataFrame, rows=None) -> pd.DataFrame:
    """A copy of ``X`` with its missing cells taken from ``values``, which holds the rows
    of ``X`` at positions ``rows`` (every row when ``None``), in that order; the other rows
    must be complete. A column whose dtype cannot hold the values becomes ``object``.

    Examples
    --------
    >>> X = pd.DataFrame({"a": [1.0, None, 3.0], "b": ["x", None, None]})
    >>> fill_holes(X, pd.DataFrame({"a": [2.0, 9.0], "b": ["y", "z"]}), rows=[1, 2])
         a  b
    0  1.0  x
    1  2.0  y
    2  3.0  z
    """
    out = X.copy()
    at = np.arange(len(X))
    if rows is not None:  # position in X -> position in values
        at = np.full(len(X), -1)
        at[np.asarray(rows)] = np.arange(len(rows))
    for name in X.columns:
        nan = X[name].isna().to_numpy()
        if not nan.any():
            continue
        fill = values[name].to_numpy()[at[nan]]
        col = out[name].copy()
        try:
            col.iloc[np.flatnonzero(nan)] = fill
        except (TypeError, ValueError):
            col = col.astype(object)
            col.iloc[np.flatnonzero(nan)] = fill
        out[name] = col
    return out


class Inpainting:
    """Mixin of :class:`~tabgen.synthesizers.base.BaseSynthesizer`: :meth:`inpaint` (reads
    ``capabilities``, ``columns_``, ``schema_``, ``encoder_`` and ``constraints_``)."""

    def inpaint(self, X, n_draws: int = 1, random_state=None):
        """Complete the missing cells of ``X`` conditioned on the observed cells of each row.

        Needs ``capabilities.inpainting`` (the copula, the VAE and diffusion). The observed
        cells condition their row as in ``sample(conditions=...)``: cells of a column the
        model cannot condition on (e.g. dates) and categories unseen in fit (a warning names
        them) do not condition it; numbers outside the training range are clipped to it.
        The post-processors and the rules apply to the drawn cells as to sampled rows.

        Parameters
        ----------
        X : pandas.DataFrame
            Rows with the fitted columns; NaN/None/NaT cells are filled. Observed cells are
            returned unchanged, and so are rows without a missing cell.
        n_draws : int, default=1
            Number of independent completions (multiple imputation).
        random_state : None, int or numpy.random.Generator
            Seed of this call. ``None`` continues the estimator's own stream.

        Returns
        -------
        pandas.DataFrame or list of pandas.DataFrame
            One completed copy of ``X`` (same index, columns and dtypes where the filled
            values allow) when ``n_draws == 1``, else a list of ``n_draws`` copies.

        Examples
        --------
        A row with a hole in each column, filled from the copula:

        >>> from tabgen import GaussianCopulaSynthesizer
        >>> x = np.linspace(0.0, 1.0, 90)
        >>> table = pd.DataFrame({"x": x, "size": np.where(x > 0.5, "big", "small")})
        >>> copula = GaussianCopulaSynthesizer(random_state=0).fit(table)
        >>> holes = pd.DataFrame({"x": [0.9, None], "size": [None, "small"]})
        >>> done = copula.inpaint(holes, random_state=0)
        >>> done.notna().all().all(), float(done["x"][0]), done["size"][1]
        (np.True_, 0.9, 'small')
        """
        self._check_fitted()
        if not self.capabilities.inpainting:
            raise NotImplementedError(
                f"{type(self).__name__} cannot condition a row on any set of observed cells "
                "(capabilities.inpainting is False); use GaussianCopulaSynthesizer, "
                "VAESynthesizer or DiffusionSynthesizer"
            )
        if isinstance(n_draws, bool) or not isinstance(n_draws, numbers.Integral) or n_draws < 1:
            raise ValueError(f"n_draws must be a positive integer, got {n_draws!r}")
        X = check_frame(X)
        missing = [c for c in self.columns_ if c not in X.columns]
        extra = [c for c in X.columns if c not in self.columns_]
        if missing or extra:
            raise ValueError(
                f"X must hold exactly the fitted columns; missing {missing!r}, unknown {extra!r}"
            )
        X = X[self.columns_]
        rng = self._sampling_rng if random_state is None else check_random_state(random_state)
        rows = np.flatnonzero(X.isna().any(axis=1).to_numpy())
        if len(rows) == 0:
            draws = [X.copy() for _ in range(n_draws)]
        else:  # all draws in one call
            conditions = self._observed_conditions(X.iloc[rows])
            stacked = pd.concat([conditions] * n_draws, ignore_index=True)
            sampled = self.sample(None, stacked, rng, fill_missing=True)
            m = len(rows)
            draws = [fill_holes(X, sampled.iloc[k * m : (k + 1) * m], rows) for k in range(n_draws)]
        return draws[0] if n_draws == 1 else draws

    def _observed_conditions(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The observed cells of ``frame`` usable as per-row conditions (NaN: free)."""
        conds = {}
        rules = getattr(self, "constraints_", None)
        for col in self.columns_:
            values = frame[col].astype(object).where(frame[col].notna(), None)
            if rules is not None and col in rules.transformed_columns:
                conds[col] = values.to_numpy(dtype=object)  # mapped by the constraints
                continue
            if not self._can_condition_on(col):
                continue
            enc = self.encoder_.encoders_[col]
            if self.schema_[col].kind == "categorical":
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
