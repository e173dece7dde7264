"""A classifier membership-inference attack: the density ratio estimated by a classifier.

A gradient-boosted classifier learns to tell synthetic rows (label 1) from reference rows
(real rows from the population, label 0), both in the shared row encoding; its probability
of "synthetic" is a monotone transform of ``p_G / (p_G + p_R)``, the DOMIAS ratio, without
choosing a density model. Members are scored by it; they never take part in its training.
"""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

#: Rows of each class the classifier trains on.
MAX_ROWS = 10_000


def classifier(candidates, synthetic, reference, rng) -> np.ndarray:
    """Scores of the ``classifier`` attack (higher: more likely a member)."""
    n = min(len(synthetic), len(reference), MAX_ROWS)
    syn = synthetic[np.sort(rng.choice(len(synthetic), n, replace=False))]
    ref = reference[np.sort(rng.choice(len(reference), n, replace=False))]
    model = HistGradientBoostingClassifier(
        max_iter=50, max_leaf_nodes=15, random_state=int(rng.integers(2**31 - 1))
    )
    # one thread: small fits, where OpenMP's thread start-up dominates on a shared machine
    with threadpool_limits(1):
        model.fit(np.vstack([syn, ref]), np.r_[np.ones(n), np.zeros(n)])
        proba = model.predict_proba(candidates)[:, 1]
    return np.log(proba + 1e-12) - np.log(1.0 - proba + 1e-12)
