"""Distance-based privacy audits: DCR share, exact copies, NNDR, membership inference.

These are *empirical* risk estimates, not guarantees (only differential privacy gives one; see
``references/privacy.md``). All distances are computed in tabgen's one row encoding
(:class:`~tabgen.metrics.attacks.space.RowSpace`, also used by the attacks and by the
anonymizer's near-copy filter), fitted on the training rows: numbers min-max scaled on their
range (TabSyn divides by the range; the shift does not change distances), categories one-hot
with indicators weighted 1/√2 (a mismatch costs 1 in squared distance), a missing value as an
indicator of its own. The default metric is Euclidean (mostlyai-qa, synthcity);
``metric="manhattan"`` gives TabSyn's L1 (slower: the neighbour search cannot use the
Euclidean shortcuts).

* **DCR share** (TabSyn / mostlyai-qa): for each synthetic row, the distance to its nearest
  training row and to its nearest holdout row (training rows subsampled to the holdout size);
  share = P(d_train < d_holdout) + ½·P(d_train = d_holdout). Ideal 0.5; 1.0 when every
  synthetic row sits on a training row.
* **Exact-copy rate**: share of synthetic rows identical, on the original values, to some
  training row (rows hashed, not compared by float distance). ``exact_copy_rate_holdout`` is
  the same against the holdout, the baseline for tables with naturally repeated rows.
* **NNDR**: median over synthetic rows of d1/d2, the distances to the nearest and second-nearest
  training rows (0 when both are 0); ``nndr_holdout`` against the holdout. Low values mean
  synthetic rows sit much closer to one real record than to the others.
* **Membership-inference AUC**: score = -distance from a candidate record to its nearest
  synthetic row; members = training rows, non-members = holdout rows (equal numbers);
  ROC-AUC, 0.5 = no leakage (TAPAS ``ClosestDistanceMIA``).
* **Membership attacks, worst case** (:func:`~tabgen.metrics.attacks.membership_attacks`):
  distance, distance-ratio, DOMIAS-style density-ratio (kNN and KDE) and classifier attacks,
  each with ROC-AUC and TPR at 1 % / 0.1 % FPR with bootstrap intervals; the headline is the
  worst case (``mia_auc_worst``, ``mia_tpr_at_1pct_fpr``, ``mia_tpr_at_0.1pct_fpr``), with
  the share of training rows an attack flags at 1 % FPR (``records_at_risk``, beside its
  chance level ``records_at_risk_holdout``) and the indices of the riskiest training rows in
  ``details["riskiest_rows"]`` (indices only, never values).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from ._columns import (
    check_tables,
    joint_codes,
    resolve_kinds,
    select_columns,
)
from ._encode import RowSpace
from ._neighbors import check_metric, kneighbors
from ._result import MetricResult
from ._sampling import RandomState, check_max_rows, child_seed, resolve_rng, subsample
from .attacks.membership import HEADLINE_KEYS, MIN_HOLDOUT, membership_attacks

__all__ = ["exact_copy_rate", "privacy"]


def _row_hashes(frames: list[pd.DataFrame], kinds: Mapping[str, str]) -> list[np.ndarray]:
    """64-bit hashes of rows on their original values, consistent across the frames.

    Every column is factorised jointly over all frames (so 3 and 3.0, or a category stored as
    ``str`` in one frame and ``category`` in another, get the same code; all missing values share
    one code), then the integer codes of a row are hashed together.
    """
    lengths = [len(f) for f in frames]
    code_columns = []
    for column in kinds:
        codes, _ = joint_codes([f[column] for f in frames])
        code_columns.append(np.concatenate(codes))
    table = pd.DataFrame(np.column_stack(code_columns)) if code_columns else pd.DataFrame()
    hashes = pd.util.hash_pandas_object(table, index=False).to_numpy()
    return np.split(hashes, np.cumsum(lengths)[:-1])


def _copy_rate(synth_hashes: np.ndarray, reference_hashes: np.ndarray) -> float:
    return float(np.isin(synth_hashes, reference_hashes).mean())


def exact_copy_rate(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    metadata: Mapping[str, str] | None = None,
) -> float:
    """Share of synthetic rows identical (on all original values) to some real row.

    Parameters
    ----------
    real, synthetic : pandas.DataFrame
        Same columns. Missing values compare equal to each other.
    metadata : mapping, optional
        ``{column: kind}``; only used to order and check the columns.

    Returns
    -------
    float

    Examples
    --------
    >>> real = pd.DataFrame({"x": [1, 2, 3], "c": ["a", "b", "c"]})
    >>> synthetic = pd.DataFrame({"x": [1.0, 2.0, 9.0], "c": ["a", "x", "c"]})
    >>> exact_copy_rate(real, synthetic)
    0.3333333333333333
    """
    check_tables(real, synthetic)
    kinds = resolve_kinds(real, metadata)
    real_h, synth_h = _row_hashes([real, select_columns(synthetic, real.columns)], kinds)
    return _copy_rate(synth_h, real_h)


def _dcr_share(d_train: np.ndarray, d_holdout: np.ndarray) -> float:
    tie = np.isclose(d_train, d_holdout, rtol=1e-9, atol=1e-12)
    closer = (d_train < d_holdout) & ~tie
    return float(closer.mean() + 0.5 * tie.mean())


def _nndr(dist: np.ndarray) -> np.ndarray:
    d1, d2 = dist[:, 0], dist[:, 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(d2 > 0, d1 / d2, 0.0)


def privacy(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    holdout: pd.DataFrame | None = None,
    *,
    metadata: Mapping[str, str] | None = None,
    metric: str = "euclidean",
    max_rows: int | None = 20_000,
    random_state: RandomState = 0,
    membership: bool = True,
    n_bootstrap: int = 200,
) -> MetricResult:
    """DCR share, exact-copy rate, NNDR and membership-inference attacks (worst case).

    Parameters
    ----------
    real : pandas.DataFrame
        The training rows the generator saw.
    synthetic : pandas.DataFrame
        Generated rows, same columns.
    holdout : pandas.DataFrame, optional
        Real rows the generator never saw. Without it, ``dcr_share``, ``nndr_holdout``,
        ``exact_copy_rate_holdout`` and ``mia_auc`` are NaN (reason in ``notes``).
    metadata : mapping, optional
        ``{column: kind}``; other columns are inferred.
    metric : {"euclidean", "manhattan"}, default "euclidean"
    max_rows : int or None, default 20000
        Cap on the synthetic rows queried and on the training/holdout rows used as reference
        and as membership candidates (subsampled without replacement). Exact copies are
        always counted on all rows.
    random_state : int, numpy Generator or None, default 0
        Seeds the subsampling.
    membership : bool, default True
        Also run the battery of :func:`~tabgen.metrics.attacks.membership_attacks` (needs a
        holdout of at least 20 rows; capped at ``max_rows // 2`` rows per role).
    n_bootstrap : int, default 200
        Bootstrap resamples of the membership attacks' intervals.

    Returns
    -------
    MetricResult
        ``scores``: ``dcr_share``, ``exact_copy_rate``, ``exact_copy_rate_holdout``, ``nndr``,
        ``nndr_holdout``, ``mia_auc``; with ``membership`` also the worst-case attack scores
        ``mia_auc_worst`` (``_low``, ``_high``), ``mia_tpr_at_1pct_fpr``,
        ``mia_tpr_at_0.1pct_fpr`` (each with ``_high``), ``records_at_risk`` and
        ``records_at_risk_holdout``. ``arrays``: ``dcr_train`` and ``dcr_holdout`` (per
        synthetic row, for histograms), ``record_risk``. ``details``: rows used, metric, DCR
        quantiles; ``membership`` (one row per attack), ``mia_worst_attack``,
        ``riskiest_rows`` (index labels of ``real``, never values), ``membership_settings``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> train = pd.DataFrame({"x": rng.normal(size=200), "y": rng.normal(size=200)})
    >>> holdout = pd.DataFrame({"x": rng.normal(size=200), "y": rng.normal(size=200)})
    >>> res = privacy(train, train.copy(), holdout)
    >>> res.scores["dcr_share"], res.scores["exact_copy_rate"]
    (1.0, 1.0)
    """
    check_tables(real, synthetic, holdout)
    check_max_rows(max_rows)
    check_metric(metric)
    kinds = resolve_kinds(real, metadata)
    rng = resolve_rng(random_state)
    synthetic = select_columns(synthetic, real.columns)
    if holdout is not None:
        holdout = select_columns(holdout, real.columns)
    cap = max_rows or max(len(real), len(synthetic), len(holdout) if holdout is not None else 0)
    result = MetricResult(details={"metric": metric})

    # Exact copies on the original values, all rows.
    frames = [real, synthetic] + ([holdout] if holdout is not None else [])
    hashes = _row_hashes(frames, kinds)
    result.scores["exact_copy_rate"] = _copy_rate(hashes[1], hashes[0])
    result.scores["exact_copy_rate_holdout"] = (
        _copy_rate(hashes[1], hashes[2]) if holdout is not None else np.nan
    )

    # Distances on a common encoding; training rows subsampled to the holdout size.
    n_ref = min(len(real), len(holdout) if holdout is not None else len(real), cap)
    train_s = subsample(real, n_ref, rng)
    hold_s = subsample(holdout, n_ref, rng) if holdout is not None else None
    synth_s = subsample(synthetic, min(len(synthetic), cap), rng)
    space = RowSpace(kinds).fit(train_s)
    x_train, x_synth = space.transform(train_s), space.transform(synth_s)
    result.details.update(
        {"rows_reference": n_ref, "rows_synthetic": len(synth_s), "n_features": x_train.shape[1]}
    )

    dist_train, _ = kneighbors(x_train, x_synth, 2, metric)
    result.arrays["dcr_train"] = dist_train[:, 0]
    result.scores["nndr"] = (
        float(np.median(_nndr(dist_train))) if dist_train.shape[1] == 2 else np.nan
    )
    if dist_train.shape[1] < 2:
        result.notes["nndr"] = "needs at least two training rows"
    if hold_s is None:
        for key in ("dcr_share", "nndr_holdout", "exact_copy_rate_holdout", "mia_auc"):
            result.scores[key] = np.nan
            result.notes[key] = "needs a holdout set (real rows not used for training)"
        if membership:
            result.scores.update(dict.fromkeys(HEADLINE_KEYS, np.nan))
            result.notes["mia_auc_worst"] = "needs a holdout set (real rows not used for training)"
        return result

    x_hold = space.transform(hold_s)
    dist_hold, _ = kneighbors(x_hold, x_synth, 2, metric)
    result.arrays["dcr_holdout"] = dist_hold[:, 0]
    result.scores["dcr_share"] = _dcr_share(dist_train[:, 0], dist_hold[:, 0])
    result.scores["nndr_holdout"] = (
        float(np.median(_nndr(dist_hold))) if dist_hold.shape[1] == 2 else np.nan
    )
    if dist_hold.shape[1] < 2:
        result.notes["nndr_holdout"] = "needs at least two holdout rows"
    for name, d in (("train", dist_train[:, 0]), ("holdout", dist_hold[:, 0])):
        result.details[f"dcr_{name}_quantiles"] = {
            q: float(np.quantile(d, float(q))) for q in ("0.05", "0.25", "0.5")
        }

    # Membership inference: how close is each candidate to the synthetic data?
    members, _ = kneighbors(x_synth, x_train, 1, metric)
    non_members, _ = kneighbors(x_synth, x_hold, 1, metric)
    labels = np.r_[np.ones(len(members)), np.zeros(len(non_members))]
    scores = -np.r_[members[:, 0], non_members[:, 0]]
    result.scores["mia_auc"] = float(roc_auc_score(labels, scores))
    if membership:
        _membership(result, real, synthetic, holdout, kinds, cap, n_bootstrap, rng)
    return result


def _membership(result, real, synthetic, holdout, kinds, cap, n_bootstrap, rng) -> None:
    """Add the membership attacks' worst case to ``result`` (NaN with a note if impossible)."""
    if len(holdout) < MIN_HOLDOUT:
        for key in HEADLINE_KEYS:
            result.scores[key] = np.nan
        result.notes["mia_auc_worst"] = (
            f"the membership attacks need a holdout of at least {MIN_HOLDOUT} rows"
        )
        return
    found = membership_attacks(
        real,
        synthetic,
        holdout,
        metadata=kinds,
        max_rows=max(cap // 2, 1),
        n_bootstrap=n_bootstrap,
        random_state=child_seed(rng),
    )
    result.scores.update({k: found.scores[k] for k in HEADLINE_KEYS})
    result.details.update(found.details)
    result.arrays["record_risk"] = found.arrays["record_risk"]
    result.notes.update(found.notes)
