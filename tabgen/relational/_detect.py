"""Guessing a database's keys from names and values (:meth:`Metadata.detect`)."""

from __future__ import annotations

import pandas as pd


def _singular(name: str) -> str:
    low = name.lower()
    if low.endswith("ies"):
        return low[:-3] + "y"
    if low.endswith("s") and not low.endswith("ss"):
        return low[:-1]
    return low


def _is_key_like(series: pd.Series) -> bool:
    return (
        pd.api.types.is_integer_dtype(series.dtype)
        or pd.api.types.is_string_dtype(series.dtype)
        or series.dtype == object
    )


def _unique_complete(series: pd.Series) -> bool:
    return len(series) > 0 and not series.isna().any() and series.is_unique


def guess_primary_key(name: str, frame: pd.DataFrame) -> str | None:
    """The column most likely to be ``frame``'s primary key, or ``None``."""
    preferred = ["id", f"{name.lower()}_id", f"{_singular(name)}_id", f"{name.lower()}id"]
    by_lower = {str(c).lower(): c for c in frame.columns}
    for want in preferred:
        col = by_lower.get(want)
        if col is not None and _is_key_like(frame[col]) and _unique_complete(frame[col]):
            return col
    for col in frame.columns:
        low = str(col).lower()
        if (
            (low.endswith("_id") or low.endswith("id") or low.endswith("_key"))
            and _is_key_like(frame[col])
            and _unique_complete(frame[col])
        ):
            return col
    return None


def _references(child: pd.Series, parent_keys: pd.Series) -> bool:
    values = child.dropna()
    if len(values) == 0:
        return False
    try:
        return bool(values.isin(parent_keys).all())
    except TypeError:
        return False


def _guess_order(frame: pd.DataFrame, fk: str, exclude: set) -> str | None:
    """A numeric/datetime column non-decreasing within every parent (in row order)."""
    groups = frame.groupby(fk, sort=False)
    sizes = groups.size()
    if len(sizes) == 0 or (sizes >= 2).mean() < 0.3:
        return None
    for col in frame.columns:
        if col in exclude:
            continue
        values = frame[col]
        if not (
            pd.api.types.is_numeric_dtype(values.dtype)
            or pd.api.types.is_datetime64_any_dtype(values.dtype)
        ) or pd.api.types.is_bool_dtype(values.dtype):
            continue
        if values.isna().any() or values.nunique() < 3:
            continue
        diff = groups[col].diff().dropna()
        if pd.api.types.is_timedelta64_dtype(diff.dtype):
            diff = diff.dt.total_seconds()
        if len(diff) and (diff >= 0).all() and (diff > 0).mean() > 0.3:
            return col
    return None


def detect_metadata(cls, tables: dict):
    """Build a ``cls`` (Metadata) from ``tables`` (see :meth:`Metadata.detect`)."""
    if not isinstance(tables, dict) or not tables:
        raise ValueError("detect needs a non-empty dict of DataFrames")
    for name, frame in tables.items():
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"table {name!r} must be a DataFrame, got {type(frame).__name__}")
    keys = {name: guess_primary_key(name, frame) for name, frame in tables.items()}
    relationships = []
    for child, frame in tables.items():
        for col in frame.columns:
            if col == keys[child]:
                continue
            for parent, pk in keys.items():
                if parent == child or pk is None:
                    continue
                named = str(col).lower() in (
                    str(pk).lower(),
                    f"{_singular(parent)}_id",
                    f"{parent.lower()}_id",
                )
                if named and _references(frame[col], tables[parent][pk]):
                    relationships.append(
                        {
                            "parent_table": parent,
                            "parent_primary_key": pk,
                            "child_table": child,
                            "child_foreign_key": col,
                            "nullable": bool(frame[col].isna().any()),
                        }
                    )
                    break
    specs = {name: {"primary_key": keys[name]} for name in tables}
    meta = cls(specs, relationships)
    for name, frame in tables.items():
        parents = meta.parents(name)
        if len(parents) == 1:
            order = _guess_order(frame, parents[0].child_key, set(meta.key_columns(name)))
            if order is not None:
                meta.set_order(name, order)
    return meta
