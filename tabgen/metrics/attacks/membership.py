"""Membership inference, a battery of attacks with the worst case as headline:
:func:`membership_attacks`.

Members are training rows; the holdout (real rows the generator never saw) is split in two
halves, one as the *non-members* the attacks must tell apart from the members, the other as
the attacker's *reference* sample of the population (the density-ratio, distance-ratio and
classifier attacks need one; it is never scored). Members are subsampled to as many rows as
there are non-members for the ROC statistics (every scored training row still gets its
per-record risk). All attacks work in tabgen's one row encoding
(:class:`~tabgen.metrics.attacks.space.RowSpace`, fitted on the training rows):

========================  ======================================================
``distance``              minus the distance to the nearest synthetic row
``distance_ratio``        nearest-reference over nearest-synthetic distance (log)
``density_knn``           DOMIAS-style ratio of kNN densities (k = 5)
``density_kde``           DOMIAS-style ratio of Gaussian KDEs (principal components)
``classifier``            synthetic-vs-reference classifier's log-odds
``shadow``                shadow models, per-record calibrated (only with ``shadow=``;
                          :mod:`~tabgen.metrics.attacks.mia_shadow`)
========================  ======================================================

For each attack: ROC-AUC and the true-positive rate at 1 % and 0.1 % false-positive rate,
each with a percentile-bootstrap interval. The headline is the worst case over the attacks
(the largest of each statistic). Averages hide the few exposed outliers, so every scored
training row also gets a *record risk*, the highest over the attacks of the share of
non-members it outscores; ``records_at_risk`` is the share of training rows above 0.99
(flagged at 1 % FPR by some attack), beside the same share among the non-members themselves
(``records_at_risk_holdout``, what chance alone gives with this many attacks). The indices
of the riskiest training rows (the index labels of ``real``) are listed for the data owner;
their values never appear in the result.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from .._columns import check_frame, check_same_columns, check_tables, resolve_kinds, select_columns
from .._encode import RowSpace
from .._result import MetricResult
from .._sampling import RandomState, check_max_rows, child_seed, resolve_rng
from .mia_classifier import classifier
from .mia_density import density_kde, density_knn
from .mia_distance import distance, distance_ratio
from .mia_shadow import shadow_scores
from .roc import TPR_KEYS, record_risk, summarize

#: The attacks, in report order: name -> scoring function.
MEMBERSHIP_ATTACKS: dict[str, Callable] = {
    "distance": distance,
    "distance_ratio": distance_ratio,
    "density_knn": density_knn,
    "density_kde": density_kde,
    "classifier": classifier,
}

#: Fewest holdout rows accepted (half of them become the reference sample).
MIN_HOLDOUT = 20

#: Record risk above which a training row counts as exposed (flagged at 1 % FPR).
RISK_LEVEL = 0.99

#: The headline scores of :func:`membership_attacks`: worst cases and shares of exposed rows.
HEADLINE_KEYS = (
    "mia_auc_worst",
    "mia_auc_worst_low",
    "mia_auc_worst_high",
    "mia_tpr_at_1pct_fpr",
    "mia_tpr_at_1pct_fpr_high",
    "mia_tpr_at_0.1pct_fpr",
    "mia_tpr_at_0.1pct_fpr_high",
    "records_at_risk",
    "records_at_risk_holdout",
)


def membership_attacks(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    holdout: pd.DataFrame,
    *,
    metadata: Mapping[str, str] | None = None,
    attacks: Sequence[str] | None = None,
    max_rows: int | None = 10_000,
    n_bootstrap: int = 200,
    confidence: float = 0.95,
    n_riskiest: int = 20,
    shadow: Callable | None = None,
    n_shadows: int = 8,
    shadow_targets: int = 200,
    random_state: RandomState = 0,
) -> MetricResult:
    """Membership-inference attacks on a synthetic table, worst case first.

    Parameters
    ----------
    real : pandas.DataFrame
        The training rows (members).
    synthetic : pandas.DataFrame
        Generated rows, same columns.
    holdout : pandas.DataFrame
        Real rows never seen in training, at least 20: half become non-members, half the
        attacker's reference sample.
    metadata : mapping, optional
        ``{column: kind}``; other columns are inferred.
    attacks : sequence of str, optional
        Names from :data:`MEMBERSHIP_ATTACKS`; default all.
    max_rows : int or None, default 10000
        Cap on the non-members, the reference rows and the scored training rows each.
    n_bootstrap : int, default 200
        Bootstrap resamples of the intervals (0: no intervals).
    confidence : float, default 0.95
    n_riskiest : int, default 20
        How many of the riskiest training rows' indices to list.
    shadow : callable, optional
        ``shadow(seed)`` returns an unfitted synthesizer (``fit(df)``, ``sample(n,
        random_state=...)``) of the kind that produced ``synthetic``: adds the ``shadow``
        attack (:mod:`~tabgen.metrics.attacks.mia_shadow`), which trains ``n_shadows`` of them
        on the reference rows plus random halves of ``shadow_targets`` members and as many
        non-members. It enters the worst case, not the per-record risk.
    n_shadows : int, default 8
    shadow_targets : int, default 200
    random_state : int, numpy Generator or None, default 0

    Returns
    -------
    MetricResult
        ``scores``: ``mia_auc_worst`` (with ``_low`` / ``_high``), ``mia_tpr_at_1pct_fpr`` and
        ``mia_tpr_at_0.1pct_fpr`` (worst cases, with ``_high``), ``mia_worst_attack`` is in
        ``details``; ``records_at_risk`` and ``records_at_risk_holdout``. ``details``:
        ``membership`` (DataFrame, one row per attack), ``riskiest_rows`` (index labels of
        ``real`` and their record risk, highest first), ``membership_settings``. ``arrays``:
        ``record_risk`` (per scored training row) and ``record_risk_index`` (positions in
        ``real``).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> def draw(n):
    ...     return pd.DataFrame({"x": rng.normal(size=n), "c": rng.choice(list("ab"), n)})
    >>> train, holdout = draw(400), draw(400)
    >>> leak = membership_attacks(train, train.copy(), holdout, n_bootstrap=0)
    >>> leak.scores["mia_auc_worst"] > 0.9
    True
    """
    check_tables(real, synthetic)
    check_frame(holdout, "holdout")
    check_same_columns(real, holdout, "holdout")
    check_max_rows(max_rows)
    if len(holdout) < MIN_HOLDOUT:
        raise ValueError(
            f"holdout has {len(holdout)} rows; the membership attacks need at least "
            f"{MIN_HOLDOUT} (half non-members, half reference)"
        )
    names = list(MEMBERSHIP_ATTACKS) if attacks is None else list(attacks)
    unknown = [a for a in names if a not in MEMBERSHIP_ATTACKS]
    if unknown or not names:
        raise ValueError(f"attacks must name some of {list(MEMBERSHIP_ATTACKS)}, got {attacks!r}")
    if not isinstance(n_bootstrap, (int, np.integer)) or n_bootstrap < 0:
        raise ValueError(f"n_bootstrap must be a non-negative integer, got {n_bootstrap!r}")
    if shadow is not None and not callable(shadow):
        raise ValueError(f"shadow must be a callable returning a synthesizer, got {shadow!r}")
    for value, name in ((n_shadows, "n_shadows"), (shadow_targets, "shadow_targets")):
        if not isinstance(value, (int, np.integer)) or value < 2:
            raise ValueError(f"{name} must be an integer >= 2, got {value!r}")
    kinds = resolve_kinds(real, metadata)
    rng = resolve_rng(random_state)
    synthetic = select_columns(synthetic, real.columns)
    holdout = select_columns(holdout, real.columns)
    cap = max_rows or max(len(real), len(holdout), len(synthetic))

    # holdout: non-members | reference; members: a random subset of the training rows
    order = rng.permutation(len(holdout))
    half = len(holdout) // 2
    n_non = min(half, cap)
    non_members = holdout.iloc[order[:n_non]]
    reference = holdout.iloc[order[half : half + min(len(holdout) - half, cap)]]
    member_pos = rng.permutation(len(real))[: min(len(real), cap)]
    members = real.iloc[member_pos]
    n_bal = min(n_non, len(members))
    syn_pos = np.sort(rng.permutation(len(synthetic))[: min(len(synthetic), 4 * cap)])

    space = RowSpace(kinds).fit(real)
    x_mem = space.transform(members)
    x_non = space.transform(non_members)
    x_ref = space.transform(reference)
    x_syn = space.transform(synthetic.iloc[syn_pos])
    candidates = np.vstack([x_mem, x_non])

    result = MetricResult()
    rows, risks, risks_non = [], [], []
    seeds = {name: child_seed(rng) for name in MEMBERSHIP_ATTACKS}
    for name in names:
        arng = np.random.default_rng(seeds[name])
        scores = MEMBERSHIP_ATTACKS[name](candidates, x_syn, x_ref, arng)
        s_mem, s_non = scores[: len(x_mem)], scores[len(x_mem) :]
        stats = summarize(
            s_mem[:n_bal], s_non, n_bootstrap=int(n_bootstrap), confidence=confidence, rng=arng
        )
        rows.append({"attack": name, **stats})
        risks.append(record_risk(s_mem, s_non))
        risks_non.append(record_risk(s_non, s_non))
    if shadow is not None:
        n_t = min(int(shadow_targets), n_bal)
        arng = np.random.default_rng(child_seed(rng))
        scores, settings = shadow_scores(
            shadow,
            pd.concat([members.iloc[:n_t], non_members.iloc[:n_t]], ignore_index=True),
            reference,
            space.transform,
            x_syn,
            x_ref,
            n_shadows=int(n_shadows),
            rng=arng,
        )
        stats = summarize(
            scores[:n_t],
            scores[n_t:],
            n_bootstrap=int(n_bootstrap),
            confidence=confidence,
            rng=arng,
        )
        rows.append({"attack": "shadow", **stats})
        result.details["shadow_settings"] = {"targets_per_class": n_t, **settings}
    table = pd.DataFrame(rows)
    worst = table.loc[table["auc"].idxmax()]
    result.scores["mia_auc_worst"] = float(worst["auc"])
    result.scores["mia_auc_worst_low"] = float(worst["auc_low"])
    result.scores["mia_auc_worst_high"] = float(worst["auc_high"])
    for key in TPR_KEYS:
        result.scores[f"mia_{key}"] = float(table[key].max())
        result.scores[f"mia_{key}_high"] = float(table[f"{key}_high"].max())
    risk = np.max(risks, axis=0)
    risk_non = np.max(risks_non, axis=0)
    result.scores["records_at_risk"] = float(np.mean(risk > RISK_LEVEL))
    result.scores["records_at_risk_holdout"] = float(np.mean(risk_non > RISK_LEVEL))

    top = np.argsort(-risk, kind="stable")[: int(n_riskiest)]
    result.details["membership"] = table
    result.details["mia_worst_attack"] = str(worst["attack"])
    result.details["riskiest_rows"] = pd.DataFrame(
        {"index": [_plain(real.index[member_pos[i]]) for i in top], "risk": risk[top]}
    )
    result.details["membership_settings"] = {
        "attacks": names,
        "members_scored": len(members),
        "members_in_roc": int(n_bal),
        "non_members": int(n_non),
        "reference_rows": len(reference),
        "synthetic_rows": len(syn_pos),
        "n_bootstrap": int(n_bootstrap),
        "confidence": float(confidence),
        "risk_level": RISK_LEVEL,
    }
    result.arrays["record_risk"] = risk
    result.arrays["record_risk_index"] = member_pos
    if n_non < 1000:
        result.notes["mia_tpr_at_0.1pct_fpr"] = (
            f"{n_non} non-members: the 0.1 % FPR threshold is their largest score"
        )
    return result


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value
