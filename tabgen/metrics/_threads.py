"""The ``n_jobs`` of the metrics: a cap on the threads of the classifiers and linear algebra."""

from __future__ import annotations

import contextlib

import numpy as np
from threadpoolctl import threadpool_limits


def thread_limit(n_jobs: int | None):
    """A context in which native thread pools use at most ``n_jobs`` threads (``None``: the
    libraries' defaults, nothing changed).

    Raises
    ------
    ValueError
        ``n_jobs`` is not a positive integer or None.

    Examples
    --------
    >>> with thread_limit(1):
    ...     pass
    >>> thread_limit(0)
    Traceback (most recent call last):
    ...
    ValueError: n_jobs must be a positive integer or None, got 0
    """
    if n_jobs is None:
        return contextlib.nullcontext()
    if not isinstance(n_jobs, (int, np.integer)) or isinstance(n_jobs, bool) or n_jobs < 1:
        raise ValueError(f"n_jobs must be a positive integer or None, got {n_jobs!r}")
    return threadpool_limits(limits=int(n_jobs))
