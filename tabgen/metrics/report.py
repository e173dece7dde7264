"""``evaluate``: every metric group in one call, collected in a :class:`Report` (defined in
:mod:`._report`, importable from here)."""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from ._columns import check_tables, resolve_kinds, select_columns
from ._report import HEADLINE_KEYS, Report
from ._result import MetricResult
from ._sampling import RandomState, check_max_rows, child_seed, resolve_rng
from ._threads import thread_limit
from .attacks import MIN_ROWS as _ATTACK_MIN_ROWS
from .attacks import attack_risks
from .detection import detection
from .fidelity import fidelity
from .precision_recall import precision_recall
from .privacy import privacy
from .utility import Task, utility

__all__ = ["GROUPS", "HEADLINE_KEYS", "OPTIONAL_GROUPS", "Report", "evaluate"]

#: The groups ``metrics="all"`` runs.
GROUPS = ("fidelity", "detection", "precision_recall", "utility", "privacy")

#: Groups run only when named in ``metrics`` (slower, or needing extra inputs).
OPTIONAL_GROUPS = ("attacks",)

#: Settings of :func:`~tabgen.metrics.attack_risks` that ``attack_params`` may give.
ATTACK_PARAMS = (
    "n_attacks",
    "n_cols",
    "secrets",
    "aux_split",
    "n_neighbors",
    "tolerance",
    "confidence",
    "max_attempts",
)


def _parse_groups(metrics: str | Iterable[str]) -> list[str]:
    if isinstance(metrics, str):
        metrics = GROUPS if metrics == "all" else [metrics]
    groups = list(metrics)
    known = GROUPS + OPTIONAL_GROUPS
    unknown = [g for g in groups if g not in known]
    if unknown or not groups:
        raise ValueError(f"metrics must be 'all' or a non-empty subset of {known}, got {unknown!r}")
    return [g for g in known if g in groups]


def _check_attack_params(attack_params: Mapping[str, Any] | None) -> dict[str, Any]:
    if attack_params is None:
        return {}
    if not isinstance(attack_params, Mapping):
        raise TypeError(
            f"attack_params must be a mapping or None, got {type(attack_params).__name__}"
        )
    unknown = [k for k in attack_params if k not in ATTACK_PARAMS]
    if unknown:
        raise ValueError(
            f"attack_params has unknown keys {unknown!r}; expected some of {ATTACK_PARAMS}"
        )
    return dict(attack_params)


def _schema_form(schema):
    """A ``schema=`` argument read from its JSON file (a path) and with tabgen's own dict
    form of a Schema (``{"columns": [...]}``) turned into its kinds."""
    import os

    if isinstance(schema, (str, os.PathLike)) or (
        isinstance(schema, Mapping) and isinstance(schema.get("columns"), list)
    ):
        from tabgen._validation import schema_kinds

        return schema_kinds(schema)
    return schema


def evaluate(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    holdout: pd.DataFrame | None = None,
    target: str | None = None,
    *,
    schema=None,
    metrics: str | Iterable[str] = "all",
    task: Task = "auto",
    random_state: RandomState = 0,
    max_rows: int | None = 20_000,
    n_jobs: int | None = None,
    attack_params: Mapping[str, Any] | None = None,
    metadata: Mapping[str, str] | None = None,
    constraints: Iterable | None = None,
) -> Report:
    """Evaluate a synthetic table against the real one it imitates.

    Metric groups (see each module for the exact definitions):

    * ``"fidelity"``: Shape and Trend (SDMetrics QualityReport formulas), all rows;
    * ``"detection"``: C2ST with logistic regression and gradient boosting (AUC and SDMetrics'
      detection score), at most ``max_rows`` rows per table, 3 folds;
    * ``"precision_recall"``: α-precision / β-recall (synthcity's naive variant), at most
      ``max_rows`` rows per table;
    * ``"utility"``: train on synthetic, test on ``holdout``, beside train on ``real``; needs
      ``target`` and ``holdout``, otherwise skipped (reason in ``Report.skipped``);
    * ``"privacy"``: exact-copy rate and NNDR; with ``holdout`` also DCR share and
      membership-inference AUC; at most ``max_rows`` rows per table for the distances;
    * ``"attacks"`` (only when named, not part of ``"all"``): Anonymeter-style singling-out,
      linkability and inference risks with confidence intervals
      (:func:`~tabgen.metrics.attack_risks`); needs ``holdout`` (at least 10 rows), otherwise
      skipped.

    Parameters
    ----------
    real : pandas.DataFrame
        The real training table (what the generator was fitted on).
    synthetic : pandas.DataFrame
        The generated table; same columns as ``real`` (any order).
    holdout : pandas.DataFrame, optional
        Real rows the generator never saw; same columns.
    target : str, optional
        Column to predict for the utility metrics.
    schema : dict, Schema or path, optional
        Column kinds, in the same forms every tabgen class takes: ``{column: kind}`` (tabgen
        kinds, or ``"numerical" | "categorical" | "datetime"`` and SDV sdtypes), a
        :class:`~tabgen.schema.Schema` (e.g. a fitted model's ``schema_``), or the path of a
        JSON file holding either. Columns it does not name are inferred (numbers →
        numerical, datetime64 → datetime, anything else → categorical).
    metrics : "all" or iterable of str, default "all"
        Any of ``"fidelity"``, ``"detection"``, ``"precision_recall"``, ``"utility"``,
        ``"privacy"`` (``"all"`` runs these five) and ``"attacks"``.
    task : {"auto", "binary", "multiclass", "classification", "regression"}, default "auto"
        Utility task; ``"auto"`` infers it from the target.
    random_state : int, numpy Generator or None, default 0
        Seeds every subsample, fold split and model; each group draws its own seed in a fixed
        order, so choosing a subset of ``metrics`` does not change the others' numbers.
    max_rows : int or None, default 20000
        Row cap per table for detection, α-precision/β-recall and the privacy distances.
    n_jobs : int or None, default None
        Threads for the BLAS / OpenMP pools (gradient boosting, neighbour search) during this
        call only (``threadpoolctl``); None leaves them as they are. On a busy machine a small
        value avoids the slowdown of oversubscribed OpenMP threads.
    attack_params : mapping, optional
        Settings passed to :func:`~tabgen.metrics.attack_risks` for ``"attacks"``: any of
        ``n_attacks``, ``n_cols``, ``secrets``, ``aux_split``, ``n_neighbors``, ``tolerance``,
        ``confidence``, ``max_attempts``.
    metadata : mapping, optional
        Deprecated alias of ``schema`` (a ``FutureWarning`` says so).
    constraints : list of tabgen.constraints.Rule, optional
        Rules the rows should obey: the share of rows breaking at least one, in each table,
        goes to ``scores`` (``rule_violations_real``, ``rule_violations_synthetic``,
        ``rule_violations_holdout``) and per rule to ``details["constraints"]``
        (:func:`tabgen.metrics.constraints.rule_violations`).

    Returns
    -------
    Report

    Raises
    ------
    ValueError
        When the tables' columns differ (the message names them), ``target`` is not a column,
        metadata names unknown columns or kinds, ``metrics`` names an unknown group or
        ``attack_params`` an unknown setting.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> real = pd.DataFrame({"x": rng.normal(size=100), "c": rng.choice(list("ab"), 100)})
    >>> report = evaluate(real, real.sample(frac=1.0, random_state=1), metrics=["fidelity"])
    >>> report.scores["shape"], report.scores["trend"]
    (1.0, 1.0)
    """
    if metadata is not None:
        if schema is not None:
            raise TypeError("give the column kinds as schema= only (metadata= is its old name)")
        warnings.warn(
            "evaluate(metadata=...) is deprecated; pass the same value as schema=",
            FutureWarning,
            stacklevel=2,
        )
        schema, metadata = metadata, None
    pools = thread_limit(n_jobs)  # checks n_jobs
    start = time.perf_counter()
    check_tables(real, synthetic, holdout)
    if target is not None and target not in real.columns:
        raise ValueError(f"target {target!r} is not a column of real")
    check_max_rows(max_rows)
    groups = _parse_groups(metrics)
    attack_kwargs = _check_attack_params(attack_params)
    kinds = resolve_kinds(real, _schema_form(schema))
    rng = resolve_rng(random_state)
    seeds = {group: child_seed(rng) for group in GROUPS}
    # Drawn after the default groups' seeds, so that their numbers do not change.
    seeds.update({group: child_seed(rng) for group in OPTIONAL_GROUPS})
    synthetic = select_columns(synthetic, real.columns)
    if holdout is not None:
        holdout = select_columns(holdout, real.columns)

    results: dict[str, MetricResult] = {}
    skipped: dict[str, str] = {}
    timings: dict[str, float] = {}
    with pools:
        for group in groups:
            t0 = time.perf_counter()
            reason = _skip_reason(group, real, synthetic, holdout, target)
            if reason is not None:
                skipped[group] = reason
                continue
            results[group] = _measure(
                group, real, synthetic, holdout, target, kinds, seeds[group],
                task=task, max_rows=max_rows, attack_kwargs=attack_kwargs,
            )  # fmt: skip
            timings[group] = round(time.perf_counter() - t0, 3)
    if constraints is not None:  # rule violations (issue #23)
        from tabgen.metrics.constraints import rule_violations

        results["constraints"] = rule_violations(real, synthetic, constraints, holdout)

    config = {
        "rows_real": len(real),
        "rows_synthetic": len(synthetic),
        "rows_holdout": None if holdout is None else len(holdout),
        "target": target,
        "metrics": groups,
        "max_rows": max_rows,
        "random_state": random_state
        if isinstance(random_state, (int, type(None)))
        else "Generator",
        "timings_s": timings,
    }
    if "attacks" in groups:
        config["attack_params"] = attack_kwargs
    frames = {"real": real, "synthetic": synthetic}
    if holdout is not None:
        frames["holdout"] = holdout
    return Report(
        results,
        skipped=skipped,
        kinds=kinds,
        config=config,
        time_s=time.perf_counter() - start,
        frames=frames,
    )


def _measure(
    group, real, synthetic, holdout, target, kinds, seed, *, task, max_rows, attack_kwargs
) -> MetricResult:
    """The result of one metric group (see :func:`evaluate`)."""
    if group == "fidelity":
        return fidelity(real, synthetic, metadata=kinds)
    if group in ("detection", "precision_recall"):
        measure = detection if group == "detection" else precision_recall
        return measure(real, synthetic, metadata=kinds, max_rows=max_rows, random_state=seed)
    if group == "utility":
        return utility(
            real, synthetic, holdout, target, task=task, metadata=kinds, random_state=seed
        )
    if group == "privacy":
        return privacy(
            real, synthetic, holdout, metadata=kinds, max_rows=max_rows, random_state=seed
        )
    # "attacks": columns absent from ``kinds`` were declared "id": keep them out
    metadata = {c: kinds.get(c, "id") for c in real.columns}
    return attack_risks(
        real, synthetic, holdout, metadata=metadata, random_state=seed, **attack_kwargs
    )


def _skip_reason(group: str, real, synthetic, holdout, target) -> str | None:
    """Why ``group`` cannot be measured on these tables (``None``: it can)."""
    n_min = min(len(real), len(synthetic))
    unseen = "needs a holdout table (real rows unseen in training)"
    if group == "detection" and n_min < 3:
        return "needs at least 3 rows in each table for 3-fold cross-validation"
    if group == "precision_recall" and n_min < 2:
        return "needs at least 2 rows in each table"
    if group == "utility" and target is None:
        return "no target column given"
    if group == "utility" and holdout is None:
        return f"{unseen} to test on"
    if group == "attacks" and holdout is None:
        return f"{unseen} as the control"
    if group == "attacks" and min(len(real), len(holdout)) < _ATTACK_MIN_ROWS:
        return f"needs at least {_ATTACK_MIN_ROWS} rows in real and in holdout"
    return None
