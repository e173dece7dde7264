"""Argument checks shared across tabgen's packages (data layer, models, pipelines, scale)."""

from __future__ import annotations

import argparse
import json
import numbers


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
