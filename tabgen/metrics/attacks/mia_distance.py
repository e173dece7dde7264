"""Distance-based membership-inference attacks (TAPAS ``ClosestDistanceMIA``; the DCR-ratio
attack of Synth-MIA).

* ``distance``: score = minus the distance from the candidate to its nearest synthetic row.
  A generator that reproduces (or nearly reproduces) its training rows puts members closer.
* ``distance_ratio``: score = ``log d_ref - log d_syn``, the nearest-synthetic distance
  compared with the nearest *reference* distance (real rows from the population, not
  members): a member sitting unusually close to a synthetic row *for its region* stands out,
  where the plain distance is dominated by dense regions.
"""

from __future__ import annotations

import numpy as np

from .._neighbors import kneighbors

#: Added to distances before the logarithm, so that an exact copy (distance 0) stays finite.
TINY = 1e-9


def distance(candidates, synthetic, reference, rng) -> np.ndarray:
    """Scores of the ``distance`` attack (higher: more likely a member)."""
    d_syn, _ = kneighbors(synthetic, candidates, 1)
    return -d_syn[:, 0]


def distance_ratio(candidates, synthetic, reference, rng) -> np.ndarray:
    """Scores of the ``distance_ratio`` attack (higher: more likely a member)."""
    d_syn, _ = kneighbors(synthetic, candidates, 1)
    d_ref, _ = kneighbors(reference, candidates, 1)
    return np.log(d_ref[:, 0] + TINY) - np.log(d_syn[:, 0] + TINY)
