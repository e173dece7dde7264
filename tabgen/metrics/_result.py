"""The small container every metric group returns."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd


@dataclass
class MetricResult:
    """Result of one metric group.

    Attributes
    ----------
    scores : dict of str to float
        Headline numbers (NaN where a number could not be computed; see ``notes``).
    details : dict
        Per-column / per-pair tables (pandas DataFrames), fold scores, settings used.
    arrays : dict of str to numpy.ndarray
        Raw per-row values (e.g. distances) kept for plots; not written to JSON.
    notes : dict of str to str
        Why a score is NaN or how the data were subsampled.
    """

    scores: dict[str, float] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, key: str) -> float:
        return self.scores[key]


def jsonable(value: Any) -> Any:
    """Convert results to JSON-ready Python objects (NaN and infinities become None)."""
    if isinstance(value, pd.DataFrame):
        return [jsonable(r) for r in value.to_dict(orient="records")]
    if isinstance(value, pd.Series):
        return jsonable(value.tolist())
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, str):
        return value
    if value is pd.NA or value is pd.NaT:
        return None
    return str(value)
