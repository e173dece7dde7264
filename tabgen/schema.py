"""Column kinds, their automatic detection, user overrides and the JSON round trip.

A :class:`Schema` holds one :class:`ColumnSpec` per column, in the frame's order. It is
detected from a DataFrame (:meth:`Schema.detect`), any column can be overridden by the user
(``overrides={"PAY_0": "categorical"}``), and it round-trips through JSON so a saved model
restores the exact output dtypes.

Kinds
-----
``numerical``   float values.
``integer``     numeric values that are all whole numbers (rounded on output).
``categorical`` strings, pandas categories, booleans, or anything the user declares.
``datetime``    ``datetime64`` (with or without a timezone) and ISO-like date strings.
``id``          unique keys: regenerated on output, never learned.
``constant``    a single value (possibly all missing): reproduced as is.
"""

from __future__ import annotations

import json
import math
import re
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from tabgen._frames import (  # re-exported: the boundary of tabgen's tables
    ARROW_ATTR,
    arrow_type,
    check_frame,
    check_n_features,
    dtype_name,
    is_table,
    native_frame,
    restore_arrow,
    restore_dtypes,
    to_arrow_series,
)
from tabgen._textvalues import (  # parsing and formatting re-exported for the encoders
    DATETIME_FORMATS,
    all_whole,
    format_text_numbers,
    id_like_values,
    is_number,
    parse_text_numbers,
    string_datetime_format,
    text_number_format,
)

__all__ = [
    "ARROW_ATTR",
    "KINDS",
    "ColumnKind",
    "ColumnSpec",
    "Schema",
    "SchemaWarning",
    "arrow_type",
    "check_frame",
    "check_n_features",
    "dtype_name",
    "format_text_numbers",
    "is_table",
    "native_frame",
    "parse_text_numbers",
    "restore_arrow",
    "restore_dtypes",
    "to_arrow_series",
]

ColumnKind = Literal["numerical", "integer", "categorical", "datetime", "id", "constant"]
KINDS: tuple[str, ...] = ("numerical", "integer", "categorical", "datetime", "id", "constant")

_ID_NAME = re.compile(r"(^|[_\s.-])(id|uuid|guid|key)$|^(id|uuid|guid)([_\s.-]|$)", re.IGNORECASE)
#: A string column with all values distinct is an ``id`` only from this many rows on; a
#: string column of numbers is parsed as numbers only from this many distinct values on.
MIN_ID_ROWS = 20


class SchemaWarning(UserWarning):
    """A column's kind was decided on evidence that may be wrong (reported once, at fit).

    The message names the column, the kind chosen and the ``schema={...}`` override that
    chooses otherwise; the reason is also kept in ``schema_[column].info["detected"]``.
    """


@dataclass
class ColumnSpec:
    """What tabgen knows about one column.

    Parameters
    ----------
    name : str or int
        Column label.
    kind : str
        One of ``numerical``, ``integer``, ``categorical``, ``datetime``, ``id``, ``constant``.
    dtype : str
        The pandas dtype of the input column (restored on output).
    nullable : bool
        Whether the training column held missing values.
    info : dict
        Kind-specific details (category order of a ``category`` dtype, datetime format,
        the constant value, the text format of numbers written as text, the reason for a
        non-obvious kind ...), JSON-serialisable.
    arrow : str, optional
        The Arrow type of an Arrow-backed input column (``pd.ArrowDtype``, ``dtype_backend=
        "pyarrow"``, polars or pyarrow input), e.g. ``"timestamp[us, tz=UTC]"``. The model
        works on the NumPy/pandas ``dtype`` it was converted to; sampled columns get the
        Arrow type back (:func:`restore_dtypes`).
    """

    name: str | int
    kind: str
    dtype: str
    nullable: bool = False
    info: dict[str, Any] = field(default_factory=dict)
    arrow: str | None = None


class Schema:
    """Ordered column specifications of a table.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"age": [31, 45, 27], "city": ["Oslo", "Rome", "Oslo"]})
    >>> schema = Schema.detect(df)
    >>> schema.kinds
    {'age': 'integer', 'city': 'categorical'}
    >>> Schema.from_json(schema.to_json()).kinds == schema.kinds
    True
    """

    def __init__(self, columns: list[ColumnSpec]):
        self.columns = list(columns)

    # -- access -----------------------------------------------------------------------------
    @property
    def names(self) -> list:
        return [c.name for c in self.columns]

    @property
    def kinds(self) -> dict:
        return {c.name: c.kind for c in self.columns}

    def __getitem__(self, name) -> ColumnSpec:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def __contains__(self, name) -> bool:
        return any(c.name == name for c in self.columns)

    def __len__(self) -> int:
        return len(self.columns)

    def __iter__(self):
        return iter(self.columns)

    def __eq__(self, other) -> bool:
        return isinstance(other, Schema) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        inner = ", ".join(f"{c.name!r}: {c.kind}" for c in self.columns)
        return f"Schema({{{inner}}})"

    # -- detection --------------------------------------------------------------------------
    @classmethod
    def detect(cls, df: pd.DataFrame, overrides: dict | None = None) -> Schema:
        """Detect the kind of every column of ``df``.

        Parameters
        ----------
        df : pandas.DataFrame
            A validated frame (see :func:`tabgen.schema.check_frame`).
        overrides : dict, optional
            ``{column: kind}`` forcing the kind of some columns.

        Returns
        -------
        Schema
        """
        overrides = dict(overrides or {})
        unknown = [c for c in overrides if c not in df.columns]
        if unknown:
            raise ValueError(
                f"schema override names column(s) {unknown!r} that are not in the data; "
                f"columns are {list(df.columns)!r}"
            )
        arrow = df.attrs.get(ARROW_ATTR, {})
        specs = []
        for name in df.columns:
            kind = overrides.get(name)
            if kind is not None and kind not in KINDS:
                raise ValueError(
                    f"schema override for column {name!r} has unknown kind {kind!r}; "
                    f"choose one of {KINDS}"
                )
            spec = _detect_column(name, df[name], kind)
            spec.arrow = arrow.get(name)
            specs.append(spec)
        return cls(specs)

    # -- JSON -------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {"columns": [asdict(c) for c in self.columns]}

    @classmethod
    def from_dict(cls, d: dict) -> Schema:
        try:
            cols = [ColumnSpec(**c) for c in d["columns"]]
        except (KeyError, TypeError) as exc:
            raise ValueError(f"malformed schema: {exc}") from None
        for c in cols:
            if c.kind not in KINDS:
                raise ValueError(f"malformed schema: column {c.name!r} has kind {c.kind!r}")
        return cls(cols)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), allow_nan=False)

    @classmethod
    def from_json(cls, text: str) -> Schema:
        return cls.from_dict(json.loads(text))


def _is_bool_like(col: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(col.dtype):
        return True
    if col.dtype == object:
        vals = col.dropna()
        return len(vals) > 0 and all(isinstance(v, (bool, np.bool_)) for v in vals)
    return False


def _json_scalar(v):
    """A Python scalar that JSON keeps with its type (int, float, str, bool, None)."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return None if math.isnan(v) else float(v)
    if isinstance(v, str):
        return v
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    raise TypeError(f"value {v!r} of type {type(v).__name__} cannot be stored in a schema")


def _detect_column(name, col: pd.Series, kind: str | None) -> ColumnSpec:
    dtype = dtype_name(col.dtype)
    nullable = bool(col.isna().any())
    spec = ColumnSpec(name=name, kind="", dtype=dtype, nullable=nullable)
    if isinstance(col.dtype, pd.CategoricalDtype):
        spec.info["categories"] = [_json_scalar(c) for c in col.cat.categories]
        spec.info["ordered"] = bool(col.cat.ordered)
    if kind is None:
        kind = _guess_kind(name, col, spec)
    else:
        _check_override(name, col, kind, spec)
    spec.kind = kind
    if kind == "constant":
        vals = col.dropna()
        spec.info["value"] = None if len(vals) == 0 else _constant_value(name, vals.iloc[0])
    if kind == "datetime" and "format" not in spec.info and not _is_datetime_dtype(col):
        fmt = string_datetime_format(col)
        if fmt is None:
            raise ValueError(
                f"column {name!r} was declared datetime but its values (e.g. "
                f"{col.dropna().iloc[0]!r}) match none of the formats {DATETIME_FORMATS}"
            )
        spec.info["format"] = fmt
    if kind == "datetime" and _is_datetime_dtype(col):
        tz = getattr(col.dtype, "tz", None)
        spec.info["tz"] = None if tz is None else str(tz)
    return spec


def _constant_value(name, v):
    try:
        return _json_scalar(v)
    except TypeError:
        raise TypeError(
            f"column {name!r} is constant with value {v!r} of type {type(v).__name__}, "
            "which cannot be stored"
        ) from None


def _is_datetime_dtype(col: pd.Series) -> bool:
    return pd.api.types.is_datetime64_any_dtype(col.dtype)


def _guess_kind(name, col: pd.Series, spec: ColumnSpec) -> str:
    non_null = col.dropna()
    if col.nunique(dropna=False) <= 1:
        return "constant"
    if isinstance(col.dtype, pd.CategoricalDtype) or _is_bool_like(col):
        return "categorical"
    if _is_datetime_dtype(col):
        return "datetime"
    if pd.api.types.is_timedelta64_dtype(col.dtype):
        raise TypeError(f"column {name!r} holds timedeltas, which are not supported yet")
    if pd.api.types.is_numeric_dtype(col.dtype):
        if pd.api.types.is_integer_dtype(col.dtype) or all_whole(non_null):
            if (
                pd.api.types.is_integer_dtype(col.dtype)
                and _ID_NAME.search(str(name))
                and non_null.is_unique
                and len(non_null) >= MIN_ID_ROWS
                and not spec.nullable
            ):
                return "id"
            return "integer"
        return "numerical"
    # object / string columns
    types = {type(v) for v in non_null}
    if types and types <= {str}:
        fmt = string_datetime_format(col)
        if fmt is not None:
            spec.info["format"] = fmt
            return "datetime"
        return _guess_text_kind(name, non_null, spec)
    # mixed-type objects: kept as categories with their Python types
    for v in non_null:
        try:
            _json_scalar(v)
        except TypeError:
            raise TypeError(
                f"column {name!r} holds a value {v!r} of type {type(v).__name__}; "
                "supported cell types are numbers, strings, booleans and dates"
            ) from None
    if all(isinstance(v, (int, float, np.integer, np.floating)) for v in non_null):
        # an object column holding only numbers (e.g. ints with None)
        return "integer" if all_whole(pd.to_numeric(non_null)) else "numerical"
    return "categorical"


def _guess_text_kind(name, values: pd.Series, spec: ColumnSpec) -> str:
    """Kind of a column of strings (no dates).

    An ``id`` only when it is clearly a key: all values distinct, none missing, and an
    id-like name or id-like values (UUIDs, e-mail addresses, hex digests, one prefix
    followed by numbers). Numbers written as text (``"1,234.50"``; no leading zeros, at
    least :data:`MIN_ID_ROWS` distinct values) are numbers. Anything else is categorical.
    A non-obvious decision is reported with a :class:`SchemaWarning`.
    """
    unique = values.is_unique and len(values) >= MIN_ID_ROWS and not spec.nullable
    if unique and _ID_NAME.search(str(name)):
        return "id"
    text = text_number_format(values)
    if text is not None and values.nunique() >= MIN_ID_ROWS:
        spec.info["text_number"] = text
        kind = "integer" if text["decimals"] == 0 else "numerical"
        _report(name, spec, kind, "every value is a number written as text", "categorical")
        return kind
    looks = id_like_values(values) if unique else None
    if looks == "key":  # UUIDs, e-mail addresses: keys beyond doubt
        return "id"
    if looks == "code":
        _report(name, spec, "id", "every value is distinct and looks like a key", "categorical")
        return "id"
    if unique:
        _report(
            name,
            spec,
            "categorical",
            "every value is distinct but neither the name nor the values look like a key "
            "(sampled values repeat training values)",
            "id",
        )
    return "categorical"


def _report(name, spec: ColumnSpec, kind: str, why: str, other: str) -> None:
    spec.info["detected"] = why
    warnings.warn(
        f"column {name!r} is modelled as {kind!r}: {why}. To choose otherwise pass "
        f"schema={{{name!r}: {other!r}}}",
        SchemaWarning,
        stacklevel=_caller_level(),
    )


def _caller_level() -> int:
    """``stacklevel`` that points a warning at the first caller outside tabgen."""
    import os
    import sys

    package = os.path.dirname(os.path.abspath(__file__)) + os.sep
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(package):
        frame, level = frame.f_back, level + 1
    return level


def _check_override(name, col: pd.Series, kind: str, spec: ColumnSpec) -> None:
    if kind in ("numerical", "integer"):
        observed = col.dropna()
        text = None
        if len(observed) and observed.map(type).eq(str).all():
            text = text_number_format(observed, strict=False)
        if text is not None:
            spec.info["text_number"] = text
            observed = pd.Series(parse_text_numbers(observed), index=observed.index)
        try:
            vals = pd.to_numeric(observed)
        except (ValueError, TypeError):
            bad = next(v for v in col.dropna() if not is_number(v))
            raise ValueError(
                f"column {name!r} was declared {kind} but holds the non-numeric value {bad!r}"
            ) from None
        if kind == "integer" and not all_whole(vals) and len(vals):
            raise ValueError(
                f"column {name!r} was declared integer but holds non-whole numbers "
                f"(e.g. {vals[vals != np.round(vals)].iloc[0]!r})"
            )
    if kind == "datetime" and not _is_datetime_dtype(col):
        if col.dtype == object or pd.api.types.is_string_dtype(col.dtype):
            fmt = string_datetime_format(col)
            if fmt is not None:
                spec.info["format"] = fmt
        else:
            raise ValueError(
                f"column {name!r} was declared datetime but has dtype {spec.dtype}; "
                "pass datetime64 values or ISO date strings"
            )
    if kind == "categorical":
        for v in col.dropna().unique()[:10_000]:
            try:
                _json_scalar(v)
            except TypeError:
                raise TypeError(
                    f"column {name!r} holds a value {v!r} of type {type(v).__name__} "
                    "that cannot be a category"
                ) from None
