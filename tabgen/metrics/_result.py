"""The small container every metric group returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


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
