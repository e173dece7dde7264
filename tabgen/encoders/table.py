"""``TableEncoder``: per-column encoders assembled into one float matrix and back."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tabgen.encoders.base import ColumnEncoder, Span
from tabgen.encoders.categorical import OneHotEncoder, OrdinalEncoder
from tabgen.encoders.mixed import AtomMixtureEncoder
from tabgen.encoders.mode_specific import ModeSpecificEncoder
from tabgen.encoders.numerical import MinMaxEncoder, QuantileNormalEncoder, StandardEncoder
from tabgen.encoders.special import ConstantEncoder, DatetimeEncoder, IdEncoder
from tabgen.schema import ColumnSpec, Schema

#: Explicit registry of encoder types (used to restore saved encoders; no name lookups).
ENCODERS: dict[str, type[ColumnEncoder]] = {
    cls.name: cls
    for cls in (
        QuantileNormalEncoder,
        StandardEncoder,
        MinMaxEncoder,
        ModeSpecificEncoder,
        AtomMixtureEncoder,
        OneHotEncoder,
        OrdinalEncoder,
        DatetimeEncoder,
        ConstantEncoder,
        IdEncoder,
    )
}
NUMERICAL = {
    "quantile": QuantileNormalEncoder,
    "standard": StandardEncoder,
    "minmax": MinMaxEncoder,
    "mode_specific": ModeSpecificEncoder,
    "mixed": AtomMixtureEncoder,
    "auto": AtomMixtureEncoder,
}
CATEGORICAL = {"onehot": OneHotEncoder, "ordinal": OrdinalEncoder}


class TableEncoder:
    """Encode a whole table into a float matrix with a published layout, and back.

    Parameters
    ----------
    numerical : {"quantile", "standard", "minmax", "mode_specific", "mixed", "auto"}
        Encoder for numerical and integer columns (and for datetimes, as offsets;
        ``"mode_specific"`` keeps datetimes on ``"minmax"``, ``"mixed"`` and ``"auto"`` on
        ``"quantile"``). ``"mixed"``: :class:`~tabgen.encoders.mixed.AtomMixtureEncoder`
        (heavy atoms as categories beside a quantile-normal slot); ``"auto"``: the same
        encoder choosing each column's atoms by its ``rule="auto"`` (every heavy value in
        discrete columns of small support, only spikes in the others).
    categorical : {"onehot", "ordinal"}
        Encoder for categorical columns.
    clip : bool
        Keep decoded numbers inside the training range.
    n_quantiles : int
        Knots of the quantile encoder.

    Attributes
    ----------
    encoders_ : dict
        Column name to fitted :class:`~tabgen.encoders.base.ColumnEncoder`.
    spans_ : list of Span
        The layout of the encoded matrix.

    Examples
    --------
    >>> import pandas as pd
    >>> from tabgen.schema import Schema
    >>> df = pd.DataFrame({"x": [1.5, 2.0, None], "c": ["a", "b", "a"]})
    >>> enc = TableEncoder().fit(df, Schema.detect(df))
    >>> Z = enc.transform(df)
    >>> Z.shape
    (3, 4)
    >>> enc.inverse_transform(Z).equals(df)
    True
    """

    def __init__(
        self,
        *,
        numerical: str = "quantile",
        categorical: str = "onehot",
        clip: bool = True,
        n_quantiles: int = 1000,
    ):
        if numerical not in NUMERICAL:
            raise ValueError(f"numerical must be one of {sorted(NUMERICAL)}, got {numerical!r}")
        if categorical not in CATEGORICAL:
            raise ValueError(
                f"categorical must be one of {sorted(CATEGORICAL)}, got {categorical!r}"
            )
        self.numerical = numerical
        self.categorical = categorical
        self.clip = clip
        self.n_quantiles = n_quantiles

    def _numeric(self):
        if self.numerical == "quantile":
            return QuantileNormalEncoder(n_quantiles=self.n_quantiles, clip=self.clip)
        if self.numerical in ("mixed", "auto"):
            rule = "auto" if self.numerical == "auto" else "heavy"
            return AtomMixtureEncoder(n_quantiles=self.n_quantiles, clip=self.clip, rule=rule)
        return NUMERICAL[self.numerical](clip=self.clip)

    def _make(self, spec: ColumnSpec) -> ColumnEncoder:
        if spec.kind in ("numerical", "integer"):
            return self._numeric()
        if spec.kind == "categorical":
            return CATEGORICAL[self.categorical]()
        if spec.kind == "datetime":
            if self.numerical == "mode_specific":  # one slot per datetime: min-max offsets
                return DatetimeEncoder(MinMaxEncoder(clip=self.clip))
            if self.numerical in ("mixed", "auto"):  # one slot per datetime: quantile offsets
                return DatetimeEncoder(
                    QuantileNormalEncoder(n_quantiles=self.n_quantiles, clip=self.clip)
                )
            return DatetimeEncoder(self._numeric())
        if spec.kind == "id":
            return IdEncoder()
        return ConstantEncoder()

    # -- fit / transform --------------------------------------------------------------------
    def fit(self, df: pd.DataFrame, schema: Schema) -> TableEncoder:
        self.schema_ = schema
        self.encoders_ = {}
        for spec in schema:
            self.encoders_[spec.name] = self._make(spec).fit(df[spec.name], spec)
        self._build_layout()
        return self

    def _build_layout(self) -> None:
        spans, offset, slices = [], 0, {}
        for name, enc in self.encoders_.items():
            local = enc.spans
            width = sum(s.width for s in local)
            spans.extend(s.shifted(offset) for s in local)
            slices[name] = slice(offset, offset + width)
            offset += width
        self.spans_ = spans
        self.slices_ = slices
        self.output_dim_ = offset

    def transform(self, df: pd.DataFrame, rng: np.random.Generator | None = None) -> np.ndarray:
        """Encode ``df`` (which must hold every schema column) as a float64 matrix."""
        missing = [c for c in self.schema_.names if c not in df.columns]
        if missing:
            raise ValueError(f"columns {missing!r} are missing from the data")
        blocks = [enc.transform(df[name], rng) for name, enc in self.encoders_.items()]
        out = np.hstack(blocks) if blocks else np.zeros((len(df), 0))
        return out

    def inverse_transform(self, Z: np.ndarray, *, id_offset: int = 0) -> pd.DataFrame:
        """Decode a matrix into a DataFrame with the original columns and dtypes."""
        Z = np.asarray(Z, dtype="float64")
        if Z.ndim != 2 or Z.shape[1] != self.output_dim_:
            raise ValueError(f"expected a matrix with {self.output_dim_} columns, got {Z.shape}")
        cols = {}
        for name, enc in self.encoders_.items():
            block = Z[:, self.slices_[name]]
            if isinstance(enc, IdEncoder):
                cols[name] = enc.inverse_transform(block, id_offset=id_offset)
            else:
                cols[name] = enc.inverse_transform(block)
        out = pd.DataFrame({i: s.reset_index(drop=True) for i, s in enumerate(cols.values())})
        out.columns = list(cols.keys())
        return out

    # -- layout helpers ---------------------------------------------------------------------
    @property
    def spans(self) -> list[Span]:
        return self.spans_

    def column_spans(self, name) -> list[Span]:
        return [s for s in self.spans_ if s.column == name]

    # -- persistence ------------------------------------------------------------------------
    def get_state(self) -> dict:
        return {
            "params": {
                "numerical": self.numerical,
                "categorical": self.categorical,
                "clip": self.clip,
                "n_quantiles": self.n_quantiles,
            },
            "schema": self.schema_.to_dict(),
            "encoders": [enc.get_state() for enc in self.encoders_.values()],
        }

    @classmethod
    def from_state(cls, state: dict) -> TableEncoder:
        obj = cls(**state["params"])
        obj.schema_ = Schema.from_dict(state["schema"])
        obj.encoders_ = {}
        for spec, enc_state in zip(obj.schema_, state["encoders"], strict=True):
            obj.encoders_[spec.name] = encoder_from_state(enc_state, spec)
        obj._build_layout()
        return obj


def encoder_from_state(state: dict, spec: ColumnSpec) -> ColumnEncoder:
    """Rebuild a fitted column encoder from :meth:`ColumnEncoder.get_state` output."""
    from tabgen.encoders.base import MissingIndicator

    kind = state.get("type")
    if kind not in ENCODERS:
        raise ValueError(f"unknown encoder type {kind!r} in saved state")
    cls = ENCODERS[kind]
    params = dict(state.get("params", {}))
    if cls is DatetimeEncoder:
        inner_cls = ENCODERS[params["numeric"]]
        inner = inner_cls(**params["numeric_params"])
        inner.spec_ = spec
        inner._set_state(state["state"]["numeric"]["state"])
        enc = DatetimeEncoder(inner)
    else:
        enc = cls(**params)
    enc.spec_ = spec
    enc.missing_ = MissingIndicator()
    enc.missing_.set_state(state["missing"])
    enc._set_state(state["state"])
    return enc
