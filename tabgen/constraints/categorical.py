"""Rules among categories: :class:`Determines`, :class:`FixedCombinations`, :class:`OneHot`
(see :mod:`tabgen.constraints.rules`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tabgen.constraints.rules import Rule


def _keys(frame: pd.DataFrame, cols) -> pd.Series:
    """One hashable key per row over ``cols`` (missing cells as ``None``)."""
    parts = [frame[c].astype(object).where(frame[c].notna(), None) for c in cols]
    return pd.Series(list(zip(*parts)), index=frame.index, dtype=object)


class Determines(Rule):
    """Functional dependency: each value of ``source`` fixes the value of ``target``.

    Parameters
    ----------
    source, target : str
        Column names.
    mapping : dict or list of pairs, optional
        The dependency itself, ``{source value: target value}``, when it is known: then a
        training row that disagrees with it breaks the rule, and the model file holds only
        this public mapping (required with ``epsilon``). Without it, the mapping is learnt
        from the training rows.

    Examples
    --------
    >>> Determines("zip_code", "city").columns
    ['zip_code', 'city']
    >>> Determines("grade", "pass", mapping={"A": True, "F": False}).mapping
    [['A', True], ['F', False]]
    """

    kind = "determines"

    def __init__(self, source: str, target: str, *, mapping=None):
        if not isinstance(source, str) or not isinstance(target, str):
            raise TypeError(f"Determines: columns must be names, got {source!r}, {target!r}")
        if source == target:
            raise ValueError(f"Determines: source and target are both {source!r}")
        self.source = source
        self.target = target
        self.mapping = None if mapping is None else _pairs(mapping)

    @property
    def columns(self) -> list:
        return [self.source, self.target]

    def to_dict(self) -> dict:
        out = {"kind": self.kind, "source": self.source, "target": self.target}
        if self.mapping is not None:
            out["mapping"] = [list(p) for p in self.mapping]
        return out

    def violations(self, frame):
        both = frame[self.source].notna() & frame[self.target].notna()
        bad = np.zeros(len(frame), dtype=bool)
        if self.mapping is not None:
            table = dict((_hashable(a), b) for a, b in self.mapping)
            rows = np.flatnonzero(both.to_numpy())
            for i, a, b in zip(rows, frame[self.source].iloc[rows], frame[self.target].iloc[rows]):
                want = table.get(_hashable(a), _MISSING)
                bad[i] = want is _MISSING or _hashable(b) != _hashable(want)
            return bad
        sub = frame.loc[both, [self.source, self.target]]
        n_values = sub.groupby(self.source, dropna=True, observed=True)[self.target].transform(
            "nunique"
        )
        bad[np.flatnonzero(both.to_numpy())] = n_values.to_numpy() > 1
        return bad


_MISSING = object()


def _hashable(v):
    """A cell as a plain Python scalar, so that ``np.int64(3) == 3 == 3.0`` match as keys."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    return v


def _pairs(mapping) -> list:
    """``mapping`` (a dict or pairs) as a list of ``[source, target]`` pairs."""
    items = mapping.items() if isinstance(mapping, dict) else mapping
    try:
        pairs = [[_hashable(a), _hashable(b)] for a, b in items]
    except (TypeError, ValueError):
        raise TypeError(
            f"Determines: mapping must be a dict or a list of (source, target) pairs, got "
            f"{mapping!r}"
        ) from None
    keys = [a for a, _ in pairs]
    if len(set(map(repr, keys))) != len(keys):
        raise ValueError(f"Determines: a source value appears twice in the mapping {mapping!r}")
    return pairs


class FixedCombinations(Rule):
    """Only the combinations of values of ``columns`` seen in training are generated.

    Parameters
    ----------
    columns : list of str
        Two or more column names.
    combinations : list of lists, optional
        The allowed combinations (one value per column, ``None`` for a missing cell), when
        they are known: then a training row with another combination breaks the rule, and
        the model file holds only this public list (required with ``epsilon``: the
        combinations seen in the data are not public). Without it, the combinations are
        the ones seen in training.

    Examples
    --------
    >>> FixedCombinations(["country", "city"]).columns
    ['country', 'city']
    >>> FixedCombinations(["a", "b"], combinations=[("x", 1), ("y", 2)]).combinations
    [['x', 1], ['y', 2]]
    """

    kind = "fixed_combinations"

    def __init__(self, columns, combinations=None):
        cols = list(columns) if not isinstance(columns, str) else [columns]
        if len(cols) < 2 or not all(isinstance(c, str) for c in cols):
            raise ValueError(f"{type(self).__name__}: needs two or more column names, got {cols!r}")
        if len(set(cols)) != len(cols):
            raise ValueError(f"{type(self).__name__}: repeated column in {cols!r}")
        self._columns = cols
        self.combinations = None
        if combinations is not None:
            combos = [[_hashable(v) for v in c] for c in combinations]
            if not combos or any(len(c) != len(cols) for c in combos):
                raise ValueError(
                    f"{type(self).__name__}: combinations must be a non-empty list of "
                    f"{len(cols)} values each (one per column of {cols!r}), got {combinations!r}"
                )
            self.combinations = combos

    @property
    def columns(self) -> list:
        return list(self._columns)

    def to_dict(self) -> dict:
        out = {"kind": self.kind, "columns": list(self._columns)}
        if self.combinations is not None:
            out["combinations"] = [list(c) for c in self.combinations]
        return out

    def violations(self, frame):
        """Without ``combinations`` the rule holds by definition on the data it is fitted
        on; with them, rows (all cells present) whose combination is not listed break it."""
        bad = np.zeros(len(frame), dtype=bool)
        if self.combinations is None:
            return bad
        allowed = {tuple(c) for c in self.combinations}
        present = frame[self._columns].notna().all(axis=1).to_numpy()
        for i, key in zip(np.flatnonzero(present), _keys(frame.loc[present], self._columns)):
            bad[i] = tuple(_hashable(v) for v in key) not in allowed
        return bad


class OneHot(FixedCombinations):
    """Exactly one of ``columns`` is 1 (the others 0) on every row.

    Examples
    --------
    >>> OneHot(["is_a", "is_b", "is_c"]).columns
    ['is_a', 'is_b', 'is_c']
    """

    kind = "one_hot"

    def __init__(self, columns):
        super().__init__(columns)

    def violations(self, frame):
        sub = frame[self._columns]
        present = sub.notna().all(axis=1).to_numpy()
        vals = sub.apply(pd.to_numeric, errors="coerce").to_numpy(dtype="float64")
        with np.errstate(invalid="ignore"):
            binary = np.isin(vals, (0.0, 1.0)).all(axis=1)
            one = np.nansum(vals, axis=1) == 1
        return present & ~(binary & one)
