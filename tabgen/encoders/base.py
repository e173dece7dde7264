"""The column-encoder contract, the output layout (spans) and the shared missingness indicator.

Every encoder turns one column into a float block of fixed width and back. It publishes its
layout as :class:`Span` objects; network heads, losses and conditional samplers read the
layout and never look at column types. Missing values are handled once, here: any encoder
fitted on a column with missing cells gets a trailing binary *missing* slot, and the value
slots of a missing row hold a neutral fill.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd

from tabgen.schema import ColumnSpec

SpanKind = Literal["continuous", "softmax", "binary", "index"]


@dataclass(frozen=True)
class Span:
    """A block of output slots.

    Attributes
    ----------
    column : str or int
        The column the slots belong to.
    start, stop : int
        Slot range ``[start, stop)`` in the encoded matrix.
    kind : {"continuous", "softmax", "binary", "index"}
        ``continuous``: one real value; ``softmax``: a one-hot block; ``binary``: one 0/1 slot;
        ``index``: one slot holding a category code in ``[0, n_categories)``.
    role : {"value", "missing"}
        ``missing`` marks the missingness indicator.
    n_categories : int
        Width of a softmax block / number of codes of an index slot (0 otherwise).
    """

    column: Any
    start: int
    stop: int
    kind: str
    role: str = "value"
    n_categories: int = 0

    @property
    def width(self) -> int:
        return self.stop - self.start

    @property
    def slice(self) -> slice:
        return slice(self.start, self.stop)

    def shifted(self, offset: int) -> Span:
        return Span(
            self.column,
            self.start + offset,
            self.stop + offset,
            self.kind,
            self.role,
            self.n_categories,
        )


class MissingIndicator:
    """Reusable missingness component: one binary slot when the training column had NaN."""

    def fit(self, mask: np.ndarray) -> MissingIndicator:
        self.enabled_ = bool(mask.any())
        self.rate_ = float(mask.mean()) if mask.size else 0.0
        return self

    @property
    def width(self) -> int:
        return 1 if self.enabled_ else 0

    def transform(self, mask: np.ndarray) -> np.ndarray:
        if not self.enabled_:
            return np.zeros((mask.size, 0))
        return mask.astype("float64")[:, None]

    def inverse_transform(self, block: np.ndarray) -> np.ndarray:
        if not self.enabled_:
            return np.zeros(block.shape[0], dtype=bool)
        return block[:, 0] > 0.5

    def get_state(self) -> dict:
        return {"enabled": self.enabled_, "rate": self.rate_}

    def set_state(self, state: dict) -> None:
        self.enabled_ = bool(state["enabled"])
        self.rate_ = float(state["rate"])


class ColumnEncoder:
    """Base class of per-column reversible encoders.

    Subclasses implement ``_fit(values)``, ``_transform(values, rng)``, ``_inverse(block)``,
    ``_value_spans()``, ``_fill()`` and ``_get_state`` / ``_set_state``; this class handles
    missing cells, the layout and the final output dtype.
    """

    #: Name used in saved files; the explicit registry in ``tabgen.encoders`` maps it back.
    name: ClassVar[str] = "base"

    def fit(self, col: pd.Series, spec: ColumnSpec) -> ColumnEncoder:
        self.spec_ = spec
        mask = col.isna().to_numpy()
        self.missing_ = MissingIndicator().fit(mask)
        observed = col[~mask]
        if len(observed):
            self._fit(observed)
        else:
            self._fit_empty()
        return self

    # -- layout -----------------------------------------------------------------------------
    @property
    def spans(self) -> list[Span]:
        spans = list(self._value_spans())
        width = sum(s.width for s in spans)
        if self.missing_.enabled_:
            spans.append(Span(self.spec_.name, width, width + 1, "binary", "missing"))
        return spans

    @property
    def width(self) -> int:
        return sum(s.width for s in self.spans)

    # -- transform --------------------------------------------------------------------------
    def transform(self, col: pd.Series, rng: np.random.Generator | None = None) -> np.ndarray:
        mask = col.isna().to_numpy()
        vw = sum(s.width for s in self._value_spans())
        block = np.empty((len(col), vw), dtype="float64")
        if vw:
            if (~mask).any():
                block[~mask] = self._transform(col[~mask], rng)
            if mask.any():
                block[mask] = self._fill()
        if mask.any() and not self.missing_.enabled_:
            raise ValueError(
                f"column {self.spec_.name!r} has missing values but had none when the encoder "
                "was fitted"
            )
        return np.hstack([block, self.missing_.transform(mask)])

    def inverse_transform(self, block: np.ndarray, **kwargs) -> pd.Series:
        vw = block.shape[1] - self.missing_.width
        values = self._inverse(block[:, :vw], **kwargs)
        mask = self.missing_.inverse_transform(block[:, vw:])
        return to_series(values, mask, self.spec_)

    # -- hooks ------------------------------------------------------------------------------
    def _fit(self, values: pd.Series) -> None:
        raise NotImplementedError

    def _fit_empty(self) -> None:
        raise ValueError(f"column {self.spec_.name!r} has no observed value to fit on")

    def _transform(self, values: pd.Series, rng) -> np.ndarray:
        raise NotImplementedError

    def _inverse(self, block: np.ndarray, **kwargs) -> np.ndarray:
        raise NotImplementedError

    def _value_spans(self) -> list[Span]:
        raise NotImplementedError

    def _fill(self) -> np.ndarray:
        return np.zeros(sum(s.width for s in self._value_spans()))

    # -- persistence ------------------------------------------------------------------------
    def get_state(self) -> dict:
        return {
            "type": self.name,
            "params": self.get_params(),
            "spec": self.spec_.__dict__,
            "missing": self.missing_.get_state(),
            "state": self._get_state(),
        }

    def get_params(self) -> dict:
        return {}

    def _get_state(self) -> dict:
        return {}

    def _set_state(self, state: dict) -> None:
        pass


# ---------------------------------------------------------------------------------------------
# output dtype restoration
# ---------------------------------------------------------------------------------------------
def _string_dtype(name: str):
    if name == "string":
        return pd.StringDtype()
    try:  # pandas >= 2.3 / 3.x default string dtype
        return pd.StringDtype(na_value=np.nan)
    except TypeError:  # pandas 2.2: no NaN-semantics string dtype; use object
        return object


def to_series(values: np.ndarray, mask: np.ndarray, spec: ColumnSpec) -> pd.Series:
    """Build the output column with the input's dtype; ``mask`` marks missing cells."""
    dtype = spec.dtype
    n = len(values)
    has_nan = bool(mask.any())
    if dtype == "category":
        cats = spec.info.get("categories", [])
        vals = np.asarray(values, dtype=object).copy()
        vals[mask] = None
        out = pd.Categorical(vals, categories=cats, ordered=spec.info.get("ordered", False))
        return pd.Series(out, name=spec.name)
    if dtype in ("str", "string"):
        vals = np.asarray(values, dtype=object).copy()
        vals[mask] = None
        return pd.Series(vals, name=spec.name, dtype=object).astype(_string_dtype(dtype))
    if dtype == "object":
        vals = np.empty(n, dtype=object)
        vals[:] = list(values) if n else []
        vals[mask] = np.nan  # pandas' own marker for missing objects (read_csv gives NaN)
        return pd.Series(vals, name=spec.name, dtype=object)
    if dtype == "bool":
        vals = np.asarray(values, dtype=object).copy()
        if has_nan:
            vals[mask] = None
            return pd.Series(vals, name=spec.name, dtype=object)
        return pd.Series(vals.astype(bool), name=spec.name)
    if dtype == "boolean" or dtype.startswith(("Int", "UInt", "Float")):
        vals = np.asarray(values, dtype=object).copy()
        vals[mask] = None
        return pd.Series(pd.array(list(vals), dtype=dtype), name=spec.name)
    if dtype.startswith(("int", "uint")):
        if has_nan:
            vals = np.asarray(values, dtype="float64").copy()
            vals[mask] = np.nan
            return pd.Series(vals, name=spec.name)
        return pd.Series(np.asarray(values).astype(dtype), name=spec.name)
    if dtype.startswith("float"):
        vals = np.asarray(values, dtype="float64").copy()
        vals[mask] = np.nan
        return pd.Series(vals.astype(dtype), name=spec.name)
    if dtype.startswith("datetime64"):
        ser = pd.Series(values, name=spec.name)
        ser[mask] = pd.NaT
        return ser.astype(dtype)
    raise TypeError(f"column {spec.name!r}: cannot restore dtype {dtype!r}")


def is_nan(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))
