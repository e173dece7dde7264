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
    confidence: float = 1.0,
    consistent: bool = True,
    random_state=0,
) -> list:
    """Propose the rules that every row of ``df`` obeys (or, with ``confidence`` below 1,
    nearly every row).

    Looked for (bounded: at most ``max_columns`` columns of each type and ``max_rows`` rows,
    sampled uniformly; all checks are vectorised):

    * ``non_negative``: ``Inequality(x, ">=", 0)`` for numeric columns never below 0 (and
      sometimes above);
    * ``inequality``: ``Inequality(a, "<=", b)`` between numeric (or datetime) columns, when
      the order is evidence of a rule: were the columns independent, at least 1 % of the
      rows (and at least 10) would break it; an order (nearly) implied by the ranges alone
      is not reported (e.g. a room count below a house price); transitive consequences are
      left out;
    * ``determines`` / ``fixed_combinations``: among categorical-like columns (text,
      categories, booleans, integers with at most ``max_categories`` values): functional
      dependencies ``a -> b`` where values of ``a`` repeat; a dependency both ways becomes
      ``FixedCombinations([a, b])``; pairs where at least a tenth (and two) of the
      combinations never show, each expected at least 10 times were the columns
      independent, also become ``FixedCombinations`` (one absent pair is an association,
      not a rule);
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
    confidence : float, default 1.0
        Share of the rows (where its columns are present) on which a proposed inequality or
        non-negativity must hold. Below 1, rules that a few rows break are proposed too
        (fit them with ``constraint_violations="drop"``); each rule's ``confidence``
        attribute gives its share.
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
        kind; each has ``support``, ``confidence`` and ``n_rows`` attributes.

    Cost: the candidate rules are screened on a uniform subset of 2,000 rows (a rule that
    fails there fails on the whole table) and only the survivors are checked on every row;
    about 2.3 s for 50 columns x 100k rows on a busy machine (``benchmarks/bench_discover.py``).

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
    if not (isinstance(confidence, (int, float)) and 0.5 < confidence <= 1):
        raise ValueError(f"confidence must be in (0.5, 1], got {confidence!r}")
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
            found += _non_negative(M, numeric, is_dt, min_rows, confidence)
        if "inequality" in kinds:
            found += _inequalities(M, numeric, is_dt, min_rows, confidence, random_state)
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
        found += _dependencies(df, cats, kinds, min_rows, random_state)
    found += hot
    for rule in found:
        rule.support = rule.n_rows / max(n, 1)
        rule.confidence = float(getattr(rule, "confidence", 1.0))
    order = ["linear_equality", "fixed_combinations", "determines", "one_hot", "inequality"]
    found.sort(key=lambda r: (-r.support, order.index(r.kind) if r.kind in order else 9))
    if consistent:
        found = _consistent(found, df)
    return found


def _tag(rule, n_rows, confidence=1.0):
    rule.n_rows = int(n_rows)
    rule.confidence = float(confidence)
    return rule


#: Rows of the screening subset: a candidate that fails there is not checked further.
_SCREEN = 2000


def _non_negative(M, names, is_dt, min_rows, confidence):
    out = []
    for j, c in enumerate(names):
        x = M[:, j][~np.isnan(M[:, j])]
        if is_dt[j] or len(x) < min_rows or x.max() <= 0:
            continue
        share = float((x >= 0).mean())
        if share >= confidence and (x < 0).sum() <= (1 - confidence) * len(x):
            out.append(_tag(Inequality(c, ">=", 0), len(x), share))
    return out


def _independent_break_rate(a: np.ndarray, b: np.ndarray, rng) -> float:
    """``P(a' > b')`` for ``a'``, ``b'`` drawn independently from the values of ``a`` and
    ``b``: the share of rows an independent pairing would break ``a <= b`` on."""
    if len(a) > 20_000:
        a = a[rng.choice(len(a), 20_000, replace=False)]
        b = b[rng.choice(len(b), 20_000, replace=False)]
    below = np.searchsorted(np.sort(b), a, side="left")  # values of b strictly below each a
    return float(below.mean() / len(b))


def _inequalities(M, names, is_dt, min_rows, confidence, seed):
    k = M.shape[1]
    rng = np.random.default_rng(seed)
    present = ~np.isnan(M)
    # screen every ordered pair on a subset; the survivors are checked on every row
    sub = M if len(M) <= _SCREEN else M[rng.choice(len(M), _SCREEN, replace=False)]
    with np.errstate(invalid="ignore"):
        slack = int(np.floor((1 - confidence) * len(sub) * 3)) + (confidence < 1)
        broken = (sub[:, :, None] > sub[:, None, :]).sum(axis=0)  # i above j
    candidates = [
        (i, j) for i, j in zip(*np.nonzero(broken <= slack)) if i != j and is_dt[i] == is_dt[j]
    ]
    edges = {}
    for i, j in candidates:
        both = present[:, i] & present[:, j]
        count = int(both.sum())
        if count < min_rows:
            continue
        a, b = M[both, i], M[both, j]
        bad = int((a > b).sum())
        share = 1.0 - bad / count
        if share < confidence or not (a != b).any():
            continue
        # evidence: independent columns would break the order often
        p = _independent_break_rate(a, b, rng)
        if p < 0.01 or p * count < 10 or bad / count > p / 10:
            continue
        edges[(i, j)] = (count, share)
    # transitive reduction: drop i<=j when i<=m<=j for some m
    out = []
    for (i, j), (cnt, share) in edges.items():
        if any((i, m) in edges and (m, j) in edges for m in range(k) if m not in (i, j)):
            continue
        out.append(_tag(Inequality(names[i], "<=", names[j]), cnt, share))
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


def _dependencies(df, cats, kinds, min_rows, seed):
    out = []
    codes = {c: pd.factorize(df[c], use_na_sentinel=True)[0] for c in cats}
    nun = {c: int(codes[c].max()) + 1 for c in cats}
    rng = np.random.default_rng(seed)
    n = len(df)
    screen = None if n <= _SCREEN else rng.choice(n, _SCREEN, replace=False)
    fd = {}
    for a, b in itertools.combinations(cats, 2):
        if screen is not None and not _maybe_related(
            codes[a][screen], codes[b][screen], nun[a], nun[b]
        ):
            continue  # every combination shows on the subset and neither fixes the other
        both = (codes[a] >= 0) & (codes[b] >= 0)
        m = int(both.sum())
        if m < min_rows:
            continue
        table = np.bincount(
            codes[a][both].astype(np.int64) * nun[b] + codes[b][both], minlength=nun[a] * nun[b]
        ).reshape(nun[a], nun[b])
        seen = table > 0
        rows_a, rows_b = table.sum(axis=1), table.sum(axis=0)
        for x, y, per, n_x in ((a, b, seen.sum(axis=1), rows_a), (b, a, seen.sum(axis=0), rows_b)):
            # x -> y: each value of x shows with one value of y; values of x must repeat
            if (n_x > 0).sum() * 2 <= m and (per[n_x > 0] == 1).all():
                fd[(x, y)] = m
        if "fixed_combinations" in kinds and (a, b) not in fd and (b, a) not in fd:
            expected = np.outer(rows_a, rows_b) / m
            possible = expected > 0
            missing = ~seen & possible
            if missing.sum() >= max(2, 0.1 * possible.sum()) and expected[missing].min() >= 10:
                out.append(_tag(FixedCombinations(sorted([a, b])), m))
    for (a, b), m in fd.items():
        if (b, a) in fd:
            if a < b and "fixed_combinations" in kinds:
                out.append(_tag(FixedCombinations([a, b]), m))
        elif "determines" in kinds:
            out.append(_tag(Determines(a, b), m))
    return out


def _maybe_related(ca, cb, na, nb) -> bool:
    """Whether codes ``ca``/``cb`` of a subset leave room for a dependency or an absent
    combination on the whole table (``False``: every combination already shows and
    neither column fixes the other)."""
    ok = (ca >= 0) & (cb >= 0)
    seen = np.bincount(ca[ok].astype(np.int64) * nb + cb[ok], minlength=na * nb).reshape(na, nb)
    shown_a, shown_b = seen.sum(axis=1) > 0, seen.sum(axis=0) > 0
    return not (seen[shown_a][:, shown_b] > 0).all()


def _one_hot(df, min_rows):
    binary = []
    for c in df.columns:
        col = df[c]
        if col.isna().any():
            continue
        if pd.api.types.is_bool_dtype(col.dtype) or (
            pd.api.types.is_numeric_dtype(col.dtype)
            and not pd.api.types.is_datetime64_any_dtype(col.dtype)
            and col.min() >= 0
            and col.max() <= 1
            and bool(np.isin(col.to_numpy(), (0, 1)).all())
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
