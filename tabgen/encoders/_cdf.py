"""A piecewise-linear empirical CDF with atoms: the marginal used by the quantile encoder and
the Gaussian copula.

Knots ``(q_j, p_j)`` are non-decreasing in both coordinates. A repeated ``q`` (a vertical
segment) is an atom: a value that many rows share maps to an interval of probabilities, and
every probability in that interval maps back to the value. Between distinct knots the CDF is
linear, so continuous values round-trip exactly (up to float noise).
"""

from __future__ import annotations

import numpy as np


class PiecewiseCDF:
    """Empirical marginal distribution of one numeric variable.

    Parameters
    ----------
    max_knots : int
        Knots of the quantile grid. Variables with at most ``max_knots // 2`` distinct
        values are stored exactly (a discrete distribution). Otherwise every value that
        holds at least ``1 / max_knots`` of the rows (and at least two rows) is an exact atom,
        with its exact probability, and the other values are described by a quantile grid
        of their own (``max(max_knots - 2 * atoms, 4)`` knots, so at most
        ``max(max_knots, 2 * atoms + 4)`` in all); without such values, ``max_knots``
        quantiles of all values.

    Notes
    -----
    Exact atoms matter for columns that mix spikes with continuous values (rates, durations,
    amounts with round values): a quantile grid alone turns a spike holding less than about
    ``2 / max_knots`` of the rows into a linear piece, so that values no row has come out
    between spikes (measured effect on the models: ``benchmarks/RESULTS.md``, "Diffusion on
    the other benchmark tables").
    """

    def __init__(self, max_knots: int = 1000):
        self.max_knots = max_knots

    def fit(self, x: np.ndarray) -> PiecewiseCDF:
        x = np.sort(np.asarray(x, dtype="float64"))
        if x.size == 0:
            raise ValueError("cannot fit a marginal on zero values")
        uniq, counts = np.unique(x, return_counts=True)
        if uniq.size <= max(self.max_knots // 2, 1):
            cum = np.cumsum(counts) / x.size
            self.q_ = np.repeat(uniq, 2)
            self.p_ = np.empty_like(self.q_)
            self.p_[0::2] = np.concatenate([[0.0], cum[:-1]])
            self.p_[1::2] = cum
        else:
            atoms = (counts >= max(2, x.size / self.max_knots)) if self.max_knots > 0 else None
            if atoms is not None and atoms.any():
                self.q_, self.p_ = _atoms_and_quantiles(x, uniq, counts, atoms, self.max_knots)
            else:
                self.p_ = np.linspace(0.0, 1.0, self.max_knots)
                self.q_ = np.quantile(x, self.p_)
            self.q_ = np.maximum.accumulate(self.q_)  # guard against float non-monotonicity
        self.p_[-1] = 1.0
        return self

    # -- forward ----------------------------------------------------------------------------
    def interval(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Probability interval ``[a, b]`` of each value (``a == b`` off atoms)."""
        q, p = self.q_, self.p_
        x = np.asarray(x, dtype="float64")
        lo = np.searchsorted(q, x, side="left")
        hi = np.searchsorted(q, x, side="right")
        k = q.size
        a = np.empty_like(x)
        b = np.empty_like(x)
        on_knot = hi > lo
        if on_knot.any():
            a[on_knot] = p[lo[on_knot]]
            b[on_knot] = p[hi[on_knot] - 1]
        between = ~on_knot
        if between.any():
            j = np.clip(lo[between], 1, k - 1)
            q0, q1 = q[j - 1], q[j]
            p0, p1 = p[j - 1], p[j]
            width = np.where(q1 > q0, q1 - q0, 1.0)
            t = np.clip((x[between] - q0) / width, 0.0, 1.0)
            a[between] = b[between] = p0 + t * (p1 - p0)
        return a, b

    def cdf(self, x: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        """Map values to probabilities in [0, 1].

        A value sitting on an atom maps to the middle of the atom's interval, or, when ``rng``
        is given, to a uniform draw inside it (randomised probability integral transform).
        """
        a, b = self.interval(x)
        t = 0.5 if rng is None else rng.random(a.shape)
        return a + t * (b - a)

    # -- inverse ----------------------------------------------------------------------------
    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Map probabilities back to values (left-continuous inverse of :meth:`cdf`)."""
        q, p = self.q_, self.p_
        u = np.clip(np.asarray(u, dtype="float64"), 0.0, 1.0)
        j = np.clip(np.searchsorted(p, u, side="right") - 1, 0, q.size - 2)
        p0, p1 = p[j], p[j + 1]
        q0, q1 = q[j], q[j + 1]
        span = np.where(p1 > p0, p1 - p0, 1.0)
        t = np.where(p1 > p0, (u - p0) / span, 0.0)
        return q0 + np.clip(t, 0.0, 1.0) * (q1 - q0)

    def atom_interval(self, value: float) -> tuple[float, float]:
        """Probability interval ``[a, b]`` that ``value`` occupies (``a == b`` off atoms)."""
        a, b = self.interval(np.array([value]))
        return float(a[0]), float(b[0])

    # -- persistence ------------------------------------------------------------------------
    def get_state(self) -> dict:
        return {"max_knots": self.max_knots, "q": self.q_.tolist(), "p": self.p_.tolist()}

    @classmethod
    def from_state(cls, state: dict) -> PiecewiseCDF:
        obj = cls(max_knots=int(state["max_knots"]))
        obj.q_ = np.asarray(state["q"], dtype="float64")
        obj.p_ = np.asarray(state["p"], dtype="float64")
        return obj


def _atoms_and_quantiles(x, uniq, counts, atoms, max_knots):
    """Knots ``(q, p)`` of sorted values ``x``: the values ``uniq[atoms]`` as exact atoms, the
    other rows by a quantile grid of their own, mixed with their exact weights.

    The CDF is ``F(v) = A(v) + (m / n) C(v)``: ``A`` the exact step function of the atoms,
    ``C`` a piecewise-linear CDF of the ``m`` other rows. Each atom contributes two knots (its
    jump). ``C`` runs through the quantile grid ``c_j`` of the other rows at Hazen positions
    (``1 / (2 m)`` to ``1 - 1 / (2 m)``), so that their smallest and largest values hold
    half a row each as small atoms of their own: next to an atom, neither ends on the atom's
    edge, where rounding noise of the normal transform would decode it as the atom.
    """
    n = x.size
    values, weights = uniq[atoms], counts[atoms] / n
    rest = x[~np.isin(x, values)]
    m = rest.size
    below = np.concatenate([[0.0], np.cumsum(weights)])  # atom mass below each atom, total
    q = np.repeat(values, 2)
    p = np.empty_like(q)
    p[0::2], p[1::2] = below[:-1], below[1:]
    if m == 0:
        return q, p
    s = np.linspace(0.0, 1.0, max(max_knots - 2 * values.size - 2, 2))
    c = np.quantile(rest, s)
    half = 0.5 / m
    c = np.concatenate([c[:1], c, c[-1:]])
    s = np.concatenate([[0.0], half + (1.0 - 2.0 * half) * s, [1.0]])
    share = m / n
    p += share * np.repeat(np.interp(values, c, s), 2)  # C at the atoms (never a rest value)
    rest_p = below[np.searchsorted(values, c, side="right")] + share * s
    q = np.concatenate([q, c])
    p = np.concatenate([p, rest_p])
    order = np.lexsort((p, q))
    return q[order], np.maximum.accumulate(p[order])
