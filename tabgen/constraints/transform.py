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
import numbers

import numpy as np
import pandas as pd

from tabgen._validation import conditions_frame
from tabgen.constraints.rules import (
    Custom,
    Determines,
    FixedCombinations,
    Inequality,
    LinearEquality,
    Range,
    Rule,
    _is_const,
    _keys,
    _values,
    check_rules,
)

logger = logging.getLogger("tabgen")

_VIOLATIONS = ("raise", "drop")


def _scalar(v):
    """A JSON-able Python scalar for a cell (``None`` for missing)."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and np.isnan(v):
        return None
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    return v


def _is_numeric(col: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(col.dtype) and not pd.api.types.is_bool_dtype(col.dtype)


def _is_datetime(col: pd.Series) -> bool:
    return pd.api.types.is_datetime64_any_dtype(col.dtype)


class ConstraintSet:
    """The fitted transform of a list of rules.

    Parameters
    ----------
    rules : list of Rule
    violations : {"raise", "drop"}, default "raise"
        What ``fit`` does with training rows that break a rule: raise a ``ValueError`` with
        their count and first row labels, or drop them (logged).
    """

    def __init__(self, rules, violations: str = "raise"):
        self.rules = check_rules(rules)
        if violations not in _VIOLATIONS:
            raise ValueError(
                f"constraint_violations must be one of {_VIOLATIONS}, got {violations!r}"
            )
        self.violations = violations

    # -- fit --------------------------------------------------------------------------------
    def fit_transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """Check the rules on ``X``, fit the steps and return the inner table."""
        self._check_columns(X)
        X = self._check_training_rows(X)
        self.columns_ = list(X.columns)
        self.dtypes_ = {c: str(X[c].dtype) for c in X.columns}
        self.steps_ = self._order(self._compile(X))
        for step in self.steps_:
            step.fit(X)
        return self.transform(X)

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
                step = _Joint(rule)
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

    # -- persistence ------------------------------------------------------------------------
    def get_state(self) -> dict:
        return {
            "rules": [r.to_dict() for r in self.rules],
            "violations": self.violations,
            "columns": list(self.columns_),
            "dtypes": dict(self.dtypes_),
            "steps": [s.get_state() for s in self.steps_],
        }

    @classmethod
    def from_state(cls, state: dict) -> ConstraintSet:
        """Inverse of :meth:`get_state` (``Custom`` rules come back without predicates:
        :meth:`supply` them)."""
        from tabgen.constraints.rules import rule_from_dict

        rules = [rule_from_dict(r) for r in state["rules"]]
        self = cls(rules, state.get("violations", "raise"))
        self.columns_ = list(state["columns"])
        self.dtypes_ = dict(state["dtypes"])
        self.steps_ = [_STEPS[s["type"]].from_state(s, rules) for s in state["steps"]]
        return self


def _cast(col: pd.Series, dtype: str) -> pd.Series:
    if str(col.dtype) == dtype:
        return col
    try:
        if dtype.startswith("datetime64"):
            return pd.to_datetime(col)
        if pd.api.types.is_integer_dtype(np.dtype(dtype)) and _is_numeric(col):
            if col.isna().any():
                return col
            return np.round(col.astype("float64")).astype(dtype)
        return col.astype(dtype)
    except (TypeError, ValueError):
        return col


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


class _Step:
    rule: Rule
    reads: list
    writes: list

    def fit(self, X) -> None:
        pass

    def get_state(self) -> dict:
        raise NotImplementedError


class _Gap(_Step):
    """``write`` modelled as ``|write - other|`` where both are present."""

    type = "gap"

    def __init__(self, rule, write, other, datetime):
        self.rule, self.write, self.other, self.datetime = rule, write, other, datetime
        self.reads, self.writes = [other], [write]

    @property
    def sign(self) -> float:  # +1: write is the high side
        return 1.0 if self.write == self.rule.high else -1.0

    def forward(self, frame):
        w, o = _values(frame, self.write), _values(frame, self.other)
        both = ~np.isnan(w) & ~np.isnan(o)
        gap = np.where(both, self.sign * (w - o), w)
        if self.datetime:  # the gap in seconds; rows without ``other`` keep their time
            out = pd.Series(np.where(both, gap / 1e9, np.nan), index=frame.index)
            if (~both & ~np.isnan(w)).any():
                raise ValueError(
                    f"rule {self.rule!r}: datetime column {self.write!r} is present where "
                    f"{self.other!r} is missing; this is not supported"
                )
            frame[self.write] = out
        else:
            frame[self.write] = _like(gap, frame[self.write])

    def inverse(self, frame):
        gap = pd.to_numeric(frame[self.write], errors="coerce").to_numpy(
            dtype="float64", na_value=np.nan
        )
        o = _values(frame, self.other)
        both = ~np.isnan(gap) & ~np.isnan(o)
        if self.datetime:
            gap = gap * 1e9
        gap = np.where(both, np.maximum(gap, 0.0), gap)
        w = np.where(both, o + self.sign * gap, gap)
        if self.rule.strict:  # a zero gap (or one lost to rounding) is nudged
            same = both & (w == o)
            w[same] = np.nextafter(o[same], self.sign * np.inf)
        if self.datetime:
            frame[self.write] = pd.to_datetime(
                pd.Series(np.where(np.isnan(w), np.nan, w)).astype("Int64"), unit="ns"
            ).set_axis(frame.index)
        else:
            frame[self.write] = w

    def map_condition(self, cond, rng):
        if self.write not in cond.columns:
            return
        given = cond[self.write].notna().to_numpy()
        if not given.any():
            return None
        if self.other not in cond.columns:
            cond[self.other] = np.nan
        w, o = _values(cond, self.write), _values(cond, self.other)
        gap = np.where(given & ~np.isnan(o), self.sign * (w - o), np.nan)
        if self.datetime:
            gap = gap / 1e9
        alone = given & np.isnan(o)  # solved after sampling: other = write - gap
        cond[self.write] = gap
        if not alone.any():
            return None
        want = w[alone]

        def fix(rows):
            ws, os_ = _values(rows, self.write)[alone], _values(rows, self.other)[alone]
            new = np.where(np.isnan(os_), np.nan, want - (ws - os_))
            col = self.other
            if self.datetime:
                values = pd.to_datetime(pd.Series(new).astype("Int64"), unit="ns")
            else:
                values = pd.Series(new)
            column = rows[col].astype(object)
            column[alone] = values.to_numpy(dtype=object)
            rows[col] = pd.to_datetime(column) if self.datetime else pd.to_numeric(column)

        return fix

    def get_state(self):
        return {
            "type": self.type,
            "rule": self.rule.to_dict(),
            "write": self.write,
            "other": self.other,
            "datetime": self.datetime,
        }

    @classmethod
    def from_state(cls, s, rules):
        rule = _find_rule(s["rule"], rules)
        return cls(rule, s["write"], s["other"], s["datetime"])


def _find_rule(data, rules):
    from tabgen.constraints.rules import rule_from_dict

    rule = rule_from_dict(data)
    for r in rules:
        if r == rule:
            return r
    return rule  # a part of a Range


def _like(values: np.ndarray, col: pd.Series):
    """``values`` with the integer dtype of ``col`` when they are whole numbers."""
    if pd.api.types.is_integer_dtype(col.dtype) and not np.isnan(values).any():
        return values.astype("int64")
    return values


class _Derive(_Step):
    """``target`` computed from ``sources`` (a sum, or a lookup) wherever they are present;
    kept in the inner table only for rows where a source is missing (if there are any)."""

    type = "derive"

    def __init__(self, rule, target, sources):
        self.rule, self.target, self.sources = rule, target, list(sources)
        self.reads, self.writes = list(sources), [target]
        self.keep_ = False
        self.lookup_ = None

    def fit(self, X):
        present = X[self.sources].notna().all(axis=1)
        self.keep_ = bool((~present & X[self.target].notna()).any())
        if isinstance(self.rule, Determines):
            sub = X.loc[present & X[self.target].notna(), [self.source, self.target]]
            sub = sub.drop_duplicates(subset=[self.source])
            self.lookup_ = [
                [_scalar(a), _scalar(b)] for a, b in zip(sub[self.source], sub[self.target])
            ]

    @property
    def source(self):
        return self.sources[0]

    def _derived(self, frame) -> pd.Series:
        if isinstance(self.rule, LinearEquality):
            return pd.Series(self.rule.combine(frame), index=frame.index)
        mapping = {a: b for a, b in self.lookup_}
        return frame[self.source].map(lambda v: mapping.get(_scalar(v), np.nan), na_action="ignore")

    def forward(self, frame):
        if not self.keep_:
            del frame[self.target]
            return
        present = frame[self.sources].notna().all(axis=1)
        frame[self.target] = frame[self.target].where(~present)

    def inverse(self, frame):
        derived = self._derived(frame)
        present = frame[self.sources].notna().all(axis=1)
        if self.keep_ and self.target in frame.columns:
            kept = frame[self.target].astype(object)
            frame[self.target] = derived.astype(object).where(present, kept)
        else:
            frame[self.target] = derived.where(present)
        if not isinstance(self.rule, Determines):
            frame[self.target] = pd.to_numeric(frame[self.target], errors="coerce")

    def map_condition(self, cond, rng):
        if self.target not in cond.columns:
            return
        given = cond[self.target].notna()
        if not given.any():
            return None
        for c in self.sources:
            if c not in cond.columns:
                cond[c] = np.nan
        alone = given & cond[self.sources].isna().any(axis=1)
        fix = None
        if alone.any():
            fix = self._solve(cond, alone.to_numpy(), rng)
            given = given & ~alone
        want = self._derived(cond)
        if isinstance(self.rule, Determines):
            ok = [
                _scalar(a) == _scalar(b) for a, b in zip(want[given], cond.loc[given, self.target])
            ]
            if not all(ok):
                i = int(np.flatnonzero(~np.asarray(ok))[0])
                raise ValueError(
                    f"the conditions contradict the rule {self.rule!r}: condition row "
                    f"{int(np.flatnonzero(given)[i])} sets {self.target!r} to "
                    f"{cond.loc[given, self.target].iloc[i]!r}, the training data gives "
                    f"{want[given].iloc[i]!r}"
                )
        if self.keep_:
            cond[self.target] = cond[self.target].where(~(given | alone))
        else:
            del cond[self.target]
        return fix

    def _solve(self, cond, alone, rng):
        """Conditions on the target without (all) its sources: a source value mapping to
        the target is chosen (a lookup), or the free parts are solved after sampling (a
        sum)."""
        if isinstance(self.rule, Determines):
            column = cond[self.source].astype(object)
            for i in np.flatnonzero(alone):
                t = _scalar(cond[self.target].iloc[i])
                keys = [a for a, b in self.lookup_ if b == t]
                if not keys:
                    raise ValueError(
                        f"the conditions contradict the rule {self.rule!r}: no value of "
                        f"{self.source!r} gives {self.target!r} = {t!r} in the training data"
                    )
                column.iloc[i] = keys[int(rng.integers(len(keys)))]
            cond[self.source] = column
            return None
        rule = self.rule
        total = _values(cond, rule.total)[alone]
        known = cond[rule.parts].notna().to_numpy()[alone]
        given_parts = np.nan_to_num(np.column_stack([_values(cond, p) for p in rule.parts])[alone])
        coef = np.asarray(rule.coefficients)

        def fix(rows):
            sampled = np.column_stack([_values(rows, p) for p in rule.parts])[alone]
            free = ~known
            rest = total - rule.constant - (given_parts * known) @ coef
            weighted = np.where(free, sampled * coef, 0.0)
            scale = rest / np.where(weighted.sum(axis=1) == 0, np.nan, weighted.sum(axis=1))
            new = np.where(free, sampled * scale[:, None], sampled)
            last = free.shape[1] - 1 - np.argmax(free[:, ::-1], axis=1)  # last free part
            r = np.arange(len(new))
            integer = [self._integer(rows, p) for p in rule.parts]
            for j, is_int in enumerate(integer):
                if is_int:
                    new[:, j] = np.where(free[:, j] & (last != j), np.round(new[:, j]), new[:, j])
            # the last free part takes the remainder, exactly
            others = np.where(np.arange(new.shape[1]) == last[:, None], 0.0, new * coef).sum(1)
            new[r, last] = (total - rule.constant - others) / coef[last]
            for j, p in enumerate(rule.parts):
                column = rows[p].to_numpy(dtype="float64", na_value=np.nan).copy()
                idx = np.flatnonzero(alone)[free[:, j]]
                column[idx] = new[free[:, j], j]
                rows[p] = column

        return fix

    @staticmethod
    def _integer(rows, col) -> bool:
        return pd.api.types.is_integer_dtype(rows[col].dtype)

    def get_state(self):
        return {
            "type": self.type,
            "rule": self.rule.to_dict(),
            "target": self.target,
            "sources": self.sources,
            "keep": self.keep_,
            "lookup": self.lookup_,
        }

    @classmethod
    def from_state(cls, s, rules):
        step = cls(_find_rule(s["rule"], rules), s["target"], s["sources"])
        step.keep_ = bool(s["keep"])
        step.lookup_ = s["lookup"]
        return step


class _Joint(_Step):
    """The columns as one categorical column (named as the first) over the combinations
    seen in training (missing cells included in a combination)."""

    type = "joint"

    def __init__(self, rule):
        self.rule = rule
        self.cols = rule.columns
        self.reads, self.writes = [], list(self.cols)

    def fit(self, X):
        keys = _keys(X, self.cols)
        counts = keys.value_counts(sort=True)
        self.combos_ = [[_scalar(v) for v in k] for k in counts.index]
        self.weights_ = [int(c) for c in counts.to_numpy()]

    def _labels(self):
        return [f"combination {i}" for i in range(len(self.combos_))]

    def forward(self, frame):
        index = {tuple(c): lab for c, lab in zip(self.combos_, self._labels())}
        keys = _keys(frame, self.cols).map(lambda k: tuple(_scalar(v) for v in k))
        frame[self.cols[0]] = keys.map(index).astype(object)
        for c in self.cols[1:]:
            del frame[c]

    def inverse(self, frame):
        labels = frame[self.cols[0]].astype(object)
        index = {lab: i for i, lab in enumerate(self._labels())}
        pos = labels.map(index)
        for j, c in enumerate(self.cols):
            values = [self.combos_[int(p)][j] if pd.notna(p) else None for p in pos]
            frame[c] = pd.Series(values, index=frame.index, dtype=object)
            if all(
                v is None or (isinstance(v, numbers.Number) and not isinstance(v, bool))
                for v in values
            ):
                frame[c] = pd.to_numeric(frame[c])

    def map_condition(self, cond, rng):
        given = [c for c in self.cols if c in cond.columns]
        if not given:
            return
        sub = cond[given]
        rows = np.flatnonzero(sub.notna().any(axis=1).to_numpy())
        labels = np.full(len(cond), None, dtype=object)
        names = self._labels()
        w = np.asarray(self.weights_, dtype=float)
        pos = [self.cols.index(c) for c in given]
        for i in rows:
            want = {j: _scalar(v) for j, v in zip(pos, sub.iloc[i]) if pd.notna(v)}
            ok = np.array([all(c[j] == v for j, v in want.items()) for c in self.combos_])
            if not ok.any():
                raise ValueError(
                    f"the conditions contradict the rule {self.rule!r}: condition row {i} "
                    f"asks for {dict((self.cols[j], v) for j, v in want.items())!r}, a "
                    "combination never seen in training"
                )
            p = np.where(ok, w, 0.0)
            labels[i] = names[int(rng.choice(len(p), p=p / p.sum()))]
        for c in given:
            del cond[c]
        cond[self.cols[0]] = pd.Series(labels, index=cond.index, dtype=object)
        return None

    def get_state(self):
        return {
            "type": self.type,
            "rule": self.rule.to_dict(),
            "combos": self.combos_,
            "weights": self.weights_,
        }

    @classmethod
    def from_state(cls, s, rules):
        step = cls(_find_rule(s["rule"], rules))
        step.combos_ = [list(c) for c in s["combos"]]
        step.weights_ = list(s["weights"])
        return step


_STEPS = {cls.type: cls for cls in (_Gap, _Derive, _Joint)}


def _parse_conditions(columns, n, conditions) -> pd.DataFrame | None:
    """Conditions on original columns as a frame (one row per output row), or ``None``."""
    return conditions_frame(conditions, n, columns)


def _sample(self: ConstraintSet, draw, n, conditions, rng) -> pd.DataFrame:
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
    if isinstance(conditions, pd.DataFrame):
        out.index = conditions.index
    else:
        out = out.reset_index(drop=True)
    return out


def _impose(self: ConstraintSet, rows: pd.DataFrame, cond: pd.DataFrame) -> None:
    """Write the conditioned cells exactly (sums and gaps carry float noise)."""
    for c in cond.columns:
        mask = cond[c].notna().to_numpy()
        if not mask.any():
            continue
        col = rows[c].astype(object)
        col[mask] = cond[c].to_numpy(dtype=object)[mask]
        rows[c] = _cast(col, self.dtypes_[c])


def _supply(self: ConstraintSet, custom: dict) -> None:
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
