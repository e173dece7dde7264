"""Rule violations in the real and the synthetic rows (``evaluate(..., constraints=...)``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tabgen.metrics._result import MetricResult


def _bound(rule, real: pd.DataFrame):
    """``rule`` as checked on other tables: the combinations (or the lookup) a
    :class:`~tabgen.constraints.FixedCombinations` (a :class:`~tabgen.constraints.Determines`)
    takes from the data come from ``real``."""
    from tabgen.constraints import Determines, FixedCombinations, OneHot

    if isinstance(rule, FixedCombinations) and not isinstance(rule, OneHot):
        if rule.combinations is None:
            sub = real[rule.columns].dropna()
            seen = sub.drop_duplicates().itertuples(index=False, name=None)
            return FixedCombinations(rule.columns, combinations=[list(c) for c in seen] or None)
    if isinstance(rule, Determines) and rule.mapping is None:
        sub = real[rule.columns].dropna().drop_duplicates(subset=[rule.source])
        if len(sub):
            pairs = list(zip(sub[rule.source], sub[rule.target]))
            return Determines(rule.source, rule.target, mapping=pairs)
    return rule


def rule_violations(real, synthetic, rules, holdout=None) -> MetricResult:
    """Share of rows breaking at least one rule, in each table, and per rule.

    Parameters
    ----------
    real, synthetic : pandas.DataFrame
    rules : list of tabgen.constraints.Rule (or their dicts)
        A rule applies where all its columns are present. Combinations and lookups that
        ``FixedCombinations`` / ``Determines`` take from the data are taken from ``real``
        (a synthetic combination never seen in ``real`` breaks the rule).
    holdout : pandas.DataFrame, optional

    Returns
    -------
    MetricResult
        ``scores``: ``rule_violations_real``, ``rule_violations_synthetic`` (and
        ``rule_violations_holdout``); ``details["per_rule"]``: a DataFrame with one row per
        rule (its text, and the violating rows' count and share per table).

    Examples
    --------
    >>> from tabgen.constraints import Inequality
    >>> real = pd.DataFrame({"a": [1, 2, 3], "b": [2, 3, 4]})
    >>> synth = pd.DataFrame({"a": [1, 5, 3, 0], "b": [2, 3, 4, 1]})
    >>> res = rule_violations(real, synth, [Inequality("a", "<=", "b")])
    >>> res.scores
    {'rule_violations_real': 0.0, 'rule_violations_synthetic': 0.25}
    """
    from tabgen.constraints.kinds import check_rules

    rules = check_rules(rules)
    tables = {"real": real, "synthetic": synthetic}
    if holdout is not None:
        tables["holdout"] = holdout
    missing = sorted({c for r in rules for c in r.columns} - set(real.columns))
    if missing:
        raise ValueError(f"constraints name column(s) {missing!r} that the tables do not have")
    bound = [_bound(r, real) for r in rules]
    scores, rows = {}, [{"rule": repr(r)} for r in rules]
    for name, frame in tables.items():
        any_bad = np.zeros(len(frame), dtype=bool)
        for row, rule in zip(rows, bound):
            bad = np.asarray(rule.violations(frame), dtype=bool)
            any_bad |= bad
            row[f"{name}_count"] = int(bad.sum())
            row[f"{name}_share"] = float(bad.mean()) if len(frame) else float("nan")
        scores[f"rule_violations_{name}"] = float(any_bad.mean()) if len(frame) else float("nan")
    return MetricResult(scores=scores, details={"per_rule": pd.DataFrame(rows)})
