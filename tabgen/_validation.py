"""Argument checks shared across tabgen's packages (data layer, models, pipelines, scale)."""

from __future__ import annotations

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
