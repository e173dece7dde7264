"""Privacy attacks on synthetic data with 95 % confidence intervals (Anonymeter-style).

A reimplementation, from the published description (Giomi et al., "A Unified Framework for
Quantifying Privacy Risk in Synthetic Data", PoPETs 2023), of the three attacks that follow the
Article 29 Working Party criteria (WP216): *singling out*, *linkability* and *inference*. Every
attack is run three times:

* **main**: against the training rows the generator saw (``real``);
* **control**: the same attack against real rows it never saw (``holdout``); what an attacker
  learns about the control rows comes from the population, not from a leak;
* **baseline**: random guessing, a sanity check (an attack no better than it says nothing).

Each success rate gets a Wilson score interval and the residual risk is
``(attack - control) / (1 - control)``, with the error propagated from both rates. The attacks:

1. **Singling out, univariate**: predicates built from the synthetic rows, one column each:
   ``col == v`` for values seen exactly once in the synthetic column, ``col <= min`` and
   ``col >= max`` for numbers and datetimes. A predicate succeeds when it matches exactly one
   target row.
2. **Singling out, multivariate**: a random synthetic row and ``n_cols`` random columns where it
   has a value give a conjunction (numbers: ``col <= v`` when ``v`` is at most the synthetic
   median, else ``col >= v``; categories: ``col == v``), kept when it matches exactly one
   synthetic row.
3. **Linkability**: the columns are split in two disjoint halves; a target row is linked when
   its ``n_neighbors`` nearest synthetic rows on one half and on the other share a row.
4. **Inference**: for each secret column, the attacker finds the synthetic row nearest to the
   target on all the other columns and guesses its secret.

The baselines use the synthetic data only for their domain: random predicates (random columns,
a value drawn uniformly from the synthetic range or among the distinct synthetic values and
categories), random synthetic rows as neighbours (linkability) or as guesses (inference).

These are *empirical* risk estimates against a holdout control, not a guarantee: only
differential privacy gives one (``references/privacy.md``).

Differences from the reference implementation, on purpose: the training rows are subsampled to
the size of the holdout (or the holdout to the size of the training rows, if that is smaller)
instead of rescaling the singling-out control count with a fitted model, so that the main and
control attacks target equally many rows; the nearest-neighbour distance is Euclidean on one
shared encoding (see :func:`attack_risks`) instead of a Gower-like L1.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from ._columns import (
    check_frame,
    check_same_columns,
    joint_codes,
    resolve_kinds,
    select_columns,
    to_float,
)
from ._encode import encode
from ._neighbors import kneighbors
from ._result import MetricResult
from ._sampling import RandomState, child_seed, resolve_rng, subsample

__all__ = ["ATTACKS", "attack_risks", "residual_risk", "wilson_interval"]

#: Names of the attacks, in the order of the scores.
ATTACKS = ("singling_out_univariate", "singling_out_multivariate", "linkability", "inference")

#: Fewest holdout (and training) rows accepted.
MIN_ROWS = 10

_NO_BETTER = "attack no better than random guessing: the risk estimate cannot be trusted"
_INT_MAX = np.iinfo(np.int32).max
_MAX_CELLS = 1 << 22  # elements of one (queries x rows) boolean block


# --------------------------------------------------------------------------- statistics
def _z(confidence: float) -> float:
    """Two-sided normal quantile: 1.96 for a 95 % interval."""
    return float(norm.ppf(1.0 - (1.0 - confidence) / 2.0))


def wilson_interval(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score estimate of a success rate and its half-width.

    ``rate = (k + z²/2) / (n + z²)`` and ``error = z / (n + z²) · sqrt(k(n - k)/n + z²/4)``,
    with ``z`` the *two-sided* normal quantile of ``confidence`` (1.96 for 0.95), so that
    ``rate ± error`` is the usual Wilson interval.

    Parameters
    ----------
    k : int
        Successes, ``0 <= k <= n``.
    n : int
        Trials. With ``n == 0`` both numbers are NaN.
    confidence : float, default 0.95

    Returns
    -------
    rate, error : float

    Examples
    --------
    >>> rate, error = wilson_interval(30, 100)
    >>> round(rate, 4), round(error, 4)
    (0.3074, 0.0884)
    """
    _check_confidence(confidence)
    if n < 0 or k < 0 or k > n:
        raise ValueError(f"need 0 <= k <= n, got k={k!r}, n={n!r}")
    if n == 0:
        return float("nan"), float("nan")
    z = _z(confidence)
    z2 = z * z
    rate = (k + z2 / 2.0) / (n + z2)
    error = z / (n + z2) * math.sqrt(k * (n - k) / n + z2 / 4.0)
    return float(rate), float(error)


def residual_risk(
    attack: tuple[float, float], control: tuple[float, float]
) -> tuple[float, float, float]:
    """Risk left once what the population alone reveals (the control attack) is removed.

    ``risk = (a - c) / (1 - c)`` for the attack rate ``a`` and control rate ``c``; the error
    ``sqrt((e_a / (1 - c))² + (e_c (1 - a) / (1 - c)²)²)`` propagates both rates' errors. The
    interval ``(risk - error, risk + error)`` and then the risk itself are clipped to [0, 1].
    A control rate of 1 leaves nothing to measure: risk 0, interval (0, 0).

    Parameters
    ----------
    attack, control : (rate, error)
        Success rates and half-widths, e.g. from :func:`wilson_interval`.

    Returns
    -------
    risk, low, high : float
        NaN when a rate is NaN.

    Examples
    --------
    >>> risk, low, high = residual_risk((0.5, 0.05), (0.2, 0.04))
    >>> round(risk, 4), round(low, 4), round(high, 4)
    (0.375, 0.3051, 0.4449)
    """
    a, e_a = attack
    c, e_c = control
    if any(math.isnan(v) for v in (a, e_a, c, e_c)):
        return float("nan"), float("nan"), float("nan")
    if c >= 1.0:
        return 0.0, 0.0, 0.0
    risk = (a - c) / (1.0 - c)
    error = math.sqrt((e_a / (1.0 - c)) ** 2 + (e_c * (1.0 - a) / (1.0 - c) ** 2) ** 2)
    low = min(max(risk - error, 0.0), 1.0)
    high = min(max(risk + error, 0.0), 1.0)
    return float(min(max(risk, 0.0), 1.0)), float(low), float(high)


def _summary(k: tuple[int, int, int], n: tuple[int, int, int], confidence: float) -> dict[str, Any]:
    """Rates, errors and the residual risk of one attack from its success counts."""
    out: dict[str, Any] = {}
    rates = {}
    for name, kk, nn in zip(("attack", "control", "baseline"), k, n):
        rate, error = wilson_interval(int(kk), int(nn), confidence)
        rates[name] = (rate, error)
        out[f"{name}_rate"] = rate
        out[f"{name}_error"] = error
        out[f"{name}_successes"] = int(kk)
    out["n_attacks"] = int(n[0])
    out["n_control"] = int(n[1])
    out["n_baseline"] = int(n[2])
    risk, low, high = residual_risk(rates["attack"], rates["control"])
    out.update({"risk": risk, "risk_low": low, "risk_high": high})
    return out


# --------------------------------------------------------------------------- validation
def _check_confidence(confidence: float) -> None:
    if not isinstance(confidence, (int, float, np.floating)) or not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be a number in (0, 1), got {confidence!r}")


def _check_positive_int(value: Any, name: str, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        extra = " or None" if allow_none else ""
        raise ValueError(f"{name} must be a positive integer{extra}, got {value!r}")


def _resolve_secrets(secrets: str | Iterable[str] | None, kinds: Mapping[str, str]) -> list:
    if secrets is None:
        return list(kinds)
    if isinstance(secrets, str) or not isinstance(secrets, Iterable):
        secrets = [secrets]
    secrets = list(dict.fromkeys(secrets))
    if not secrets:
        raise ValueError("secrets must name at least one column (or be None for all)")
    unknown = [s for s in secrets if s not in kinds]
    if unknown:
        raise ValueError(
            f"secrets names columns that are not evaluated columns of the data: {unknown!r}"
        )
    return secrets


def _resolve_split(
    aux_split: tuple[Sequence[str], Sequence[str]] | None,
    columns: list,
    rng: np.random.Generator,
) -> tuple[list, list]:
    if aux_split is None:
        order = rng.permutation(len(columns))
        half = len(columns) // 2
        return [columns[i] for i in sorted(order[:half])], [
            columns[i] for i in sorted(order[half:])
        ]
    if not isinstance(aux_split, (tuple, list)) or len(aux_split) != 2:
        raise ValueError("aux_split must be a pair (columns_a, columns_b)")
    parts = []
    for part in aux_split:
        part = [part] if isinstance(part, str) else list(part)
        if not part:
            raise ValueError("aux_split: each half must name at least one column")
        unknown = [c for c in part if c not in columns]
        if unknown:
            raise ValueError(f"aux_split names columns not evaluated in the data: {unknown!r}")
        parts.append(list(dict.fromkeys(part)))
    shared = [c for c in parts[0] if c in parts[1]]
    if shared:
        raise ValueError(f"aux_split halves must be disjoint; both name {shared!r}")
    return parts[0], parts[1]


# --------------------------------------------------------------------------- query machinery
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


# --------------------------------------------------------------------------- attacks
def _singling_out(
    tables: list[np.ndarray],
    info: list[_QueryColumn],
    *,
    univariate: bool,
    n_attacks: int,
    n_cols: int,
    max_attempts: int,
    confidence: float,
    rng: np.random.Generator,
) -> tuple[dict[str, Any], str | None]:
    syn, real, hold = tables
    if univariate:
        cols, lo, hi, available = _univariate_queries(syn, info, n_attacks, rng)
        extra: dict[str, Any] = {"queries_available": int(available)}
    else:
        cols, lo, hi, attempts = _multivariate_queries(
            syn, info, n_cols, n_attacks, max_attempts, rng
        )
        extra = {"attempts": int(attempts), "n_cols": int(n_cols)}
    n = len(cols)
    b_cols, b_lo, b_hi = _baseline_queries(info, n, 1 if univariate else n_cols, rng, univariate)
    k = (
        int((_count_matches(real, cols, lo, hi) == 1).sum()),
        int((_count_matches(hold, cols, lo, hi) == 1).sum()),
        int((_count_matches(real, b_cols, b_lo, b_hi) == 1).sum()),
    )
    out = _summary(k, (n, n, n), confidence)
    out.update(extra)
    note = None
    if n == 0 and univariate:
        note = "no predicate could be built: no synthetic value occurs once, no numerical column"
    elif n == 0:
        note = f"no predicate singling out one synthetic row found in {extra['attempts']} attempts"
    elif n < n_attacks:
        note = (
            f"only {n} predicates found for the {n_attacks} attacks asked for: the risk may be "
            "underestimated"
        )
    return out, note


def _nearest_success(idx_a: np.ndarray, idx_b: np.ndarray) -> np.ndarray:
    """Whether the neighbour sets of each row (two index arrays) share an element."""
    return (idx_a[:, :, None] == idx_b[:, None, :]).any(axis=(1, 2))


def _inference_correct(
    guess: np.ndarray, truth: np.ndarray, kind: str, tolerance: float, span: float
) -> np.ndarray:
    if kind == "categorical":
        return guess == truth  # codes; missing is -1 on both sides
    both_missing = np.isnan(guess) & np.isnan(truth)
    scale = np.abs(truth) if kind == "numerical" else np.full(len(truth), span)
    with np.errstate(invalid="ignore"):
        close = np.abs(guess - truth) <= tolerance * scale
    return both_missing | close


def attack_risks(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    holdout: pd.DataFrame,
    *,
    metadata: Mapping[str, str] | None = None,
    n_attacks: int = 2000,
    n_cols: int = 3,
    secrets: str | Iterable[str] | None = None,
    aux_split: tuple[Sequence[str], Sequence[str]] | None = None,
    n_neighbors: int = 1,
    tolerance: float = 0.05,
    confidence: float = 0.95,
    max_attempts: int | None = None,
    random_state: RandomState = 0,
) -> MetricResult:
    """Singling-out, linkability and inference risks with confidence intervals (Anonymeter).

    Each attack is run against the training rows (main), against the holdout rows (control)
    and as random guessing (baseline); see the module docstring for the attacks. The residual
    risk ``(attack - control) / (1 - control)`` is what the synthetic data reveal about the
    training rows beyond what they reveal about anyone from the same population.

    To make main and control comparable, the larger of ``real`` and ``holdout`` is subsampled
    (without replacement) to the size of the smaller one, usually the training rows down to
    the holdout size; every attack targets these two equal-size tables.

    Nearest neighbours (linkability, inference) use the Euclidean distance on one encoding of
    the three tables: numbers and datetimes min-max scaled on the (subsampled) training rows'
    range, categories one-hot with the indicators scaled by 1/√2 so that a mismatch costs 1 in
    squared distance (the 100 most frequent categories of a column; the others share one
    level), a missing value as an indicator of its own. For inference the secret column's
    features are dropped from that encoding.

    Parameters
    ----------
    real : pandas.DataFrame
        The training rows the generator saw (Anonymeter's ``ori``).
    synthetic : pandas.DataFrame
        Generated rows, same columns (any order).
    holdout : pandas.DataFrame
        Real rows the generator never saw (Anonymeter's ``control``), same columns, at least
        10 rows. Anonymeter recommends 500–1000 or more.
    metadata : mapping, optional
        ``{column: kind}``; other columns are inferred; ``"id"`` columns are left out.
    n_attacks : int, default 2000
        Predicates (singling out) or target rows per table (linkability, inference). Capped by
        the predicates found and by the target rows available; the numbers used are in
        ``details``.
    n_cols : int, default 3
        Columns per multivariate singling-out predicate (at most the number of columns).
    secrets : str or iterable of str, optional
        Columns to infer, each in turn with all the other columns as the attacker's knowledge;
        default every column.
    aux_split : (columns_a, columns_b), optional
        The two disjoint column sets for linkability; columns in neither are unused. Default:
        a random (seeded) split of all columns in two halves.
    n_neighbors : int, default 1
        Nearest synthetic rows per half for linkability.
    tolerance : float, default 0.05
        A numerical guess is right when ``|guess - true| <= tolerance·|true|`` (so a true 0
        needs a guess of exactly 0); for datetimes ``tolerance`` times the training range.
        Categories (and a missing value guessed as missing) must match exactly.
    confidence : float, default 0.95
        Level of the two-sided Wilson intervals: ``z = Φ⁻¹(1 - (1 - confidence)/2)``, 1.96
        at 0.95.
    max_attempts : int, optional
        Candidate predicates drawn for multivariate singling out; default ``500·n_attacks``.
        Few random conjunctions single out one row (about 1 in 400 on Adult), so the search
        may stop short of ``n_attacks`` predicates (said in ``notes``).
    random_state : int, numpy Generator or None, default 0
        Seeds every subsample, predicate, split and random guess.

    Returns
    -------
    MetricResult
        ``scores``: ``<attack>_risk``, ``<attack>_risk_low`` and ``<attack>_risk_high`` for
        ``singling_out_univariate``, ``singling_out_multivariate``, ``linkability`` and
        ``inference`` (the secret with the highest risk), and ``inference_risk_high_max``, the
        largest upper bound over all secrets. ``details``: per attack the attack,
        control and baseline rates with their errors and success counts, the numbers of
        attacks used, the risk; ``inference_per_secret`` (DataFrame, highest risk first);
        ``settings``. ``notes``: subsampling, attacks short of predicates, attacks no better
        than random guessing.

    Raises
    ------
    ValueError
        If ``holdout`` is missing or has fewer than 10 rows, the columns differ (the message
        names them), ``secrets`` or ``aux_split`` name unknown columns, or a setting is out of
        range.

    Notes
    -----
    Ties among equally near synthetic rows are broken by the neighbour search (arbitrarily but
    reproducibly). On a half made only of a few discrete columns many synthetic rows sit at
    distance 0, so even an exact copy of the target is often missed: raise ``n_neighbors`` or
    choose ``aux_split``. The inference headline is the largest of the per-secret risks, so
    with many secrets it is biased upwards; read it with its interval and
    ``inference_per_secret``.

    Examples
    --------
    A synthetic table that copies its training rows is caught; a holdout from the same
    population is the control:

    >>> rng = np.random.default_rng(0)
    >>> def draw(n):
    ...     x = rng.normal(size=(n, 3))
    ...     return pd.DataFrame({"x": x[:, 0], "y": x[:, 1], "z": x[:, 2],
    ...                          "c": rng.choice(list("abc"), n)})
    >>> train, holdout = draw(300), draw(300)
    >>> res = attack_risks(train, train.copy(), holdout, n_attacks=200)
    >>> res.scores["linkability_risk_low"] > 0.9, res.scores["inference_risk_low"] > 0.9
    (True, True)
    >>> res = attack_risks(train, draw(300), holdout, n_attacks=200)
    >>> res.scores["linkability_risk_low"], res.scores["inference_risk_low"]
    (0.0, 0.0)
    """
    check_frame(real, "real")
    check_frame(synthetic, "synthetic")
    check_same_columns(real, synthetic, "synthetic")
    if holdout is None:
        raise ValueError(
            "attack_risks needs a holdout table (real rows the generator never saw) as the "
            "control; without one the risks cannot be separated from what the population reveals"
        )
    check_frame(holdout, "holdout")
    check_same_columns(real, holdout, "holdout")
    for frame, name in ((real, "real"), (holdout, "holdout")):
        if len(frame) < MIN_ROWS:
            raise ValueError(f"{name} has {len(frame)} rows; the attacks need at least {MIN_ROWS}")
    _check_positive_int(n_attacks, "n_attacks")
    _check_positive_int(n_cols, "n_cols")
    _check_positive_int(n_neighbors, "n_neighbors")
    _check_positive_int(max_attempts, "max_attempts", allow_none=True)
    _check_confidence(confidence)
    if not isinstance(tolerance, (int, float, np.floating)) or not tolerance >= 0:
        raise ValueError(f"tolerance must be a non-negative number, got {tolerance!r}")
    kinds = resolve_kinds(real, metadata)
    columns = list(kinds)
    secret_list = _resolve_secrets(secrets, kinds)
    rng = resolve_rng(random_state)
    synthetic = select_columns(synthetic, real.columns)
    holdout = select_columns(holdout, real.columns)
    split_rng = np.random.default_rng(child_seed(rng))
    cols_a, cols_b = _resolve_split(aux_split, columns, split_rng) if len(columns) > 1 else ([], [])

    n_target = min(len(real), len(holdout))
    real_t = subsample(real, n_target, rng)
    hold_t = subsample(holdout, n_target, rng)
    seeds = {name: child_seed(rng) for name in ATTACKS}
    max_attempts = 500 * n_attacks if max_attempts is None else int(max_attempts)
    n_cols_used = min(n_cols, len(columns))

    result = MetricResult()
    result.details["settings"] = {
        "n_attacks": int(n_attacks),
        "n_cols": int(n_cols_used),
        "n_neighbors": int(n_neighbors),
        "tolerance": float(tolerance),
        "confidence": float(confidence),
        "z": _z(confidence),
        "max_attempts": int(max_attempts),
        "rows_real": len(real),
        "rows_holdout": len(holdout),
        "rows_target": int(n_target),
        "rows_synthetic": len(synthetic),
    }
    if len(real) != len(holdout):
        bigger = "real" if len(real) > len(holdout) else "holdout"
        result.notes["subsample"] = (
            f"{bigger} subsampled from {max(len(real), len(holdout))} to {n_target} rows so that "
            "the main and control attacks target equally many rows"
        )
    if n_cols_used < n_cols:
        result.notes["n_cols"] = f"n_cols lowered from {n_cols} to the {n_cols_used} columns"

    def record(name: str, summary: dict[str, Any], note: str | None = None) -> None:
        result.details[name] = summary
        for suffix in ("risk", "risk_low", "risk_high"):
            result.scores[f"{name}_{suffix}"] = float(summary[suffix])
        messages = [note] if note else []
        if summary["attack_rate"] <= summary["baseline_rate"]:
            messages.append(_NO_BETTER)
        if messages:
            result.notes[name] = "; ".join(messages)

    # Singling out, on integer codes shared by the three tables.
    tables, info = _query_columns([synthetic, real_t, hold_t], kinds)
    for name, univariate in (
        ("singling_out_univariate", True),
        ("singling_out_multivariate", False),
    ):
        summary, note = _singling_out(
            tables,
            info,
            univariate=univariate,
            n_attacks=n_attacks,
            n_cols=n_cols_used,
            max_attempts=max_attempts,
            confidence=confidence,
            rng=np.random.default_rng(seeds[name]),
        )
        record(name, summary, note)

    # Nearest-neighbour attacks on one encoding.
    n = min(n_attacks, n_target)
    if len(columns) < 2:
        for name in ("linkability", "inference"):
            for suffix in ("risk", "risk_low", "risk_high"):
                result.scores[f"{name}_{suffix}"] = float("nan")
            result.notes[name] = "needs at least two columns"
        result.scores["inference_risk_high_max"] = float("nan")
        result.details["inference_per_secret"] = _per_secret_frame([])
        return result
    enc = encode([real_t, hold_t, synthetic], kinds, scale="minmax", categorical="onehot")
    weights = np.where(enc.onehot_mask, math.sqrt(0.5), 1.0)
    x_real, x_hold, x_syn = (a * weights for a in enc.arrays)
    sources = np.asarray([columns.index(c) for c in enc.columns], dtype=np.int64)
    n_syn = len(x_syn)

    # Linkability.
    link_rng = np.random.default_rng(seeds["linkability"])
    idx_real = np.sort(link_rng.choice(n_target, n, replace=False))
    idx_hold = np.sort(link_rng.choice(n_target, n, replace=False))
    targets = np.vstack([x_real[idx_real], x_hold[idx_hold]])
    k_nn = min(n_neighbors, n_syn)
    neighbours = []
    for half in (cols_a, cols_b):
        features = np.isin(sources, [columns.index(c) for c in half])
        _, idx = kneighbors(np.ascontiguousarray(x_syn[:, features]), targets[:, features], k_nn)
        neighbours.append(idx)
    linked = _nearest_success(neighbours[0], neighbours[1])
    random_sets = [
        link_rng.integers(0, n_syn, (n, 1))
        if k_nn == 1
        else np.stack([link_rng.choice(n_syn, k_nn, replace=False) for _ in range(n)])
        for _ in range(2)
    ]
    random_link = _nearest_success(*random_sets)
    summary = _summary(
        (int(linked[:n].sum()), int(linked[n:].sum()), int(random_link.sum())),
        (n, n, n),
        confidence,
    )
    summary.update({"aux_cols": [cols_a, cols_b], "n_neighbors": int(k_nn)})
    record("linkability", summary)

    # Inference, each secret in turn.
    inf_rng = np.random.default_rng(seeds["inference"])
    idx_real = np.sort(inf_rng.choice(n_target, n, replace=False))
    idx_hold = np.sort(inf_rng.choice(n_target, n, replace=False))
    targets = np.vstack([x_real[idx_real], x_hold[idx_hold]])
    rows = []
    for secret in secret_list:
        j = columns.index(secret)
        kind = kinds[secret]
        aux = sources != j
        if kind == "categorical":
            values = [t[j] for t in tables]  # shared codes, -1 for missing
            span = float("nan")
        else:
            values = [to_float(f[secret], kind) for f in (synthetic, real_t, hold_t)]
            present = values[1][~np.isnan(values[1])]
            span = float(present.max() - present.min()) if len(present) else 0.0
        syn_v, real_v, hold_v = values
        _, idx = kneighbors(np.ascontiguousarray(x_syn[:, aux]), targets[:, aux], 1)
        guess = syn_v[idx[:, 0]]
        truth = np.concatenate([real_v[idx_real], hold_v[idx_hold]])
        correct = _inference_correct(guess, truth, kind, tolerance, span)
        random_guess = syn_v[inf_rng.integers(0, n_syn, n)]
        base = _inference_correct(random_guess, real_v[idx_real], kind, tolerance, span)
        summary = _summary(
            (int(correct[:n].sum()), int(correct[n:].sum()), int(base.sum())),
            (n, n, n),
            confidence,
        )
        rows.append({"secret": secret, "kind": kind, **summary})
    table = _per_secret_frame(rows)
    result.details["inference_per_secret"] = table
    best = max(rows, key=lambda r: -1.0 if math.isnan(r["risk"]) else r["risk"])
    summary = {k: v for k, v in best.items() if k != "kind"}
    weak = [r["secret"] for r in rows if r["attack_rate"] <= r["baseline_rate"]]
    note = None
    if weak and best["secret"] not in weak:
        note = f"for secrets {weak!r} the attack is no better than random guessing"
    record("inference", summary, note)
    highs = [r["risk_high"] for r in rows if not math.isnan(r["risk_high"])]
    result.scores["inference_risk_high_max"] = max(highs) if highs else float("nan")
    return result


def _per_secret_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    columns = [
        "secret",
        "kind",
        "risk",
        "low",
        "high",
        "attack_rate",
        "control_rate",
        "baseline_rate",
        "n_attacks",
    ]
    if not rows:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame(rows).rename(columns={"risk_low": "low", "risk_high": "high"})
    frame = frame[columns].sort_values("risk", ascending=False, kind="stable")
    return frame.reset_index(drop=True)
