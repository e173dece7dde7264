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
import pandas as pd
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


def _normal_scores(cdf: PiecewiseCDF, x: np.ndarray) -> np.ndarray:
    """``E[z | x]`` for a latent standard normal ``z``: the truncated-normal mean over an
    atom's interval, the normal quantile elsewhere."""
    a, b = cdf.interval(x)
    za, zb = ndtri(_squeeze(a)), ndtri(_squeeze(b))
    mass = ndtr(zb) - ndtr(za)
    with np.errstate(divide="ignore", invalid="ignore"):
        atom = (np.exp(-0.5 * za**2) - np.exp(-0.5 * zb**2)) / (np.sqrt(2 * np.pi) * mass)
    return np.where(b > a, atom, za)


def _latent_correlation(scores: np.ndarray) -> np.ndarray:
    """Correlation of the latent Gaussian from normal scores (pairwise-complete rows).

    Normal scores of a discrete variable have a standard deviation below 1; the covariance of
    two scores is about ``rho * var_i * var_j``, so dividing the scores' correlation by both
    standard deviations undoes the attenuation (exact for continuous variables, close for
    discrete ones; a repaired correlation matrix keeps the result valid).
    """
    d = scores.shape[1]
    if d == 1 or scores.shape[0] < 2:
        return np.eye(d)
    frame = pd.DataFrame(scores)
    corr = frame.corr(min_periods=2).to_numpy()
    sd = np.sqrt(
        np.clip(np.nanmean(scores**2, axis=0) - np.nanmean(scores, axis=0) ** 2, 1e-12, None)
    )
    sd = np.minimum(sd, 1.0)
    corr = np.clip(corr / np.outer(sd, sd), -0.995, 0.995)
    return nearest_correlation(np.nan_to_num(corr))


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
        scores = np.full((n, d), np.nan)
        self.marginals_ = []
        for j in range(d):
            observed = Z[:, partner[j]] < 0.5 if j in partner else np.ones(n, dtype=bool)
            cdf = PiecewiseCDF(self.max_knots).fit(Z[observed, j])
            self.marginals_.append(cdf)
            scores[observed, j] = _normal_scores(cdf, Z[observed, j])
        self.correlation_ = _latent_correlation(scores) if d else np.zeros((0, 0))

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
