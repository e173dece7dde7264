"""The conditions of ``sample``: parsing, checking against the fitted columns, encoding
into the encoder's value space, and enforcing them on the decoded rows.

:class:`Conditions` is what a model's ``_sample`` hook receives; :class:`ConditionHandling`
(a base of :class:`~tabgen.synthesizers.base.BaseSynthesizer`) turns the user's
``conditions=`` into it and checks the result.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tabgen._validation import conditions_frame
from tabgen.encoders.categorical import CategoricalEncoder
from tabgen.encoders.numerical import NumericEncoder
from tabgen.schema import format_text_numbers, parse_text_numbers

__all__ = ["ConditionHandling", "Conditions"]


@dataclass
class Conditions:
    """Fixed values for some columns, one value per output row.

    Attributes
    ----------
    frame : pandas.DataFrame
        ``n`` rows, one column per conditioned column. No missing cells, except for models
        with ``_row_conditions = True``, where NaN marks a free cell of that row.
    encoded : dict
        Column name to a float array of the value in the encoder's own value space: the
        category code for categorical columns, the encoded number for numeric ones (NaN
        for free cells).
    present : tuple
        Columns whose cells must come out observed (not missing) even where not fixed.
    completes : bool
        The rows are given rows being completed (``fill_missing``, inpainting): the model's
        own draws, never the candidate selection (its gain is on whole rows).
    """

    frame: pd.DataFrame
    encoded: dict
    #: Unconditioned columns whose cells must come out non-missing (used by imputation).
    present: tuple = ()
    #: Given rows being completed (``fill_missing``): drawn without the candidate selection.
    completes: bool = False

    @property
    def columns(self) -> list:
        return list(self.frame.columns)

    def __len__(self) -> int:
        return len(self.frame)

    def take(self, rows) -> Conditions:
        """The conditions of the rows at positions ``rows`` (in that order)."""
        return Conditions(
            frame=self.frame.iloc[rows].reset_index(drop=True),
            encoded={c: np.asarray(v)[rows] for c, v in self.encoded.items()},
            present=self.present,
            completes=self.completes,
        )


class ConditionHandling:
    """Mixin of :class:`~tabgen.synthesizers.base.BaseSynthesizer`: the conditions of
    ``sample`` (reads ``schema_``, ``encoder_``, ``columns_`` and the model's
    ``_numeric_conditions``)."""

    def _parse_conditions(self, n, conditions) -> pd.DataFrame | None:
        frame = conditions_frame(conditions, n, self.columns_)
        if frame is None:
            return None
        for col in frame.columns:
            kind = self.schema_[col].kind
            if not self._can_condition_on(col):
                raise ValueError(
                    f"cannot condition on column {col!r} of kind {kind!r} with "
                    f"{type(self).__name__}; condition on categorical"
                    + (" or numeric" if self._numeric_conditions else "")
                    + " columns"
                )
            self._check_condition_values(col, frame[col].dropna())
        return frame

    def can_condition_on(self, column) -> bool:
        """Whether ``sample(conditions=...)`` accepts the fitted ``column``: categorical
        columns always, numeric ones when ``capabilities.numeric_conditions``."""
        self._check_fitted()
        return self._can_condition_on(column)

    def _can_condition_on(self, col) -> bool:
        """Whether ``sample(conditions=...)`` accepts the fitted column ``col``: categorical
        columns always, numeric ones when the model conditions on numbers."""
        rules = getattr(self, "constraints_", None)
        if rules is not None and col in rules.columns_ and col not in self.schema_.names:
            return True  # derived by a rule: conditions go through what it is derived from
        kind = self.schema_[col].kind
        return kind == "categorical" or (
            kind in ("numerical", "integer") and self._numeric_conditions
        )

    def _check_condition_values(self, col, values: pd.Series) -> None:
        enc = self.encoder_.encoders_[col]
        if isinstance(enc, CategoricalEncoder):
            for v in pd.unique(values.to_numpy(dtype=object)):
                enc.code_of(v)
            return
        try:
            x = self._condition_numbers(col, values)
        except (ValueError, TypeError):
            bad = next(v for v in values if not isinstance(v, numbers.Number))
            raise ValueError(
                f"condition on numeric column {col!r} is not a number: {bad!r}"
            ) from None
        bad = ~np.isfinite(x) | (x < enc.min_) | (x > enc.max_)
        if bad.any():
            raise ValueError(
                f"condition value {x[bad][0]!r} for column {col!r} is outside the training "
                f"range [{enc.min_}, {enc.max_}]"
            )
        if self.schema_[col].kind == "integer":
            frac = x != np.round(x)
            if frac.any():
                raise ValueError(
                    f"condition value {float(x[frac][0])!r} for integer column {col!r} is not a "
                    "whole number; pass a whole number (round it yourself if intended)"
                )

    def _condition_numbers(self, col, values: pd.Series) -> np.ndarray:
        """Numeric condition values as floats (numbers written as text are parsed)."""
        if self.schema_[col].info.get("text_number") is not None:
            return parse_text_numbers(values)
        return pd.to_numeric(values).to_numpy(dtype="float64")

    def _encode_conditions(self, frame: pd.DataFrame) -> Conditions:
        encoded = {}
        for col in frame.columns:
            enc = self.encoder_.encoders_[col]
            values = frame[col]
            known = values.notna().to_numpy()
            out = np.full(len(frame), np.nan)
            if isinstance(enc, CategoricalEncoder):
                out[known] = enc.codes(values[known])
            else:
                assert isinstance(enc, NumericEncoder)
                out[known] = enc.encode_values(self._condition_numbers(col, values[known]))
            encoded[col] = out
        return Conditions(frame=frame.reset_index(drop=True), encoded=encoded)

    def _enforce(self, out: pd.DataFrame, cond: pd.DataFrame) -> None:
        """Check categorical conditions held; write numeric ones exactly (float noise)."""
        for col in cond.columns:
            want = cond[col].reset_index(drop=True)
            fixed = want.notna().to_numpy()
            if self.schema_[col].kind == "categorical":
                got = out[col].astype(object).reset_index(drop=True)
                got = got.where(got.notna(), None)  # pd.NA cannot be compared
                bad = (got.to_numpy() != want.where(fixed, None).to_numpy(dtype=object)) & fixed
                if bad.any():
                    raise RuntimeError(
                        f"internal error: {type(self).__name__} produced {got[bad].iloc[0]!r} "
                        f"for column {col!r} conditioned on {want[bad].iloc[0]!r}"
                    )
            else:
                column = out[col].copy()
                rows = np.flatnonzero(fixed)
                text = self.schema_[col].info.get("text_number")
                if text is not None and not pd.api.types.is_numeric_dtype(column.dtype):
                    values = format_text_numbers(self._condition_numbers(col, want[fixed]), text)
                else:
                    values = pd.to_numeric(want[fixed]).to_numpy()
                column.iloc[rows] = values
                out[col] = column
