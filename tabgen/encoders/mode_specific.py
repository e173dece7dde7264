"""Mode-specific normalization of numbers (CTGAN's continuous-column encoding).

A variational Gaussian mixture is fitted to the column; each value becomes a scalar in
``[-1, 1]`` (its offset from the mean of one mixture component, scaled) followed by a one-hot
over the components (the *mode*). Multi-modal and spiky columns (``capital_gain``: a spike at
0 and a long tail) get one narrow mode per bump instead of one badly scaled number.

The mixture is fitted on a subsample (at most ``max_fit_rows`` values), so fitting costs the
same on 30,000 or 3 million rows; assigning every row to a mode is then a vectorised posterior
computation over the whole column. Each component's scale is widened, if needed, to cover
every training value assigned to it, so that the round trip ``inverse(transform(x)) == x`` is
exact (up to float noise) for all training values.
"""

from __future__ import annotations

import warnings

import numpy as np

from tabgen.encoders.base import Span
from tabgen.encoders.numerical import NumericEncoder, moments

#: A component's scalar is ``(x - mean) / (SCALE * std)`` (CTGAN uses 4 standard deviations).
SCALE = 4.0


class ModeSpecificEncoder(NumericEncoder):
    """Numbers as ``[scalar in [-1, 1], one-hot over mixture modes]``.

    Parameters
    ----------
    max_modes : int
        Upper bound on the mixture components.
    weight_threshold : float
        Components whose weight falls below this are dropped.
    max_fit_rows : int
        The mixture is fitted on a seeded subsample of at most this many values.
    clip : bool
        Keep decoded values inside the training range.

    Attributes
    ----------
    means_, stds_ : ndarray
        Per-mode centre and scale (in the standardised space of the column).
    weights_ : ndarray
        Per-mode weight, in decreasing order (mode 0 is the heaviest).

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from tabgen.schema import Schema
    >>> x = pd.Series(np.r_[np.zeros(50), np.linspace(100, 200, 50)], name="x")
    >>> enc = ModeSpecificEncoder().fit(x, Schema.detect(x.to_frame())["x"])
    >>> Z = enc.transform(x)
    >>> bool(np.abs(Z[:, 0]).max() <= 1), Z.shape[1] == 1 + enc.n_modes
    (True, True)
    >>> bool(np.allclose(enc.inverse_transform(Z), x))
    True
    """

    name = "mode_specific"

    def __init__(
        self,
        *,
        max_modes: int = 10,
        weight_threshold: float = 0.005,
        max_fit_rows: int = 5000,
        clip: bool = True,
    ):
        super().__init__(clip=clip)
        self.max_modes = max_modes
        self.weight_threshold = weight_threshold
        self.max_fit_rows = max_fit_rows

    def get_params(self) -> dict:
        return {
            "max_modes": self.max_modes,
            "weight_threshold": self.weight_threshold,
            "max_fit_rows": self.max_fit_rows,
            "clip": self.clip,
        }

    @property
    def n_modes(self) -> int:
        return len(self.means_)

    # -- fit --------------------------------------------------------------------------------
    def _fit_core(self, x: np.ndarray) -> None:
        self.center_, std = moments(x)
        self.spread_ = std if std > 0 else 1.0
        u = (x - self.center_) / self.spread_
        means, stds, weights = _fit_mixture(
            u, self.max_modes, self.weight_threshold, self.max_fit_rows
        )
        # widen each mode so that every training value it takes stays inside [-1, 1]
        mode = self._argmax_modes(u, means, stds, weights)
        dev = np.zeros(len(means))
        np.maximum.at(dev, mode, np.abs(u - means[mode]))
        self.means_ = means
        self.stds_ = np.maximum(stds, dev / SCALE * (1 + 1e-9))
        self.weights_ = weights

    @staticmethod
    def _log_posterior(u, means, stds, weights) -> np.ndarray:
        z = (u[:, None] - means[None, :]) / stds[None, :]
        return np.log(weights)[None, :] - np.log(stds)[None, :] - 0.5 * z * z

    def _argmax_modes(self, u, means, stds, weights) -> np.ndarray:
        return np.argmax(self._log_posterior(u, means, stds, weights), axis=1)

    # -- encode / decode --------------------------------------------------------------------
    def encode_array(self, x: np.ndarray, rng=None) -> np.ndarray:
        """One number per value (the array-level contract of numeric encoders, used e.g. for
        numeric conditions): the standardised value ``(x - mean) / std``."""
        return (np.asarray(x, dtype="float64") - self.center_) / self.spread_

    def decode_array(self, z: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`encode_array`."""
        return np.asarray(z, dtype="float64") * self.spread_ + self.center_

    def encode_block(self, x: np.ndarray, rng=None) -> np.ndarray:
        """The ``(n, 1 + n_modes)`` block of values ``x`` (no missing values).

        With ``rng`` the mode is drawn from the mixture's posterior (among the modes that can
        represent the value exactly), as CTGAN does; without it, the most probable mode.
        """
        u = (np.asarray(x, dtype="float64") - self.center_) / self.spread_
        logp = self._log_posterior(u, self.means_, self.stds_, self.weights_)
        scalar_all = (u[:, None] - self.means_[None, :]) / (SCALE * self.stds_[None, :])
        fallback = np.argmax(logp, axis=1)  # for values no mode can represent (unseen)
        logp = np.where(np.abs(scalar_all) <= 1.0, logp, -np.inf)
        fits = np.isfinite(logp.max(axis=1)) if logp.shape[1] else np.zeros(len(u), bool)
        if rng is None:
            mode = np.argmax(logp, axis=1)
        else:
            with np.errstate(invalid="ignore", over="ignore"):
                p = np.exp(logp - logp.max(axis=1, keepdims=True))
            cum = np.cumsum(np.nan_to_num(p), axis=1)
            draw = rng.random(len(u))[:, None] * cum[:, -1:]
            mode = np.minimum((cum <= draw).sum(axis=1), self.n_modes - 1)
        mode = np.where(fits, mode, fallback)
        scalar = np.clip(scalar_all[np.arange(len(u)), mode], -1.0, 1.0)
        out = np.zeros((len(u), 1 + self.n_modes))
        out[:, 0] = scalar
        out[np.arange(len(u)), 1 + mode] = 1.0
        return out

    def decode_block(self, block: np.ndarray) -> np.ndarray:
        """Values of an ``(n, 1 + n_modes)`` block (the mode is the arg-max slot)."""
        block = np.asarray(block, dtype="float64")
        mode = np.argmax(block[:, 1:], axis=1)
        scalar = np.clip(block[:, 0], -1.0, 1.0)
        u = scalar * SCALE * self.stds_[mode] + self.means_[mode]
        return u * self.spread_ + self.center_

    def _fill(self) -> np.ndarray:
        out = np.zeros(1 + self.n_modes)
        out[1] = 1.0
        return out

    def _value_spans(self) -> list[Span]:
        name, k = self.spec_.name, self.n_modes
        return [
            Span(name, 0, 1, "continuous"),
            Span(name, 1, 1 + k, "softmax", "value", k),
        ]

    # -- persistence ------------------------------------------------------------------------
    def _core_state(self) -> dict:
        return {
            "center": self.center_,
            "spread": self.spread_,
            "means": self.means_.tolist(),
            "stds": self.stds_.tolist(),
            "weights": self.weights_.tolist(),
        }

    def _set_core_state(self, state: dict) -> None:
        self.center_ = float(state["center"])
        self.spread_ = float(state["spread"])
        self.means_ = np.asarray(state["means"], dtype="float64")
        self.stds_ = np.asarray(state["stds"], dtype="float64")
        self.weights_ = np.asarray(state["weights"], dtype="float64")


def _fit_mixture(u: np.ndarray, max_modes: int, threshold: float, max_rows: int):
    """``(means, stds, weights)`` of a Bayesian Gaussian mixture on standardised values,
    heaviest mode first, light modes dropped."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import BayesianGaussianMixture

    if len(u) > max_rows:  # a seeded local generator: the same data gives the same encoder
        u = np.random.default_rng(0).choice(u, size=max_rows, replace=False)
    distinct = np.unique(u)
    k = int(min(max_modes, len(distinct)))
    if k <= 1:
        return np.array([float(distinct[0])]), np.array([1.0]), np.array([1.0])
    bgm = BayesianGaussianMixture(
        n_components=k,
        weight_concentration_prior_type="dirichlet_process",
        weight_concentration_prior=0.001,
        max_iter=100,
        n_init=1,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        bgm.fit(u[:, None])
    weights = bgm.weights_
    keep = weights >= threshold
    if not keep.any():
        keep = weights == weights.max()
    order = np.argsort(-weights[keep], kind="stable")
    means = bgm.means_[keep, 0][order]
    stds = np.sqrt(bgm.covariances_[keep].reshape(-1))[order]
    weights = weights[keep][order]
    stds = np.maximum(stds, 1e-6)
    return means, stds, weights / weights.sum()
