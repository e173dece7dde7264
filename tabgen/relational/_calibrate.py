"""Calibration of a sampled table (``RelationalSynthesizer(calibrate=True)``).

The sampled numbers of children are mapped to the learnt distribution by rank (each parent
keeps its rank, hence its link to its attributes); each family of children is shifted and
scaled to the mean and spread of its continuous columns that the parent was generated
with; its two-level columns are brought to the parent's share by sampling the changed
children again given the new value (inpainting).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tabgen.relational import _features as F
from tabgen.relational import _sampling as S
from tabgen.relational._match import match_rows


def calibrate(synth, table, frame, full, context, assign, rng) -> pd.DataFrame:
    """Counts to the learnt distribution; families to their parent's moments and
    category shares (see ``calibrate``)."""
    meta = synth.metadata_
    for rel in meta.children(table):
        col = F.count_column(rel)
        if col in frame.columns:
            counts = S.as_counts(frame[col])
            frame[col] = calibrate_counts(counts, synth.relationships_[rel.name]["counts"], rng)
    primary = synth.tables_[table]["primary"]
    rel = next((r for r in assign if r.name == primary), None)
    if rel is None or len(frame) == 0:
        return frame
    if meta.order_by(table) is None:
        frame = calibrate_shares(synth, table, frame, full, context, rel, assign[rel], rng)
    return family_moments(synth, table, frame, full, rel, assign[rel])


def family_moments(synth, table, frame, full, rel, family) -> pd.DataFrame:
    """Each family's continuous columns shifted and scaled to the mean and spread its
    parent was generated with (not the order column, not a linked column)."""
    meta = synth.metadata_
    specs = synth.relationships_[rel.name]["aggregates"]
    parent = full[rel.parent]
    ranges = synth.tables_[table].get("ranges", {})
    for spec in specs:
        col = spec[1]
        if (
            spec[0] != "std"
            or col not in frame.columns
            or col == meta.order_by(table)
            or col not in ranges
            or col in synth.tables_[table].get("linked", [])
        ):
            continue
        mean = parent[F.aggregate_name(rel, ["mean", col])].to_numpy(dtype="float64")
        std = parent[F.aggregate_name(rel, spec)].to_numpy(dtype="float64")
        x = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype="float64")
        new = calibrate_moments(x, family, mean, std, *ranges[col])
        dtype = pd.api.types.pandas_dtype(synth.tables_[table]["dtypes"][col])
        if pd.api.types.is_integer_dtype(dtype):
            new = np.round(new)
        frame[col] = S.as_dtype(pd.Series(new), str(dtype)).to_numpy()
    return frame


def complete_aggregates(synth, table, frame, rng) -> pd.DataFrame:
    """Aggregates of the generated parents that have children, where the model left them
    missing beyond the learnt share (a missing mean is what a childless parent has; a
    parent with children that gets one would give them the median context): the extra
    missing cells are drawn again given the rest of the row (inpainting), so that the
    children are conditioned on values that agree with their parent."""
    model = synth.models_[table]
    if model is None or len(frame) == 0:
        return frame
    can = model.capabilities.row_conditions or model.capabilities.inpainting
    todo = np.zeros(frame.shape, dtype=bool)
    columns = list(frame.columns)
    for rel in synth.metadata_.children(table):
        info = synth.relationships_[rel.name]
        if "missing" not in info or F.count_column(rel) not in frame.columns or not can:
            continue  # a model file written before this step: sampled as before
        counts = S.as_counts(frame[F.count_column(rel)])
        for spec in info["aggregates"]:
            name = F.aggregate_name(rel, spec)
            if name not in frame.columns or name not in model.columns_:
                continue
            eligible = counts >= (2 if spec[0] == "std" else 1)
            rows = np.flatnonzero(eligible & frame[name].isna().to_numpy())
            keep = round(info["missing"].get(name, 0.0) * int(eligible.sum()))
            if len(rows) > keep:
                todo[rng.permutation(rows)[: len(rows) - keep], columns.index(name)] = True
    rows = np.flatnonzero(todo.any(axis=1))
    if len(rows) == 0:
        return frame
    given = frame.iloc[rows][[c for c in model.columns_ if c in frame.columns]]
    cond = S.conditions(model, given.reset_index(drop=True))
    redo = model.sample(conditions=cond, fill_missing=True, random_state=rng)
    frame = frame.copy()
    for j in np.flatnonzero(todo.any(axis=0)):
        col = columns[j]
        hit = todo[rows, j]
        column = frame[col].copy()
        column.iloc[rows[hit]] = redo[col].to_numpy()[hit]
        frame[col] = column
    return frame


def calibrate_shares(synth, table, frame, full, context, rel, family, rng):
    """Two-level columns: each family gets the share of the first level its parent was
    generated with; the children whose level changes are sampled again given the new
    level and their context (inpainting), so that their other columns agree."""
    model = synth.models_[table]
    shares = [s for s in synth.relationships_[rel.name]["aggregates"] if s[0] == "share"]
    parent = full[rel.parent]
    for spec in shares:
        col, level = spec[1], spec[2]
        if col not in frame.columns or model is None or col not in model.columns_:
            continue
        if model.schema_[col].kind != "categorical":
            continue
        cats = model.encoder_.encoders_[col].categories_
        if len(cats) != 2 or level not in [str(c) for c in cats]:
            continue
        first = next(c for c in cats if str(c) == level)
        other = next(c for c in cats if str(c) != level)
        target = parent[F.aggregate_name(rel, spec)].to_numpy(dtype="float64")
        values = frame[col]
        is_first = (values.astype(str) == level).to_numpy() & values.notna().to_numpy()
        flips = share_flips(is_first, values.notna().to_numpy(), family, target, rng)
        if len(flips) == 0:
            continue
        new_values = np.where(is_first[flips], other, first)
        cond = F.apply_fill(
            context.iloc[flips].reset_index(drop=True), synth.tables_[table].get("fill", {})
        )
        cond = S.conditions(model, cond)
        cond = pd.DataFrame(index=range(len(flips))) if cond is None else cond
        cond[col] = pd.Series(new_values, dtype=object)
        redo = model.sample(conditions=cond, random_state=rng).reset_index(drop=True)
        frame = frame.copy()
        for c in frame.columns:
            if c in redo.columns and not c.startswith("__tg_p."):
                column = frame[c].copy()
                column.iloc[flips] = redo[c].to_numpy()
                frame[c] = column
    return frame


def calibrate_counts(sampled: np.ndarray, distribution: list, rng) -> np.ndarray:
    """Sampled counts replaced by the learnt distribution's quantiles at their ranks (ties
    in random order): the order of the parents (what the model ties to their attributes)
    is kept, the marginal is the training one."""
    n = len(sampled)
    if n == 0 or not distribution:
        return sampled
    values = np.array([v for v, _ in distribution], dtype="int64")
    cum = np.cumsum([p for _, p in distribution])
    order = np.lexsort((rng.random(n), np.asarray(sampled, dtype="float64")))
    quantiles = (np.arange(n) + 0.5) / n
    out = np.empty(n, dtype="int64")
    out[order] = values[np.minimum(np.searchsorted(cum, quantiles), len(values) - 1)]
    return out


def calibrate_moments(x: np.ndarray, family: np.ndarray, mean, std, low, high) -> np.ndarray:
    """Shift (and, where a spread is given, scale) each family's values to the family mean
    and standard deviation its parent was generated with; clipped to ``[low, high]``.
    ``family[i]``: the family of row ``i`` (-1: none, left alone); ``mean``/``std``: per
    family (NaN: leave that moment)."""
    x = np.asarray(x, dtype="float64").copy()
    ok = (family >= 0) & ~np.isnan(x)
    if not ok.any():
        return x
    g = family[ok]
    size = np.bincount(g, minlength=len(mean))
    cur = np.bincount(g, weights=x[ok], minlength=len(mean)) / np.maximum(size, 1)
    dev = x[ok] - cur[g]
    ss = np.bincount(g, weights=dev**2, minlength=len(mean))
    cur_std = np.sqrt(ss / np.maximum(size - 1, 1))
    scale = np.ones(len(mean))
    if std is not None:
        usable = (size > 1) & (cur_std > 0) & ~np.isnan(std)
        scale[usable] = std[usable] / cur_std[usable]
    target = np.where(np.isnan(mean), cur, mean)
    x[ok] = np.clip(target[g] + dev * scale[g], low, high)
    return x


def share_flips(is_first, observed, family, target, rng) -> np.ndarray:
    """Rows whose two-level value must flip so that each family holds
    ``round(target * observed size)`` rows of the first level (random rows of the
    over-represented level)."""
    ok = (family >= 0) & observed
    g = family[ok]
    n_fam = len(target)
    size = np.bincount(g, minlength=n_fam)
    have = np.bincount(g, weights=is_first[ok].astype(float), minlength=n_fam)
    want = np.where(np.isnan(target), have, np.round(np.nan_to_num(target) * size))
    excess = (have - want).astype("int64")  # > 0: too many of the first level
    rows = np.flatnonzero(ok)
    order = rng.permutation(len(rows))
    rows = rows[order]
    fam = family[rows]
    first = is_first[rows]
    # take, per family, the first |excess| rows of the level to give up
    give = np.where(excess[fam] > 0, first, ~first)
    cand = rows[give]
    cand_fam = fam[give]
    sort = np.argsort(cand_fam, kind="stable")
    cand, cand_fam = cand[sort], cand_fam[sort]
    start = np.searchsorted(cand_fam, cand_fam, side="left")
    rank = np.arange(len(cand)) - start
    return np.sort(cand[rank < np.abs(excess[cand_fam])])


def match_marginals(synth, table, frame, rng) -> pd.DataFrame:
    """Each numeric own column of a child table given the marginal of its model's
    unconditional draw, by rank: conditioning decides the order of the rows (hence their
    dependence on the parents), the model's own marginal the values. Categorical columns
    get the draw's level shares (:func:`match_levels`). A sequence's order column is
    mapped like the numbers (a monotone map: each sequence stays non-decreasing)."""
    model = synth.models_[table]
    if model is None or not synth.metadata_.parents(table) or len(frame) == 0:
        return frame
    order_col = synth.metadata_.order_by(table)
    ranges = synth.tables_[table].get("ranges", {})
    cols = [c for c in ranges if c in frame.columns and c != order_col]
    cols = [c for c in cols if c in model.columns_]
    sequence = order_col is not None
    if not cols and not sequence and synth.marginals != "joint":
        return frame
    ref = reference_draw(synth, table, frame, rng)
    frame = frame.copy()
    if synth.marginals == "joint":
        own = [c for c in model.columns_ if c in synth.tables_[table]["columns"]]
        own = [c for c in own if c in frame.columns and c in ref.columns]
        context = [c for c in ref.columns if c.startswith("__tg_p.") and c in frame.columns]
        partner = match_rows(frame, ref, own, context, rng) if own else None
        own = [c for c in own if c != order_col]  # the order column: its own map below
        for col in own:
            values = ref[col].iloc[partner].reset_index(drop=True)
            frame[col] = S.as_dtype(values, synth.tables_[table]["dtypes"][col]).to_numpy()
        cols = []  # every own column now has the draw's values
    for col in cols:
        new = rank_map(frame[col], ref[col], rng)
        frame[col] = S.as_dtype(pd.Series(new), synth.tables_[table]["dtypes"][col]).to_numpy()
    for col in model.columns_ if synth.marginals != "joint" else ():
        if col in cols or col == order_col or col not in synth.tables_[table]["columns"]:
            continue
        if col in frame.columns and col in ref.columns and not F.is_numeric(frame[col]):
            frame[col] = match_levels(frame[col], ref[col], rng)
    if sequence and order_col in ref.columns:
        x = rank_map(
            pd.Series(F.order_numbers(frame[order_col])),
            pd.Series(F.order_numbers(ref[order_col])),
            None,  # ties in row order: the sequences stay non-decreasing
        )
        dtype = pd.api.types.pandas_dtype(synth.tables_[table]["dtypes"][order_col])
        frame[order_col] = F.order_values(x, dtype).to_numpy()
    return frame


def reference_draw(synth, table, frame, rng) -> pd.DataFrame:
    """An unconditional draw of ``len(frame)`` rows of ``table``'s model; for a sequence
    with a model of its first rows, as many first rows as ``frame`` has from that model,
    the rest from the later rows' model."""
    model = synth.models_[table]
    start_model = getattr(synth, "firsts_", {}).get(table)
    if start_model is None or F.INDEX not in frame.columns:
        return model.sample(len(frame), random_state=rng)
    n_first = int((frame[F.INDEX].to_numpy() == 0).sum())
    parts = [start_model.sample(n_first, random_state=rng)] if n_first else []
    if len(frame) > n_first:
        parts.append(model.sample(len(frame) - n_first, random_state=rng))
    return pd.concat(parts, ignore_index=True)


def rank_map(values: pd.Series, reference: pd.Series, rng) -> np.ndarray:
    """``values`` replaced, rank for rank, by the quantiles of the non-missing
    ``reference`` values; missing values stay missing. Ties are ranked in random order
    (``rng``), or in row order (``rng=None``), so that a monotone run of ``values`` stays
    monotone."""
    x = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64").copy()
    y = np.sort(pd.to_numeric(reference, errors="coerce").dropna().to_numpy(dtype="float64"))
    ok = ~np.isnan(x)
    m = int(ok.sum())
    if m == 0 or len(y) == 0:
        return x
    order = np.lexsort((np.arange(m) if rng is None else rng.random(m), x[ok]))
    ranks = np.empty(m, dtype="int64")
    ranks[order] = np.arange(m)
    x[ok] = y[np.minimum(((ranks + 0.5) / m * len(y)).astype("int64"), len(y) - 1)]
    return x


def match_levels(values: pd.Series, reference: pd.Series, rng) -> pd.Series:
    """``values`` with the fewest cells changed (random ones of the over-represented levels,
    given to the under-represented ones) so that the levels' counts follow their shares in
    ``reference``; missing cells stay missing."""
    seen = values.notna().to_numpy()
    m = int(seen.sum())
    ref = reference.dropna().astype(str)
    if m == 0 or len(ref) == 0:
        return values
    text = values.astype(str).to_numpy()
    levels = sorted(set(ref) | set(text[seen]))
    share = ref.value_counts(normalize=True).reindex(levels, fill_value=0.0).to_numpy()
    want = np.floor(share * m).astype("int64")
    rest = m - int(want.sum())
    if rest > 0:
        want[np.argsort(-(share * m - want), kind="stable")[:rest]] += 1
    have = np.array([(text[seen] == lv).sum() for lv in levels])
    rows = np.flatnonzero(seen)
    free = []
    for level, excess in zip(levels, have - want):
        if excess > 0:
            mine = rows[text[rows] == level]
            free.extend(rng.choice(mine, size=excess, replace=False))
    if not free:
        return values
    free = rng.permutation(np.array(free))
    new_levels = np.repeat(np.array(levels, dtype=object), np.maximum(want - have, 0))
    out = values.astype(object).copy()
    originals = {str(v): v for v in pd.unique(pd.concat([values.dropna(), reference.dropna()]))}
    out.iloc[free] = [originals[lv] for lv in new_levels]
    return out.astype(values.dtype) if values.dtype != object else out
