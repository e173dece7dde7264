"""Encoders for numbers: quantile-to-normal, standard scaling, min-max scaling.

All share bounds and rounding on the way back: values are clipped to the range seen in
training (``clip=True``) and integer columns come out as whole numbers.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from tabgen.encoders._cdf import PiecewiseCDF
from tabgen.encoders.base import ColumnEncoder, Span
from tabgen.schema import format_text_numbers, parse_text_numbers

#: Probabilities are squeezed into [EPS, 1 - EPS] before the normal quantile (|z| <= 5.2),
#: linearly, so that the extremes stay invertible.
EPS = 1e-7


#: Integers beyond this magnitude are not exact as float64: such columns are encoded as
#: offsets from their minimum, computed exactly in integers.
EXACT_INT = 2**53
#: The largest float64 below 2**63 (offsets are converted to integers below it).
_BELOW_2_63 = float(np.nextafter(2.0**63, 0))


def as_float(values: pd.Series) -> np.ndarray:
    """Numeric values of a column (no missing cells) as float64."""
    if values.dtype == object:
        values = pd.to_numeric(values)
    return values.to_numpy(dtype="float64", na_value=np.nan)


def moments(x: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation of ``x``, scaled first when the plain formulas overflow
    (values beyond about 1e154, whose squares exceed the float64 range)."""
    with np.errstate(over="ignore", invalid="ignore"):
        mean, std = float(np.mean(x)), float(np.std(x))
    if np.isfinite(mean) and np.isfinite(std):
        return mean, std
    scale = float(np.max(np.abs(x)))
    u = x / scale
    return float(np.mean(u)) * scale, float(np.std(u)) * scale


def _int_values(values: pd.Series) -> np.ndarray | None:
    """The exact integers of an integer-dtype column (``None`` for other dtypes)."""
    if not pd.api.types.is_integer_dtype(values.dtype):
        return None
    unsigned = pd.api.types.is_unsigned_integer_dtype(values.dtype)
    return values.to_numpy(dtype="uint64" if unsigned else "int64")


class NumericEncoder(ColumnEncoder):
    """Shared behaviour of number encoders: one continuous slot, bounds, rounding.

    Subclasses implement ``_fit_core(w)``, ``encode_array(x)`` and ``decode_array(z)``.
    Integer columns whose values exceed ``2**53`` in magnitude are encoded as exact offsets
    from their minimum (``origin_``; 0 otherwise) and decoded back in integers, never below
    the training minimum or above the maximum. Numbers written as text (``"1,234.50"``,
    ``spec.info["text_number"]``) are parsed on the way in and written back in the same
    format.
    """

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
        self.origin_, self.int_range_ = 0, None
        ints = _int_values(values)
        if ints is not None and len(ints):
            lo, hi = int(ints.min()), int(ints.max())
            if max(abs(lo), abs(hi)) > EXACT_INT:
                self.int_range_ = [lo, hi]
                self.origin_ = lo if hi - lo < 2**63 else 0
        self.fit_array(self._working(values))
        if self.origin_:  # the bounds stay in the column's own units
            self.min_, self.max_ = float(self.int_range_[0]), float(self.int_range_[1])

    def _fit_empty(self) -> None:
        self.origin_, self.int_range_ = 0, None
        self.fit_array(np.zeros(1))

    def _working(self, values: pd.Series) -> np.ndarray:
        """Values as the floats the core sees: offsets from ``origin_`` (exact) for large
        integers, parsed numbers for numbers written as text, else plain floats."""
        if getattr(self, "origin_", 0):
            ints = _int_values(values)
            if ints is not None:
                return (ints - ints.dtype.type(self.origin_)).astype("float64")
            return as_float(values) - float(self.origin_)
        if self.spec_.info.get("text_number") is not None and not pd.api.types.is_numeric_dtype(
            values.dtype
        ):
            return parse_text_numbers(values)
        return as_float(values)

    def _transform(self, values: pd.Series, rng) -> np.ndarray:
        with self._working_bounds():
            return self.encode_block(self._working(values), rng)

    def encode_block(self, x: np.ndarray, rng=None) -> np.ndarray:
        """The value block of working values ``x`` (one slot here; encoders with a wider
        block override it and :meth:`decode_block`)."""
        return self.encode_array(x, rng)[:, None]

    def decode_block(self, block: np.ndarray) -> np.ndarray:
        """Working values of a value block (inverse of :meth:`encode_block`)."""
        return self.decode_array(block[:, 0].astype("float64"))

    def encode_values(self, x: np.ndarray) -> np.ndarray:
        """Encoded slot of numbers ``x`` in the column's own units (e.g. conditions)."""
        x = np.asarray(x, dtype="float64")
        with self._working_bounds():
            return self.encode_array(x - float(getattr(self, "origin_", 0)))

    @contextmanager
    def _working_bounds(self):
        """While encoding or decoding offsets from ``origin_``, the bounds are offsets too."""
        origin = getattr(self, "origin_", 0)
        if not origin:
            yield
            return
        saved = self.min_, self.max_
        lo, hi = self.int_range_
        self.min_, self.max_ = 0.0, float(hi - lo)
        try:
            yield
        finally:
            self.min_, self.max_ = saved

    def _inverse(self, block: np.ndarray) -> np.ndarray:
        with self._working_bounds():
            w = self.decode_block(block)
        return self._finish(w)

    def _finish(self, w: np.ndarray) -> np.ndarray:
        """Decoded working values as output values: bounded, rounded for integers, exact
        integers for large ones, text for numbers written as text."""
        origin = getattr(self, "origin_", 0)
        if origin:
            lo, hi = self.int_range_
            kind = np.dtype("uint64" if self.spec_.dtype.lower().startswith("uint") else "int64")
            # offsets stay in [0, hi - lo] (< 2**63), so that adding the origin cannot wrap
            w = np.clip(np.round(w), 0, min(float(hi - lo), _BELOW_2_63))
            offsets = np.minimum(np.asarray(w).astype(kind), kind.type(hi - lo))
            return offsets + kind.type(origin)
        x = self.bound(w)
        if self.spec_.kind == "integer":
            x = np.round(x)
            if self.spec_.dtype.startswith(("int", "uint", "Int", "UInt")):
                if getattr(self, "int_range_", None) is None:
                    x = x.astype("int64")
                else:  # a range too wide for offsets: stay inside it in integers
                    lo, hi = self.int_range_
                    unsigned = self.spec_.dtype.lower().startswith("uint")
                    kind = np.dtype("uint64" if unsigned else "int64")
                    top = 2 * _BELOW_2_63 if unsigned else _BELOW_2_63
                    x = np.clip(x, 0 if unsigned else -_BELOW_2_63, top)
                    x = np.clip(x.astype(kind), kind.type(lo), kind.type(hi))
        text = self.spec_.info.get("text_number")
        if text is not None and self.spec_.dtype in ("object", "str", "string"):
            return format_text_numbers(x, text)
        return x

    def _value_spans(self) -> list[Span]:
        return [Span(self.spec_.name, 0, 1, "continuous")]

    def _get_state(self) -> dict:
        state = {"min": self.min_, "max": self.max_, **self._core_state()}
        if getattr(self, "int_range_", None) is not None:
            state["int_range"] = [int(v) for v in self.int_range_]
        if getattr(self, "origin_", 0):
            state["origin"] = int(self.origin_)
        return state

    def _set_state(self, state: dict) -> None:
        self.min_, self.max_ = float(state["min"]), float(state["max"])
        self.origin_ = int(state.get("origin", 0))
        rng = state.get("int_range")
        self.int_range_ = None if rng is None else [int(rng[0]), int(rng[1])]
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
        self.mean_, std = moments(x)
        self.std_ = std if std > 0 else 1.0

    def encode_array(self, x, rng=None):
        if self.std_ > 1e150:  # huge magnitudes: x - mean could overflow
            return x / self.std_ - self.mean_ / self.std_
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
        if not np.isfinite(span):  # halves: the same numbers without overflow
            return (x / 2 - self.min_ / 2) / (self.max_ / 2 - self.min_ / 2) - 1.0
        return 2.0 * (x - self.min_) / span - 1.0

    def decode_array(self, z):
        span = self.max_ - self.min_
        if not np.isfinite(span):
            return (np.asarray(z) + 1.0) * (self.max_ / 2 - self.min_ / 2) + self.min_
        return (np.asarray(z) + 1.0) / 2.0 * (self.max_ - self.min_) + self.min_
