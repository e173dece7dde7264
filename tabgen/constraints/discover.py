"""Propose the rules a table obeys (:func:`discover`)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from tabgen.constraints.categorical import Determines, FixedCombinations, OneHot
from tabgen.constraints.rules import Inequality, LinearEquality, _values


def discover(
    df: pd.DataFrame,
    *,
    kinds=(
        "inequality",
        "non_negative",
        "determines",
        "fixed_combinations",
        "linear_equality",
        "one_hot",
    ),
    max_rows: int = 100_000,
    max_columns: int = 60,
    max_categories: int = 50,
    min_rows: int = 20,
    tolerance: float = 1e-9,
    consistent: bool = True,
    random_state=0,
) -> list:
    """Propose the rules that every row of ``df`` obeys.

    Looked for (bounded: at most ``max_columns`` columns of each type and ``max_rows`` rows,
    sampled uniformly; all checks are vectorised):

    * ``non_negative``: ``Inequality(x, ">=", 0)`` for numeric columns never below 0 (and
      sometimes above);
    * ``inequality``: ``Inequality(a, "<=", b)`` between numeric (or datetime) columns whose
      ranges overlap (an order implied by the ranges alone is not reported), transitive
      consequences left out;
    * ``determines`` / ``fixed_combinations``: among categorical-like columns (text,
      categories, booleans, integers with at most ``max_categories`` values): functional
      dependencies ``a -> b`` where values of ``a`` repeat; a dependency both ways becomes
      ``FixedCombinations([a, b])``; pairs that never show combinations expected at least 10
      times were the columns independent also become ``FixedCombinations``;
    * ``linear_equality``: ``a = b + c`` over numeric triples (screened on 256 rows, then
      checked on all);
    * ``one_hot``: groups of 0/1 columns with exactly one 1 per row.

    Parameters
    ----------
    df : pandas.DataFrame
        The table (never modified). Discovery reads the data: it is not differentially
        private.
    kinds : tuple of str
        Which kinds of rule to look for.
    max_rows, max_columns, max_categories, min_rows : int
        Cost and evidence bounds: a rule needs ``min_rows`` rows where its columns are all
        present.
    tolerance : float
        Relative tolerance of the linear equalities.
    consistent : bool, default True
        Leave out a proposed rule that cannot hold by construction together with the
        better-ranked ones (e.g. two rules deriving the same column), so that the result
        can be passed as ``constraints=`` unchanged.
    random_state : int
        Seed of the row sample.

    Returns
    -------
    list of Rule
        Ranked by support (share of rows where the rule's columns are all present), then by
        kind; each has ``support`` and ``n_rows`` attributes.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> a = rng.uniform(0, 10, 200)
    >>> df = pd.DataFrame({"a": a, "b": a + rng.uniform(0, 5, 200)})
    >>> discover(df, kinds=("inequality",))
    [Inequality(left='a', op='<=', right='b')]
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"discover needs a pandas DataFrame, got {type(df).__name__}")
    if len(df) > max_rows:
        df = df.sample(n=max_rows, random_state=random_state)
    n = len(df)
    numeric = [
        c
        for c in df.columns
        if (
            pd.api.types.is_numeric_dtype(df[c].dtype)
            and not pd.api.types.is_bool_dtype(df[c].dtype)
        )
        or pd.api.types.is_datetime64_any_dtype(df[c].dtype)
    ][:max_columns]
    found = []
    if numeric and n:
        M = np.column_stack([_values(df, c) for c in numeric])
        is_dt = np.array([pd.api.types.is_datetime64_any_dtype(df[c].dtype) for c in numeric])
        if "non_negative" in kinds:
            found += _non_negative(M, numeric, is_dt, min_rows)
        if "inequality" in kinds:
            found += _inequalities(M, numeric, is_dt, min_rows)
        if "linear_equality" in kinds:
            found += _sums(
                M[:, ~is_dt],
                [c for c, d in zip(numeric, is_dt) if not d],
                tolerance,
                min_rows,
                random_state,
            )
    hot = _one_hot(df, min_rows) if "one_hot" in kinds else []
    grouped = {c for r in hot for c in r.columns}
    cats = [
        c
        for c in df.columns
        if c not in grouped
        and not pd.api.types.is_float_dtype(df[c].dtype)
        and not pd.api.types.is_datetime64_any_dtype(df[c].dtype)
        and 1 < df[c].nunique(dropna=True) <= max_categories
    ][:max_columns]
    if "determines" in kinds or "fixed_combinations" in kinds:
        found += _dependencies(df, cats, kinds, min_rows)
    found += hot
    for rule in found:
        rule.support = rule.n_rows / max(n, 1)
    order = ["linear_equality", "fixed_combinations", "determines", "one_hot", "inequality"]
    found.sort(key=lambda r: (-r.support, order.index(r.kind) if r.kind in order else 9))
    if consistent:
        found = _consistent(found, df)
    return found


def _tag(rule, n_rows):
    rule.n_rows = int(n_rows)
    return rule


def _non_negative(M, names, is_dt, min_rows):
    out = []
    for j, c in enumerate(names):
        x = M[:, j][~np.isnan(M[:, j])]
        if not is_dt[j] and len(x) >= min_rows and x.min() >= 0 and x.max() > 0:
            out.append(_tag(Inequality(c, ">=", 0), len(x)))
    return out


def _inequalities(M, names, is_dt, min_rows):
    k = M.shape[1]
    present = ~np.isnan(M)
    lo = np.nanmin(np.where(present, M, np.nan), axis=0) if len(M) else np.zeros(k)
    hi = np.nanmax(np.where(present, M, np.nan), axis=0) if len(M) else np.zeros(k)
    edges = {}
    for i in range(k):
        both = present[:, i : i + 1] & present
        with np.errstate(invalid="ignore"):
            le = np.where(both, M[:, i : i + 1] <= M, True).all(axis=0)
            differ = (np.where(both, M[:, i : i + 1] != M, False)).any(axis=0)
        count = both.sum(axis=0)
        for j in np.flatnonzero(le & differ & (count >= min_rows)):
            if j == i or is_dt[i] != is_dt[j]:
                continue
            if hi[i] <= lo[j]:  # implied by the ranges alone
                continue
            edges[(i, j)] = int(count[j])
    # transitive reduction: drop i<=j when i<=m<=j for some m
    out = []
    for (i, j), cnt in edges.items():
        if any((i, m) in edges and (m, j) in edges for m in range(k) if m not in (i, j)):
            continue
        out.append(_tag(Inequality(names[i], "<=", names[j]), cnt))
    return out


def _sums(M, names, tol, min_rows, seed):
    k = M.shape[1]
    if k < 3:
        return []
    ok_rows = ~np.isnan(M).any(axis=1)
    full = M[ok_rows]
    if len(full) < min_rows:
        return []
    varying = full.std(axis=0) > 0
    rng = np.random.default_rng(seed)
    screen = full[rng.choice(len(full), size=min(256, len(full)), replace=False)]
    out = []
    seen = set()
    for t in range(k):
        if not varying[t]:
            continue
        S = screen[:, :, None] + screen[:, None, :]  # rows x k x k
        diff = np.abs(screen[:, t][:, None, None] - S)
        close = (diff <= tol * np.maximum(1.0, np.abs(screen[:, t]))[:, None, None]).all(axis=0)
        for i, j in zip(*np.nonzero(np.triu(close, 1))):
            if t in (i, j) or not (varying[i] and varying[j]):
                continue
            key = frozenset((t, i, j))
            if key in seen:
                continue
            d = np.abs(full[:, t] - full[:, i] - full[:, j])
            if (d <= tol * np.maximum(1.0, np.abs(full[:, t]))).all():
                seen.add(key)
                out.append(
                    _tag(
                        LinearEquality(names[t], [names[i], names[j]], tolerance=max(tol, 1e-9)),
                        len(full),
                    )
                )
    return out


def _dependencies(df, cats, kinds, min_rows):
    out = []
    codes = {c: pd.factorize(df[c], use_na_sentinel=True)[0] for c in cats}
    nun = {c: int(codes[c].max()) + 1 for c in cats}
    fd = {}
    for a, b in itertools.permutations(cats, 2):
        both = (codes[a] >= 0) & (codes[b] >= 0)
        m = int(both.sum())
        if m < min_rows or nun[a] * 2 > m:  # values of a must repeat
            continue
        pair = codes[a][both].astype(np.int64) * nun[b] + codes[b][both]
        n_pairs = len(np.unique(pair))
        n_a = len(np.unique(codes[a][both]))
        if n_pairs == n_a:
            fd[(a, b)] = m
        elif "fixed_combinations" in kinds and a < b:
            pa = np.bincount(codes[a][both], minlength=nun[a]) / m
            pb = np.bincount(codes[b][both], minlength=nun[b]) / m
            expected = m * np.outer(pa, pb)
            seen = np.zeros(nun[a] * nun[b], dtype=bool)
            seen[np.unique(pair)] = True
            missing = ~seen.reshape(nun[a], nun[b]) & (expected > 0)
            if missing.any() and expected[missing].min() >= 10:
                out.append(_tag(FixedCombinations([a, b]), m))
    for (a, b), m in fd.items():
        if (b, a) in fd:
            if a < b and "fixed_combinations" in kinds:
                out.append(_tag(FixedCombinations([a, b]), m))
        elif "determines" in kinds:
            out.append(_tag(Determines(a, b), m))
    return out


def _one_hot(df, min_rows):
    binary = []
    for c in df.columns:
        col = df[c]
        if col.isna().any():
            continue
        if pd.api.types.is_bool_dtype(col.dtype) or (
            pd.api.types.is_numeric_dtype(col.dtype) and set(np.unique(col.to_numpy())) <= {0, 1}
        ):
            binary.append(c)
    if len(binary) < 2 or len(df) < min_rows:
        return []
    B = df[binary].to_numpy(dtype="float64")
    together = (B.T @ B) > 0  # both 1 on some row
    out, used = [], set()
    for i, c in enumerate(binary):
        if c in used:
            continue
        group = [i]
        for j in range(i + 1, len(binary)):
            if binary[j] not in used and not together[j, group].any():
                group.append(j)
        if len(group) >= 2 and (B[:, group].sum(axis=1) == 1).all():
            used.update(binary[g] for g in group)
            out.append(_tag(OneHot([binary[g] for g in group]), len(df)))
    return out


def _consistent(rules, df):
    from tabgen.constraints.transform import ConstraintSet

    kept = []
    for rule in rules:
        try:
            cs = ConstraintSet([*kept, rule])
            cs._check_columns(df)
            cs._order(cs._compile(df), strict=True)
        except ValueError:
            continue
        kept.append(rule)
    return kept
