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
#: A string column with all values distinct is an ``id`` only from this many rows on; a
#: string column of numbers is parsed as numbers only from this many distinct values on.
MIN_ID_ROWS = 20
#: Values that look like keys: UUIDs, hex digests, e-mail addresses, a prefix and a number.
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_HEX = re.compile(r"^[0-9a-f]{16,}$", re.I)
_CODE = re.compile(r"^([A-Za-z]{1,12}[-_#:/.]?)(\d+)$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
#: A number written as text: optional sign, digits (optionally grouped by thousands with
#: commas), optional decimals. Leading zeros ("02134") make it a code, not a number.
_TEXT_NUMBER = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$")
_LEADING_ZERO = re.compile(r"^[+-]?0\d")
#: Key of ``DataFrame.attrs`` where :func:`check_frame` records the Arrow types of the
#: columns it converted to NumPy/pandas dtypes (read by :meth:`Schema.detect`).
ARROW_ATTR = "tabgen.arrow"


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


# ---------------------------------------------------------------------------------------------
# input validation
# ---------------------------------------------------------------------------------------------
def check_frame(X, *, what: str = "X") -> pd.DataFrame:
    """Validate a training table and return it as a DataFrame (never a modified view).

    A numpy array is accepted and gets column names ``x0, x1, ...``; a polars DataFrame, a
    pyarrow Table or RecordBatch is converted to pandas with Arrow-backed columns. Arrow-backed
    columns (``pd.ArrowDtype``) are converted to the NumPy/pandas dtypes the models work
    with (integers to nullable ``Int64``..., strings to ``object``, dictionaries to
    ``category``, timestamps to ``datetime64`` with their unit and timezone, dates to
    ``datetime64[s]``, decimals to ``float64``) in a new frame whose ``attrs[ARROW_ATTR]``
    records each converted column's Arrow type, so that :meth:`Schema.detect` keeps it and
    sampled columns get it back.

    Raises ``ValueError`` / ``TypeError`` naming the column and the value or dtype for: an
    empty frame, duplicate column names, dtypes that cannot be modelled (complex, sparse,
    intervals, periods, nested Arrow types such as lists and structs, binary, times of day),
    non-scalar cells (lists, dicts, sets), infinite values, and column labels that are
    neither strings nor integers.
    """
    X = _as_pandas(X, what)
    if not isinstance(X, pd.DataFrame):
        X = _array_frame(X, what)
    if X.shape[1] == 0:
        raise ValueError(
            f"{what} has no columns: found array with 0 feature(s) (shape={X.shape}) while a "
            "minimum of 1 is required."
        )
    if X.shape[0] == 0:
        raise ValueError(
            f"{what} has no rows (empty frame): found array with 0 sample(s) "
            f"(shape={X.shape}) while a minimum of 1 is required."
        )
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
        _check_dtype(name, col.dtype)
    arrow = {n: X[n] for n in X.columns if isinstance(X[n].dtype, pd.ArrowDtype)}
    if arrow:
        converted = X.copy(deep=False)
        types = dict(X.attrs.get(ARROW_ATTR, {}))
        for name, col in arrow.items():
            converted[name] = _from_arrow(name, col)
            types[name] = str(col.dtype.pyarrow_dtype)
        converted.attrs = {**X.attrs, ARROW_ATTR: types}
        X = converted
    for name in X.columns:
        _check_cells(name, X[name])
    return X


def _array_frame(X, what: str) -> pd.DataFrame:
    """A 2-d array-like (numpy array, nested lists, any object with ``__array__``) as a
    DataFrame with columns ``x0, x1, ...``; sparse and complex input are refused."""
    if _is_sparse(X):
        raise TypeError(
            f"Sparse data was passed for {what}, but dense data is required: tabgen models "
            "tables, not sparse matrices. Use '.toarray()' to convert to a dense numpy array."
        )
    if isinstance(X, (str, bytes, dict)) or not (
        isinstance(X, (list, tuple, np.ndarray)) or hasattr(X, "__array__")
    ):
        raise TypeError(
            f"{what} must be a pandas or polars DataFrame, a pyarrow Table or a 2-d array-like "
            f"(numpy array, nested lists), got {type(X).__name__}"
        )
    try:
        arr = np.asarray(X)
    except ValueError as exc:  # ragged nested lists
        raise ValueError(f"{what} is not a rectangular 2-d array-like: {exc}") from None
    if arr.ndim != 2:
        raise ValueError(
            f"{what} must be 2-dimensional: expected 2D array, got {arr.ndim}D array instead "
            f"(shape {arr.shape}). Reshape your data either using array.reshape(-1, 1) if your "
            "data has a single feature or array.reshape(1, -1) if it contains a single sample."
        )
    if np.iscomplexobj(arr):
        raise ValueError(f"Complex data not supported: {what} holds complex numbers")
    return pd.DataFrame(arr, columns=[f"x{i}" for i in range(arr.shape[1])])


def is_table(X) -> bool:
    """Whether ``X`` is a table with its own column names (pandas, polars, pyarrow)."""
    module = type(X).__module__ or ""
    return isinstance(X, pd.DataFrame) or module.startswith(("polars", "pyarrow"))


def check_n_features(estimator, X, frame: pd.DataFrame, columns: list) -> pd.DataFrame:
    """``frame`` (checked from ``X``) against the ``columns`` seen in ``fit``.

    An array-like (no column names of its own) must have as many columns as ``fit`` saw;
    its columns then take the fitted names. Raises ``ValueError`` with scikit-learn's
    wording otherwise.
    """
    if frame.shape[1] != len(columns) and not is_table(X):
        raise ValueError(
            f"X has {frame.shape[1]} features, but {type(estimator).__name__} is expecting "
            f"{len(columns)} features as input."
        )
    if is_table(X):
        return frame
    out = frame.copy(deep=False)
    out.columns = list(columns)
    return out


def _is_sparse(X) -> bool:
    import scipy.sparse

    return scipy.sparse.issparse(X)


def native_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its Arrow-backed columns converted as :func:`check_frame` converts
    them (a new frame; ``frame`` itself when it has none)."""
    arrow = [n for n in frame.columns if isinstance(frame[n].dtype, pd.ArrowDtype)]
    if not arrow:
        return frame
    out = frame.copy(deep=False)
    for name in arrow:
        _check_dtype(name, frame[name].dtype)
        out[name] = _from_arrow(name, frame[name])
    return out


def _as_pandas(X, what: str):
    """A polars DataFrame or a pyarrow Table / RecordBatch as a pandas DataFrame with
    Arrow-backed columns (other inputs are returned as they are)."""
    module = type(X).__module__ or ""
    if module.startswith("polars"):
        if not hasattr(X, "to_arrow"):  # a LazyFrame
            raise TypeError(
                f"{what} is a polars {type(X).__name__}; collect it into a DataFrame first"
            )
        X = X.to_arrow()
    if module.startswith("pyarrow") or module.startswith("polars"):
        import pyarrow as pa

        if isinstance(X, (pa.Table, pa.RecordBatch)):
            return X.to_pandas(types_mapper=pd.ArrowDtype)
    return X


def _check_dtype(name, dtype) -> None:
    """Refuse, naming the column, a dtype no encoder can model."""
    why = None
    if isinstance(dtype, pd.SparseDtype):
        why = "sparse columns are not supported; densify it with .sparse.to_dense()"
    elif isinstance(dtype, (pd.IntervalDtype, pd.PeriodDtype)):
        why = "intervals and periods are not supported; convert them to numbers or dates"
    elif isinstance(dtype, pd.ArrowDtype):
        why = _arrow_unsupported(dtype.pyarrow_dtype)
    elif pd.api.types.is_complex_dtype(dtype):
        why = "complex numbers are not supported; split them into real and imaginary columns"
    if why is not None:
        raise TypeError(f"column {name!r} has dtype {dtype}, which tabgen cannot model: {why}")


def _arrow_unsupported(t) -> str | None:
    import pyarrow as pa

    if pa.types.is_dictionary(t):
        inner = _arrow_unsupported(t.value_type)
        return None if inner is None else f"its dictionary values: {inner}"
    if (
        pa.types.is_integer(t)
        or pa.types.is_floating(t)
        or pa.types.is_boolean(t)
        or pa.types.is_string(t)
        or pa.types.is_large_string(t)
        or pa.types.is_timestamp(t)
        or pa.types.is_date(t)
        or pa.types.is_decimal(t)
        or pa.types.is_null(t)
        or (hasattr(pa.types, "is_string_view") and pa.types.is_string_view(t))
    ):
        return None
    if pa.types.is_nested(t):
        return "nested values (lists, structs, maps) are not supported; flatten them first"
    if pa.types.is_duration(t):
        return "durations are not supported yet; convert them to numbers (e.g. seconds)"
    return "only numbers, strings, booleans, dates, timestamps and dictionaries are supported"


def _from_arrow(name, col: pd.Series) -> pd.Series:
    """An Arrow-backed column as the NumPy/pandas column the models work on."""
    import pyarrow as pa

    t = col.dtype.pyarrow_dtype
    has_null = bool(col.isna().any())
    if pa.types.is_dictionary(t):
        arr = col.array.__arrow_array__()
        out = pd.Series(arr.to_pandas(), index=col.index, name=col.name)
        return out.astype("category")
    if pa.types.is_integer(t):
        bits = t.bit_width
        unsigned = pa.types.is_unsigned_integer(t)
        nullable = f"{'UInt' if unsigned else 'Int'}{bits}"
        return col.astype(nullable if has_null else nullable.lower())
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        values = col.to_numpy(dtype="float64", na_value=np.nan)
        return pd.Series(values, index=col.index, name=col.name)
    if pa.types.is_boolean(t):
        return col.astype("boolean" if has_null else "bool")
    if pa.types.is_timestamp(t):
        unit = t.unit if t.unit in ("s", "ms", "us", "ns") else "ns"
        dtype = np.dtype(f"datetime64[{unit}]") if t.tz is None else pd.DatetimeTZDtype(unit, t.tz)
        return col.astype(dtype)
    if pa.types.is_date(t):
        return col.astype("datetime64[s]")
    if pa.types.is_null(t):
        return pd.Series([None] * len(col), index=col.index, name=col.name, dtype=object)
    # strings
    values = col.to_numpy(dtype=object, na_value=np.nan)
    return pd.Series(values, index=col.index, name=col.name, dtype=object)


def arrow_type(text: str):
    """The ``pyarrow.DataType`` of a :attr:`ColumnSpec.arrow` string (``str(type)``)."""
    import pyarrow as pa

    text = text.strip()
    m = re.fullmatch(r"dictionary<values=(.+), indices=(\w+), ordered=([01])>", text)
    if m:
        return pa.dictionary(arrow_type(m.group(2)), arrow_type(m.group(1)), m.group(3) == "1")
    m = re.fullmatch(r"timestamp\[(\w+)(?:, tz=(.+))?\]", text)
    if m:
        return pa.timestamp(m.group(1), tz=m.group(2))
    m = re.fullmatch(r"decimal(32|64|128|256)\((\d+), (\d+)\)", text)
    if m:
        factory = getattr(pa, f"decimal{m.group(1)}")
        return factory(int(m.group(2)), int(m.group(3)))
    if text == "string_view":
        return pa.string_view()
    try:
        return pa.type_for_alias(text)
    except (ValueError, KeyError):
        raise ValueError(f"unsupported Arrow type {text!r} in a saved schema") from None


def to_arrow_series(col: pd.Series, text: str) -> pd.Series:
    """``col`` (a sampled column in the model's NumPy/pandas dtype) as an Arrow-backed
    column of the Arrow type ``text``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    t = arrow_type(text)
    if pa.types.is_null(t):
        arr = pa.nulls(len(col))
    else:
        values = col
        if pa.types.is_date(t) and pd.api.types.is_datetime64_any_dtype(col.dtype):
            values = col.dt.floor("D")
        arr = pa.array(values, from_pandas=True)
        if pa.types.is_decimal(t):
            arr = pc.round(arr.cast(pa.float64()), t.scale).cast(t, safe=False)
        elif pa.types.is_dictionary(t) and not pa.types.is_dictionary(arr.type):
            arr = arr.dictionary_encode()
        arr = arr.cast(t)
    return pd.Series(arr, index=col.index, name=col.name, dtype=pd.ArrowDtype(t))


def restore_dtypes(frame: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """Give the Arrow-backed columns of a sampled ``frame`` their input Arrow types back
    (the other columns already have their input dtypes); ``frame`` is changed in place
    and returned."""
    return restore_arrow(frame, {s.name: s.arrow for s in schema if s.arrow is not None})


def restore_arrow(frame: pd.DataFrame, types: dict) -> pd.DataFrame:
    """Cast the columns named in ``types`` (``{column: Arrow type string}``, as
    :func:`check_frame` records in ``attrs[ARROW_ATTR]``) to their Arrow types, in place."""
    for name, text in types.items():
        if name in frame.columns and str(frame[name].dtype) != f"{text}[pyarrow]":
            frame[name] = to_arrow_series(frame[name], text)
    return frame


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
                    "cells must be scalars (numbers, strings, booleans, dates or missing): "
                    "argument must be a string, a number or a date"
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
        return "integer" if _all_whole(pd.to_numeric(non_null)) else "numerical"
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
    text = _text_number_format(values)
    if text is not None and values.nunique() >= MIN_ID_ROWS:
        spec.info["text_number"] = text
        kind = "integer" if text["decimals"] == 0 else "numerical"
        _report(name, spec, kind, "every value is a number written as text", "categorical")
        return kind
    looks = _id_like_values(values) if unique else None
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


def _id_like_values(values: pd.Series) -> str | None:
    """``"key"`` for UUIDs and e-mail addresses, ``"code"`` for hex digests and one prefix
    followed by numbers (``"ORD-00017"``), else ``None``."""
    sample = values.iloc[:1000].astype(str)
    if sample.str.fullmatch(_UUID).all() or sample.str.fullmatch(_EMAIL).all():
        return "key"
    if sample.str.fullmatch(_HEX).all() and sample.str.contains("[a-fA-F]").any():
        return "code"
    parts = sample.str.extract(_CODE)
    return "code" if parts[0].notna().all() and parts[0].nunique() == 1 else None


def _text_number_format(values: pd.Series, strict: bool = True) -> dict | None:
    """``{"thousands": bool, "decimals": int}`` when every value is a number written as
    text (``strict``: none with a leading zero, as in zip codes), else ``None``."""
    text = values.astype(str)
    if not text.str.fullmatch(_TEXT_NUMBER).all():
        return None
    if strict and text.str.match(_LEADING_ZERO).any():
        return None
    decimals = text.str.extract(r"\.(\d+)$")[0].str.len()
    return {
        "thousands": bool(text.str.contains(",", regex=False).any()),
        "decimals": int(decimals.max()) if decimals.notna().any() else 0,
    }


def parse_text_numbers(values: pd.Series) -> np.ndarray:
    """Numbers written as text (``"1,234.50"``) as float64 (missing cells as NaN)."""
    text = values.astype(object).where(values.notna(), None)
    cleaned = text.map(lambda v: None if v is None else str(v).replace(",", ""))
    return pd.to_numeric(cleaned).to_numpy(dtype="float64", na_value=np.nan)


def format_text_numbers(x: np.ndarray, text: dict) -> np.ndarray:
    """Numbers as text in the format recorded by :func:`_text_number_format`."""
    sep = "," if text.get("thousands") else ""
    digits = int(text.get("decimals", 0))
    out = np.empty(len(x), dtype=object)
    out[:] = [format(float(v), f"{sep}.{digits}f") for v in x]
    return out


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
        observed = col.dropna()
        text = None
        if len(observed) and observed.map(type).eq(str).all():
            text = _text_number_format(observed, strict=False)
        if text is not None:
            spec.info["text_number"] = text
            observed = pd.Series(parse_text_numbers(observed), index=observed.index)
        try:
            vals = pd.to_numeric(observed)
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
