"""Numbers with heavy atoms as a *mixed* block: a one-hot over the atoms and "other", then one
quantile-normal slot for the other values.

A value that many training rows share (a spike at 0, a round amount, a fraction such as 1/10
in a rate column, each count of a small integer column) is an *atom*. The quantile encoder
maps an atom to an interval of the normal score, so a model with a Gaussian output (the
diffusion denoiser) must learn to hit the interval, and relations between atoms of different
columns (an exit rate of exactly 0.1 given 2 pages) blur. Here the atoms of a column become
categories instead, learnt with a cross-entropy loss like any categorical column; the values
that are not atoms keep a continuous slot, the quantile-normal code of their own empirical
distribution. On an atom row that slot carries no information: an independent standard
normal draw when the transform is given a random generator, 0 otherwise. Decoding takes the
category's atom, or for "other" the continuous slot's value (inside the range of the values
that are not atoms).

The idea is that of the "mixed" columns of CTAB-GAN+ and of the separate discrete handling of
TabDDPM and TabDiff; the choice of atoms (share and cap) is measured in
``benchmarks/RESULTS.md`` ("Diffusion on the other benchmark tables").
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr, ndtri

from tabgen.encoders._cdf import PiecewiseCDF
from tabgen.encoders.base import Span
from tabgen.encoders.numerical import EPS, NumericEncoder

#: Default share of the rows that a value must hold (and at least two rows) to be an atom.
MIN_SHARE = 0.01
#: Default cap on the atoms of one column (the heaviest are kept).
MAX_ATOMS = 16
#: Default spike test: an atom holds at least this many times the rows of each neighbouring
#: value (0: off, every heavy value is an atom).
SPIKE_RATIO = 0.0
#: ``rule="auto"``: a column whose heavy values (the cap's heaviest) hold at least this share
#: of its rows is discrete with a small support, and every heavy value is an atom.
DISCRETE_COVER = 0.9
#: ``rule="auto"``: in the other columns only spikes are atoms, heavy values that hold at
#: least this many times the rows of each neighbouring distinct value.
AUTO_SPIKE = 2.0
#: The rules that choose a column's atoms.
RULES = ("heavy", "auto")


def choose_atoms(
    counts: np.ndarray,
    n: int,
    *,
    min_share: float = MIN_SHARE,
    max_atoms: int = MAX_ATOMS,
    spike_ratio: float = SPIKE_RATIO,
    rule: str = "heavy",
) -> np.ndarray:
    """Indices (increasing) of the atoms among a column's sorted distinct values.

    Parameters
    ----------
    counts : ndarray
        Rows holding each distinct value, the values in increasing order.
    n : int
        Rows of the column (without missing cells).
    min_share, max_atoms, spike_ratio : see :class:`AtomMixtureEncoder`
    rule : {"heavy", "auto"}
        ``"heavy"``: every heavy value (held by ``min_share`` of the rows and two rows;
        with ``spike_ratio``, only the spikes), the ``max_atoms`` heaviest. ``"auto"``:
        every heavy value where those cover :data:`DISCRETE_COVER` of the rows (a discrete
        column of small support: counts, codes, a few fractions), else only the spikes
        (:data:`AUTO_SPIKE`, ignoring ``spike_ratio``), so that a smooth discrete or
        continuous column (ages, hours, amounts) keeps its quantile code apart from the
        values that stand out of their neighbours (a spike at 0, round numbers).

    Examples
    --------
    >>> choose_atoms(np.array([50, 30, 20]), 100, rule="auto").tolist()  # small support
    [0, 1, 2]
    >>> smooth = np.r_[np.full(40, 20), 50]  # 41 values, the last a spike
    >>> choose_atoms(smooth, smooth.sum()).size, choose_atoms(smooth, smooth.sum(), rule="auto")
    (16, array([40]))
    """
    if rule not in RULES:
        raise ValueError(f"rule must be one of {RULES}, got {rule!r}")
    counts = np.asarray(counts)
    heavy = counts >= max(2.0, min_share * n)
    near = np.maximum(np.r_[0, counts[:-1]], np.r_[counts[1:], 0])
    spikes = heavy & (counts >= AUTO_SPIKE * near)
    if spike_ratio and rule == "heavy":  # only spikes above both neighbouring values
        heavy &= counts >= spike_ratio * near
    top = _heaviest(np.flatnonzero(heavy), counts, max_atoms)
    if rule == "heavy" or counts[top].sum() >= DISCRETE_COVER * n:
        return top
    return _heaviest(np.flatnonzero(spikes), counts, max_atoms)


def _heaviest(index: np.ndarray, counts: np.ndarray, cap: int) -> np.ndarray:
    """The ``cap`` heaviest of ``index`` (stable: the smaller value on ties), sorted."""
    if index.size <= cap:
        return index
    return np.sort(index[np.argsort(-counts[index], kind="stable")[:cap]])


class AtomMixtureEncoder(NumericEncoder):
    """Numbers as ``[one-hot over atoms and "other", quantile-normal slot]`` (see the module
    docstring).

    A column without atoms is encoded exactly as
    :class:`~tabgen.encoders.numerical.QuantileNormalEncoder` encodes it (one slot). A column
    whose values are all atoms gets the one-hot block only (no "other", no slot).

    Parameters
    ----------
    n_quantiles : int
        Knots of the empirical CDF of the values that are not atoms.
    clip : bool
        Keep decoded values inside the training range.
    min_share : float, optional
        A value held by at least this share of the rows (and two rows) is an atom. Default
        :data:`MIN_SHARE`.
    max_atoms : int, optional
        At most this many atoms per column, the heaviest (ties: the smaller value). Default
        :data:`MAX_ATOMS`.
    spike_ratio : float, optional
        When positive, a heavy value is an atom only if it holds at least this many times
        the rows of each neighbouring distinct value (a spike above the local density, not
        one value of a smooth discrete distribution such as ages). Default
        :data:`SPIKE_RATIO`.
    rule : {"heavy", "auto"}, default="heavy"
        How a column's atoms are chosen (:func:`choose_atoms`): ``"heavy"`` every heavy
        value; ``"auto"`` every heavy value in a discrete column of small support, only
        the spikes in the others (a column without spikes is then encoded as the quantile
        encoder encodes it).

    Attributes
    ----------
    atoms_ : ndarray
        The atoms, in increasing order (in working units, see ``NumericEncoder``).
    has_rest_ : bool
        Whether some training values are not atoms (then the block has "other" and a slot).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from tabgen.schema import Schema
    >>> x = pd.Series(np.r_[np.zeros(60), np.full(30, 0.5), np.linspace(1, 2, 10)], name="x")
    >>> enc = AtomMixtureEncoder().fit(x, Schema.detect(x.to_frame())["x"])
    >>> enc.atoms_.tolist(), [s.kind for s in enc.spans]
    ([0.0, 0.5], ['softmax', 'continuous'])
    >>> Z = enc.transform(x)
    >>> Z[[0, 60, 90]].round(2).tolist()
    [[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, -1.64]]
    >>> back = enc.inverse_transform(Z)  # atoms exactly, the other values up to float noise
    >>> bool((back[:90] == x[:90]).all()), bool(np.allclose(back, x))
    (True, True)
    """

    name = "atom_mixture"

    def __init__(
        self,
        *,
        n_quantiles: int = 1000,
        clip: bool = True,
        min_share: float | None = None,
        max_atoms: int | None = None,
        spike_ratio: float | None = None,
        rule: str = "heavy",
    ):
        if rule not in RULES:
            raise ValueError(f"rule must be one of {RULES}, got {rule!r}")
        self.rule = rule
        self.min_share = float(MIN_SHARE if min_share is None else min_share)
        self.max_atoms = int(MAX_ATOMS if max_atoms is None else max_atoms)
        self.spike_ratio = float(SPIKE_RATIO if spike_ratio is None else spike_ratio)
        if not 0 < self.min_share <= 1:
            raise ValueError(f"min_share must be in (0, 1], got {self.min_share!r}")
        if self.max_atoms < 0:
            raise ValueError(f"max_atoms must be >= 0, got {self.max_atoms!r}")
        super().__init__(clip=clip)
        self.n_quantiles = n_quantiles

    def get_params(self) -> dict:
        # the resolved share and cap: a saved encoder keeps what it was fitted with
        share, cap = self.min_share, self.max_atoms
        return {**super().get_params(), "n_quantiles": self.n_quantiles} | {
            "min_share": share,
            "max_atoms": cap,
            "spike_ratio": self.spike_ratio,
            "rule": self.rule,
        }

    @property
    def _n_codes(self) -> int:
        """Width of the one-hot block (0 without atoms)."""
        return self.n_atoms + int(self.has_rest_) if self.n_atoms else 0

    # -- fit --------------------------------------------------------------------------------
    def _fit_core(self, x: np.ndarray) -> None:
        uniq, counts = np.unique(x, return_counts=True)
        self.atoms_ = uniq[
            choose_atoms(
                counts,
                x.size,
                min_share=self.min_share,
                max_atoms=self.max_atoms,
                spike_ratio=self.spike_ratio,
                rule=self.rule,
            )
        ]
        rest = x[~np.isin(x, self.atoms_)] if self.atoms_.size else x
        self.has_rest_ = bool(rest.size)
        self.cdf_ = PiecewiseCDF(self.n_quantiles).fit(rest if rest.size else x)

    @property
    def n_atoms(self) -> int:
        return len(self.atoms_)

    # -- encode / decode --------------------------------------------------------------------
    def _codes_of(self, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Atom index of each working value and whether it is an atom."""
        k = self.n_atoms
        i = np.minimum(np.searchsorted(self.atoms_, w), k - 1)
        hit = self.atoms_[i] == w
        if not self.has_rest_:  # no "other": a value between atoms takes the nearest one
            j = np.maximum(i - 1, 0)
            i = np.where(np.abs(self.atoms_[j] - w) < np.abs(self.atoms_[i] - w), j, i)
            hit[:] = True
        return i, hit

    def _slot(self, w: np.ndarray, rng) -> np.ndarray:
        return ndtri(EPS + (1 - 2 * EPS) * self.cdf_.cdf(w, rng))

    def encode_block(self, w: np.ndarray, rng=None) -> np.ndarray:
        """The value block of working values ``w`` (no missing values)."""
        w = np.asarray(w, dtype="float64")
        if not self.n_atoms:
            return self._slot(w, rng)[:, None]
        code, hit = self._codes_of(w)
        width = self._n_codes + int(self.has_rest_)
        out = np.zeros((w.size, width))
        out[np.arange(w.size), np.where(hit, code, self.n_atoms)] = 1.0
        if self.has_rest_:
            slot = np.zeros(w.size)
            slot[~hit] = self._slot(w[~hit], rng)
            if rng is not None:  # the atom rows' slot: noise that carries nothing
                slot[hit] = rng.standard_normal(int(hit.sum()))
            out[:, -1] = slot
        return out

    def decode_block(self, block: np.ndarray) -> np.ndarray:
        """Working values of a value block (the category is the arg-max of the one-hot)."""
        block = np.asarray(block, dtype="float64")
        if not self.n_atoms:
            return self._rest_values(block[:, 0])
        code = np.argmax(block[:, : self._n_codes], axis=1)
        atom = self.atoms_[np.minimum(code, self.n_atoms - 1)]
        if not self.has_rest_:
            return atom
        other = code == self.n_atoms
        out = atom.copy()
        out[other] = self._rest_values(block[other, -1])
        return out

    def _rest_values(self, z: np.ndarray) -> np.ndarray:
        return self.cdf_.ppf((ndtr(z) - EPS) / (1 - 2 * EPS))

    def encode_values(self, x: np.ndarray) -> np.ndarray:
        """Condition values in working units: the diffusion model's known slots are built
        from them by :meth:`condition_block` (a block, not one number per value)."""
        return np.asarray(x, dtype="float64") - float(getattr(self, "origin_", 0))

    def condition_block(self, w: np.ndarray) -> np.ndarray:
        """The value block of the condition values ``w`` (from :meth:`encode_values`): an atom
        gives its category with a neutral slot (0), another value "other" and its code."""
        return self.encode_block(w, rng=None)

    def _fill(self) -> np.ndarray:
        out = np.zeros(sum(s.width for s in self._value_spans()))
        if self.n_atoms:  # a missing cell: the first category, neutral slot
            out[0] = 1.0
        return out

    def _value_spans(self) -> list[Span]:
        name, k = self.spec_.name, self._n_codes
        if not k:
            return [Span(name, 0, 1, "continuous")]
        spans = [Span(name, 0, k, "softmax", "value", k)]
        if self.has_rest_:
            spans.append(Span(name, k, k + 1, "continuous"))
        return spans

    # -- persistence ------------------------------------------------------------------------
    def _core_state(self) -> dict:
        return {
            "atoms": self.atoms_.tolist(),
            "has_rest": self.has_rest_,
            "cdf": self.cdf_.get_state(),
        }

    def _set_core_state(self, state: dict) -> None:
        self.atoms_ = np.asarray(state["atoms"], dtype="float64")
        self.has_rest_ = bool(state["has_rest"])
        self.cdf_ = PiecewiseCDF.from_state(state["cdf"])
