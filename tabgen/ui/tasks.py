"""The work of each job kind, run in the job thread (:mod:`tabgen.ui.jobs`).

Each returns a :class:`Result`: the output table, the fitted model when it may be
downloaded, the report page written into the workspace, and a short summary.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from tabgen.ui.forms import CHAINED, MODEL_LABELS, build_model


@dataclass
class Result:
    """What a finished job produced."""

    output: pd.DataFrame
    summary: list = field(default_factory=list)  # (label, value) pairs
    report_path: object = None  # the report page in the workspace
    report_title: str = ""
    model: object = None  # fitted synthesizer that may be saved, or None
    model_note: str = ""  # why there is no model to download


def run_job(job, workspace) -> Result:
    """Run ``job`` (its spec on its dataset), writing files into ``workspace``."""
    kind = job.spec.kind
    return {
        "synthesize": _synthesize,
        "rebalance": _rebalance,
        "impute": _impute,
        "anonymize": _anonymize,
    }[kind](job, workspace)


def _report(job, workspace, make, stage: str, start: float):
    """Run ``make()`` (a Report) as the last stage and write its page into the workspace."""
    job.begin_stage(stage, start, 0.99)
    report = make()
    job.check()
    return report, report.to_html(workspace.new_path(".html"))


def _metrics(spec, *groups) -> tuple:
    """The report's metric groups: ``groups``, plus detection when asked for."""
    return (*groups, "detection") if spec.detection else groups


def _summary(spec, *lines) -> list:
    """The job's summary: what every job shows (the job, the model, the kinds and rules the
    user set), then ``lines``."""
    kinds = ", ".join(f"{c} → {k}" for c, k in spec.schema.items()) or "none (as detected)"
    rules = len(spec.rules) if spec.kind != "anonymize" and spec.model != CHAINED else 0
    return [
        ("Job", spec.kind),
        ("Model", MODEL_LABELS.get(spec.model, spec.model)),
        ("Column kinds you set", kinds),
        ("Rules applied", str(rules)),
        *lines,
    ]


def _quality(job, workspace, real, synthetic, schema, groups: tuple, start: float):
    """The evaluation report of ``synthetic`` against ``real`` (at most 5,000 rows a side) as
    the job's last stage; returns the report page's path."""
    from tabgen.metrics import evaluate

    spec = job.spec
    _, path = _report(
        job,
        workspace,
        lambda: evaluate(
            real,
            synthetic,
            schema=schema,
            metrics=_metrics(spec, *groups),
            random_state=spec.seed,
            max_rows=5000,
        ),
        "measuring quality",
        start,
    )
    return path


def _synthesize(job, workspace) -> Result:
    from tabgen.io import read_table, sample_to_file

    spec, frame = job.spec, job.dataset.frame
    model = build_model(spec)
    job.begin_stage(f"training the {spec.model} model", 0.0, 0.7)
    model.fit(frame)
    job.begin_stage("generating rows", 0.7, 0.85)
    n = int(spec.rows)
    out_path = workspace.new_path(".parquet")
    done = [0]

    def on_batch(batch):
        done[0] += len(batch)
        job.advance(done[0] / n)

    sample_to_file(
        model,
        out_path,
        n,
        batch_size=max(1000, min(50_000, n // 10 or 1)),
        conditions=spec.conditions or None,
        random_state=spec.seed,
        on_batch=on_batch,
    )
    synthetic = read_table(out_path)
    out_path.unlink()
    path = _quality(job, workspace, frame, synthetic, model.schema_, ("fidelity", "privacy"), 0.85)
    return Result(
        output=synthetic,
        summary=_summary(
            spec,
            ("Rows generated", f"{len(synthetic):,}"),
            ("Conditions", ", ".join(f"{k}={v}" for k, v in spec.conditions.items()) or "none"),
        ),
        report_path=path,
        report_title="Evaluation report (fidelity and privacy, synthetic vs. uploaded table)",
        model=model,
    )


def _rebalance(job, workspace) -> Result:
    from tabgen.pipelines import SyntheticOverSampler

    spec, frame = job.spec, job.dataset.frame
    sampler = SyntheticOverSampler(
        synthesizer=build_model(spec),
        sampling_strategy=spec.strategy,
        selection=spec.selection,
        random_state=spec.seed,
    )
    job.begin_stage(f"training the {spec.model} model and drawing rows", 0.0, 0.8)
    X = frame.drop(columns=[spec.target])
    X_res, y_res = sampler.fit_resample(X, frame[spec.target])
    out = X_res.assign(**{spec.target: pd.Series(y_res).to_numpy()})[list(frame.columns)]
    mask = sampler.synthetic_mask_
    before = frame[spec.target].value_counts()
    after = pd.Series(y_res).value_counts()
    counts = ", ".join(f"{k}: {before.get(k, 0)} → {after[k]}" for k in after.index)
    added = out[mask]
    path = None
    if len(added):
        path = _quality(job, workspace, frame, added, dict(spec.kinds), ("fidelity",), 0.8)
    return Result(
        output=out,
        summary=_summary(
            spec,
            ("Target", spec.target),
            ("Synthetic rows added", f"{int(mask.sum()):,}"),
            ("Class counts (before → after)", counts),
        ),
        report_path=path,
        report_title="Evaluation report (fidelity of the added rows vs. the uploaded table)",
        model=sampler.synthesizer_,
    )


def _impute(job, workspace) -> Result:
    from tabgen.pipelines import SyntheticImputer

    spec, frame = job.spec, job.dataset.frame
    if spec.model == CHAINED:  # the imputer's default engine: one predictor per column
        engine = {"schema": dict(spec.schema) or None}
        stage = "fitting one predictor per column"
    else:
        engine = {"synthesizer": build_model(spec)}
        stage = f"training the {spec.model} model"
    imputer = SyntheticImputer(**engine, n_draws=spec.draws, random_state=spec.seed)
    job.begin_stage(stage, 0.0, 0.6)
    imputer.fit(frame)
    job.begin_stage("filling the missing cells", 0.6, 0.85)
    filled = imputer.transform(frame)
    cells = int(frame.isna().sum().sum() - filled.isna().sum().sum())
    per_column = frame.isna().sum()
    path = _quality(job, workspace, frame.dropna(), filled, dict(spec.kinds), ("fidelity",), 0.85)
    chained = spec.model == CHAINED
    return Result(
        output=filled,
        summary=_summary(
            spec,
            ("Cells filled", f"{cells:,}"),
            (
                "Per column",
                ", ".join(f"{c}: {int(v)}" for c, v in per_column.items() if v) or "none",
            ),
        ),
        report_path=path,
        report_title="Evaluation report (filled table vs. the complete rows of the upload)",
        model=None if chained else imputer.synthesizer_,
        model_note="The per-column predictors are not a synthesizer: there is no model file."
        if chained
        else "",
    )


def _anonymize(job, workspace) -> Result:
    from tabgen.pipelines import Anonymizer

    spec, frame = job.spec, job.dataset.frame
    anon = Anonymizer(
        synthesizer=build_model(spec),
        holdout=spec.holdout,
        target=spec.target,
        pii=spec.pii,
        pii_columns=spec.pii_columns or None,
        epsilon=spec.epsilon,
        schema=spec.schema or None,
        random_state=spec.seed,
    )
    job.begin_stage(f"training the {spec.model} model with the safeguards", 0.0, 0.6)
    anon.fit(frame)
    job.begin_stage("generating safeguarded rows", 0.6, 0.75)
    synthetic = anon.sample(int(spec.rows), random_state=spec.seed)
    kept = synthetic.head(len(anon.train_))  # the report compares at most as many rows
    _, path = _report(
        job,
        workspace,
        lambda: anon.report(
            kept, metrics=_metrics(spec, "fidelity", "utility", "privacy", "attacks")
        ),
        "measuring privacy",
        0.75,
    )
    guards = anon.safeguards()
    dp = guards.get("differential_privacy")
    return Result(
        output=synthetic,
        summary=_summary(
            spec,
            ("Rows exported", f"{len(synthetic):,}"),
            ("Training / holdout rows", f"{guards['rows_train']:,} / {guards['rows_holdout']:,}"),
            (
                f"PII columns ({spec.pii})",
                ", ".join(f"{c} ({t})" for c, t in guards["pii_columns"].items()) or "none",
            ),
            ("Rare categories merged", str(sum(guards["rare_categories_merged"].values()))),
            ("Near-copies replaced", str(guards["rows_replaced"])),
            (
                "Differential privacy",
                f"epsilon {dp['epsilon']:.3g}, delta {dp['delta']:.3g}" if dp else "off",
            ),
        ),
        report_path=path,
        report_title="Privacy report (exported rows vs. training and holdout rows)",
        model=None,
        model_note="The fitted model has seen the real rows and is not offered for download.",
    )
