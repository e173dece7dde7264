"""Singling out: predicates from the synthetic rows that match exactly one target row."""

from __future__ import annotations

from typing import Any

import numpy as np

from .queries import (
    _baseline_queries,
    _count_matches,
    _multivariate_queries,
    _QueryColumn,
    _univariate_queries,
)
from .statistics import _summary


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
