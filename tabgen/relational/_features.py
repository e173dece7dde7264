"""The flat frames the per-table models learn.

For each table ``T`` (see :class:`~tabgen.relational.RelationalSynthesizer`):

``down(T)``
    ``T``'s own columns (keys left out), then for each child relationship the number of
    children (``__tg_n.<child>.<fk>``) and aggregates of the child's ``down`` frame: the
    mean of numeric columns (``__tg_mean...``) and the share of the levels of small
    categorical ones (``__tg_share...``). Built bottom-up, so a grandparent sees its
    grandchildren through its children's aggregates.
``full(T)``
    ``down(T)`` and, for each parent relationship, the parent's ``full`` frame prefixed with
    ``__tg_p.<fk>.`` (the context a child is conditioned on). Built top-down.
``model frame(T)``
    ``full(T)``; for a sequence (a table with ``order_by``) two frames: its first rows with
    the order column's first value (``__tg_start``), and its later rows with their
    position (``__tg_index``), their step from the row before (``__tg_gap``) and the
    previous row's values (``__tg_prev.<col>``); each gets a model of its own, so that
    neither learns cells that do not apply to it (a first row has no previous row).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

PREFIX = "__tg_"
INDEX, START, GAP = "__tg_index", "__tg_start", "__tg_gap"


def count_column(rel) -> str:
    return f"__tg_n.{rel.child}.{rel.child_key}"


def context_prefix(rel) -> str:
    return f"__tg_p.{rel.child_key}."


def prev_column(col: str) -> str:
    return f"__tg_prev.{col}"


def is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(
        series.dtype
    )


def order_numbers(series: pd.Series) -> np.ndarray:
    """An order column as float (datetimes as seconds)."""
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        values = series.to_numpy(dtype="datetime64[ns]")
        out = values.astype("int64").astype("float64") / 1e9
        out[pd.isna(values)] = np.nan
        return out
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64")


def order_values(numbers: np.ndarray, dtype) -> pd.Series:
    """Inverse of :func:`order_numbers` for a column of ``dtype``."""
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return pd.Series(pd.to_datetime(np.round(numbers * 1e9).astype("int64"))).astype(dtype)
    if pd.api.types.is_integer_dtype(dtype):
        return pd.Series(np.round(numbers)).astype(dtype)
    return pd.Series(numbers).astype(dtype)


def aggregate_specs(child_down: pd.DataFrame, limit: int, levels: int = 5) -> list:
    """What to aggregate of a child's ``down`` frame: ``[("mean", col) | ("std", col) |
    ("share", col, level)]``, at most ``limit`` entries (own columns first, in order; the
    spread ``std`` of continuous columns, those with over 10 distinct values)."""
    specs: list = []
    for col in child_down.columns:
        if len(specs) >= limit:
            break
        values = child_down[col]
        if is_numeric(values):
            if values.notna().any():
                specs.append(("mean", col))
                if values.nunique() > 10 and len(specs) < limit and not col.startswith(PREFIX):
                    specs.append(("std", col))
            continue
        counts = values.dropna().astype(str).value_counts()
        if 2 <= len(counts) <= levels:
            for level in counts.index[:-1]:  # the last share follows from the others
                if len(specs) < limit:
                    specs.append(("share", col, level))
    return specs


def aggregate_name(rel, spec) -> str:
    base = f"{rel.child}.{rel.child_key}.{spec[1]}"
    if spec[0] == "share":
        return f"__tg_share.{base}={spec[2]}"
    return f"__tg_{spec[0]}.{base}"


def aggregates(child_down: pd.DataFrame, groups: np.ndarray, n_parents: int, rel, specs):
    """Per-parent count and aggregates of ``child_down`` (row ``i`` belongs to parent
    ``groups[i]``, -1 for none) as a frame of ``n_parents`` rows."""
    have = groups >= 0
    g = groups[have]
    counts = np.bincount(g, minlength=n_parents).astype("int64")
    out = {count_column(rel): counts}
    with np.errstate(invalid="ignore", divide="ignore"):
        for spec in specs:
            values = child_down[spec[1]][have]
            if spec[0] in ("mean", "std"):
                x = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64")
            else:
                x = np.where(values.isna(), np.nan, (values.astype(str) == spec[2]).astype(float))
            ok = ~np.isnan(x)
            total = np.bincount(g[ok], weights=x[ok], minlength=n_parents)
            seen = np.bincount(g[ok], minlength=n_parents)
            mean = np.where(seen > 0, total / np.maximum(seen, 1), np.nan)
            if spec[0] == "std":
                dev = (x[ok] - mean[g[ok]]) ** 2
                ss = np.bincount(g[ok], weights=dev, minlength=n_parents)
                out[aggregate_name(rel, spec)] = np.where(
                    seen > 1, np.sqrt(ss / np.maximum(seen - 1, 1)), np.nan
                )
            else:
                out[aggregate_name(rel, spec)] = mean
    return pd.DataFrame(out)


def missing_shares(parent_down: pd.DataFrame, rel, specs) -> dict:
    """Aggregate column -> share of missing cells among the parents that have the children
    to compute it (one for a mean or a share, two for a spread): the children whose column
    is missing throughout, not the childless parents."""
    counts = parent_down[count_column(rel)].to_numpy()
    out = {}
    for spec in specs:
        name = aggregate_name(rel, spec)
        eligible = counts >= (2 if spec[0] == "std" else 1)
        values = parent_down[name].to_numpy(dtype="float64")[eligible]
        out[name] = float(np.isnan(values).mean()) if len(values) else 0.0
    return out


def linked_columns(own: pd.DataFrame, threshold: float = 0.99) -> list:
    """Numeric columns almost exactly linear in another one (|Pearson r| above
    ``threshold``): shifting or scaling them alone would break the relation."""
    numeric = [c for c in own.columns if is_numeric(own[c]) and own[c].nunique() > 2]
    if len(numeric) < 2:
        return []
    corr = own[numeric].astype("float64").corr().abs().to_numpy().copy()
    np.fill_diagonal(corr, 0.0)
    return [str(c) for c, r in zip(numeric, np.nan_to_num(corr).max(axis=1)) if r > threshold]


def count_distribution(counts: np.ndarray) -> list:
    """``[[value, share], ...]`` of the numbers of children per parent."""
    values, freq = np.unique(np.asarray(counts, dtype="int64"), return_counts=True)
    return [[int(v), float(f / freq.sum())] for v, f in zip(values, freq)]


def parent_positions(child_keys: pd.Series, parent_keys: pd.Series) -> np.ndarray:
    """Row position of each child's parent (-1 for a null key)."""
    index = pd.Index(parent_keys)
    return index.get_indexer(child_keys)


def parent_context(full: dict, rel, positions: np.ndarray) -> pd.DataFrame:
    """The parents' ``full`` rows at ``positions`` (-1: no parent, all missing), prefixed
    as context columns of the child."""
    parent = full[rel.parent]
    ctx = parent.iloc[np.maximum(positions, 0)].reset_index(drop=True)
    if len(parent) == 0:
        ctx = pd.DataFrame(np.nan, index=range(len(positions)), columns=parent.columns)
    missing = positions < 0
    if missing.any():
        ctx = ctx.astype({c: "float64" for c in ctx.columns if is_numeric(ctx[c])})
        ctx.loc[missing, :] = np.nan
    ctx.columns = [context_prefix(rel) + str(c) for c in ctx.columns]
    return ctx


def sequence_features(own: pd.DataFrame, groups: np.ndarray, order: np.ndarray, order_col: str):
    """Position, first value, step and previous row's values of a sequence's rows (the
    ``own`` frame's rows, ``groups[i]`` their parent, ``order`` the order values)."""
    n = len(own)
    frame = pd.DataFrame({"g": groups, "o": order, "r": np.arange(n)})
    frame = frame.sort_values(["g", "o", "r"], kind="stable")
    rows = frame["r"].to_numpy()
    g = frame["g"].to_numpy()
    o = frame["o"].to_numpy()
    first = np.r_[True, g[1:] != g[:-1]] if n else np.zeros(0, dtype=bool)
    index = np.zeros(n, dtype="int64")
    pos = np.arange(n)
    starts = np.maximum.accumulate(np.where(first, pos, 0)) if n else pos
    index[rows] = pos - starts
    start = np.full(n, np.nan)
    gap = np.full(n, np.nan)
    start[rows[first]] = o[first]
    prev_row = np.r_[-1, rows[:-1]] if n else rows
    later = ~first
    gap[rows[later]] = o[later] - o[np.flatnonzero(later) - 1]
    feats = {INDEX: index, START: start, GAP: gap}
    previous = np.full(n, -1)
    previous[rows[later]] = prev_row[later]
    for col in own.columns:
        if col == order_col:
            continue
        values = own[col]
        shifted = values.iloc[np.maximum(previous, 0)].reset_index(drop=True)
        shifted = shifted.where(pd.Series(previous >= 0))
        feats[prev_column(col)] = shifted
    return pd.DataFrame(feats)


def first_rows(frame: pd.DataFrame, least: int = 2):
    """Mask of a sequence frame's first rows (position 0), or ``None`` when the first or
    the later rows are too few (under ``least``) for a model each."""
    first = frame[INDEX].to_numpy() == 0
    if first.sum() < least or (~first).sum() < least:
        return None
    return first


def first_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """What the model of a sequence's first rows learns: the row and its parents' context
    with the first value of the order column (no position, step or previous row)."""
    drop = [c for c in frame.columns if c.startswith("__tg_prev.") or c in (INDEX, GAP)]
    return frame.drop(columns=drop).reset_index(drop=True)


def later_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """What the model of a sequence's later rows learns: the row, its context, its
    position, its step from the row before and that row's values (no first value)."""
    return frame.drop(columns=[START]).reset_index(drop=True)


def _filled(col: str) -> bool:
    return col.startswith(("__tg_p.", "__tg_prev."))


def fill_values(frame: pd.DataFrame) -> dict:
    """Median (numbers) or most frequent value (others) of each context and previous-row
    column with missing cells: what those cells are conditioned on instead (so that rows
    share one pattern of conditioned cells, which keeps conditional sampling fast)."""
    out = {}
    for col in frame.columns:
        values = frame[col]
        if not _filled(col) or values.isna().all():
            continue
        if is_numeric(values):
            out[col] = float(values.median())
        else:
            value = values.mode(dropna=True).iloc[0]
            out[col] = value.item() if hasattr(value, "item") else value
    return out


def apply_fill(frame: pd.DataFrame, fill: dict) -> pd.DataFrame:
    """``frame`` with the missing context cells set to ``fill`` (previous-row cells only
    after a sequence's first row, whose previous row is absent, not missing)."""
    if not fill:
        return frame
    frame = frame.copy()
    later = frame[INDEX].to_numpy() > 0 if INDEX in frame.columns else None
    for col, value in fill.items():
        if col not in frame.columns:
            continue
        if col.startswith("__tg_prev.") and later is not None:
            mask = frame[col].isna().to_numpy() & later
            if mask.any():
                column = frame[col].astype(object) if not is_numeric(frame[col]) else frame[col]
                column = column.copy()
                column[mask] = value
                frame[col] = column
        else:
            frame[col] = frame[col].fillna(value)
    return frame
