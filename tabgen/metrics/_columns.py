"""Column kinds and column-to-array conversions shared by every metric module.

The metrics know three column kinds: ``"numerical"``, ``"categorical"`` and ``"datetime"``.
Kinds come from an optional metadata mapping; columns it does not name are inferred from the
dtype. Nothing here depends on the rest of tabgen, so the metrics stay an independent yardstick.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

KINDS = ("numerical", "categorical", "datetime")

# SDV sdtypes and common synonyms accepted in metadata, mapped to the three kinds.
_KIND_ALIASES = {
    "numerical": "numerical",
    "numeric": "numerical",
    "continuous": "numerical",
    "integer": "numerical",
    "float": "numerical",
    "categorical": "categorical",
    "discrete": "categorical",
    "boolean": "categorical",
    "bool": "categorical",
    "ordinal": "categorical",
    "constant": "categorical",
    "datetime": "datetime",
    "id": "id",
}


def infer_kind(series: pd.Series) -> str:
    """Return the kind of one column from its dtype.

    Numeric dtypes other than bool are numerical, datetime64 (with or without time zone) is
    datetime, everything else (object, string, category, bool) is categorical.
    """
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "categorical"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if pd.api.types.is_numeric_dtype(dtype):
        return "numerical"
    return "categorical"


def _metadata_to_kinds(metadata: Any) -> dict[str, str]:
    """Normalise the accepted metadata forms to ``{column: raw kind string}``."""
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping):
        kinds = getattr(metadata, "kinds", None)
        if isinstance(kinds, Mapping):
            return _metadata_to_kinds(kinds)
        raise TypeError(
            "metadata must be a mapping {column: kind} (or SDV-style {'columns': {...}}), "
            f"got {type(metadata).__name__}"
        )
    columns = metadata.get("columns") if isinstance(metadata.get("columns"), Mapping) else None
    source = columns if columns is not None else metadata
    out = {}
    for column, value in source.items():
        if isinstance(value, Mapping):
            value = value.get("kind", value.get("sdtype"))
        out[column] = value
    return out


def resolve_kinds(frame: pd.DataFrame, metadata: Any = None) -> dict[str, str]:
    """Return ``{column: kind}`` for the columns of ``frame`` to evaluate, in column order.

    Parameters
    ----------
    frame : pandas.DataFrame
        The reference (real) table.
    metadata : mapping or object with a ``kinds`` mapping, optional
        ``{column: kind}``; SDV sdtypes (``boolean``, ``ordinal``) and tabgen schema kinds
        (``integer``, ``constant``) are accepted as aliases. Columns declared ``"id"`` are left
        out of every metric, as SDMetrics does. Columns not named are inferred from the dtype.

    Raises
    ------
    ValueError
        If metadata names a column that is not in ``frame`` or gives an unknown kind.
    """
    given = _metadata_to_kinds(metadata)
    unknown_columns = [c for c in given if c not in frame.columns]
    if unknown_columns:
        raise ValueError(f"metadata names columns not in the data: {unknown_columns!r}")
    kinds = {}
    for column in frame.columns:
        if column in given and given[column] is not None:
            raw = given[column]
            kind = _KIND_ALIASES.get(str(raw).lower())
            if kind is None:
                raise ValueError(
                    f"metadata gives column {column!r} the unknown kind {raw!r}; "
                    f"expected one of {KINDS}"
                )
        else:
            kind = infer_kind(frame[column])
        if kind != "id":
            kinds[column] = kind
    if not kinds:
        raise ValueError("every column is declared 'id': nothing left to evaluate")
    return kinds


def check_same_columns(real: pd.DataFrame, other: pd.DataFrame, name: str) -> None:
    """Raise ``ValueError`` naming the columns that differ between ``real`` and ``other``."""
    if not isinstance(other, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame, got {type(other).__name__}")
    missing = [c for c in real.columns if c not in other.columns]
    extra = [c for c in other.columns if c not in real.columns]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"columns missing from {name}: {missing!r}")
        if extra:
            parts.append(f"columns in {name} but not in real: {extra!r}")
        raise ValueError("; ".join(parts))
    if other.columns.has_duplicates:
        raise ValueError(f"{name} has duplicated column names")


def check_frame(frame: Any, name: str) -> None:
    """Raise if ``frame`` is not a non-empty DataFrame with unique column names."""
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame, got {type(frame).__name__}")
    if len(frame) == 0:
        raise ValueError(f"{name} has no rows")
    if frame.shape[1] == 0:
        raise ValueError(f"{name} has no columns")
    if frame.columns.has_duplicates:
        dup = list(frame.columns[frame.columns.duplicated()])
        raise ValueError(f"{name} has duplicated column names: {dup!r}")


def check_tables(real: Any, synthetic: Any, holdout: Any = None) -> None:
    """Check ``real`` and ``synthetic`` (and ``holdout`` unless ``None``) with
    :func:`check_frame`, and that the other tables have ``real``'s columns."""
    check_like(real, "real", {"synthetic": synthetic, "holdout": holdout})


def check_like(reference: Any, reference_name: str, others: dict[str, Any]) -> None:
    """Check ``reference`` and each table of ``others`` (``{name: table}``, in order;
    ``None`` skipped) with :func:`check_frame`, and that each has ``reference``'s columns."""
    check_frame(reference, reference_name)
    for name, table in others.items():
        if table is not None:
            check_frame(table, name)
            check_same_columns(reference, table, name)


def to_float(series: pd.Series, kind: str) -> np.ndarray:
    """Return a numerical or datetime column as float64 with NaN for missing values.

    Datetimes become nanoseconds since the epoch (time zones converted to UTC first).
    """
    if kind == "datetime":
        if not pd.api.types.is_datetime64_any_dtype(series.dtype):
            try:
                series = pd.to_datetime(series, format="mixed")
            except (ValueError, TypeError) as exc:
                raise ValueError(
                    f"column {series.name!r} is declared datetime but cannot be parsed: {exc}"
                ) from exc
        if getattr(series.dt, "tz", None) is not None:
            series = series.dt.tz_convert("UTC").dt.tz_localize(None)
        values = series.to_numpy(dtype="datetime64[ns]")
        mask = np.isnat(values)
        out = values.astype("int64").astype("float64")
        out[mask] = np.nan
        return out
    if pd.api.types.is_bool_dtype(series.dtype):
        series = series.astype("float64")
    elif not pd.api.types.is_numeric_dtype(series.dtype):
        try:
            series = pd.to_numeric(series)
        except (ValueError, TypeError) as exc:
            raise ValueError(
                f"column {series.name!r} is declared numerical but holds non-numbers: {exc}"
            ) from exc
    return series.to_numpy(dtype="float64", na_value=np.nan)


def _as_objects(series: pd.Series) -> np.ndarray:
    """Object array of a column's values with every kind of missing value turned into None."""
    values = series.astype(object).to_numpy()
    mask = pd.isna(series).to_numpy()
    if mask.any():
        values = values.copy()
        values[mask] = None
    return values


def joint_codes(series_list: Sequence[pd.Series]) -> tuple[list[np.ndarray], np.ndarray]:
    """Factorise several versions of one categorical column on a shared vocabulary.

    Returns
    -------
    codes : list of ndarray of int64
        One array per input; ``-1`` marks a missing value.
    uniques : ndarray of object
        The shared vocabulary, in order of first appearance.
    """
    lengths = [len(s) for s in series_list]
    values = np.concatenate([_as_objects(s) for s in series_list])
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    codes = codes.astype(np.int64)
    out = np.split(codes, np.cumsum(lengths)[:-1])
    return out, np.asarray(uniques, dtype=object)


def select_columns(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """Return ``frame[columns]`` without copying data when already in that order."""
    columns = list(columns)
    if list(frame.columns) == columns:
        return frame
    return frame[columns]
