"""Gaussian copula: the fast non-neural baseline.

Each encoded slot (standardised number, category code, missingness indicator) gets an
empirical marginal; the randomised probability integral transform maps every slot to a
standard normal, and one correlation matrix ties them together. Sampling draws the latent
Gaussian and maps it back through the marginals.

Conditions are exact and native: a category (or an atom such as ``capital_gain == 0``) is an
interval of its latent coordinate, a continuous number a point; the latent Gaussian is
sampled *given* those constraints (truncated Gibbs steps for intervals, the Gaussian
conditional for the free coordinates), never by rejection.
"""

from __future__ import annotations

import numbers

import numpy as np
from scipy.special import ndtr, ndtri

from tabgen.encoders import TableEncoder
from tabgen.encoders._cdf import PiecewiseCDF
from tabgen.synthesizers._gaussian import conditional_sample, nearest_correlation
from tabgen.synthesizers.base import BaseSynthesizer, Conditions

_EPS = 1e-7


def _squeeze(u):
    return _EPS + (1 - 2 * _EPS) * np.asarray(u)


def _unsqueeze(u):
    return (np.asarray(u) - _EPS) / (1 - 2 * _EPS)


class GaussianCopulaSynthesizer(BaseSynthesizer):
    """Gaussian copula over empirical marginals.

    Parameters
    ----------
    schema : dict, optional
        Column kind overrides, e.g. ``{"PAY_0": "categorical"}``.
    max_knots : int, default=1000
        Resolution of each empirical marginal (columns with at most ``max_knots // 2``
        distinct values are reproduced exactly).
    random_state : None, int or numpy.random.Generator
        Seed for fitting and for the default sampling stream.

    Attributes
    ----------
    schema_ : Schema
        Detected column kinds.
    encoder_ : TableEncoder
        The fitted table encoder (standard scaling, category codes).
    correlation_ : ndarray of shape (n_slots, n_slots)
        Correlation of the latent Gaussian.

    Examples
    --------
    >>> import pandas as pd
    >>> from tabgen import GaussianCopulaSynthesizer
    >>> df = pd.DataFrame({"age": [23, 35, 47, 51, 62, 33] * 10,
    ...                    "job": ["a", "b", "a", "c", "b", "a"] * 10})
    >>> model = GaussianCopulaSynthesizer(random_state=0).fit(df)
    >>> rows = model.sample(5, conditions={"job": "b"}, random_state=1)
    >>> (rows["job"] == "b").all(), len(rows)
    (np.True_, 5)
    """

    def __init__(self, *, schema: dict | None = None, max_knots: int = 1000, random_state=None):
        self.schema = schema
        self.max_knots = max_knots
        self.random_state = random_state

    def _validate_params(self) -> None:
        if (
            not isinstance(self.max_knots, numbers.Integral)
            or isinstance(self.max_knots, bool)
            or self.max_knots < 4
        ):
            raise ValueError(f"max_knots must be an integer >= 4, got {self.max_knots!r}")

    def _make_encoder(self) -> TableEncoder:
        return TableEncoder(numerical="standard", categorical="ordinal")

    # -- fit --------------------------------------------------------------------------------
    def _missing_partner(self) -> dict[int, int]:
        """Value slot -> the missingness slot of the same column."""
        partner = {}
        for name in self.encoder_.encoders_:
            spans = self.encoder_.column_spans(name)
            miss = [s.start for s in spans if s.role == "missing"]
            if miss:
                for s in spans:
                    if s.role == "value":
                        for j in range(s.start, s.stop):
                            partner[j] = miss[0]
        return partner

    def _fit(self, Z, rng):
        n, d = Z.shape
        partner = self._missing_partner()
        latent = np.empty((n, d))
        self.marginals_ = []
        for j in range(d):
            observed = Z[:, partner[j]] < 0.5 if j in partner else np.ones(n, dtype=bool)
            cdf = PiecewiseCDF(self.max_knots).fit(Z[observed, j])
            self.marginals_.append(cdf)
            latent[:, j] = rng.standard_normal(n)  # unobserved value slots: independent noise
            latent[observed, j] = ndtri(_squeeze(cdf.cdf(Z[observed, j], rng)))
        if d > 1 and n > 1:
            corr = np.corrcoef(latent, rowvar=False)
        else:
            corr = np.eye(d)
        self.correlation_ = nearest_correlation(corr) if d else np.zeros((0, 0))

    # -- sample -----------------------------------------------------------------------------
    def _sample(self, n, conditions: Conditions | None, rng):
        d = self.correlation_.shape[0]
        if d == 0:
            return np.zeros((n, 0))
        lo, hi, fixed = {}, {}, {}
        if conditions is not None:
            self._latent_constraints(conditions, lo, hi, fixed)
        latent = conditional_sample(rng, self.correlation_, n, lo, hi)
        u = _unsqueeze(ndtr(latent))
        Z = np.column_stack([m.ppf(u[:, j]) for j, m in enumerate(self.marginals_)])
        for j, values in fixed.items():
            Z[:, j] = values
        return Z

    def _latent_constraints(self, conditions: Conditions, lo, hi, fixed) -> None:
        for col in conditions.columns:
            spans = self.encoder_.column_spans(col)
            value = next(s for s in spans if s.role == "value").start
            self._constrain(value, conditions.encoded[col], lo, hi)
            fixed[value] = conditions.encoded[col]
            for s in spans:
                if s.role == "missing":  # a conditioned cell is observed
                    zeros = np.zeros(len(conditions))
                    self._constrain(s.start, zeros, lo, hi)
                    fixed[s.start] = zeros

    def _constrain(self, j, values, lo, hi) -> None:
        cdf = self.marginals_[j]
        a = np.empty(len(values))
        b = np.empty(len(values))
        for v in np.unique(values):
            ua, ub = cdf.atom_interval(float(v))
            rows = values == v
            a[rows], b[rows] = ua, ub
        lo[j] = ndtri(_squeeze(a))
        hi[j] = ndtri(_squeeze(b))

    # -- persistence ------------------------------------------------------------------------
    def _get_state(self):
        state = {"marginals": [m.get_state() for m in self.marginals_]}
        return state, {"correlation": self.correlation_}

    def _set_state(self, state, arrays):
        self.marginals_ = [PiecewiseCDF.from_state(s) for s in state["marginals"]]
        self.correlation_ = np.array(arrays["correlation"], dtype="float64")

    @classmethod
    def _test_params(cls):
        return {"max_knots": 200}
