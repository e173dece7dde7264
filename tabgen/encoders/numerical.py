"""Encoders for numbers: quantile-to-normal, standard scaling, min-max scaling.

All share bounds and rounding on the way back: values are clipped to the range seen in
training (``clip=True``) and integer columns come out as whole numbers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from tabgen.encoders._cdf import PiecewiseCDF
from tabgen.encoders.base import ColumnEncoder, Span

#: Probabilities are squeezed into [EPS, 1 - EPS] before the normal quantile (|z| <= 5.2),
#: linearly, so that the extremes stay invertible.
EPS = 1e-7


def as_float(values: pd.Series) -> np.ndarray:
    """Numeric values of a column (no missing cells) as float64."""
    if values.dtype == object:
        values = pd.to_numeric(values)
    return values.to_numpy(dtype="float64", na_value=np.nan)


class NumericEncoder(ColumnEncoder):
    """Shared behaviour of number encoders: one continuous slot, bounds, rounding."""

    def __init__(self, *, clip: bool = True):
        self.clip = clip

    def get_params(self) -> dict:
        return {"clip": self.clip}

    # array-level core, reused by the datetime encoder
    def fit_array(self, x: np.ndarray) -> None:
        self.min_ = float(np.min(x))
        self.max_ = float(np.max(x))
        self._fit_core(x)

    def encode_array(self, x: np.ndarray, rng=None) -> np.ndarray:
        raise NotImplementedError

    def decode_array(self, z: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def bound(self, x: np.ndarray) -> np.ndarray:
        return np.clip(x, self.min_, self.max_) if self.clip else x

    # ColumnEncoder hooks
    def _fit(self, values: pd.Series) -> None:
        self.fit_array(as_float(values))

    def _fit_empty(self) -> None:
        self.fit_array(np.zeros(1))

    def _transform(self, values: pd.Series, rng) -> np.ndarray:
        return self.encode_array(as_float(values), rng)[:, None]

    def _inverse(self, block: np.ndarray) -> np.ndarray:
        x = self.bound(self.decode_array(block[:, 0].astype("float64")))
        if self.spec_.kind == "integer":
            x = np.round(x)
            if self.spec_.dtype.startswith(("int", "uint", "Int", "UInt")):
                x = x.astype("int64")
        return x

    def _value_spans(self) -> list[Span]:
        return [Span(self.spec_.name, 0, 1, "continuous")]

    def _get_state(self) -> dict:
        return {"min": self.min_, "max": self.max_, **self._core_state()}

    def _set_state(self, state: dict) -> None:
        self.min_, self.max_ = float(state["min"]), float(state["max"])
        self._set_core_state(state)

    def _fit_core(self, x):
        raise NotImplementedError

    def _core_state(self) -> dict:
        return {}

    def _set_core_state(self, state: dict) -> None:
        pass


class QuantileNormalEncoder(NumericEncoder):
    """Map values through their empirical CDF to a standard normal (as TabDDPM does).

    Values shared by many rows (atoms such as a spike at 0) map to an interval of the normal;
    when ``transform`` receives a random generator the value is spread uniformly over that
    interval (dequantisation), otherwise it goes to the interval's middle.

    Parameters
    ----------
    n_quantiles : int
        Knots of the empirical CDF.
    clip : bool
        Keep decoded values inside the training range.
    """

    name = "quantile_normal"

    def __init__(self, *, n_quantiles: int = 1000, clip: bool = True):
        super().__init__(clip=clip)
        self.n_quantiles = n_quantiles

    def get_params(self) -> dict:
        return {"n_quantiles": self.n_quantiles, "clip": self.clip}

    def _fit_core(self, x):
        self.cdf_ = PiecewiseCDF(self.n_quantiles).fit(x)

    def encode_array(self, x, rng=None):
        u = self.cdf_.cdf(x, rng)
        return ndtri(EPS + (1 - 2 * EPS) * u)

    def decode_array(self, z):
        return self.cdf_.ppf((ndtr(z) - EPS) / (1 - 2 * EPS))

    def _core_state(self):
        return {"cdf": self.cdf_.get_state()}

    def _set_core_state(self, state):
        self.cdf_ = PiecewiseCDF.from_state(state["cdf"])


class StandardEncoder(NumericEncoder):
    """``(x - mean) / std``."""

    name = "standard"

    def _fit_core(self, x):
        self.mean_ = float(np.mean(x))
        std = float(np.std(x))
        self.std_ = std if std > 0 else 1.0

    def encode_array(self, x, rng=None):
        return (x - self.mean_) / self.std_

    def decode_array(self, z):
        return z * self.std_ + self.mean_

    def _core_state(self):
        return {"mean": self.mean_, "std": self.std_}

    def _set_core_state(self, state):
        self.mean_, self.std_ = float(state["mean"]), float(state["std"])


class MinMaxEncoder(NumericEncoder):
    """Scale the training range to ``[-1, 1]`` (for ``tanh`` heads)."""

    name = "minmax"

    def _fit_core(self, x):
        pass

    def encode_array(self, x, rng=None):
        span = self.max_ - self.min_
        if span == 0:
            return np.zeros_like(x)
        return 2.0 * (x - self.min_) / span - 1.0

    def decode_array(self, z):
        return (np.asarray(z) + 1.0) / 2.0 * (self.max_ - self.min_) + self.min_
