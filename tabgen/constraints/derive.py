"""The step deriving a column from others: a :class:`~tabgen.constraints.rules.LinearEquality`
total from its parts, a :class:`~tabgen.constraints.rules.Determines` target from its source
(a lookup table learnt at fit)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tabgen.constraints.categorical import Determines
from tabgen.constraints.rules import LinearEquality, _values
from tabgen.constraints.steps import _find_rule, _scalar, _Step


class _Derive(_Step):
    """``target`` computed from ``sources`` (a sum, or a lookup) wherever they are present;
    kept in the inner table only for rows where a source is missing (if there are any)."""

    type = "derive"

    def __init__(self, rule, target, sources):
        self.rule, self.target, self.sources = rule, target, list(sources)
        self.reads, self.writes = list(sources), [target]
        self.keep_ = False
        self.lookup_ = None

    def fit(self, X, private: bool = False):
        present = X[self.sources].notna().all(axis=1)
        # with private, a derived cell is missing wherever a source is (a public choice)
        self.keep_ = not private and bool((~present & X[self.target].notna()).any())
        if isinstance(self.rule, Determines) and self.rule.mapping is not None:
            self.lookup_ = [list(p) for p in self.rule.mapping]
        elif isinstance(self.rule, Determines):
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
