"""The rules of a fit as one reversible table transform (see :mod:`tabgen.constraints.rules`).

:class:`ConstraintSet` is fitted on the training table: it checks the rules against it
(missing columns, column kinds, rows that break a rule), compiles each built-in rule into a
step that *writes* one or more columns from others it *reads*, orders the steps so that a
column is rewritten only after every step that reads it, and transforms the table into the
*inner* table the model learns. Sampling inverts the steps in reverse order, so each step
sees the final values of what it reads; conditions are mapped into the inner table the same
way. A last check of every rule on the generated rows resamples the few rows the transforms
cannot guarantee (a ``Custom`` predicate, or rounding into an integer column), with a bounded
number of tries and a clear error when too few rows pass.
"""

from __future__ import annotations

import logging
import os

import numpy as np
import pandas as pd

from tabgen._frames import ARROW_ATTR, check_frame
from tabgen.constraints.categorical import Determines, FixedCombinations
from tabgen.constraints.derive import _Derive
from tabgen.constraints.kinds import check_rules
from tabgen.constraints.private import check_private_domain, check_private_rules
from tabgen.constraints.rules import Custom, Inequality, LinearEquality, Range, _is_const
from tabgen.constraints.sampling import _sample, _supply
from tabgen.constraints.steps import _cast, _Gap, _is_datetime, _is_numeric, _Joint

logger = logging.getLogger("tabgen")

_VIOLATIONS = ("raise", "drop")


class ConstraintSet:
    """The fitted transform of a list of rules.

    Parameters
    ----------
    rules : list of Rule
    violations : {"raise", "drop"}, default "raise"
        What ``fit`` does with training rows that break a rule: raise a ``ValueError`` with
        their count and first row labels, or drop them (logged).
    copies : bool, default False
        Fixed combinations keep their other columns in the inner table beside the joint
        category (modelled, then written back from it; see ``_Joint`` in
        :mod:`tabgen.constraints.steps`). A model sets it (``_constraint_copies``): the VAE
        learns the rest of the table better with them; the GAN and the Gaussian copula did
        worse with them.
    """

    def __init__(self, rules, violations: str = "raise", *, copies: bool = False):
        self.rules = check_rules(rules)
        self.copies = bool(copies)
        if violations not in _VIOLATIONS:
            raise ValueError(
                f"constraint_violations must be one of {_VIOLATIONS}, got {violations!r}"
            )
        self.violations = violations

    # -- fit --------------------------------------------------------------------------------
    def fit_transform(self, X, *, private: bool = False, domain=None) -> pd.DataFrame:
        """Check the rules on ``X``, fit the steps and return the inner table.

        Parameters
        ----------
        X : pandas.DataFrame, str or Path
            The training table (any input ``fit`` takes); a Parquet path is read whole (the
            rules are checked, and lookups learnt, on every row).
        private : bool, default False
            A differentially private fit: the steps take nothing from the rows (see
            :mod:`tabgen.constraints.private`; rules that would are refused).
        domain : dict, optional
            The model's declared public domain (checked with ``private``).
        """
        X = _table(X)
        if private:
            check_private_rules(self.rules)
        self._check_columns(X)
        X = self._check_training_rows(X)
        self.columns_ = list(X.columns)
        self.dtypes_ = {c: str(X[c].dtype) for c in X.columns}
        self.arrow_ = dict(X.attrs.get(ARROW_ATTR, {}))
        self.steps_ = self._order(self._compile(X))
        if private:
            check_private_domain(domain, self.transformed_columns)
        for step in self.steps_:
            step.fit(X, private=private)
        inner = self.transform(X)
        inner.attrs = {k: v for k, v in X.attrs.items() if k != ARROW_ATTR}
        return inner

    def _check_columns(self, X) -> None:
        for rule in self.rules:
            missing = [c for c in rule.columns if c not in X.columns]
            if missing:
                raise ValueError(
                    f"rule {rule!r} names column(s) {missing!r} that the table does not have; "
                    f"columns are {list(X.columns)!r}"
                )
            if isinstance(rule, (Inequality, Range, LinearEquality)):
                for c in rule.columns:
                    if not (
                        _is_numeric(X[c])
                        or (_is_datetime(X[c]) and not isinstance(rule, LinearEquality))
                    ):
                        raise ValueError(
                            f"rule {rule!r} cannot apply to column {c!r} of dtype "
                            f"{X[c].dtype}: it needs a numeric"
                            + ("" if isinstance(rule, LinearEquality) else " or datetime")
                            + " column"
                        )
                kinds = {_is_datetime(X[c]) for c in rule.columns}
                if len(kinds) > 1 or (
                    True in kinds
                    and any(
                        _is_const(v)
                        for v in rule.to_dict().values()
                        if v is not True and v is not False
                    )
                ):
                    raise ValueError(
                        f"rule {rule!r} mixes datetime columns with numbers; compare datetime "
                        "columns with each other only"
                    )

    def _check_training_rows(self, X) -> pd.DataFrame:
        bad_all = np.zeros(len(X), dtype=bool)
        messages = []
        for rule in self.rules:
            if isinstance(rule, Custom) and rule.predicate is None:
                rule.violations(X)  # raises: the predicate is needed
            bad = rule.violations(X)
            if bad.any():
                first = list(X.index[np.flatnonzero(bad)[:5]])
                messages.append(f"{rule!r}: {int(bad.sum())} row(s), first {first!r}")
                bad_all |= bad
        if not bad_all.any():
            return X
        if self.violations == "raise":
            raise ValueError(
                "the training data breaks the constraints: "
                + "; ".join(messages)
                + ". Fix the rules or the data, or pass constraint_violations='drop'"
            )
        logger.info("dropping %d training row(s) that break constraints", int(bad_all.sum()))
        kept = X.loc[~bad_all]
        if len(kept) == 0:
            raise ValueError("every training row breaks a constraint; nothing left to fit")
        return kept

    def _compile(self, X) -> list:
        steps, written = [], {}
        for rule in self.rules:
            if isinstance(rule, Inequality):
                parts = [rule]
            elif isinstance(rule, Range):
                parts = rule.parts()
            else:
                parts = None
            if parts is not None:
                for ineq in parts:
                    step = _gap_step(ineq, X, written)
                    if step is not None:
                        steps.append(step)
                        written.update(dict.fromkeys(step.writes, rule))
                continue
            if isinstance(rule, LinearEquality):
                step = _Derive(rule, rule.total, rule.parts)
            elif isinstance(rule, Determines):
                step = _Derive(rule, rule.target, [rule.source])
            elif isinstance(rule, FixedCombinations):
                step = _Joint(rule, copies=self.copies)
            else:  # Custom: rejection only
                continue
            for c in step.writes:
                if c in written:
                    raise ValueError(
                        f"column {c!r} is derived by two rules, {written[c]!r} and {rule!r}; "
                        "they cannot both hold by construction"
                    )
            written.update(dict.fromkeys(step.writes, rule))
            steps.append(step)
        return steps

    @staticmethod
    def _order(steps, strict: bool = False) -> list:
        """Forward order: a step that writes ``c`` comes after every step that reads ``c``.

        A cycle is broken by leaving an inequality to the final check (resampling), unless
        ``strict``; a cycle of other steps is an error."""
        remaining, ordered = list(steps), []
        while remaining:
            for s in remaining:
                blockers = [t for t in remaining if t is not s and set(t.reads) & set(s.writes)]
                if not blockers:
                    ordered.append(s)
                    remaining.remove(s)
                    break
            else:
                gaps = [s for s in remaining if isinstance(s, _Gap)]
                if gaps and not strict:
                    logger.info("rule %r is kept by resampling (a cycle of rules)", gaps[-1].rule)
                    remaining.remove(gaps[-1])
                    continue
                raise ValueError(
                    "the constraints form a cycle (each derives a column another reads): "
                    + ", ".join(repr(s.rule) for s in remaining)
                )
        return ordered

    @property
    def transformed_columns(self) -> list:
        """Original columns whose values the model sees transformed (or not at all)."""
        return [c for c in self.columns_ if any(c in s.writes for s in self.steps_)]

    def public_limits(self) -> dict:
        """``{column: (low, high)}``: the constant bounds that the rules state for columns the
        model sees untransformed (``None`` for a side no rule bounds), e.g. ``{"share": (0,
        1)}`` for ``Range(0, "share", 1)``. They are public knowledge: a DP fit narrows the
        bounds it measures to them (:class:`~tabgen.privacy.domain.PrivateDomain`)."""
        rewritten = set(self.transformed_columns)
        limits: dict = {}
        for rule in self.rules:
            if isinstance(rule, Range):
                parts = rule.parts()
            elif isinstance(rule, Inequality):
                parts = [rule]
            else:
                continue
            for ineq in parts:
                if _is_const(ineq.low) == _is_const(ineq.high):
                    continue  # two columns: a gap, not a bound
                # side 0: a constant floor of the high column; side 1: a ceiling of the low
                side, col, const = (
                    (0, ineq.high, ineq.low) if _is_const(ineq.low) else (1, ineq.low, ineq.high)
                )
                if col in rewritten:
                    continue
                pair = list(limits.get(col, (None, None)))
                tighter = max if side == 0 else min
                pair[side] = float(const if pair[side] is None else tighter(pair[side], const))
                limits[col] = tuple(pair)
        return limits

    # -- transform --------------------------------------------------------------------------
    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """The inner table of ``X`` (a copy)."""
        frame = X.copy()
        for step in self.steps_:
            step.forward(frame)
        return frame

    def inverse(self, inner: pd.DataFrame) -> pd.DataFrame:
        """The table of generated inner rows, with the original columns and dtypes."""
        frame = inner.copy()
        for step in reversed(self.steps_):
            step.inverse(frame)
        for c in self.columns_:
            frame[c] = _cast(frame[c], self.dtypes_[c])
        return frame[self.columns_]

    def violations_of(self, frame: pd.DataFrame) -> np.ndarray:
        """Rows of ``frame`` breaking at least one rule."""
        bad = np.zeros(len(frame), dtype=bool)
        for rule in self.rules:
            bad |= rule.violations(frame)
        return bad

    def map_conditions(self, cond: pd.DataFrame, rng) -> tuple:
        """Conditions on original columns as conditions on inner columns (NaN: free).

        Returns the inner conditions and the fix-ups to apply, in order, to the rows after
        the inverse transform: a derived column conditioned without what it is derived from
        (``b`` of ``a < b`` alone, a total without all its parts) is left free in the inner
        table, and the fix-up then solves the free columns for the given value (``a = b -
        gap``; the missing parts rescaled to sum to the total)."""
        frame = cond.copy()
        for c in frame.columns:
            if c in self.dtypes_ and self.dtypes_[c].startswith("datetime64"):
                frame[c] = pd.to_datetime(frame[c])
        for rule in self.rules:  # conditions that contradict a rule outright
            if isinstance(rule, Custom) or not set(rule.columns) <= set(frame.columns):
                continue
            bad = rule.violations(frame)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise ValueError(
                    f"the conditions contradict the rule {rule!r} (condition row {i}: "
                    f"{frame.iloc[i][rule.columns].to_dict()!r})"
                )
        fixups = []
        for step in self.steps_:
            fix = step.map_condition(frame, rng)
            if fix is not None:
                fixups.append(fix)
        frame = frame.dropna(axis=1, how="all")
        return frame, fixups[::-1]

    # -- sampling ---------------------------------------------------------------------------
    def sample(self, draw, n, conditions, rng) -> pd.DataFrame:
        """Generate rows obeying every rule.

        ``draw(k, inner_conditions, rng)`` samples ``k`` decoded inner rows; ``conditions``
        (a dict or a DataFrame, as ``sample`` takes them) are on the original columns and
        are mapped through the steps. Rows that break a rule after the inverse transform
        are resampled (bounded rounds; a ``ValueError`` when too few pass).
        """
        return _sample(self, draw, n, conditions, rng)

    def supply(self, custom: dict) -> None:
        """Give the ``Custom`` rules of a loaded model their predicates (``{name: fn}``)."""
        _supply(self, custom)

    def file_schema(self, inner, batch):
        """The Arrow schema of a Parquet file of sampled rows, from ``inner`` (the schema of
        the model's own columns) and the first ``batch``
        (:func:`tabgen.constraints.files.file_schema`)."""
        from tabgen.constraints.files import file_schema

        return file_schema(self, inner, batch)

    # -- persistence ------------------------------------------------------------------------
    def get_state(self) -> dict:
        return {
            "rules": [r.to_dict() for r in self.rules],
            "violations": self.violations,
            "copies": self.copies,
            "columns": list(self.columns_),
            "dtypes": dict(self.dtypes_),
            "arrow": dict(self.arrow_),
            "steps": [s.get_state() for s in self.steps_],
        }

    @classmethod
    def from_state(cls, state: dict) -> ConstraintSet:
        """Inverse of :meth:`get_state` (``Custom`` rules come back without predicates:
        :meth:`supply` them)."""
        from tabgen.constraints.kinds import rule_from_dict

        rules = [rule_from_dict(r) for r in state["rules"]]
        self = cls(rules, state.get("violations", "raise"), copies=state.get("copies", False))
        self.columns_ = list(state["columns"])
        self.dtypes_ = dict(state["dtypes"])
        self.arrow_ = dict(state.get("arrow", {}))
        self.steps_ = [_STEPS[s["type"]].from_state(s, rules) for s in state["steps"]]
        return self


def _table(X) -> pd.DataFrame:
    """The training input as a checked DataFrame (a Parquet file or folder read whole)."""
    if isinstance(X, (str, os.PathLike)):
        from tabgen.io import open_dataset

        X = open_dataset(X).to_table().to_pandas()
    return check_frame(X)


def _gap_step(ineq: Inequality, X, written):
    """The step keeping ``ineq`` by construction (``None`` with a constant: the encoder
    clips to the training range, which obeys it)."""
    lo, hi = ineq.low, ineq.high
    if _is_const(lo) or _is_const(hi):
        return None
    if hi not in written:
        return _Gap(ineq, write=hi, other=lo, datetime=_is_datetime(X[hi]))
    if lo not in written:
        return _Gap(ineq, write=lo, other=hi, datetime=_is_datetime(X[lo]))
    return None  # both sides derived already: the final check resamples


_STEPS = {cls.type: cls for cls in (_Gap, _Derive, _Joint)}
