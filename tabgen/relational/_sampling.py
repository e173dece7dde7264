"""Sampling a database, table by table (see :class:`~tabgen.relational.RelationalSynthesizer`).

Each function takes the fitted synthesizer (its ``metadata_``, ``tables_``,
``relationships_`` and ``models_``): which generated parent each child row gets, the
conditions its model is given, the step-by-step sampling of a sequence, and the output
table with fresh keys.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tabgen.encoders.categorical import CategoricalEncoder
from tabgen.encoders.numerical import NumericEncoder
from tabgen.relational import _features as F


def assign_parents(synth, table, full, scale, rng) -> dict:
    """Relationship -> the generated parent (row position, -1 for none) of each row."""
    meta = synth.metadata_
    rels = meta.parents(table)
    if not rels:
        return {}
    primary = next(r for r in rels if r.name == synth.tables_[table]["primary"])
    counts = as_counts(full[primary.parent][F.count_column(primary)])
    pos = np.repeat(np.arange(len(counts)), counts)
    n_null = synth.relationships_[primary.name]["n_null"]
    if n_null:
        pos = np.r_[pos, np.full(round(scale * n_null), -1)]
    assign = {primary: pos}
    draft = None
    if len(rels) > 1 and synth.tables_[table].get("match_parents"):
        draft = draft_rows(synth, table, full, primary, pos, rng)
    for rel in rels:
        if rel is primary:
            continue
        assign[rel] = match(
            as_counts(full[rel.parent][F.count_column(rel)]),
            len(pos),
            synth.relationships_[rel.name]["null_share"],
            rng,
            None if draft is None else (draft, F.parent_context(full, rel, np.arange(0))),
            full[rel.parent],
        )
    return assign


def draft_rows(synth, table, full, primary, pos, rng) -> pd.DataFrame | None:
    """The rows of a table with several parents drawn given their first parent only: what
    the model expects of their other parents (their context columns), so that each row
    gets a generated parent that looks like it."""
    model = synth.models_[table]
    if model is None or len(pos) == 0:
        return None
    context = F.parent_context(full, primary, pos)
    cond = conditions(model, F.apply_fill(context, synth.tables_[table].get("fill", {})))
    if cond is None:
        return model.sample(len(pos), random_state=rng).reset_index(drop=True)
    return model.sample(conditions=cond, random_state=rng).reset_index(drop=True)


def sample_table(synth, table, n, context, assign, rng) -> pd.DataFrame:
    model = synth.models_[table]
    if model is None or n == 0:
        return pd.DataFrame(index=range(n))
    if synth.metadata_.order_by(table) is not None:
        return sample_sequence(synth, table, model, context, next(iter(assign.values())), rng)
    cond = conditions(model, F.apply_fill(context, synth.tables_[table].get("fill", {})))
    if cond is None:
        return model.sample(n, random_state=rng).reset_index(drop=True)
    return model.sample(conditions=cond, random_state=rng).reset_index(drop=True)


def sample_sequence(synth, table, model, context, parents, rng) -> pd.DataFrame:
    """Rows of a sequence table, step by step: step ``k`` conditions on the position
    ``k``, the parent's context and the row at step ``k - 1``."""
    info = synth.tables_[table]
    n = len(parents)
    first = np.r_[True, parents[1:] != parents[:-1]] | (parents < 0)
    pos = np.arange(n)
    index = pos - np.maximum.accumulate(np.where(first, pos, 0))
    prev_cols = [c for c in model.columns_ if c.startswith("__tg_prev.")]
    start_model = getattr(synth, "firsts_", {}).get(table)  # absent: one model for all rows
    pieces = []
    result = None
    for k in range(int(index.max()) + 1 if n else 0):
        rows = np.flatnonzero(index == k)
        cond = context.iloc[rows].reset_index(drop=True)
        cond[F.INDEX] = k
        if k > 0:
            prev = result.loc[rows - 1].reset_index(drop=True)
            for c in prev_cols:
                cond[c] = prev[c[len("__tg_prev.") :]].to_numpy()
        use = start_model if k == 0 and start_model is not None else model
        got = conditions(use, F.apply_fill(cond, info.get("fill", {})))
        step = use.sample(conditions=got, random_state=rng).reset_index(drop=True)
        step.index = rows
        pieces.append(step)
        result = pd.concat(pieces).sort_index()
    frame = result.sort_index().reset_index(drop=True)
    frame[F.INDEX] = index
    return with_order(synth, table, frame)


def with_order(synth, table, frame) -> pd.DataFrame:
    """``frame`` (a sequence's rows, parent by parent, with their position ``__tg_index``)
    with its order column rebuilt from the first values and the steps (never
    decreasing)."""
    info = synth.tables_[table]
    order_col = synth.metadata_.order_by(table)
    index = frame[F.INDEX].to_numpy()
    start = pd.to_numeric(frame[F.START], errors="coerce").to_numpy(dtype="float64")
    gap = pd.to_numeric(frame[F.GAP], errors="coerce").to_numpy(dtype="float64")
    start = np.where(np.isnan(start), info["start"], start)
    gap = np.maximum(np.where(np.isnan(gap), info["gap"], gap), 0.0)
    values = np.empty(len(frame))
    for i in range(len(frame)):
        values[i] = start[i] if index[i] == 0 else values[i - 1] + gap[i]
    frame[order_col] = F.order_values(
        values, pd.api.types.pandas_dtype(info["dtypes"][order_col])
    ).to_numpy()
    return frame


def assemble(synth, table, frame, assign, keys):
    """The output table: fresh primary key, foreign keys of the generated parents,
    the own columns in the training order and dtypes."""
    info = synth.tables_[table]
    meta = synth.metadata_
    n = len(frame)
    cols = {}
    pk = meta.primary_key(table)
    key_values = None
    if pk is not None:
        key_values = fresh_keys(table, n, info["dtypes"][pk])
        cols[pk] = key_values
    for rel, pos in assign.items():
        parent_keys = keys[rel.parent]
        values = pd.Series(
            parent_keys.to_numpy()[np.maximum(pos, 0)]
            if len(parent_keys)
            else np.full(len(pos), np.nan)
        )
        if (pos < 0).any():
            values = values.astype(object).where(pd.Series(pos >= 0), None)
        cols[rel.child_key] = as_dtype(values, info["dtypes"][rel.child_key])
    for c in info["columns"]:
        if c not in cols:
            cols[c] = (
                frame[c].reset_index(drop=True)
                if c in frame.columns
                else pd.Series(np.nan, index=range(n))
            )
    table_out = pd.DataFrame({c: cols[c] for c in info["columns"]})
    return table_out, (key_values if key_values is not None else pd.Series(np.arange(n)))


def as_counts(values: pd.Series) -> np.ndarray:
    x = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64")
    return np.maximum(np.nan_to_num(np.round(x), nan=0.0), 0).astype("int64")


def match(counts, n: int, null_share: float, rng, draft=None, parents=None) -> np.ndarray:
    """Parent position for each of ``n`` child rows, following the sampled ``counts``
    rescaled to the rows that have a parent (the others get -1). With ``draft`` (the rows
    drawn given their other parents, and an empty context frame of this parent naming its
    columns) and ``parents`` (this parent's generated rows), each row gets the parent slot
    closest to the context drawn for it (a minimum-cost assignment); otherwise slots are
    dealt at random."""
    out = np.full(n, -1)
    m = n - int(rng.binomial(n, null_share)) if null_share > 0 else n
    if m == 0 or len(counts) == 0:
        return out
    weights = counts.astype("float64")
    if weights.sum() == 0:
        weights = np.ones(len(counts))
    expected = weights / weights.sum() * m
    base = np.floor(expected).astype("int64")
    rest = m - int(base.sum())
    if rest > 0:
        frac = expected - base
        extra = rng.choice(len(counts), size=rest, replace=False, p=frac / frac.sum())
        base[extra] += 1
    slots = np.repeat(np.arange(len(counts)), base)
    rows = rng.permutation(n)[:m]
    if draft is None:
        out[rows] = rng.permutation(slots)
        return out
    from tabgen.relational._match import match_rows

    drawn, empty = draft
    prefix = [c for c in empty.columns if c in drawn.columns]
    if not prefix:
        out[rows] = rng.permutation(slots)
        return out
    offered = parents.iloc[slots].reset_index(drop=True)
    offered.columns = list(empty.columns)
    partner = match_rows(drawn.iloc[rows].reset_index(drop=True), offered, prefix, [], rng)
    out[rows] = slots[partner]
    return out


def conditions(model, context: pd.DataFrame) -> pd.DataFrame | None:
    """The context columns ``model`` can condition on, with values it accepts: numbers
    clipped to (and integers rounded within) its training range, unseen categories left
    free (NaN)."""
    cols = {}
    for col in context.columns:
        if col not in model.columns_ or not model.can_condition_on(col):
            continue
        enc = model.encoder_.encoders_[col]
        values = context[col].reset_index(drop=True)
        if isinstance(enc, CategoricalEncoder):
            known = values.isin(enc.categories_) & values.notna()
            cols[col] = values.astype(object).where(known, np.nan)
        elif isinstance(enc, NumericEncoder):
            x = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64")
            x = np.clip(x, enc.min_, enc.max_)
            if model.schema_[col].kind == "integer":
                x = np.clip(np.round(x), np.ceil(enc.min_), np.floor(enc.max_))
            cols[col] = x
    if not cols:
        return None
    return pd.DataFrame(cols)


def fresh_keys(table: str, n: int, dtype: str) -> pd.Series:
    dt = pd.api.types.pandas_dtype(dtype)
    if pd.api.types.is_integer_dtype(dt) or pd.api.types.is_float_dtype(dt):
        return pd.Series(np.arange(1, n + 1)).astype(dt)
    return pd.Series([f"{table}_{i}" for i in range(1, n + 1)], dtype=object)


def as_dtype(values: pd.Series, dtype: str) -> pd.Series:
    dt = pd.api.types.pandas_dtype(dtype)
    try:
        if values.isna().any() and pd.api.types.is_integer_dtype(dt):
            return values.astype("float64")
        return values.astype(dt)
    except (TypeError, ValueError):
        return values
