"""The steps a :class:`~tabgen.constraints.transform.ConstraintSet` compiles its rules into.

A step *reads* some columns and *writes* others: ``forward`` turns the written columns
into the form the model learns, ``inverse`` gives them back from generated rows, and
``map_condition`` rewrites conditions on original columns into conditions on the inner
table. :class:`_Gap` keeps an inequality (the written column as a non-negative gap over
the other) and :class:`_Joint` fixed combinations (the columns as one joint category); the
derived columns of sums and lookups are in :mod:`tabgen.constraints.derive`.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

from tabgen.constraints.categorical import _keys
from tabgen.constraints.rules import Rule, _values


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


def _cast(col: pd.Series, dtype: str) -> pd.Series:
    """``col`` as the training dtype ``dtype`` (its name); whole numbers for an integer
    dtype (float when a NumPy integer column has missing cells)."""
    if str(col.dtype) == dtype:
        return col
    try:
        if dtype.startswith("datetime64"):
            return pd.to_datetime(col)
        target = pd.api.types.pandas_dtype(dtype)
        if pd.api.types.is_integer_dtype(target) and _is_numeric(col):
            values = np.round(pd.to_numeric(col).astype("float64"))
            if values.isna().any() and not pd.api.types.is_extension_array_dtype(target):
                return values
            return values.astype(target)
        return col.astype(target)
    except (TypeError, ValueError):
        return col


class _Step:
    rule: Rule
    reads: list
    writes: list
    type: str = ""
    #: ``(key, attribute)`` pairs :meth:`get_state` saves besides the type and the rule.
    _saved: tuple = ()

    def fit(self, X, private: bool = False) -> None:
        """Learn what the step needs from the training rows (nothing with ``private``)."""

    def get_state(self) -> dict:
        state = {"type": self.type, "rule": self.rule.to_dict()}
        state.update((key, getattr(self, attr)) for key, attr in self._saved)
        return state


class _Gap(_Step):
    """``write`` modelled as ``|write - other|`` where both are present."""

    type = "gap"
    _saved = (("write", "write"), ("other", "other"), ("datetime", "datetime"))

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

    @classmethod
    def from_state(cls, s, rules):
        rule = _find_rule(s["rule"], rules)
        return cls(rule, s["write"], s["other"], s["datetime"])


def _find_rule(data, rules):
    from tabgen.constraints.kinds import rule_from_dict

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


def _unit(col: pd.Series, hot: bool):
    """1 or 0 (``True``/``False`` for a boolean column) of a one-hot column."""
    if pd.api.types.is_bool_dtype(col.dtype):
        return bool(hot)
    return int(hot)


class _Joint(_Step):
    """The columns as one categorical column (named as the first) over the combinations
    seen in training (missing cells included in a combination).

    With ``copies`` the other columns stay in the inner table as they are: the model still
    learns them, as it would without the rule, and the inverse overwrites them from the
    joint category. Folding them away cost the VAE fidelity elsewhere: fitted on adult with
    ``education``/``education_num`` and ``relationship``/``sex`` folded, it lost about 0.01
    of trend on the pairs of the *other* columns, which it learns better beside
    ``education_num``'s ordered values. The GAN (at its default length) and the Gaussian
    copula did worse with the copies (``benchmarks/RESULTS.md``, constraints), so a model
    opts in (``_constraint_copies``). Files saved before the option have no ``copies``
    (false)."""

    type = "joint"
    _saved = (("combos", "combos_"), ("weights", "weights_"), ("copies", "copies_"))

    def __init__(self, rule, copies: bool = False):
        self.rule = rule
        self.cols = rule.columns
        self.reads, self.writes = [], list(self.cols)
        self.copies_ = copies

    def fit(self, X, private: bool = False):
        given = getattr(self.rule, "combinations", None)
        if private and given is None:  # a one-hot group: its vectors, and all missing
            given = [[_unit(X[c], c == h) for c in self.cols] for h in self.cols]
            given.append([None] * len(self.cols))
        if given is not None and private:
            self.combos_ = [list(c) for c in given]
            self.weights_ = [1] * len(given)
            return
        keys = _keys(X, self.cols)
        counts = keys.value_counts(sort=True)
        if given is None:
            self.combos_ = [[_scalar(v) for v in k] for k in counts.index]
            self.weights_ = [int(c) for c in counts.to_numpy()]
            return
        seen = {tuple(_scalar(v) for v in k): int(c) for k, c in counts.items()}
        self.combos_ = [list(c) for c in given]  # the listed ones, weighted as in training
        self.weights_ = [seen.get(tuple(c), 0) for c in given]
        if not any(self.weights_):
            self.weights_ = [1] * len(given)

    def _labels(self):
        return [f"combination {i}" for i in range(len(self.combos_))]

    def forward(self, frame):
        index = {tuple(c): lab for c, lab in zip(self.combos_, self._labels())}
        keys = _keys(frame, self.cols).map(lambda k: tuple(_scalar(v) for v in k))
        frame[self.cols[0]] = keys.map(index).astype(object)
        if not self.copies_:
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

    @classmethod
    def from_state(cls, s, rules):
        step = cls(_find_rule(s["rule"], rules))
        step.combos_ = [list(c) for c in s["combos"]]
        step.weights_ = list(s["weights"])
        step.copies_ = bool(s.get("copies", False))  # files saved before the copies
        return step
