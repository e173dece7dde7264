"""The private domain of a table: category sets, numeric bounds and marginal histograms,
given by the user (public) or measured with differential privacy.

Everything a DP synthesizer computes from the real rows *outside* its private training step
comes from here, in two steps with separate budgets:

**Domain step** (``epsilon_domain``, ``delta_domain``): what the user did not declare.

* Category set of a categorical column (and the value of a constant column) whose candidate
  values are not public: a histogram over the values present in the data, discrete Laplace
  noise of scale ``1/eps_c`` per count, a value released only when its noisy count passes
  :func:`~tabgen.privacy._mechanisms.stability_threshold` (about
  ``log(1/(2 delta_c)) / eps_c``; ``(eps_c, delta_c)``-DP). Values not released are merged
  into one ``"other"`` value (string columns) or into the most frequent released value
  (other dtypes). Candidates are public (no ``delta`` spent) for ``bool`` and pandas
  ``category`` dtypes and for user lists.
* Bounds of a numeric column without user bounds: a discrete Laplace histogram over a fixed,
  data-independent grid of 106 signed log-scale bins (4 per decade, magnitudes 1e-3 to
  1e10); the bounds are the outer edges of the outermost bins whose noisy count passes the
  threshold that an empty bin crosses with probability 0.5 % (``eps_b``-DP). A single
  outlier does not pass it, so it is clipped into the bulk.

**Marginal step** (``epsilon_marginals``): a discrete Laplace histogram per column
(``eps_m``-DP): numeric columns over a fine grid inside the bounds (16 equal sub-bins per
log-scale bin; integer columns on whole numbers, a sub-bin holding one integer is an atom),
categorical columns over their released categories, and one extra cell counting missing cells. Noisy
counts below ``3/eps_m`` are set to 0 (post-processing; an empty cell passes with
probability 2.5 %). The histograms give the monotone
CDFs of the quantile encoder and the copula, the category frequencies and missing rates.

Within a step the budget is split evenly over the columns measured; one row falls in exactly
one cell of each histogram (L1 sensitivity 1). With a complete public domain the domain step
spends nothing. Every count gets exact integer noise from
:func:`~tabgen.privacy.noise.discrete_laplace` (Canonne-Kamath-Steinke) on a secure bit
source, never a floating-point Laplace sample; ``ledger_`` lists what each mechanism spent,
for the accountant (:mod:`tabgen.privacy.accounting`).

Not covered: the column kinds. The schema is taken as public; pass ``schema=`` to fix it,
since automatic detection reads dtypes and counts distinct values.
"""

from __future__ import annotations

import itertools
import numbers
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tabgen.encoders import PiecewiseCDF
from tabgen.privacy._mechanisms import (
    check_epsilon,
    empty_cell_threshold,
    laplace_counts,
    stability_threshold,
)
from tabgen.schema import Schema

#: The value that categories not released are merged into (string columns).
OTHER = "other"
#: Sub-bins of each log-scale bin in the marginal histograms.
SUB_BINS = 16
_MAGS = 10.0 ** (np.arange(-12, 41) / 4.0)  # 1e-3 ... 1e10, 4 per decade
#: The fixed, data-independent grid of the DP bounds (106 bins).
COARSE_EDGES = np.concatenate([-_MAGS[::-1], [0.0], _MAGS])

NUMERIC_KINDS = ("numerical", "integer")


@dataclass
class ColumnDomain:
    """What is released about one column.

    Attributes
    ----------
    name : str or int
        The column.
    kind : str
        The schema kind.
    categories : list or None
        Released (or public) category values, most frequent first (noisy order).
    other : object or None
        The value that unreleased categories map to (``None``: nothing is merged).
    bounds : tuple or None
        ``(low, high)`` of a numeric column, public or DP.
    edges : ndarray or None
        Edges of the fine histogram of a numeric column (integer columns: bins
        ``[edges[k], edges[k+1])`` of whole numbers).
    counts : ndarray or None
        Noisy (non-negative) counts of the fine bins or of the categories.
    missing_count : float
        Noisy count of missing cells (0 when not measured).
    missing : bool
        Whether the model keeps a missingness indicator for the column.
    sources : dict
        ``"values"`` / ``"bounds"``: ``"public"`` or ``"dp"``.
    """

    name: object
    kind: str
    categories: list | None = None
    other: object = None
    bounds: tuple | None = None
    edges: np.ndarray | None = None
    counts: np.ndarray | None = None
    missing_count: float = 0.0
    missing: bool = False
    sources: dict = field(default_factory=dict)

    @property
    def integer(self) -> bool:
        return self.kind == "integer"

    # -- derived marginals (post-processing of the noisy counts) ----------------------------
    def frequencies(self) -> np.ndarray:
        """Category frequencies (sum to 1; uniform when every noisy count is 0)."""
        c = np.asarray(self.counts, dtype="float64")
        if c.sum() <= 0:
            return np.full(c.size, 1.0 / c.size)
        return c / c.sum()

    def missing_rate(self) -> float:
        total = float(np.sum(self.counts)) + self.missing_count
        return self.missing_count / total if total > 0 and self.missing else 0.0

    def cdf(self) -> PiecewiseCDF:
        """Monotone CDF of a numeric column from its noisy fine histogram.

        Float columns: linear inside each bin. Integer columns: an atom at a bin holding one
        whole number, linear over ``[a - 0.5, b + 0.5]`` for a bin of ``a..b``. Empty outer
        bins are trimmed.
        """
        mass = np.asarray(self.counts, dtype="float64")
        edges = np.asarray(self.edges, dtype="float64")
        if mass.sum() <= 0:
            mass = np.ones_like(mass)
        pos = np.flatnonzero(mass > 0)
        first, last = int(pos[0]), int(pos[-1])
        mass = mass[first : last + 1] / mass.sum()
        cum = np.concatenate([[0.0], np.cumsum(mass)])
        if not self.integer:
            q = edges[first : last + 2]
            p = cum
        else:
            qs, ps = [], []
            for k in range(first, last + 1):
                a, b = edges[k], edges[k + 1] - 1.0  # whole numbers a..b
                lo_q, hi_q = (a, a) if a == b else (a - 0.5, b + 0.5)
                i = k - first
                qs += [lo_q, hi_q]
                ps += [cum[i], cum[i + 1]]
            q, p = np.asarray(qs), np.asarray(ps)
        out = PiecewiseCDF(max_knots=max(int(q.size), 4))
        out.q_ = np.maximum.accumulate(q.astype("float64"))
        out.p_ = np.maximum.accumulate(np.clip(p, 0.0, 1.0))
        out.p_[-1] = 1.0
        return out

    def value_range(self) -> tuple[float, float]:
        """``(min, max)`` of the values the model may output."""
        q = self.cdf().q_
        lo, hi = float(q[0]), float(q[-1])
        if self.integer:
            lo, hi = float(np.ceil(lo)), float(np.floor(hi))
        return lo, max(lo, hi)


class PrivateDomain:
    """Public domain declarations plus DP measurement of the rest (see the module docstring).

    Parameters
    ----------
    public : dict, optional
        ``{column: (low, high)}`` for numeric columns, ``{column: [values]}`` for categorical
        and constant columns. Declared values are public: they cost no budget and are kept
        even when absent from the data.
    limits : dict, optional
        ``{column: (low or None, high or None)}``: public one- or two-sided limits of numeric
        columns, the constant bounds stated by the constraints
        (:meth:`~tabgen.constraints.ConstraintSet.public_limits`). Bounds measured with DP
        are narrowed to them (post-processing: no budget), so that a noisy bin far outside
        a rule's range cannot stretch the domain over values the rule forbids.

    Attributes
    ----------
    columns_ : dict
        Column name to :class:`ColumnDomain`.
    spent_ : dict
        ``{"domain": (epsilon, delta), "marginals": (epsilon, delta)}`` actually spent.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from tabgen.schema import Schema
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"age": rng.integers(18, 80, 5000),
    ...                    "sex": rng.choice(["F", "M"], 5000)})
    >>> dom = PrivateDomain({"age": (17, 90)}).fit(
    ...     df, Schema.detect(df), epsilon_domain=0.5, delta_domain=1e-6,
    ...     epsilon_marginals=0.5, rng=rng)
    >>> sorted(dom.columns_["sex"].categories), dom.columns_["age"].bounds
    (['F', 'M', 'other'], (17.0, 90.0))
    >>> dom.spent_["domain"]
    (0.5, 1e-06)
    """

    def __init__(self, public: dict | None = None, limits: dict | None = None):
        self.public = public
        self.limits = limits

    # -- planning ---------------------------------------------------------------------------
    def _check_public(self, schema: Schema) -> dict:
        public = {} if self.public is None else self.public
        if not isinstance(public, dict):
            raise TypeError(f"domain must be a dict {{column: bounds or values}}, got {public!r}")
        unknown = [c for c in public if c not in schema.names]
        if unknown:
            raise ValueError(f"domain names unknown column(s) {unknown!r}")
        for name, value in public.items():
            kind = schema[name].kind
            if kind in NUMERIC_KINDS:
                ok = (
                    isinstance(value, tuple)
                    and len(value) == 2
                    and all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in value)
                    and np.isfinite(value).all()
                    and value[0] < value[1]
                )
                if not ok:
                    raise ValueError(
                        f"domain for numeric column {name!r} must be a tuple (low, high) of "
                        f"finite numbers with low < high, got {value!r}"
                    )
            elif kind in ("categorical", "constant"):
                if isinstance(value, (str, tuple)) or not hasattr(value, "__iter__"):
                    raise ValueError(
                        f"domain for categorical column {name!r} must be a list of values, "
                        f"got {value!r}"
                    )
                if len(list(value)) == 0:
                    raise ValueError(f"domain for column {name!r} is an empty list")
            else:
                raise ValueError(
                    f"domain cannot describe column {name!r} of kind {kind!r}; only "
                    "numerical, integer, categorical and constant columns"
                )
        return public

    def _public_candidates(self, spec, col: pd.Series, public: dict):
        if spec.name in public:
            return list(public[spec.name])
        if spec.kind == "categorical" and spec.dtype == "category":
            return list(col.cat.categories)  # declared by the dtype, not by the rows
        if spec.kind == "categorical" and spec.dtype in ("bool", "boolean"):
            return [False, True]
        return None

    def plan(self, X: pd.DataFrame, schema: Schema) -> dict:
        """Which measurements :meth:`fit` will make: ``{"domain": k, "thresholded": t,
        "marginals": m}`` (numbers of histograms)."""
        public = self._check_public(schema)
        dom = thr = marg = 0
        for spec in schema:
            if spec.kind == "datetime":
                raise ValueError(
                    f"column {spec.name!r} is a datetime: differentially private fitting does "
                    "not support datetime columns yet; convert it to a number (e.g. days "
                    "since a public origin) or drop it"
                )
            if spec.kind in NUMERIC_KINDS:
                dom += spec.name not in public
                marg += 1
            elif spec.kind in ("categorical", "constant"):
                if self._public_candidates(spec, X[spec.name], public) is None:
                    dom += 1
                    thr += 1
                elif spec.kind == "categorical":
                    marg += 1
        return {"domain": dom, "thresholded": thr, "marginals": marg}

    # -- fit --------------------------------------------------------------------------------
    def fit(
        self,
        X: pd.DataFrame,
        schema: Schema,
        *,
        epsilon_domain: float,
        delta_domain: float,
        epsilon_marginals: float,
        rng: np.random.Generator,
    ) -> PrivateDomain:
        """Measure what ``public`` does not give.

        ``epsilon_domain`` / ``delta_domain`` are split evenly over the domain measurements,
        ``epsilon_marginals`` over the marginal histograms; a step with nothing to measure
        spends nothing (its budget may be 0 then).
        """
        plan = self.plan(X, schema)
        public = self._check_public(schema)
        if plan["domain"]:
            check_epsilon(epsilon_domain, "epsilon_domain")
        if plan["thresholded"] and not 0 < delta_domain < 1:
            raise ValueError(f"delta_domain must be in (0, 1), got {delta_domain!r}")
        if plan["marginals"]:
            check_epsilon(epsilon_marginals, "epsilon_marginals")
        eps_d = epsilon_domain / plan["domain"] if plan["domain"] else 0.0
        delta_d = delta_domain / plan["thresholded"] if plan["thresholded"] else 0.0
        eps_m = epsilon_marginals / plan["marginals"] if plan["marginals"] else 0.0
        self.columns_ = {}
        for spec in schema:
            col = X[spec.name]
            if spec.kind in NUMERIC_KINDS:
                self.columns_[spec.name] = self._numeric(spec, col, public, eps_d, eps_m, rng)
            elif spec.kind in ("categorical", "constant"):
                cands = self._public_candidates(spec, col, public)
                self.columns_[spec.name] = self._categorical(
                    spec, col, cands, eps_d, delta_d, eps_m, rng
                )
            else:  # id: regenerated, nothing is learned
                self.columns_[spec.name] = ColumnDomain(spec.name, spec.kind)
        # what each mechanism spent, for the accountant: pure-DP histograms and the
        # thresholded (epsilon, delta) category sets
        n_pure = plan["domain"] - plan["thresholded"]
        self.ledger_ = {
            "pure_epsilons": [eps_d] * n_pure + [eps_m] * plan["marginals"],
            "thresholded_epsilon": eps_d * plan["thresholded"],
            "thresholded_delta": float(delta_domain) if plan["thresholded"] else 0.0,
        }
        self.spent_ = {
            "domain": (
                float(epsilon_domain) if plan["domain"] else 0.0,
                float(delta_domain) if plan["thresholded"] else 0.0,
            ),
            "marginals": (float(epsilon_marginals) if plan["marginals"] else 0.0, 0.0),
        }
        return self

    def _numeric(self, spec, col, public, eps_d, eps_m, rng) -> ColumnDomain:
        out = ColumnDomain(spec.name, spec.kind)
        x = pd.to_numeric(col, errors="coerce").to_numpy(dtype="float64")
        miss = np.isnan(x)
        x = x[~miss]
        if spec.name in public:
            lo, hi = (float(v) for v in public[spec.name])
            out.sources["bounds"] = "public"
        else:
            lo, hi = _narrow(*_dp_bounds(x, eps_d, rng), (self.limits or {}).get(spec.name))
            out.sources["bounds"] = "dp"
        if spec.kind == "integer":
            lo, hi = float(np.ceil(lo)), float(np.floor(hi))
            if hi < lo:
                hi = lo
        out.bounds = (lo, hi)
        out.edges = fine_edges(lo, hi, integer=spec.kind == "integer")
        true = np.bincount(_bin_index(out.edges, x), minlength=out.edges.size - 1)
        noisy = laplace_counts(np.append(true, miss.sum()), eps_m, rng)
        noisy = np.where(noisy >= 3.0 / eps_m, noisy, 0.0)
        out.counts, out.missing_count = noisy[:-1], float(noisy[-1])
        out.missing = out.missing_count > 0
        out.sources["values"] = "dp"
        return out

    def _categorical(self, spec, col, candidates, eps_d, delta_d, eps_m, rng) -> ColumnDomain:
        out = ColumnDomain(spec.name, spec.kind)
        miss = col.isna().to_numpy()
        present = pd.Series(col[~miss].to_numpy(dtype=object)).value_counts(sort=False)
        if candidates is None:  # the set of values present is private: threshold it
            noisy = laplace_counts(present.to_numpy(), eps_d, rng)
            keep = noisy > stability_threshold(eps_d, delta_d)
            values = [_plain(v) for v in present.index[keep]]
            counts = noisy[keep]
            n_miss = float(laplace_counts(np.array([miss.sum()]), eps_d, rng)[0])
            n_miss = n_miss if n_miss >= 3.0 / eps_d else 0.0
            out.sources["values"] = "dp"
            string = len(present) > 0 and all(isinstance(v, str) for v in present.index)
            string = string and spec.kind == "categorical"
            if string and OTHER not in values:
                values.append(OTHER)
                counts = np.append(counts, 0.0)
            if not values and spec.kind == "categorical":
                raise ValueError(
                    f"no category of column {spec.name!r} passed the privacy threshold; "
                    "declare its values in domain= or raise epsilon"
                )
            out.other = OTHER if string else None
        else:
            values = [_plain(v) for v in candidates]
            if spec.kind == "constant":
                counts = np.zeros(len(values))  # one value, nothing to measure
                n_miss = 0.0
            else:
                true = np.array([present.get(v, 0) for v in values], dtype="float64")
                noisy = laplace_counts(np.append(true, miss.sum()), eps_m, rng)
                noisy = np.where(noisy >= 3.0 / eps_m, noisy, 0.0)
                counts, n_miss = noisy[:-1], float(noisy[-1])
            out.sources["values"] = "public"
        counts = np.maximum(np.asarray(counts, dtype="float64"), 0.0)
        order = np.argsort(-counts, kind="stable")
        out.categories = [values[i] for i in order]
        out.counts = counts[order]
        out.missing_count = max(n_miss, 0.0)
        out.missing = out.missing_count > 0 and spec.kind == "categorical"
        return out

    # -- applying the domain ----------------------------------------------------------------
    def clean(self, X: pd.DataFrame) -> pd.DataFrame:
        """A copy of ``X`` inside the released domain: unreleased categories merged, numbers
        clipped to the bounds, missing cells filled where the column keeps no indicator."""
        X = X.copy()
        for name, dom in self.columns_.items():
            col = X[name]
            miss = col.isna()
            if dom.kind in NUMERIC_KINDS:
                lo, hi = dom.value_range()
                x = pd.to_numeric(col, errors="coerce").clip(lo, hi)
                if not dom.missing and miss.any():
                    fill = float(dom.cdf().ppf(np.array([0.5]))[0])
                    x = x.fillna(round(fill) if dom.integer else fill)
                X[name] = x.astype(col.dtype) if not x.isna().any() else x
            elif dom.kind == "categorical":
                known = pd.Index(pd.Series(dom.categories, dtype=object))
                fallback = dom.other if dom.other is not None else dom.categories[0]
                vals = col.to_numpy(dtype=object).copy()
                bad = ~miss.to_numpy() & (known.get_indexer(pd.Index(vals, dtype=object)) < 0)
                vals[bad] = fallback
                if not dom.missing:
                    vals[miss.to_numpy()] = dom.categories[0]
                if isinstance(col.dtype, pd.CategoricalDtype):
                    X[name] = pd.Categorical(vals, dtype=col.dtype)
                else:
                    X[name] = pd.Series(vals, index=col.index, dtype=object).astype(col.dtype)
        return X

    def apply_to_schema(self, schema: Schema) -> None:
        """Make the schema agree with the release (constant values, nullability)."""
        for spec in schema:
            dom = self.columns_[spec.name]
            if spec.kind == "constant":
                spec.info["value"] = dom.categories[0] if dom.categories else None
            spec.nullable = bool(dom.missing)

    def describe(self) -> dict:
        """JSON-able summary: per column, where its domain came from."""
        return {str(name): dict(d.sources) for name, d in self.columns_.items() if d.sources}


def _plain(v):
    return v.item() if isinstance(v, np.generic) else v


def _bin_index(edges: np.ndarray, x: np.ndarray) -> np.ndarray:
    x = np.clip(x, edges[0], edges[-1])
    return np.clip(np.searchsorted(edges, x, side="right") - 1, 0, edges.size - 2)


def _dp_bounds(x: np.ndarray, epsilon: float, rng) -> tuple[float, float]:
    """``(low, high)`` from a Laplace histogram on :data:`COARSE_EDGES`."""
    n_bins = COARSE_EDGES.size - 1
    true = np.bincount(_bin_index(COARSE_EDGES, x), minlength=n_bins)
    noisy = laplace_counts(true, epsilon, rng)
    kept = np.flatnonzero(noisy > empty_cell_threshold(epsilon, n_bins, beta=0.005))
    if kept.size == 0:  # report noisy max: still DP, the bulk's most likely bin
        kept = np.array([int(np.argmax(noisy))])
    return float(COARSE_EDGES[kept[0]]), float(COARSE_EDGES[kept[-1] + 1])


def _narrow(lo: float, hi: float, limits) -> tuple[float, float]:
    """``[lo, hi]`` inside the public ``limits`` ``(low or None, high or None)``; a range
    wholly outside them collapses onto the nearest limit.

    Examples
    --------
    >>> _narrow(-316.2, 1.0, (0.0, 1.0)), _narrow(1.78, 10.0, (None, 1.0))
    ((0.0, 1.0), (1.0, 1.0))
    """
    if limits is None:
        return lo, hi
    low, high = limits
    if low is not None:
        lo, hi = max(lo, low), max(hi, low)
    if high is not None:
        lo, hi = min(lo, high), min(hi, high)
    if low is not None and high is not None and hi <= lo:
        lo, hi = low, high
    return float(lo), float(hi)


def fine_edges(lo: float, hi: float, *, integer: bool, sub_bins: int = SUB_BINS) -> np.ndarray:
    """Edges of the marginal histogram on ``[lo, hi]``: the log-scale grid's edges inside the
    range, each piece cut in ``sub_bins``; for integers, whole-number bins ``[e_k, e_{k+1})``
    covering ``lo..hi``.

    Examples
    --------
    >>> fine_edges(0, 3, integer=True).tolist()
    [0.0, 1.0, 2.0, 3.0, 4.0]
    """
    if hi <= lo:
        return np.array([lo, lo + 1.0]) if integer else np.array([lo, lo + 1e-9])
    inner = COARSE_EDGES[(COARSE_EDGES > lo) & (COARSE_EDGES < hi)]
    knots = np.concatenate([[lo], inner, [hi]])
    parts = [np.linspace(a, b, sub_bins + 1)[:-1] for a, b in itertools.pairwise(knots)]
    edges = np.concatenate([*parts, [hi]])
    if not integer:
        return edges
    inner_int = np.unique(np.ceil(edges[1:-1]))
    inner_int = inner_int[(inner_int > lo) & (inner_int <= hi)]
    return np.concatenate([[lo], inner_int, [hi + 1.0]]).astype("float64")
