"""Conditional generation: native for one categorical column, bounded rejection on top.

The condition on one categorical column is native: the column's category goes into the
conditional vector and the generated cell is set to it, so every row matches. When several
categorical columns are fixed, each row uses its *rarest* asked category natively and the
generated rows are accepted only where the other columns came out as asked. A number is met
when the generated value falls in a window around it (see :func:`numeric_window`; the exact
value is then written by the base class). Rows that miss
are generated again with more candidates (at most :data:`MAX_ROUNDS` rounds). A combination
the model does not produce, or produces in fewer than :data:`MIN_ACCEPTANCE` of the rows
generated for it, fails fast with a ``ValueError`` that names it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import torch

from tabgen.synthesizers.gan.layout import GanLayout
from tabgen.synthesizers.gan.sampler import ConditionSampler

#: Rounds of rejection before giving up.
MAX_ROUNDS = 20
#: Most candidate rows generated in one round.
MAX_CANDIDATES = 200_000
#: After this many candidates, give up early when the acceptance rate is below
#: :data:`MIN_ACCEPTANCE` (rows that rare are not what the model believes in).
FAIL_FAST_CANDIDATES = 20_000
MIN_ACCEPTANCE = 1e-3


def numeric_window(quantiles: np.ndarray, values: np.ndarray, mass: float = 0.02):
    """``(lo, hi)`` around each value: ``mass`` of training probability on each side (from
    the column's training ``quantiles`` at evenly spaced levels), and at least 0.5% of the
    central 98% range, so that atoms and integers can be met."""
    levels = np.linspace(0.0, 1.0, len(quantiles))
    rank = np.interp(values, quantiles, levels)
    lo = np.interp(np.clip(rank - mass, 0, 1), levels, quantiles)
    hi = np.interp(np.clip(rank + mass, 0, 1), levels, quantiles)
    width = 0.005 * max(
        float(np.interp(0.99, levels, quantiles) - np.interp(0.01, levels, quantiles)), 0.0
    )
    return np.minimum(lo, values - width), np.maximum(hi, values + width)


def sample_with_conditions(
    generate: Callable,
    layout: GanLayout,
    sampler: ConditionSampler,
    conditions,
    numeric: dict | None = None,
) -> np.ndarray:
    """Encoder matrix with one row per condition row, every condition met.

    Parameters
    ----------
    generate : callable
        ``generate(category, n)`` returns the encoder matrix of ``n`` rows generated with the
        conditional-vector categories ``category`` (``None``: drawn freely).
    layout, sampler
        The model's layout and condition sampler.
    conditions : Conditions
        Conditioned columns: category codes per row for categorical columns.
    numeric : dict, optional
        For each conditioned numeric column, ``(decode, lo, hi)``: ``decode(Z)`` gives the
        generated values of the column (NaN where missing), ``lo``/``hi`` the accepted
        window of each condition row.

    Raises
    ------
    ValueError
        When a combination of conditions could not be met within the bounded rejection.
    """
    numeric = numeric or {}
    cols = conditions.columns
    cats = [c for c in cols if c not in numeric]
    n = len(conditions)
    pos = [layout.category_block(c) for c in cats]
    if cats:
        asked = np.column_stack([np.asarray(conditions.encoded[c]).astype("int64") for c in cats])
        glob = asked + layout.cond_offsets[pos][None, :]
        # each row's rarest asked category goes into the conditional vector
        native = np.argmin(sampler.sample_probs_[glob], axis=1)
        native_cat = glob[np.arange(n), native]
    code_slots = [layout.categorical[j].span.start for j in pos]
    miss_slots = [layout.missing_slot(c) for c in cats]

    out = np.empty((n, layout.compact_width))
    pending = np.arange(n)
    factor, rounds, tried, hits = 1, 0, 0, 0
    per_col_hits = np.zeros(len(cols))
    while pending.size and rounds < MAX_ROUNDS:
        rows = np.repeat(pending, factor)
        if cats:
            Z = generate(torch.as_tensor(native_cat[rows]), len(rows))
        else:
            Z = generate(None, len(rows))
        ok = np.ones(len(rows), dtype=bool)
        for k, (slot, miss) in enumerate(zip(code_slots, miss_slots, strict=True)):
            is_native = native[rows] == k
            Z[is_native, slot] = asked[rows[is_native], k]  # native: set exactly
            if miss is not None:
                Z[is_native, miss] = 0.0
            match = Z[:, slot] == asked[rows, k]
            if miss is not None:
                match &= Z[:, miss] < 0.5
            per_col_hits[cols.index(cats[k])] += match.sum()
            ok &= match
        for col, (decode, lo, hi) in numeric.items():
            values = decode(Z)
            with np.errstate(invalid="ignore"):
                match = (values >= lo[rows]) & (values <= hi[rows])
            per_col_hits[cols.index(col)] += match.sum()
            ok &= match
        accepted = np.flatnonzero(ok)
        done, first = np.unique(rows[accepted], return_index=True)
        out[done] = Z[accepted[first]]
        pending = np.setdiff1d(pending, done, assume_unique=True)
        tried += len(rows)
        hits += len(accepted)
        rounds += 1
        if pending.size and tried >= FAIL_FAST_CANDIDATES and hits < MIN_ACCEPTANCE * tried:
            break
        rate = max(hits / tried, MIN_ACCEPTANCE)
        cap = max(1, MAX_CANDIDATES // max(len(pending), 1))
        factor = int(min(max(2 * factor, np.ceil(3.0 / rate)), cap))
    if pending.size:
        r = int(pending[0])
        combo = {c: conditions.frame[c].iloc[r] for c in cols}
        worst = int(np.argmin(per_col_hits))
        raise ValueError(
            f"could not generate rows meeting the conditions {combo!r}: after {rounds} "
            f"round(s) of rejection {hits} of {tried} generated rows met every condition "
            f"({pending.size} of {n} rows unmet); the condition "
            f"{cols[worst]!r} == {conditions.frame[cols[worst]].iloc[r]!r} was the hardest "
            "to meet. The model rarely or never produces this combination; condition on "
            "fewer columns."
        )
    return out


def numeric_values(encoder, Z: np.ndarray, col) -> np.ndarray:
    """Decoded values of a numeric column from an encoder matrix (NaN where missing)."""
    enc = encoder.encoders_[col]
    block = Z[:, encoder.slices_[col]]
    vw = block.shape[1] - enc.missing_.width
    values = np.asarray(enc._inverse(block[:, :vw]), dtype="float64")
    values[enc.missing_.inverse_transform(block[:, vw:])] = np.nan
    return values


def numeric_quantiles(schema, encoder, Z: np.ndarray) -> dict:
    """101 training quantiles of every numeric column (windows of numeric conditions)."""
    out = {}
    for spec in schema:
        if spec.kind in ("numerical", "integer"):
            values = numeric_values(encoder, Z, spec.name)
            values = values[~np.isnan(values)]
            if len(values):
                out[spec.name] = np.quantile(values, np.linspace(0, 1, 101)).tolist()
    return out


def numeric_conditions(schema, encoder, layout: GanLayout, quantiles: dict, conditions) -> dict:
    """``{column: (values of generated compact rows, low, high)}`` of the numeric columns of
    ``conditions``: the window around each asked value (see :func:`numeric_window`)."""
    numeric = {}
    for col in conditions.columns:
        if schema[col].kind not in ("numerical", "integer"):
            continue
        x = pd.to_numeric(conditions.frame[col]).to_numpy(dtype="float64")
        lo, hi = numeric_window(np.asarray(quantiles[col]), x)
        numeric[col] = (
            lambda Z, col=col: numeric_values(encoder, layout.to_encoder(Z), col),
            lo,
            hi,
        )
    return numeric
