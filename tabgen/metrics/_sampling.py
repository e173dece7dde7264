"""Seeded randomness and subsampling helpers (no global RNG is ever touched)."""

from __future__ import annotations

import numpy as np
import pandas as pd

RandomState = int | np.random.Generator | None


def resolve_rng(random_state: RandomState) -> np.random.Generator:
    """Return a ``numpy.random.Generator`` for an int seed, a Generator or None."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None or (
        isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool)
    ):
        return np.random.default_rng(random_state)
    raise TypeError(f"random_state must be an int, a numpy Generator or None, got {random_state!r}")


def child_seed(rng: np.random.Generator) -> int:
    """An int seed for a scikit-learn component, drawn from ``rng``."""
    return int(rng.integers(0, 2**31 - 1))


def subsample(frame: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Return ``n`` rows drawn without replacement (the frame itself when it is small enough)."""
    if len(frame) <= n:
        return frame
    index = np.sort(rng.choice(len(frame), size=n, replace=False))
    return frame.iloc[index]


def check_max_rows(max_rows: int | None, name: str = "max_rows") -> None:
    """Raise ``ValueError`` unless ``max_rows`` is None or a positive int."""
    if max_rows is None:
        return
    if not isinstance(max_rows, (int, np.integer)) or isinstance(max_rows, bool) or max_rows < 1:
        raise ValueError(f"{name} must be a positive integer or None, got {max_rows!r}")
