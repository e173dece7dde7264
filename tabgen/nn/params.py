"""Checks of the constructor parameters that every neural model shares (run in ``fit``)."""

from __future__ import annotations

import numbers

from tabgen.nn.device import resolve_device


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_positive_ints(model, *names: str) -> None:
    """Raise ``ValueError`` naming the first of ``names`` that is not a positive integer.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> check_positive_ints(SimpleNamespace(hidden=0), "hidden")
    Traceback (most recent call last):
    ...
    ValueError: hidden must be a positive integer, got 0
    """
    for name in names:
        value = getattr(model, name)
        if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")


def check_ranges(model, checks: dict) -> None:
    """Raise ``ValueError`` naming the first parameter that is not a number accepted by its
    check (``{name: predicate}``)."""
    for name, ok in checks.items():
        value = getattr(model, name)
        if not _is_real(value) or not ok(value):
            raise ValueError(f"{name} is out of range, got {value!r}")


def check_training_params(model) -> None:
    """``lr`` a positive number, ``max_time`` ``None`` or a positive number of seconds and
    ``device`` a value of the device policy (available when explicit; see
    :func:`~tabgen.nn.device.resolve_device`)."""
    if not _is_real(model.lr) or not model.lr > 0:
        raise ValueError(f"lr must be a positive number, got {model.lr!r}")
    if model.max_time is not None and (not _is_real(model.max_time) or not model.max_time > 0):
        raise ValueError(
            f"max_time must be None or a positive number of seconds, got {model.max_time!r}"
        )
    resolve_device(model.device)
