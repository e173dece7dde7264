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

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from tabgen._params import store_params
from tabgen._validation import check_integer
from tabgen.encoders import TableEncoder
from tabgen.encoders._cdf import PiecewiseCDF
from tabgen.privacy._params import check_dp_params
from tabgen.synthesizers._docs import shared_parameters
from tabgen.synthesizers._gaussian import conditional_sample, nearest_correlation
from tabgen.synthesizers.base import BaseSynthesizer, Conditions

_EPS = 1e-7


def _squeeze(u):
    return _EPS + (1 - 2 * _EPS) * np.asarray(u)


def _unsqueeze(u):
    return (np.asarray(u) - _EPS) / (1 - 2 * _EPS)


def _sample_by_pattern(rng, corr, lo, hi) -> np.ndarray:
    """Exact conditional sampling for rows that constrain different coordinates: rows are
    grouped by which coordinates they constrain (numpy only, cheap per group)."""
    constrained = np.isfinite(lo) | np.isfinite(hi)
    keys, inverse = np.unique(constrained, axis=0, return_inverse=True)
    inverse = np.asarray(inverse).reshape(-1)
    latent = np.empty(lo.shape)
    for g, key in enumerate(keys):
        rows = np.flatnonzero(inverse == g)
        cols = np.flatnonzero(key)
        latent[rows] = conditional_sample(
            rng,
            corr,
            len(rows),
            {j: lo[rows, j] for j in cols},
            {j: hi[rows, j] for j in cols},
        )
    return latent


def _normal_scores(cdf: PiecewiseCDF, x: np.ndarray) -> np.ndarray:
    """``E[z | x]`` for a latent standard normal ``z``: the truncated-normal mean over an
    atom's interval, the normal quantile elsewhere."""
    a, b = cdf.interval(x)
    za, zb = ndtri(_squeeze(a)), ndtri(_squeeze(b))
    mass = ndtr(zb) - ndtr(za)
    with np.errstate(divide="ignore", invalid="ignore"):
        atom = (np.exp(-0.5 * za**2) - np.exp(-0.5 * zb**2)) / (np.sqrt(2 * np.pi) * mass)
    return np.where(b > a, atom, za)


def _category_order(codes, observed, k: int, reference: np.ndarray) -> np.ndarray:
    """Rank of each category code along the main axis of the categories' mean profiles.

    Categories are nominal; a Gaussian copula needs them on a line. Placing them along the
    first principal axis of their (frequency-weighted) mean rows in ``reference`` (optimal
    scaling, as in correspondence analysis) puts similar categories next to each other, so
    monotone relations such as education vs education-num survive the copula.
    """
    codes = codes[observed].astype(int)
    ref = reference[observed]
    counts = np.bincount(codes, minlength=k).astype("float64")
    if ref.shape[1] == 0 or (counts > 0).sum() < 3:
        return np.arange(k, dtype="float64")
    sums = np.zeros((k, ref.shape[1]))
    np.add.at(sums, codes, ref)
    means = sums / np.maximum(counts, 1.0)[:, None]
    w = counts / counts.sum()
    centered = means - (w[:, None] * means).sum(axis=0)
    cov = (centered * w[:, None]).T @ centered
    _, vecs = np.linalg.eigh(cov)
    axis = vecs[:, -1]
    position = centered @ axis
    position[counts == 0] = np.inf  # unseen codes go last (never sampled)
    rank = np.empty(k)
    rank[np.argsort(position, kind="stable")] = np.arange(k)
    return rank


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
    return nearest_correlation(np.nan_to_num(corr), floor=1e-3)


@shared_parameters(rest="the correlation", clipped=None)
class GaussianCopulaSynthesizer(BaseSynthesizer):
    """Gaussian copula over empirical marginals.

    Parameters
    ----------
    [common parameters]
    max_knots : int, default=1000
        Resolution of each empirical marginal (columns with at most ``max_knots // 2``
        distinct values are reproduced exactly).
    random_state : None, int or numpy.random.Generator
        Seed for fitting and for the default sampling stream.
    epsilon : float, optional
        Fit with ``(epsilon, delta)``-differential privacy (``None``: the exact, non-private
        copula). Half of ``epsilon`` measures the domain and the marginal histograms
        (:mod:`tabgen.privacy.domain`: Laplace mechanism), half the latent correlation
        (:mod:`tabgen.privacy.copula`: analytic Gaussian mechanism on clipped normal
        scores); basic composition. No Opacus is involved. In this mode the marginals are
        noisy histograms (never real values) and categories keep their noisy-frequency
        order (no data-driven reordering).
    [DP parameters]
    verbose : bool, default=False
        Show progress bars on stderr. The copula fits in one pass (no bar); long sampling
        to a file (:func:`tabgen.sample_to_file`) shows one.
    [postprocess parameter]

    Attributes
    ----------
    encoder_ : TableEncoder
        The fitted table encoder (standard scaling, category codes).
    [fitted attributes]
    correlation_ : ndarray of shape (n_slots, n_slots)
        Correlation of the latent Gaussian.
    privacy_ : dict
        Only with ``epsilon``: the total ``epsilon`` and ``delta`` spent, their split
        (``epsilon_domain``, ``epsilon_marginals``, ``epsilon_correlation``), the mechanisms,
        the noise scale and clipping norm of the correlation, and what the guarantee covers.

    Examples
    --------
    On 2,000 rows of the bundled UCI Adult table:

    >>> from tabgen import GaussianCopulaSynthesizer
    >>> from tabgen.datasets import load_adult
    >>> adult = load_adult().head(2000)
    >>> model = GaussianCopulaSynthesizer(random_state=0).fit(adult)
    >>> model.sample(5, conditions={"sex": "Female"}, random_state=1)["sex"].tolist()
    ['Female', 'Female', 'Female', 'Female', 'Female']

    With differential privacy (``privacy_`` states the guarantee):

    >>> dp = GaussianCopulaSynthesizer(epsilon=1.0, domain={"age": (17, 90)},
    ...                                random_state=0).fit(adult[["age", "sex"]])
    >>> dp.privacy_["epsilon"] <= 1.0, len(dp.sample(3, random_state=1))
    (True, 3)
    """

    def __init__(
        self,
        *,
        schema: dict | None = None,
        constraints: list | None = None,
        constraint_violations: str = "raise",
        max_knots: int = 1000,
        random_state=None,
        epsilon: float | None = None,
        delta: float | None = None,
        domain: dict | None = None,
        verbose: bool = False,
        postprocess="default",
    ):
        store_params(self, locals())

    #: Share of ``epsilon`` for the domain and marginal histograms (DP mode).
    _dp_fraction = 0.5

    _row_conditions = True
    _supports_inpainting = True

    def _validate_params(self) -> None:
        check_integer(self.max_knots, "max_knots", minimum=4)
        check_dp_params(self)

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
        observed = [
            Z[:, partner[j]] < 0.5 if j in partner else np.ones(n, dtype=bool) for j in range(d)
        ]
        index_slots = [s for s in self.encoder_.spans_ if s.kind == "index"]
        self.orders_ = {}
        if any(s.n_categories > 2 for s in index_slots):
            Z = Z.copy()
            reference = self._reference_matrix(Z, observed, index_slots)
            for s in index_slots:
                if s.n_categories > 2:
                    rank = _category_order(
                        Z[:, s.start], observed[s.start], s.n_categories, reference
                    )
                    self.orders_[s.start] = rank
                    Z[:, s.start] = rank[Z[:, s.start].astype(int)]
        scores = np.full((n, d), np.nan)
        self.marginals_ = []
        for j in range(d):
            cdf = PiecewiseCDF(self.max_knots).fit(Z[observed[j], j])
            self.marginals_.append(cdf)
            scores[observed[j], j] = _normal_scores(cdf, Z[observed[j], j])
        self.correlation_ = _latent_correlation(scores) if d else np.zeros((0, 0))

    def _fit_private(self, Z, rng, budget) -> dict:
        """DP marginals from the released histograms, DP latent correlation."""
        from tabgen.privacy.copula import (
            bin_scores,
            correlation_rho,
            dp_correlation,
            slot_marginals,
        )

        n, d = Z.shape
        partner = self._missing_partner()
        self.orders_ = {}
        self.marginals_ = slot_marginals(self.encoder_, self.domain_)
        scores = np.zeros((n, d))
        for j, cdf in enumerate(self.marginals_):
            observed = Z[:, partner[j]] < 0.5 if j in partner else np.ones(n, dtype=bool)
            scores[observed, j] = bin_scores(cdf, Z[observed, j])
        eps, delta = budget["epsilon_model"], budget["delta_model"]
        rho, accounting = correlation_rho(budget, self.domain_.ledger_)
        self.correlation_, info = dp_correlation(scores, rho, budget["noise_rng"])
        return {
            "epsilon": eps,
            "delta": delta,
            "epsilon_correlation": eps,
            "delta_correlation": delta,
            "mechanism": "discrete Laplace histograms (domain, marginals) + discrete Gaussian "
            "(correlation of clipped normal scores, integer moments); exact samplers "
            "(Canonne-Kamath-Steinke 2020) on a secure bit source",
            "noise_multiplier": float(info["sigma"] / info["clip_norm"] ** 2) if d else 0.0,
            "correlation_sigma": float(info["sigma"]),
            "max_grad_norm": None,
            "clip_norm": float(info["clip_norm"]),
            "total_accounting": accounting,
        }

    def _reference_matrix(self, Z, observed, index_slots, max_levels: int = 30) -> np.ndarray:
        """Standardised continuous slots and one-hot small categories: the space in which
        category orders are chosen."""
        cols = []
        for s in self.encoder_.spans_:
            if s.kind == "continuous":
                x = np.where(observed[s.start], Z[:, s.start], np.nan)
                cdf = PiecewiseCDF(self.max_knots).fit(x[observed[s.start]])
                score = np.full(len(x), 0.0)
                score[observed[s.start]] = _normal_scores(cdf, x[observed[s.start]])
                cols.append(score[:, None])
            elif s.kind in ("index", "binary") and 2 <= max(s.n_categories, 2) <= max_levels:
                codes = Z[:, s.start].astype(int)
                k = max(s.n_categories, 2)
                cols.append(np.eye(k)[np.clip(codes, 0, k - 1)])
        ref = np.hstack(cols) if cols else np.zeros((Z.shape[0], 0))
        std = ref.std(axis=0)
        keep = std > 0
        return (ref[:, keep] - ref[:, keep].mean(axis=0)) / std[keep]

    # -- sample -----------------------------------------------------------------------------
    def _sample(self, n, conditions: Conditions | None, rng):
        d = self.correlation_.shape[0]
        if d == 0:
            return np.zeros((n, 0))
        fixed = {}
        if conditions is None:
            latent = conditional_sample(rng, self.correlation_, n, {}, {})
        else:
            lo = np.full((n, d), -np.inf)
            hi = np.full((n, d), np.inf)
            self._latent_constraints(conditions, lo, hi, fixed)
            latent = _sample_by_pattern(rng, self.correlation_, lo, hi)
        u = _unsqueeze(ndtr(latent))
        Z = np.column_stack([m.ppf(u[:, j]) for j, m in enumerate(self.marginals_)])
        for j, rank in self.orders_.items():  # back from the learned order to codes
            Z[:, j] = np.argsort(rank)[np.clip(np.round(Z[:, j]), 0, len(rank) - 1).astype(int)]
        for j, values in fixed.items():
            rows = ~np.isnan(values)
            Z[rows, j] = values[rows]
        return Z

    def _latent_constraints(self, conditions: Conditions, lo, hi, fixed) -> None:
        n = len(conditions)
        for col in conditions.present:  # observed but free: only the missing slot is fixed
            for s in self.encoder_.column_spans(col):
                if s.role == "missing":
                    self._constrain(s.start, np.zeros(n), lo, hi)
                    fixed[s.start] = np.zeros(n)
        for col in conditions.columns:
            spans = self.encoder_.column_spans(col)
            value = next(s for s in spans if s.role == "value").start
            encoded = conditions.encoded[col]
            known = ~np.isnan(encoded)
            if value in self.orders_:
                rank = np.full(n, np.nan)
                rank[known] = self.orders_[value][encoded[known].astype(int)]
                self._constrain(value, rank, lo, hi)
            else:
                self._constrain(value, encoded, lo, hi)
            fixed[value] = encoded
            for s in spans:
                if s.role == "missing":  # a conditioned cell is observed
                    zeros = np.where(known, 0.0, np.nan)
                    self._constrain(s.start, zeros, lo, hi)
                    before = fixed.get(s.start)  # keep rows already required present
                    fixed[s.start] = zeros if before is None else np.where(known, 0.0, before)

    def _constrain(self, j, values, lo, hi) -> None:
        """Bound latent coordinate ``j`` to the interval of each row's value (NaN: free)."""
        cdf = self.marginals_[j]
        known = ~np.isnan(values)
        if not known.any():
            return
        a, b = cdf.interval(values[known])
        lo[known, j] = ndtri(_squeeze(a))
        hi[known, j] = ndtri(_squeeze(b))

    # -- persistence ------------------------------------------------------------------------
    def _get_state(self):
        state = {
            "marginals": [m.get_state() for m in self.marginals_],
            "orders": {str(j): r.tolist() for j, r in self.orders_.items()},
        }
        return state, {"correlation": self.correlation_}  # privacy_: saved by the base class

    def _set_state(self, state, arrays):
        self.marginals_ = [PiecewiseCDF.from_state(s) for s in state["marginals"]]
        self.orders_ = {int(j): np.asarray(r, dtype="float64") for j, r in state["orders"].items()}
        self.correlation_ = np.array(arrays["correlation"], dtype="float64")

    @classmethod
    def _test_params(cls):
        return {"max_knots": 200}
