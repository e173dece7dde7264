"""Rule kinds: business rules a synthetic table must obey.

Every built-in rule is honoured *by construction*: it is a reversible transform of the
table applied before the model's encoder and inverted after decoding
(:class:`~tabgen.constraints.transform.ConstraintSet`), so the model never sees a form in
which the rule can be broken:

* :class:`Inequality` between two columns: the larger (or smaller) column is modelled as
  the non-negative gap between them; with a constant, the encoder's clipping to the
  training range keeps it (checked at fit);
* :class:`Range` with column bounds: the upper bound as a gap over the lower one and the
  value as its fraction ``(x - low) / (high - low)`` in ``[0, 1]``;
* :class:`LinearEquality`: the left-hand column is derived from the others;
* :class:`Determines`: the dependent column is looked up from the determining one;
* :class:`FixedCombinations` and :class:`OneHot`: the columns are modelled as one joint
  category whose values are the combinations seen in training (a model may also keep the
  other columns as modelled copies, written back from the joint category: the VAE does).

:class:`Custom` is the last resort: a vectorised predicate applied by rejection.

Missing values: a rule applies to the rows where all its columns are present; the other
rows are left as generated.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

_OPS = ("<=", "<", ">=", ">")


def _is_const(v) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _check_name(v, what: str, rule: str):
    if _is_const(v):
        return v
    if not isinstance(v, str):
        raise TypeError(f"{rule}: {what} must be a column name or a number, got {v!r}")
    return v


class Rule:
    """Base class of the rule kinds (see the module docstring)."""

    kind: str = ""
    #: The arguments :meth:`to_dict` writes, each stored under its own name (a rule with
    #: optional arguments left out when unset overrides :meth:`to_dict`).
    _fields: tuple = ()

    @property
    def columns(self) -> list:
        """The columns the rule names (constants left out)."""
        raise NotImplementedError

    def to_dict(self) -> dict:
        """The rule as JSON-able data (``{"kind": ..., arguments}``)."""
        out = {"kind": self.kind}
        for name in self._fields:
            value = getattr(self, name)
            out[name] = list(value) if isinstance(value, (list, tuple)) else value
        return out

    def violations(self, frame: pd.DataFrame) -> np.ndarray:
        """Boolean mask of the rows of ``frame`` that break the rule (rows with a missing
        value in one of its columns never do)."""
        raise NotImplementedError

    def __eq__(self, other) -> bool:
        return type(other) is type(self) and other.to_dict() == self.to_dict()

    def __hash__(self) -> int:
        return hash(repr(self))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.to_dict().items() if k != "kind")
        return f"{type(self).__name__}({args})"


def _values(frame: pd.DataFrame, v) -> np.ndarray:
    """Column ``v`` as float64 (datetimes as nanoseconds), or the constant ``v``."""
    if _is_const(v):
        return np.full(len(frame), float(v))
    col = frame[v]
    if pd.api.types.is_datetime64_any_dtype(col.dtype):
        out = col.to_numpy(dtype="datetime64[ns]").astype("int64").astype("float64")
        out[col.isna().to_numpy()] = np.nan
        return out
    return pd.to_numeric(col, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


class Inequality(Rule):
    """``left op right`` with ``op`` one of ``"<="``, ``"<"``, ``">="``, ``">"``.

    Parameters
    ----------
    left, right : str or float
        Column names (numeric or datetime columns) or one of them a constant.
    op : str
        The comparison.

    Examples
    --------
    >>> Inequality("check_in", "<=", "check_out")
    Inequality(left='check_in', op='<=', right='check_out')
    >>> Inequality("price", ">=", 0).columns
    ['price']
    """

    kind = "inequality"
    _fields = ("left", "op", "right")

    def __init__(self, left, op: str, right):
        if op not in _OPS:
            raise ValueError(f"Inequality: op must be one of {_OPS}, got {op!r}")
        self.left = _check_name(left, "left", "Inequality")
        self.op = op
        self.right = _check_name(right, "right", "Inequality")
        if _is_const(left) and _is_const(right):
            raise ValueError("Inequality: at least one side must be a column name")
        if left == right:
            raise ValueError(f"Inequality: both sides are {left!r}")

    @property
    def low(self):
        return self.left if self.op in ("<=", "<") else self.right

    @property
    def high(self):
        return self.right if self.op in ("<=", "<") else self.left

    @property
    def strict(self) -> bool:
        return self.op in ("<", ">")

    @property
    def columns(self) -> list:
        return [v for v in (self.left, self.right) if not _is_const(v)]

    def violations(self, frame):
        lo, hi = _values(frame, self.low), _values(frame, self.high)
        with np.errstate(invalid="ignore"):
            bad = lo >= hi if self.strict else lo > hi
        return bad & ~np.isnan(lo) & ~np.isnan(hi)


class Range(Rule):
    """``low <= value <= high`` (``strict=True``: ``<``), each bound a column or a constant.

    Examples
    --------
    >>> Range(0, "rate", 1).columns
    ['rate']
    """

    kind = "range"
    _fields = ("low", "value", "high", "strict")

    def __init__(self, low, value: str, high, *, strict: bool = False):
        self.low = _check_name(low, "low", "Range")
        if not isinstance(value, str):
            raise TypeError(f"Range: value must be a column name, got {value!r}")
        self.value = value
        self.high = _check_name(high, "high", "Range")
        self.strict = bool(strict)
        if _is_const(low) and _is_const(high) and low > high:
            raise ValueError(f"Range: low {low!r} is above high {high!r}")
        names = self.columns
        if len(set(names)) != len(names):
            raise ValueError(f"Range: a column appears twice in {names!r}")

    @property
    def columns(self) -> list:
        return [v for v in (self.low, self.value, self.high) if not _is_const(v)]

    def parts(self) -> list:
        """The two inequalities the range is made of."""
        op = "<" if self.strict else "<="
        return [Inequality(self.low, op, self.value), Inequality(self.value, op, self.high)]

    def violations(self, frame):
        return self.parts()[0].violations(frame) | self.parts()[1].violations(frame)


class LinearEquality(Rule):
    """``total = sum(coefficients[i] * parts[i]) (+ constant)`` within ``tolerance``.

    Parameters
    ----------
    total : str
        The derived column.
    parts : list of str
        The columns it is the (weighted) sum of.
    coefficients : list of float, optional
        One per part; ones by default.
    constant : float, default 0
    tolerance : float, default 1e-6
        Allowed ``|total - sum|`` in the training data, relative to ``max(1, |total|)``.

    Examples
    --------
    >>> LinearEquality("total", ["a", "b", "c"]).columns
    ['total', 'a', 'b', 'c']
    """

    kind = "linear_equality"
    _fields = ("total", "parts", "coefficients", "constant", "tolerance")

    def __init__(self, total: str, parts, *, coefficients=None, constant=0.0, tolerance=1e-6):
        if not isinstance(total, str):
            raise TypeError(f"LinearEquality: total must be a column name, got {total!r}")
        parts = [parts] if isinstance(parts, str) else list(parts)
        if not parts or not all(isinstance(p, str) for p in parts):
            raise TypeError(f"LinearEquality: parts must be column names, got {parts!r}")
        if total in parts or len(set(parts)) != len(parts):
            raise ValueError(f"LinearEquality: repeated column among {[total, *parts]!r}")
        coefficients = [1.0] * len(parts) if coefficients is None else list(coefficients)
        if len(coefficients) != len(parts):
            raise ValueError(
                f"LinearEquality: {len(coefficients)} coefficients for {len(parts)} parts"
            )
        if not (_is_const(tolerance) and tolerance >= 0):
            raise ValueError(f"LinearEquality: tolerance must be >= 0, got {tolerance!r}")
        self.total = total
        self.parts = parts
        self.coefficients = [float(c) for c in coefficients]
        self.constant = float(constant)
        self.tolerance = float(tolerance)

    @property
    def columns(self) -> list:
        return [self.total, *self.parts]

    def combine(self, frame) -> np.ndarray:
        """The weighted sum of the parts (NaN where one is missing)."""
        out = np.full(len(frame), self.constant)
        for p, c in zip(self.parts, self.coefficients):
            out = out + c * _values(frame, p)
        return out

    def violations(self, frame):
        total, rhs = _values(frame, self.total), self.combine(frame)
        with np.errstate(invalid="ignore"):
            bad = np.abs(total - rhs) > self.tolerance * np.maximum(1.0, np.abs(total))
        return bad & ~np.isnan(total) & ~np.isnan(rhs)


class Custom(Rule):
    """A rule given as a vectorised predicate, applied by rejection sampling.

    Not saved in a model file: after :func:`tabgen.load`, supply it again with
    ``tabgen.load(path, custom={name: predicate})``.

    Parameters
    ----------
    predicate : callable
        ``predicate(frame) -> bool array`` (True for valid rows); receives the generated
        rows with their original columns.
    name : str
        How the rule is named in the model file and in messages.
    max_tries : int, default 20
        Rounds of resampling before giving up.
    min_acceptance : float, default 0.01
        Below this share of valid rows in a round, sampling stops with an error.

    Examples
    --------
    >>> rule = Custom(lambda df: df["a"] % 2 == 0, name="even_a")
    >>> rule.to_dict()
    {'kind': 'custom', 'name': 'even_a', 'max_tries': 20, 'min_acceptance': 0.01}
    """

    kind = "custom"
    _fields = ("name", "max_tries", "min_acceptance")

    def __init__(self, predicate, name: str = "custom", *, max_tries=20, min_acceptance=0.01):
        if predicate is not None and not callable(predicate):
            raise TypeError(f"Custom: predicate must be callable, got {predicate!r}")
        if not isinstance(name, str) or not name:
            raise TypeError(f"Custom: name must be a non-empty string, got {name!r}")
        if not isinstance(max_tries, numbers.Integral) or max_tries < 1:
            raise ValueError(f"Custom: max_tries must be a positive integer, got {max_tries!r}")
        if not (_is_const(min_acceptance) and 0 < min_acceptance <= 1):
            raise ValueError(f"Custom: min_acceptance must be in (0, 1], got {min_acceptance!r}")
        self.predicate = predicate
        self.name = name
        self.max_tries = int(max_tries)
        self.min_acceptance = float(min_acceptance)

    @property
    def columns(self) -> list:
        return []

    def violations(self, frame):
        if self.predicate is None:
            raise ValueError(
                f"the Custom rule {self.name!r} has no predicate (predicates are not saved in "
                f"model files): load with tabgen.load(path, custom={{{self.name!r}: predicate}})"
            )
        ok = np.asarray(self.predicate(frame), dtype=bool).reshape(-1)
        if ok.shape[0] != len(frame):
            raise ValueError(
                f"the Custom rule {self.name!r} returned {ok.shape[0]} values for "
                f"{len(frame)} rows; it must return one boolean per row"
            )
        return ~ok
