"""Predicates for singling out, evaluated on integer codes shared by the synthetic, training
and holdout tables."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._columns import (
    joint_codes,
    to_float,
)

_INT_MAX = np.iinfo(np.int32).max
_MAX_CELLS = 1 << 22  # elements of one (queries x rows) boolean block


@dataclass
class _QueryColumn:
    """One column seen through integer codes shared by the synthetic and target tables.

    Numbers and datetimes get dense ranks over the union of their values, so that ``col <= v``
    is ``rank <= rank(v)`` on every table; categories get shared codes. Missing is -1.
    """

    numeric: bool
    uniques: np.ndarray  # sorted distinct values (numeric columns)
    present: np.ndarray  # sorted distinct codes present in the synthetic table
    low: float  # synthetic range (numeric columns)
    high: float
    median: float  # synthetic median (numeric columns)
    median_rank: int  # value <= synthetic median  <=>  rank <= median_rank


def _query_columns(
    frames: list[pd.DataFrame], kinds: Mapping[str, str]
) -> tuple[list[np.ndarray], list[_QueryColumn]]:
    """Integer codes of every table, (columns, rows) int32, and per-column information.

    ``frames[0]`` is the synthetic table. The codes are stored column by column so that the
    values of one column, gathered for a block of queries, are contiguous.
    """
    lengths = [len(f) for f in frames]
    per_table: list[list[np.ndarray]] = [[] for _ in frames]
    info = []
    for column, kind in kinds.items():
        if kind == "categorical":
            codes, _ = joint_codes([f[column] for f in frames])
            uniques = np.zeros(0)
            low = high = median = float("nan")
            median_rank = -1
        else:
            values = np.concatenate([to_float(f[column], kind) for f in frames])
            missing = np.isnan(values)
            uniques = np.unique(values[~missing])
            ranks = np.searchsorted(uniques, np.where(missing, 0.0, values)).astype(np.int64)
            ranks[missing] = -1
            codes = np.split(ranks, np.cumsum(lengths)[:-1])
            syn = values[: lengths[0]]
            syn = syn[~np.isnan(syn)]
            if len(syn):
                low, high = float(syn.min()), float(syn.max())
                median = float(np.median(syn))
                median_rank = int(np.searchsorted(uniques, median, side="right")) - 1
            else:
                low = high = median = float("nan")
                median_rank = -1
        present = np.unique(codes[0][codes[0] >= 0])
        for table, c in zip(per_table, codes):
            table.append(c.astype(np.int32))
        info.append(
            _QueryColumn(
                numeric=kind != "categorical",
                uniques=uniques,
                present=present,
                low=low,
                high=high,
                median=median,
                median_rank=median_rank,
            )
        )
    tables = [np.vstack(t) if t else np.zeros((0, n), np.int32) for t, n in zip(per_table, lengths)]
    return tables, info


def _count_matches(
    by_column: np.ndarray, cols: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> np.ndarray:
    """Number of rows of a table matching each conjunctive query.

    ``by_column`` holds the table's codes as (columns, rows) int32. Query ``q`` is
    ``AND_j lo[q, j] <= by_column[cols[q, j]] <= hi[q, j]``; a missing cell (-1) never matches
    since ``lo >= 0``. Queries are evaluated in blocks of at most ``_MAX_CELLS`` (query, row)
    cells.
    """
    n_rows = by_column.shape[1]
    n_queries = cols.shape[0]
    out = np.zeros(n_queries, dtype=np.int64)
    if n_queries == 0 or n_rows == 0:
        return out
    lo = lo.astype(np.int32)
    hi = hi.astype(np.int32)
    step = max(1, _MAX_CELLS // n_rows)
    for start in range(0, n_queries, step):
        block = slice(start, start + step)
        c, lo_b, hi_b = cols[block], lo[block], hi[block]
        mask = None
        for j in range(c.shape[1]):
            values = by_column[c[:, j]]
            match = values >= lo_b[:, j, None]
            match &= values <= hi_b[:, j, None]
            if mask is None:
                mask = match
            else:
                mask &= match
        out[block] = np.count_nonzero(mask, axis=1)
    return out


def _single_conditions(
    info: _QueryColumn, n: int, rng: np.random.Generator, ops: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Random conditions on one column for the baseline: ``(lo, hi)`` code intervals.

    ``ops``: 0 → ``==`` a random distinct synthetic value, 1 → ``<= u``, 2 → ``>= u`` with ``u``
    uniform over the synthetic range, 3 → ``<= u`` or ``>= u`` depending on which side of the
    synthetic median ``u`` falls (multivariate queries).
    """
    lo = np.ones(n, dtype=np.int64)  # the empty interval [1, 0] when nothing can be drawn
    hi = np.zeros(n, dtype=np.int64)
    if len(info.present) == 0:
        return lo, hi
    if not info.numeric:
        ops = np.zeros(n, dtype=np.int64)
    equal = ops == 0
    pick = info.present[rng.integers(0, len(info.present), n)]
    lo[equal] = pick[equal]
    hi[equal] = pick[equal]
    if info.numeric:
        u = rng.uniform(info.low, info.high, n)
        side = ops.copy()
        side[ops == 3] = np.where(u[ops == 3] <= info.median, 1, 2)
        below = side == 1
        above = side == 2
        lo[below] = 0
        hi[below] = np.searchsorted(info.uniques, u[below], side="right") - 1
        lo[above] = np.searchsorted(info.uniques, u[above], side="left")
        hi[above] = _INT_MAX
    return lo, hi


def _sort_conditions(cols, lo, hi):
    order = np.argsort(cols, axis=1, kind="stable")
    return (
        np.take_along_axis(cols, order, axis=1),
        np.take_along_axis(lo, order, axis=1),
        np.take_along_axis(hi, order, axis=1),
    )


def _univariate_queries(
    syn: np.ndarray, info: list[_QueryColumn], n_attacks: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Predicates on one column from the synthetic table; returns (cols, lo, hi, available)."""
    cols, lo, hi = [], [], []
    for j, column in enumerate(info):
        codes = syn[j]
        codes = codes[codes >= 0]
        if len(codes) == 0:
            continue
        counts = np.bincount(codes)
        once = np.flatnonzero(counts == 1)
        cols.append(np.full(len(once), j))
        lo.append(once)
        hi.append(once)
        if column.numeric:
            cols.append(np.array([j, j]))
            lo.append(np.array([0, codes.max()]))
            hi.append(np.array([codes.min(), _INT_MAX]))
    if not cols:
        empty = np.zeros((0, 1), dtype=np.int64)
        return empty, empty, empty, 0
    cols_a, lo_a, hi_a = (np.concatenate(x).astype(np.int64) for x in (cols, lo, hi))
    available = len(cols_a)
    keep = rng.permutation(available)[:n_attacks]
    return cols_a[keep, None], lo_a[keep, None], hi_a[keep, None], available


def _multivariate_queries(
    syn: np.ndarray,
    info: list[_QueryColumn],
    n_cols: int,
    n_attacks: int,
    max_attempts: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Conjunctions from random synthetic rows that single out their row in the synthetic table.

    Candidates are drawn in batches. Each is first counted on random probes of the synthetic
    rows (256 rows, then about a sixteenth of them): two matches there already rule it out
    (most candidates match many rows), so only the few survivors are counted on the whole
    table. A kept predicate matches its source row only,
    so two equal kept predicates come from the same row; duplicates are dropped.

    Returns
    -------
    cols, lo, hi : ndarray of shape (n_found, n_cols)
    attempts : int
        Candidates drawn.
    """
    n_columns, n_syn = syn.shape
    numeric = np.array([c.numeric for c in info])
    median_rank = np.array([c.median_rank for c in info], dtype=np.int64)
    shuffled = syn[:, rng.permutation(n_syn)]
    probes = [
        np.ascontiguousarray(shuffled[:, :size])
        for size in sorted({256, max(1024, n_syn // 16)})
        if size < n_syn
    ]
    kept: set[bytes] = set()
    found_cols, found_lo, found_hi = [], [], []
    n_found = attempts = 0
    while n_found < n_attacks and attempts < max_attempts:
        size = min(4096, max_attempts - attempts)
        attempts += size
        values = syn[:, rng.integers(0, n_syn, size)].T.astype(np.int64)
        keys = rng.random((size, n_columns))
        keys[values < 0] = 2.0  # missing cells sort last
        cols = np.argsort(keys, axis=1)[:, :n_cols]
        v = np.take_along_axis(values, cols, axis=1)
        valid = (v >= 0).all(axis=1)
        cols, v = cols[valid], v[valid]
        is_num = numeric[cols]
        below = is_num & (v <= median_rank[cols])
        above = is_num & ~below
        lo = np.where(below, 0, v)
        hi = np.where(above, _INT_MAX, v)
        for probe in probes:
            alive = _count_matches(probe, cols, lo, hi) < 2
            cols, lo, hi = cols[alive], lo[alive], hi[alive]
        unique = _count_matches(syn, cols, lo, hi) == 1
        cols, lo, hi = _sort_conditions(cols[unique], lo[unique], hi[unique])
        for i, row in enumerate(np.hstack([cols, lo, hi])):
            key = row.tobytes()
            if key in kept:
                continue
            kept.add(key)
            found_cols.append(cols[i])
            found_lo.append(lo[i])
            found_hi.append(hi[i])
            n_found += 1
            if n_found == n_attacks:
                break
    if not found_cols:
        empty = np.zeros((0, n_cols), dtype=np.int64)
        return empty, empty, empty, attempts
    return np.stack(found_cols), np.stack(found_lo), np.stack(found_hi), attempts


def _baseline_queries(
    info: list[_QueryColumn], n: int, n_cols: int, rng: np.random.Generator, univariate: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random predicates that use only the synthetic domain (ranges and categories)."""
    n_columns = len(info)
    cols = np.argsort(rng.random((n, n_columns)), axis=1)[:, :n_cols]
    lo = np.zeros(cols.shape, dtype=np.int64)
    hi = np.zeros(cols.shape, dtype=np.int64)
    for j, column in enumerate(info):
        where = cols == j
        count = int(where.sum())
        if count == 0:
            continue
        ops = rng.integers(0, 3, count) if univariate else np.full(count, 3)
        lo[where], hi[where] = _single_conditions(column, count, rng, ops)
    return _sort_conditions(cols, lo, hi)
