"""ROC statistics of a membership-inference attack: AUC, true-positive rate at a low false-
positive rate, bootstrap intervals and per-record risk.

An attack gives every candidate record a score, higher meaning "more likely a member of the
training rows". Members are training rows, non-members real rows the generator never saw.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

#: False-positive rates at which the true-positive rate is reported.
LOW_FPRS = (0.01, 0.001)


def auc(members: np.ndarray, non_members: np.ndarray) -> float:
    """ROC-AUC of scores (Mann-Whitney U / (n_m · n_n)); ties count half.

    Examples
    --------
    >>> auc(np.array([3.0, 2.0]), np.array([1.0, 2.0]))
    0.875
    """
    m, n = len(members), len(non_members)
    if m == 0 or n == 0:
        return float("nan")
    ranks = rankdata(np.concatenate([members, non_members]))
    u = ranks[:m].sum() - m * (m + 1) / 2.0
    return float(u / (m * n))


def tpr_at_fpr(members: np.ndarray, non_members: np.ndarray, fpr: float) -> float:
    """Share of members scored above the threshold that at most ``fpr`` of the non-members
    exceed (the ``floor(fpr · n)``-th largest non-member score; strictly above it).

    With fewer than ``1 / fpr`` non-members the threshold is the largest non-member score:
    the rate is then measured at a false-positive rate of 0.

    Examples
    --------
    >>> tpr_at_fpr(np.arange(10.0, 20.0), np.arange(100.0), 0.01)
    0.0
    >>> tpr_at_fpr(np.array([99.5, 200.0, 1.0]), np.arange(100.0), 0.01)
    0.6666666666666666
    """
    if len(members) == 0 or len(non_members) == 0:
        return float("nan")
    k = int(np.floor(fpr * len(non_members)))
    ordered = np.sort(non_members)[::-1]
    threshold = ordered[min(k, len(ordered) - 1)]
    return float(np.mean(members > threshold))


def summarize(
    members: np.ndarray,
    non_members: np.ndarray,
    *,
    n_bootstrap: int,
    confidence: float,
    rng: np.random.Generator,
) -> dict:
    """AUC and TPR at :data:`LOW_FPRS` with percentile-bootstrap intervals (members and
    non-members resampled independently, ``n_bootstrap`` times)."""
    stats = {"auc": auc(members, non_members)}
    for fpr in LOW_FPRS:
        stats[_tpr_key(fpr)] = tpr_at_fpr(members, non_members, fpr)
    samples = {key: np.empty(n_bootstrap) for key in stats}
    m, n = len(members), len(non_members)
    for b in range(n_bootstrap):
        mb = members[rng.integers(0, m, m)]
        nb = non_members[rng.integers(0, n, n)]
        samples["auc"][b] = auc(mb, nb)
        for fpr in LOW_FPRS:
            samples[_tpr_key(fpr)][b] = tpr_at_fpr(mb, nb, fpr)
    alpha = (1.0 - confidence) / 2.0
    out = {}
    for key, value in stats.items():
        out[key] = value
        if n_bootstrap:
            low, high = np.quantile(samples[key], [alpha, 1.0 - alpha])
        else:
            low = high = float("nan")
        out[f"{key}_low"], out[f"{key}_high"] = float(low), float(high)
    return out


def _tpr_key(fpr: float) -> str:
    """``tpr_at_1pct_fpr`` for 0.01, ``tpr_at_0.1pct_fpr`` for 0.001."""
    pct = f"{fpr * 100:g}"
    return f"tpr_at_{pct}pct_fpr"


TPR_KEYS = tuple(_tpr_key(f) for f in LOW_FPRS)


def record_risk(scores: np.ndarray, non_member_scores: np.ndarray) -> np.ndarray:
    """Per-record risk under one attack: the share of non-members the record outscores
    (its score's percentile among the non-members; ties count half). A record above 0.99
    would be flagged by the attack at a 1 % false-positive rate.

    Examples
    --------
    >>> record_risk(np.array([0.5, 10.0]), np.arange(10.0)).tolist()
    [0.1, 1.0]
    """
    ordered = np.sort(non_member_scores)
    below = np.searchsorted(ordered, scores, side="left")
    upto = np.searchsorted(ordered, scores, side="right")
    return (below + 0.5 * (upto - below)) / len(ordered)
