"""Sampling through a fitted :class:`~tabgen.constraints.transform.ConstraintSet`: inner
rows are drawn, inverted, fixed up for conditions, checked against every rule, and the rows
that break one are drawn again (bounded rounds)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tabgen._frames import restore_arrow
from tabgen._validation import conditions_frame
from tabgen.constraints.rules import Custom
from tabgen.constraints.steps import _cast


def _parse_conditions(columns, n, conditions) -> pd.DataFrame | None:
    """Conditions on original columns as a frame (one row per output row), or ``None``."""
    return conditions_frame(conditions, n, columns)


def _sample(self, draw, n, conditions, rng) -> pd.DataFrame:
    cond = _parse_conditions(self.columns_, n, conditions)
    total = len(cond) if cond is not None else int(n)
    custom = [r for r in self.rules if isinstance(r, Custom)]
    tries = max([r.max_tries for r in custom], default=20)
    floor = max([r.min_acceptance for r in custom], default=0.01)
    todo = np.arange(total)
    pieces = []
    for _ in range(tries):
        sub = cond.iloc[todo].reset_index(drop=True) if cond is not None else None
        inner_cond, fixups = self.map_conditions(sub, rng) if sub is not None else (None, [])
        if inner_cond is not None and inner_cond.shape[1] == 0:
            inner_cond = None
        inner = draw(len(todo), inner_cond, rng).reset_index(drop=True)
        rows = self.inverse(inner)
        for fix in fixups:
            fix(rows)
        if sub is not None:
            _impose(self, rows, sub)
        bad = self.violations_of(rows)
        pieces.append(rows.loc[~bad].set_axis(todo[~bad]))
        if not bad.any():
            todo = todo[:0]
            break
        if 1.0 - bad.mean() < floor:
            raise ValueError(
                f"only {1.0 - bad.mean():.2%} of generated rows obey the constraints "
                f"(minimum {floor:.2%}); rows break "
                + ", ".join(repr(r) for r in self.rules if r.violations(rows).any())
                + ". Loosen the rule, or lower Custom(min_acceptance=...)"
            )
        todo = todo[bad]
    if len(todo):
        raise ValueError(
            f"{len(todo)} of {total} rows still break the constraints after {tries} rounds of "
            "resampling; raise Custom(max_tries=...) or loosen the rules"
        )
    out = pd.concat(pieces).sort_index()
    for c in self.columns_:
        out[c] = _cast(out[c], self.dtypes_[c])
    restore_arrow(out, getattr(self, "arrow_", {}))
    if isinstance(conditions, pd.DataFrame):
        out.index = conditions.index
    else:
        out = out.reset_index(drop=True)
    return out


def _impose(self, rows: pd.DataFrame, cond: pd.DataFrame) -> None:
    """Write the conditioned cells exactly (sums and gaps carry float noise)."""
    for c in cond.columns:
        mask = cond[c].notna().to_numpy()
        if not mask.any():
            continue
        col = rows[c].astype(object)
        col[mask] = cond[c].to_numpy(dtype=object)[mask]
        rows[c] = _cast(col, self.dtypes_[c])


def _supply(self, custom: dict) -> None:
    """Give ``Custom`` rules loaded from a file their predicates (``{name: predicate}``)."""
    names = {r.name: r for r in self.rules if isinstance(r, Custom)}
    unknown = sorted(set(custom) - set(names))
    if unknown:
        raise ValueError(
            f"custom predicate(s) {unknown!r} match no Custom rule of the model; its Custom "
            f"rules are {sorted(names)!r}"
        )
    for name, fn in custom.items():
        if not callable(fn):
            raise TypeError(f"the predicate for Custom rule {name!r} is not callable: {fn!r}")
        names[name].predicate = fn
