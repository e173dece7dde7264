"""Encoders for datetimes, constant columns and id columns."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tabgen.encoders.base import ColumnEncoder, Span
from tabgen.encoders.numerical import NumericEncoder

_NS = {
    "day": 86_400 * 10**9,
    "hour": 3_600 * 10**9,
    "minute": 60 * 10**9,
    "second": 10**9,
    "millisecond": 10**6,
    "microsecond": 10**3,
    "nanosecond": 1,
}


class DatetimeEncoder(ColumnEncoder):
    """Datetimes as numbers (nanoseconds from the earliest value, UTC), through a numeric
    encoder; the output is rounded to the finest resolution seen in training (days, hours,
    ..., nanoseconds) and gets back its timezone, dtype, or string format.

    Parameters
    ----------
    numeric : NumericEncoder
        The encoder applied to the nanosecond offsets.
    """

    name = "datetime"

    def __init__(self, numeric: NumericEncoder):
        self.numeric = numeric

    def get_params(self) -> dict:
        return {"numeric": self.numeric.name, "numeric_params": self.numeric.get_params()}

    def _as_ns(self, values: pd.Series) -> np.ndarray:
        fmt = self.spec_.info.get("format")
        name = self.spec_.name
        if fmt is not None:
            try:
                ts = pd.to_datetime(values, format=fmt)
            except (ValueError, TypeError) as exc:
                raise ValueError(
                    f"column {name!r}: cannot parse dates with {fmt!r}: {exc}"
                ) from None
        else:
            ts = pd.to_datetime(values)
        if getattr(ts.dtype, "tz", None) is not None:
            ts = ts.dt.tz_convert("UTC").dt.tz_localize(None)
        try:
            ts = ts.dt.as_unit("ns")
        except (AttributeError, pd.errors.OutOfBoundsDatetime) as exc:
            raise ValueError(f"column {name!r}: dates out of the supported range: {exc}") from None
        return ts.to_numpy().view("int64")

    def _fit(self, values):
        ns = self._as_ns(values)
        self.origin_ = int(ns.min())
        rel = ns - self.origin_
        self.step_ = next(
            (s for s in _NS.values() if np.all(rel % s == 0) and np.all(ns % s == 0)), 1
        )
        self.numeric.spec_ = self.spec_
        self.numeric.fit_array(rel.astype("float64"))

    def _transform(self, values, rng):
        rel = (self._as_ns(values) - self.origin_).astype("float64")
        return self.numeric.encode_array(rel, rng)[:, None]

    def _inverse(self, block):
        rel = self.numeric.bound(self.numeric.decode_array(block[:, 0].astype("float64")))
        steps = np.round(rel / self.step_).astype("int64") * self.step_
        ns = self.origin_ + steps
        ts = pd.Series(pd.to_datetime(ns, unit="ns"))
        tz = self.spec_.info.get("tz")
        if tz is not None:
            ts = ts.dt.tz_localize("UTC").dt.tz_convert(tz)
        fmt = self.spec_.info.get("format")
        if fmt is not None:
            return ts.dt.strftime(fmt).to_numpy(dtype=object)
        dtype = self.spec_.dtype
        return ts.astype(dtype).to_numpy() if tz is None else ts.astype(dtype).array

    def _value_spans(self):
        return [Span(self.spec_.name, 0, 1, "continuous")]

    def _get_state(self):
        return {
            "origin": self.origin_,
            "step": self.step_,
            "numeric": {"state": self.numeric._get_state()},
        }

    def _set_state(self, state):
        self.origin_ = int(state["origin"])
        self.step_ = int(state["step"])


class ConstantEncoder(ColumnEncoder):
    """No slots; the output repeats the training value (or stays all-missing)."""

    name = "constant"

    def fit(self, col, spec):
        super().fit(col, spec)
        self.missing_.enabled_ = False  # an all-missing column is a constant, not a rate
        return self

    def _fit(self, values):
        pass

    def _fit_empty(self):
        pass

    def _value_spans(self):
        return []

    def transform(self, col, rng=None):
        return np.zeros((len(col), 0))

    def _inverse(self, block):
        value = self.spec_.info.get("value")
        out = np.empty(block.shape[0], dtype=object)
        out[:] = [value] * block.shape[0]
        if self.spec_.dtype.startswith("datetime64") and value is not None:
            out[:] = [pd.Timestamp(value)] * block.shape[0]
        return out

    def inverse_transform(self, block, **kwargs):
        from tabgen.encoders.base import to_series

        values = self._inverse(block)
        mask = np.full(block.shape[0], self.spec_.info.get("value") is None)
        if not mask.any() and self.spec_.dtype.startswith(("int", "uint")):
            values = values.astype(self.spec_.dtype)
        return to_series(values, mask, self.spec_)


class IdEncoder(ColumnEncoder):
    """No slots; unique keys are regenerated, never learned.

    Integer ids continue after the largest training id (so they never collide with a real
    one); string ids are ``"<prefix><number>"`` with the prefix ``syn-``.
    """

    name = "id"

    def _fit(self, values):
        if pd.api.types.is_numeric_dtype(values.dtype):
            self.numeric_ = True
            self.start_ = int(pd.to_numeric(values).max()) + 1
        else:
            self.numeric_ = False
            self.start_ = 0

    def _fit_empty(self):
        self.numeric_, self.start_ = False, 0

    def transform(self, col, rng=None):
        return np.zeros((len(col), 0))

    def _value_spans(self):
        return []

    def inverse_transform(self, block, *, id_offset: int = 0, **kwargs):
        from tabgen.encoders.base import to_series

        n = block.shape[0]
        numbers = self.start_ + id_offset + np.arange(n, dtype="int64")
        if self.numeric_:
            values = numbers
        else:
            values = np.char.add("syn-", numbers.astype(str)).astype(object)  # vectorised
        return to_series(values, np.zeros(n, dtype=bool), self.spec_)

    def _get_state(self):
        return {"numeric": self.numeric_, "start": self.start_}

    def _set_state(self, state):
        self.numeric_, self.start_ = bool(state["numeric"]), int(state["start"])
