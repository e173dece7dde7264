"""Input tables at tabgen's boundary: validation and dtype conversion.

:func:`check_frame` validates what a user passes (a pandas, polars or pyarrow table, a numpy
array or another 2-d array-like), refusing with scikit-learn's wording what no model can
take (sparse, complex, 1-d, empty input) and naming the column otherwise. Arrow-backed
columns are converted to the NumPy/pandas dtypes the models work with and their Arrow types
recorded in ``attrs[ARROW_ATTR]``, so that sampled columns get them back
(:func:`restore_arrow`, :func:`restore_dtypes`). The public names are re-exported by
:mod:`tabgen.schema`.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from tabgen.schema import Schema

#: Key of ``DataFrame.attrs`` where :func:`check_frame` records the Arrow types of the
#: columns it converted to NumPy/pandas dtypes (read by :meth:`Schema.detect`).
ARROW_ATTR = "tabgen.arrow"


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
