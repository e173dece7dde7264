"""Joint matching of a child table to its model's unconditional draw
(``RelationalSynthesizer(marginals="joint")``).

The conditional draws of a child table carry its dependence on the generated parents, but
their joint distribution within the table inherits every error of those parents. The
model's unconditional draw has the table's own joint distribution, with no parent in it.
Each generated row is paired with a distinct row of the draw, as close as possible in the
table's own columns and in its parents' context (the draw has context columns too; a
minimum-cost assignment on normal scores of the ranks, solved exactly within blocks of
rows along their main axis), and takes that row's values: the table gets the draw's joint
distribution, each parent keeps children close to the ones it was generated with.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from scipy.special import ndtri

from tabgen.relational import _features as F

#: Rows per exact assignment (cost ``O(BLOCK**3)`` each, ``n / BLOCK`` of them).
BLOCK = 400
#: Most levels of a categorical column one-hot encoded in the distance (others: one group).
LEVELS = 20
#: Weight of the parents' context in the distance, the row's own columns weighing 1: the
#: context keeps each family near its parent, the own columns keep a family's rows near
#: each other (measured on the four benchmark databases, ``bench_relational.py``: a
#: heavier context made the aggregate detection easier on pbc and math_schools).
CONTEXT_WEIGHT = 0.5


def match_rows(
    frame: pd.DataFrame, reference: pd.DataFrame, columns: list, context: list, rng
) -> np.ndarray:
    """For each row of ``frame``, the position of its partner in ``reference`` (same length,
    a permutation), close in ``columns`` and in the parents' ``context`` (each group
    scaled to a total weight: 1 for ``columns``, ``CONTEXT_WEIGHT`` for ``context``)."""
    n = len(frame)
    blocks = []
    for cols, weight in ((columns, 1.0), (context, CONTEXT_WEIGHT)):
        if cols:
            X = features(pd.concat([frame[cols], reference[cols]], ignore_index=True))
            blocks.append(X * np.sqrt(weight / max(X.shape[1], 1)))
    X = np.hstack(blocks) if blocks else np.zeros((2 * n, 0))
    A, B = X[:n], X[n:]
    if n <= BLOCK or X.shape[1] == 0:
        return _assign(A, B, np.arange(n), np.arange(n))
    centred = X - X.mean(axis=0)
    axis = np.linalg.svd(centred[rng.permutation(len(X))[: 4 * BLOCK]], full_matrices=False)[2][0]
    order_a = np.argsort(centred[:n] @ axis, kind="stable")
    order_b = np.argsort(centred[n:] @ axis, kind="stable")
    out = np.empty(n, dtype="int64")
    for lo in range(0, n, BLOCK):
        rows, partners = order_a[lo : lo + BLOCK], order_b[lo : lo + BLOCK]
        out[rows] = _assign(A, B, rows, partners)
    return out


def _assign(A, B, rows, partners) -> np.ndarray:
    a, b = A[rows], B[partners]
    cost = (a**2).sum(1)[:, None] + (b**2).sum(1)[None, :] - 2.0 * a @ b.T
    i, j = linear_sum_assignment(cost)
    out = np.empty(len(rows), dtype="int64")
    out[i] = partners[j]
    return out


def features(frame: pd.DataFrame) -> np.ndarray:
    """Normal scores of the ranks of numbers (a missing cell: 0 and a flag), one-hot levels
    of the other columns (the ``LEVELS`` most frequent, the rest together), each scaled to
    unit variance per column."""
    parts = []
    for col in frame.columns:
        values = frame[col]
        missing = values.isna().to_numpy()
        if F.is_numeric(values):
            x = pd.to_numeric(values, errors="coerce")
            ranks = x.rank(method="average").to_numpy()
            m = int((~missing).sum())
            score = np.zeros(len(x))
            if m:
                score[~missing] = ndtri((ranks[~missing] - 0.5) / m)
            parts.append(score[:, None])
            if missing.any() and not missing.all():
                parts.append(missing[:, None].astype(float))
            continue
        text = values.astype(str).where(~missing, "\0missing")
        top = text.value_counts().index[:LEVELS]
        codes = pd.Categorical(text.where(text.isin(top), "\0other")).codes
        onehot = np.eye(codes.max() + 1)[codes] / np.sqrt(2.0)
        parts.append(onehot)
    return np.hstack(parts) if parts else np.zeros((len(frame), 0))
