"""The :class:`~tabgen.pipelines.anonymization.Anonymizer`'s privacy report and the account
of what its safeguards did."""

from __future__ import annotations

import pandas as pd

from tabgen.pipelines.anonymization.distance import NUMERIC_KINDS


def report(anonymizer, synthetic: pd.DataFrame, *, n_attacks, metrics, random_state):
    """:meth:`Anonymizer.report` (see there).

    The riskiest training rows of the membership attacks are named by their position in the
    table given to ``fit`` (``details["privacy"]["riskiest_rows"]``), never by their values.
    """
    from tabgen.metrics import evaluate

    cols = anonymizer.model_columns_
    missing = [c for c in cols if c not in synthetic.columns]
    if missing:
        raise ValueError(f"synthetic lacks the modelled column(s) {missing!r}")
    if n_attacks is None:
        n_attacks = min(len(anonymizer.holdout_), 5000)
    metadata = {c: metric_kind(k) for c, k in anonymizer.model_kinds_.items() if k != "constant"}
    target = anonymizer.target if anonymizer.target in cols else None
    train = anonymizer.train_[cols]
    rows = getattr(anonymizer, "train_rows_", None)
    if rows is not None and len(rows) == len(train):
        train = train.set_axis(pd.Index(rows), axis=0)  # positions in the input table
    out = evaluate(
        train,
        synthetic[cols],
        anonymizer.holdout_[cols],
        target,
        schema=metadata,
        metrics=list(metrics) if target else [m for m in metrics if m != "utility"],
        random_state=random_state,
        attack_params={"n_attacks": int(n_attacks)},
    )
    out.config["anonymizer"] = safeguards(anonymizer)
    return out


def safeguards(anonymizer) -> dict:
    """:meth:`Anonymizer.safeguards` (see there)."""
    a = anonymizer
    return {
        "synthesizer": type(a.synthesizer_).__name__,
        "rows_train": len(a.train_),
        "rows_holdout": len(a.holdout_),
        "pii_columns": {str(c): t for c, t in a.pii_columns_.items()},
        "pii_action": a.pii,
        "rare_threshold": int(a.rare_threshold),
        "rare_categories_merged": {str(c): n for c, n in a.rare_merged_.items()},
        "clipped_columns": sorted(str(c) for c in a.bounds_),
        "distance_quantile": a._quantile(),
        "distance_threshold": a.distance_threshold_,
        "differential_privacy": getattr(a.synthesizer_, "privacy_", None),
        "rows_generated": int(a.stats_["rows"]),
        "rows_replaced": int(a.stats_["replaced"]),
        "wording": wording(a),
    }


def wording(anonymizer) -> str:
    """How the export's privacy may be described."""
    if anonymizer.epsilon is None:
        return "measured risk from the attacks listed; not a proof of anonymity"
    p = anonymizer.synthesizer_.privacy_
    return (
        f"({p['epsilon']:.3g}, {p['delta']:.3g})-differentially private with respect to the "
        "training rows (what it covers: see differential_privacy.covers); the attack "
        "risks are measured on top of that guarantee, not a proof of anonymity"
    )


def metric_kind(kind: str) -> str:
    """A schema kind as a metric kind."""
    if kind in NUMERIC_KINDS:
        return "numerical"
    return "datetime" if kind == "datetime" else "categorical"
