"""Argument checks shared across tabgen's packages (data layer, models, pipelines, scale)."""

from __future__ import annotations

import argparse
import json
import math
import numbers

import numpy as np
import pandas as pd


def check_n(n) -> int:
    """``n`` (a number of rows to generate) as a positive ``int``.

    Integral floats are accepted (``1000.0``); ``None``, booleans, fractions and values
    below 1 raise an error naming the value.

    Examples
    --------
    >>> check_n(3.0)
    3
    """
    if n is None:
        raise ValueError("n (the number of rows to sample) is required")
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        if isinstance(n, float) and n.is_integer():
            n = int(n)
        else:
            raise TypeError(f"n must be a positive integer, got {n!r}")
    if n <= 0:
        raise ValueError(f"n must be a positive integer, got {n}")
    return int(n)


def check_integer(value, name: str, *, minimum: int) -> int:
    """``value`` (the parameter ``name``) if it is an integer (not a bool) ``>= minimum``;
    otherwise a ``ValueError`` naming the parameter and the value.

    Examples
    --------
    >>> check_integer(4, "max_knots", minimum=4)
    4
    >>> check_integer(True, "aggregates", minimum=0)
    Traceback (most recent call last):
    ...
    ValueError: aggregates must be an integer >= 0, got True
    """
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def schema_kinds(schema, *, what: str = "schema") -> dict | None:
    """The ``{column: kind}`` overrides that a ``schema=`` argument stands for.

    Parameters
    ----------
    schema : None, dict, Schema, str or path-like
        ``{column: kind}``; a :class:`~tabgen.schema.Schema` (its kinds); the dict form of a
        Schema (``{"columns": [...]}``, as :meth:`Schema.to_dict` writes it); or the path of a
        JSON file holding either dict form.
    what : str
        Name of the argument in error messages.

    Returns
    -------
    dict or None

    Examples
    --------
    >>> schema_kinds({"age": "integer"})
    {'age': 'integer'}
    """
    import os

    if schema is None:
        return None
    from tabgen.schema import Schema

    if isinstance(schema, Schema):
        return dict(schema.kinds)
    if isinstance(schema, (str, os.PathLike)):
        import json
        from pathlib import Path

        path = Path(schema)
        if not path.is_file():
            raise FileNotFoundError(f"{what}: no such schema file {str(path)!r}")
        try:
            schema = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{what}: {str(path)!r} is not a JSON file ({exc})") from None
        if not isinstance(schema, dict):
            raise ValueError(f"{what}: {str(path)!r} must hold a JSON object, got {schema!r}")
    if not isinstance(schema, dict):
        raise TypeError(
            f"{what} must be a dict {{column: kind}}, a Schema, a JSON file path or None, "
            f"got {schema!r}"
        )
    if isinstance(schema.get("columns"), list):
        return dict(Schema.from_dict(schema).kinds)
    bad = {k: v for k, v in schema.items() if not isinstance(v, str)}
    if bad:
        raise TypeError(f"{what} maps columns to kind names (str); got {bad!r}")
    return dict(schema)


def parse_param(text: str) -> tuple[str, object]:
    """``NAME=VALUE`` (a command-line ``--param``) with the value read as JSON (``3``,
    ``0.5``, ``true``, ``[256,256]``) and as text otherwise.

    Examples
    --------
    >>> parse_param("generator_dim=[256,256]")
    ('generator_dim', [256, 256])
    >>> parse_param("device=cpu")
    ('device', 'cpu')
    """
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def _is_missing(v) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    return isinstance(v, float) and math.isnan(v)


def conditions_frame(conditions, n, columns) -> pd.DataFrame | None:
    """``sample``'s ``conditions`` (a dict of single values for ``n`` rows, a Series, or a
    DataFrame of one row per output row) as a DataFrame, or ``None`` for no conditions.

    Raises ``ValueError``/``TypeError`` for a missing or non-scalar dict value, an ``n``
    that does not match a DataFrame, an empty DataFrame, or a column not in ``columns``.
    """
    from tabgen.schema import native_frame

    if conditions is None:
        return None
    if isinstance(conditions, pd.Series):
        conditions = conditions.to_frame().T
    if isinstance(conditions, dict):
        if not conditions:
            return None
        n = check_n(n)
        for col, value in conditions.items():
            if _is_missing(value):
                raise ValueError(f"condition on column {col!r} is missing (NaN/None)")
            if not np.isscalar(value) and not isinstance(value, (bool, pd.Timestamp)):
                raise TypeError(
                    f"condition on column {col!r} must be a single value, got {value!r}; "
                    "pass a DataFrame for per-row values"
                )
        frame = pd.DataFrame({c: [v] * n for c, v in conditions.items()})
    elif isinstance(conditions, pd.DataFrame):
        if n is not None and int(n) != len(conditions):
            raise ValueError(
                f"n={n} does not match the {len(conditions)} rows of the conditions "
                "DataFrame; leave n=None to get one row per condition row"
            )
        if len(conditions) == 0:
            raise ValueError("the conditions DataFrame has no rows")
        frame = native_frame(conditions)
    else:
        raise TypeError(
            f"conditions must be a dict or a DataFrame, got {type(conditions).__name__}"
        )
    columns = list(columns)
    unknown = [c for c in frame.columns if c not in columns]
    if unknown:
        raise ValueError(
            f"conditions name unknown column(s) {unknown!r}; fitted columns are {columns!r}"
        )
    return frame
