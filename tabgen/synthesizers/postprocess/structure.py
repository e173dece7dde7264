"""Post-processors that keep the structure of the training rows: columns that are a function
of one categorical column (``education -> education_num``), and numbers that only take a few
values (``capital_gain``: 0 for 92 % of the rows and 118 other amounts).

A generator that models the two columns separately produces rows where they disagree
(``Bachelors`` with 12 years of education), which no real row does and which a detection
classifier spots at once. :func:`find_dependencies` lists, from the training rows, every
column whose value is fixed by the level of one categorical column; :func:`apply_dependencies`
rewrites the dependent column of generated rows from its determinant. Conditions and
observed cells are written back afterwards by the caller, so they still win.

A dependency is only kept when the determinant has few levels compared with the rows (on
average at least :data:`MIN_ROWS_PER_LEVEL` rows a level): with many small levels any column
looks determined by chance. Each column is used once, either as determinant or as dependent
(a one-to-one pair keeps the first column in table order as the determinant).

:class:`CategoryDependencies` and :class:`SnapToSupports` wrap these functions in the
post-processor protocol of :mod:`tabgen.synthesizers.postprocess`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: A determinant needs at least this many training rows per level on average.
MIN_ROWS_PER_LEVEL = 20
#: ... and at most this many levels.
MAX_LEVELS = 1_000
_DETERMINANTS = ("categorical", "boolean")
_DEPENDENTS = ("categorical", "boolean", "numerical", "integer")


def _plain(value):
    """A JSON-friendly Python scalar."""
    return value.item() if isinstance(value, np.generic) else value


def find_dependencies(X: pd.DataFrame, schema) -> list:
    """``[(dependent, determinant, {level: value})]`` found in the training rows ``X``.

    A column ``b`` depends on a categorical column ``a`` when every level of ``a`` (among
    the rows where ``a`` is observed) comes with one single value of ``b`` (missing counts as
    a value, so such rows disqualify the pair unless ``b`` is always missing there) and ``b``
    takes at least two values overall.

    Examples
    --------
    >>> import pandas as pd
    >>> from tabgen.schema import Schema
    >>> df = pd.DataFrame({"edu": ["a", "b", "c"] * 20, "years": [9, 12, 16] * 20,
    ...                    "age": range(60)})
    >>> [(dep, det) for dep, det, _ in find_dependencies(df, Schema.detect(df))]
    [('years', 'edu')]
    """
    kinds = {spec.name: spec.kind for spec in schema}
    used: set = set()
    found = []
    for a in X.columns:
        if kinds.get(a) not in _DETERMINANTS or a in used:
            continue
        col = X[a]
        observed = col.notna().to_numpy()
        levels = col[observed].nunique()
        if levels < 2 or levels > MAX_LEVELS or observed.sum() < MIN_ROWS_PER_LEVEL * levels:
            continue
        keys = col[observed].astype(object).to_numpy()
        for b in X.columns:
            if b == a or b in used or kinds.get(b) not in _DEPENDENTS:
                continue
            values = X[b][observed]
            if X[b].nunique(dropna=False) < 2 or values.isna().any():
                continue
            per_level = values.groupby(keys, sort=False).nunique()
            if (per_level != 1).any():
                continue
            first = values.groupby(keys, sort=False).first()
            mapping = {_plain(k): _plain(v) for k, v in first.items()}
            found.append((b, a, mapping))
            used.update((a, b))
        # a column that determines others stays a determinant only
    return found


def apply_dependencies(frame: pd.DataFrame, dependencies, conditions=None) -> pd.DataFrame:
    """Rewrite each dependent column of ``frame`` (in place) from its determinant's level;
    rows whose determinant is missing or unknown keep their generated value, and so do the
    cells set by ``conditions`` (a frame aligned row by row with ``frame``, NaN where a
    column is free)."""
    for dep, det, mapping in dependencies:
        if dep not in frame.columns or det not in frame.columns:
            continue
        keys = frame[det].astype(object)
        mapped = keys.map(mapping)
        hit = keys.notna().to_numpy() & keys.isin(list(mapping)).to_numpy()
        if conditions is not None and dep in conditions.columns:
            hit &= conditions[dep].isna().to_numpy()
        if hit.any():
            target = frame[dep]
            if isinstance(target.dtype, pd.CategoricalDtype):
                frame.loc[hit, dep] = mapped[hit].to_numpy()
            else:
                values = target.astype(object).to_numpy(copy=True)
                values[hit] = mapped[hit].to_numpy()
                frame[dep] = pd.Series(values, index=frame.index).astype(target.dtype)
    return frame


def to_state(dependencies) -> list:
    """JSON form: ``[[dependent, determinant, [[level, value], ...]], ...]``."""
    return [[dep, det, [[k, v] for k, v in mapping.items()]] for dep, det, mapping in dependencies]


def from_state(state) -> list:
    """Inverse of :func:`to_state`."""
    return [(dep, det, {k: v for k, v in pairs}) for dep, det, pairs in state or []]


#: A numeric column is snapped to its training values when it has at most this share of
#: distinct values among its observed rows (TabDDPM rounds such columns the same way).
MAX_SUPPORT_SHARE = 0.05


def find_supports(X: pd.DataFrame, schema) -> dict:
    """``{column: sorted distinct values}`` of the numeric columns with few distinct values
    (at most :data:`MAX_SUPPORT_SHARE` of their observed rows, and at least two).

    Examples
    --------
    >>> import pandas as pd
    >>> from tabgen.schema import Schema
    >>> df = pd.DataFrame({"gain": [0] * 95 + [500, 700, 700, 900, 0],
    ...                    "x": [i / 7 for i in range(100)]})
    >>> find_supports(df, Schema.detect(df))
    {'gain': [0.0, 500.0, 700.0, 900.0]}
    """
    out = {}
    for spec in schema:
        if spec.kind not in ("numerical", "integer") or spec.name not in X.columns:
            continue
        values = pd.to_numeric(X[spec.name], errors="coerce").dropna().to_numpy(float)
        distinct = np.unique(values)
        if 2 <= len(distinct) <= MAX_SUPPORT_SHARE * len(values):
            out[spec.name] = distinct.tolist()
    return out


def snap_to_supports(frame: pd.DataFrame, supports: dict, conditions=None) -> pd.DataFrame:
    """Move every generated number of a column in ``supports`` to the nearest training
    value (in place); missing cells and cells set by ``conditions`` are left alone."""
    for col, values in supports.items():
        if col not in frame.columns:
            continue
        u = np.asarray(values, dtype=float)
        x = np.array(pd.to_numeric(frame[col], errors="coerce"), dtype=float)  # a copy
        free = ~np.isnan(x)
        if conditions is not None and col in conditions.columns:
            free &= conditions[col].isna().to_numpy()
        if not free.any():
            continue
        i = np.clip(np.searchsorted(u, x[free]), 1, len(u) - 1)
        left, right = u[i - 1], u[i]
        x[free] = np.where(np.abs(x[free] - left) <= np.abs(right - x[free]), left, right)
        target = frame[col]
        frame[col] = pd.Series(x, index=frame.index).astype(target.dtype)
    return frame


class _Structure:
    """A post-processor made of a finder ``(rows, schema) -> found`` and an applier
    ``(frame, found, conditions) -> frame`` (see :mod:`tabgen.synthesizers.postprocess`)."""

    name = ""

    def __init__(self, found=None):
        self.found = self._empty() if found is None else found

    def fit(self, real: pd.DataFrame, model, rng):
        self.found = self._find(real, model.schema_)
        return self

    def apply(self, frame: pd.DataFrame, conditions=None) -> pd.DataFrame:
        return self._apply(frame, self.found, conditions)


class CategoryDependencies(_Structure):
    """Post-processor: dependent columns follow their determinant (:func:`find_dependencies`).

    ``found`` is the list of dependencies; stored under the key ``"dependencies"``.
    """

    name = "dependencies"
    _empty, _find, _apply = list, staticmethod(find_dependencies), staticmethod(apply_dependencies)

    def get_state(self) -> tuple[list, dict]:
        return to_state(self.found), {}

    @classmethod
    def from_state(cls, state, arrays: dict) -> CategoryDependencies:
        return cls(from_state(state))


class SnapToSupports(_Structure):
    """Post-processor: numbers with few training values stay on them (:func:`find_supports`).

    ``found`` is ``{column: values}``; stored under the key ``"supports"``.
    """

    name = "supports"
    _empty, _find, _apply = dict, staticmethod(find_supports), staticmethod(snap_to_supports)

    def get_state(self) -> tuple[list, dict]:
        return [[c, v] for c, v in self.found.items()], {}

    @classmethod
    def from_state(cls, state, arrays: dict) -> SnapToSupports:
        return cls({c: list(v) for c, v in state or []})
