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
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

ColumnKind = Literal["numerical", "integer", "categorical", "datetime", "id", "constant"]
KINDS: tuple[str, ...] = ("numerical", "integer", "categorical", "datetime", "id", "constant")

#: Formats tried (in order) on string columns that look like dates; one must round-trip exactly.
DATETIME_FORMATS: tuple[str, ...] = (
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%SZ",
    "%Y/%m/%d",
    "%Y%m%d",
)
_DATE_LIKE = re.compile(r"^\d{4}[-/]?\d{2}[-/]?\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z?)?$")
_ID_NAME = re.compile(r"(^|[_\s.-])(id|uuid|guid|key)$|^(id|uuid|guid)([_\s.-]|$)", re.IGNORECASE)
#: A string column with all values distinct is an ``id`` only from this many rows on.
MIN_ID_ROWS = 20


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
        the constant value ...), JSON-serialisable.
    """

    name: str | int
    kind: str
    dtype: str
    nullable: bool = False
    info: dict[str, Any] = field(default_factory=dict)


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
        specs = []
        for name in df.columns:
            kind = overrides.get(name)
            if kind is not None and kind not in KINDS:
                raise ValueError(
                    f"schema override for column {name!r} has unknown kind {kind!r}; "
                    f"choose one of {KINDS}"
                )
            specs.append(_detect_column(name, df[name], kind))
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


# ---------------------------------------------------------------------------------------------
# input validation
# ---------------------------------------------------------------------------------------------
def check_frame(X, *, what: str = "X") -> pd.DataFrame:
    """Validate a training table and return it as a DataFrame (never a modified view).

    A numpy array is accepted and gets column names ``x0, x1, ...``. Raises ``ValueError`` /
    ``TypeError`` naming the column and the value for: an empty frame, duplicate column
    names, non-scalar cells (lists, dicts, sets), infinite values, and column labels that are
    neither strings nor integers.
    """
    if isinstance(X, np.ndarray):
        if X.ndim != 2:
            raise ValueError(f"{what} must be 2-dimensional, got an array of shape {X.shape}")
        X = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    elif not isinstance(X, pd.DataFrame):
        raise TypeError(
            f"{what} must be a pandas DataFrame or a 2-d numpy array, got {type(X).__name__}"
        )
    if X.shape[1] == 0:
        raise ValueError(f"{what} has no columns")
    if X.shape[0] == 0:
        raise ValueError(f"{what} has no rows (empty frame); at least one row is needed")
    dup = X.columns[X.columns.duplicated()].unique().tolist()
    if dup:
        raise ValueError(f"{what} has duplicate column names: {dup!r}; rename them first")
    for name in X.columns:
        if not isinstance(name, (str, int, np.integer)) or isinstance(name, bool):
            raise TypeError(
                f"column label {name!r} is of type {type(name).__name__}; "
                "column labels must be strings or integers"
            )
        col = X[name]
        if isinstance(col, pd.DataFrame):  # MultiIndex slice etc.
            raise TypeError(f"column {name!r} does not select a single column")
        _check_cells(name, col)
    return X


def _check_cells(name, col: pd.Series) -> None:
    if pd.api.types.is_float_dtype(col.dtype) or (
        pd.api.types.is_extension_array_dtype(col.dtype) and pd.api.types.is_float_dtype(col.dtype)
    ):
        vals = col.to_numpy(dtype="float64", na_value=np.nan)
        bad = np.isinf(vals)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"column {name!r} holds an infinite value ({vals[i]}) at row {col.index[i]!r}; "
                "replace infinities with NaN or a finite value first"
            )
    elif col.dtype == object:
        for idx, v in col.items():
            if isinstance(v, (list, dict, set, tuple, np.ndarray, pd.Series)):
                raise TypeError(
                    f"column {name!r} holds a {type(v).__name__} ({_short(v)}) at row {idx!r}; "
                    "cells must be scalars (numbers, strings, booleans, dates or missing)"
                )
            if isinstance(v, float) and math.isinf(v):
                raise ValueError(
                    f"column {name!r} holds an infinite value ({v}) at row {idx!r}; "
                    "replace infinities with NaN or a finite value first"
                )


def _short(v) -> str:
    s = repr(v)
    return s if len(s) <= 40 else s[:37] + "..."


# ---------------------------------------------------------------------------------------------
# per-column detection
# ---------------------------------------------------------------------------------------------
def dtype_name(dtype) -> str:
    """A dtype as a string that :func:`restore_dtype` understands on pandas 2 and 3."""
    if isinstance(dtype, pd.CategoricalDtype):
        return "category"
    if isinstance(dtype, pd.StringDtype):
        # pandas 3 default "str" (NaN semantics) vs the opt-in "string" (pd.NA semantics)
        return "str" if dtype.na_value is not pd.NA else "string"
    return str(dtype)


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
        fmt = _string_datetime_format(col)
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
        if pd.api.types.is_integer_dtype(col.dtype) or _all_whole(non_null):
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
        fmt = _string_datetime_format(col)
        if fmt is not None:
            spec.info["format"] = fmt
            return "datetime"
        if non_null.is_unique and len(non_null) >= MIN_ID_ROWS and not spec.nullable:
            return "id"
        return "categorical"
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
        return "integer" if _all_whole(pd.to_numeric(non_null)) else "numerical"
    return "categorical"


def _all_whole(values: pd.Series) -> bool:
    if len(values) == 0:
        return False
    arr = np.asarray(values, dtype="float64")
    return bool(np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)))


def _string_datetime_format(col: pd.Series) -> str | None:
    vals = col.dropna()
    if len(vals) == 0 or not all(isinstance(v, str) for v in vals.iloc[:50]):
        return None
    sample = vals.iloc[: min(len(vals), 200)]
    if not all(_DATE_LIKE.match(v) for v in sample):
        return None
    uniq = pd.Series(vals.unique())
    for fmt in DATETIME_FORMATS:
        try:
            parsed = pd.to_datetime(uniq, format=fmt)
        except (ValueError, TypeError):
            continue
        if (parsed.dt.strftime(fmt) == uniq).all():
            return fmt
    return None


def _check_override(name, col: pd.Series, kind: str, spec: ColumnSpec) -> None:
    if kind in ("numerical", "integer"):
        try:
            vals = pd.to_numeric(col.dropna())
        except (ValueError, TypeError):
            bad = next(v for v in col.dropna() if not _is_number(v))
            raise ValueError(
                f"column {name!r} was declared {kind} but holds the non-numeric value {bad!r}"
            ) from None
        if kind == "integer" and not _all_whole(vals) and len(vals):
            raise ValueError(
                f"column {name!r} was declared integer but holds non-whole numbers "
                f"(e.g. {vals[vals != np.round(vals)].iloc[0]!r})"
            )
    if kind == "datetime" and not _is_datetime_dtype(col):
        if col.dtype == object or pd.api.types.is_string_dtype(col.dtype):
            fmt = _string_datetime_format(col)
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


def _is_number(v) -> bool:
    try:
        float(v)
    except (TypeError, ValueError):
        return False
    return True
