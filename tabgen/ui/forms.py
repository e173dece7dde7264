"""The server-side checks of the job form (step 2).

Every value from the form is parsed and checked here, with the errors tabgen's API gives
(the same checks run: :func:`tabgen._validation.check_n`, the conditions parser, each
model's own parameter checks, the anonymizer's parameter checks). A :class:`FormError`
carries one message per field, shown beside the field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from tabgen.ui.data import Dataset

#: The jobs a person can choose.
JOB_KINDS = ("synthesize", "rebalance", "impute", "anonymize")
#: The registered models, in the order the form lists them.
MODELS = ("copula", "vae", "gan", "diffusion")
#: Models that can fill arbitrary missing cells (imputation).
INPAINTING = ("copula", "vae", "diffusion")
#: The imputer's default engine (one predictor per column, no synthesizer): what
#: ``preset:best`` runs for an impute job (``SyntheticImputer()``).
CHAINED = "chained"
#: How the job summary names a model that is not a registered synthesizer.
MODEL_LABELS = {CHAINED: "per-column predictors (the imputer's default)"}
#: The rebalancing strategies offered by name (a ratio or ``CLASS=N`` counts also work).
STRATEGIES = ("auto", "minority", "not minority", "not majority", "all")


class FormError(ValueError):
    """Invalid form input: ``errors`` maps a field name to its message."""

    def __init__(self, errors: dict):
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


# -- the job form -----------------------------------------------------------------------------
@dataclass
class JobSpec:
    """A checked job: what to run and with which settings."""

    kind: str
    model: str
    seed: int = 0
    epochs: int | None = None
    max_time: float | None = None
    rows: int | None = None
    conditions: dict = field(default_factory=dict)
    target: str | None = None
    strategy: object = "auto"
    selection: str | None = "density-ratio"
    draws: int = 10
    holdout: float | int = 0.2
    pii: str = "regenerate"
    pii_columns: list = field(default_factory=list)
    epsilon: float | None = None
    schema: dict = field(default_factory=dict)  # the kinds the user changed
    kinds: dict = field(default_factory=dict)  # every column's kind when the job was made
    rules: list = field(default_factory=list)
    detection: bool = False  # add the classifier two-sample test to the report (slower)


def preset_model(preset: str, kind: str, epsilon=None) -> str:
    """The model of a preset: ``fast`` is the copula (seconds); ``best`` the strongest model
    of the job on the benchmarks (minutes on a CPU), for an impute job the imputer's default
    engine (:data:`CHAINED`)."""
    if preset == "fast" or (kind == "anonymize" and epsilon is not None):
        return "copula"
    return {"anonymize": "vae", "impute": CHAINED}.get(kind, "diffusion")


def _text(form, name) -> str:
    return str(form.get(name) or "").strip()


def parse_int(form, name, errors, what, *, default=None, minimum=1):
    text = _text(form, name)
    if not text:
        return default
    try:
        value = float(text)
        if not value.is_integer():
            raise ValueError
        value = int(value)
    except (ValueError, OverflowError):
        errors[name] = f"{what} must be a positive integer, got {text!r}"
        return default
    if value < minimum:
        errors[name] = f"{what} must be a positive integer, got {value}"
    return value


def parse_float(form, name, errors, what, *, default=None, positive=True):
    text = _text(form, name)
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        errors[name] = f"{what} must be a number, got {text!r}"
        return default
    if positive and (not math.isfinite(value) or value <= 0):
        errors[name] = f"{what} must be a positive number, got {text!r}"
    return value


def _conditions(text: str, dataset: Dataset, n, errors) -> dict:
    from tabgen._validation import conditions_frame

    out: dict = {}
    frame = dataset.frame
    for line in text.splitlines():
        if not line.strip():
            continue
        if "=" not in line:
            errors["conditions"] = f"expected COLUMN=VALUE, got {line.strip()!r}"
            return {}
        col, value = (part.strip() for part in line.split("=", 1))
        if col in out:
            errors["conditions"] = f"condition given twice for column {col!r}"
            return {}
        if col not in frame.columns:
            errors["conditions"] = (
                f"unknown column {col!r} in the conditions; columns are {list(frame.columns)}"
            )
            return {}
        kind = dataset.kinds.get(col)
        if kind in ("numerical", "integer"):
            try:
                out[col] = float(value)
            except ValueError:
                errors["conditions"] = f"condition {col}={value}: {col!r} needs a number"
                return {}
        elif kind == "categorical":
            seen = [v for v in frame[col].dropna().unique() if str(v) == value]
            if not seen:
                values = sorted({str(v) for v in frame[col].dropna().unique()})
                known = ", ".join(repr(v) for v in values[:15])
                errors["conditions"] = (
                    f"unknown category {value!r} for column {col!r}; known: {known}"
                )
                return {}
            v = seen[0]
            out[col] = v.item() if isinstance(v, np.generic) else v
        else:
            errors["conditions"] = f"cannot condition on column {col!r} of kind {kind!r}"
            return {}
    if out and n is not None:
        try:
            conditions_frame(out, n, frame.columns)
        except (ValueError, TypeError) as exc:
            errors["conditions"] = str(exc)
    return out


def build_model(spec: JobSpec, *, for_pipeline: bool = False):
    """The synthesizer of ``spec`` (unfitted)."""
    from tabgen.synthesizers.registry import get_synthesizer

    cls = get_synthesizer(spec.model)
    names = set(cls().get_params(deep=False))
    params: dict = {"random_state": spec.seed}
    for key in ("epochs", "max_time"):
        value = getattr(spec, key)
        if value is None:
            continue
        if key not in names:
            raise ValueError(f"the {spec.model} model has no {key} parameter")
        params[key] = value
    if spec.schema:
        params["schema"] = dict(spec.schema)
    if spec.rules and spec.kind != "anonymize":
        params["constraints"] = list(spec.rules)
    return cls(**params)


def parse_job_form(form, dataset: Dataset) -> JobSpec:
    """Check the job form against ``dataset``; raise :class:`FormError` naming each field."""
    errors: dict = {}
    kind = _text(form, "kind")
    if kind not in JOB_KINDS:
        raise FormError({"kind": f"choose a job: one of {', '.join(JOB_KINDS)}, got {kind!r}"})
    epsilon = None
    if kind == "anonymize":
        epsilon = parse_float(form, "epsilon", errors, "epsilon", positive=False)
    choice = _text(form, "model") or "preset:fast"
    if choice.startswith("preset:"):
        preset = choice.split(":", 1)[1]
        if preset not in ("fast", "best"):
            errors["model"] = f"unknown preset {preset!r}; presets are fast, best"
            preset = "fast"
        model = preset_model(preset, kind, epsilon)
    else:
        model = choice
        if model not in MODELS:
            errors["model"] = f"unknown model {model!r}; available models: {', '.join(MODELS)}"
            model = "copula"
    if kind == "impute" and model not in (*INPAINTING, CHAINED):
        errors["model"] = f"the {model} model cannot fill missing cells; use one of {INPAINTING}"
    seed = parse_int(form, "seed", errors, "seed", default=0, minimum=0)
    spec = JobSpec(kind=kind, model=model, seed=seed, detection=form.get("detection") == "on")
    if model not in ("copula", CHAINED):
        spec.epochs = parse_int(form, "epochs", errors, "epochs")
        spec.max_time = parse_float(form, "max_time", errors, "max_time")
    spec.schema = dataset.overrides
    spec.kinds = dict(dataset.kinds)
    spec.rules = dataset.accepted_rules
    frame = dataset.frame
    columns = list(frame.columns)
    if kind == "synthesize":
        spec.rows = parse_int(form, "rows", errors, "n", default=len(frame))
        spec.conditions = _conditions(_text(form, "conditions"), dataset, spec.rows, errors)
    elif kind == "rebalance":
        target = _text(form, "target")
        if target not in columns:
            errors["target"] = f"unknown target column {target!r}; columns are {columns}"
        spec.target = target
        y = frame[target] if target in columns else None
        spec.strategy = _strategy(_text(form, "strategy") or "auto", y, errors)
        selection = _text(form, "selection") or "density-ratio"
        if selection not in ("density-ratio", "none"):
            errors["selection"] = f"selection must be 'density-ratio' or None, got {selection!r}"
        spec.selection = None if selection == "none" else selection
    elif kind == "impute":
        spec.draws = parse_int(form, "draws", errors, "n_draws", default=10)
        if not frame.isna().to_numpy().any():
            errors["kind"] = "the table has no missing cells to fill"
    elif kind == "anonymize":
        spec.rows = parse_int(form, "anon_rows", errors, "n", default=len(frame))
        target = _text(form, "anon_target") or None
        if target is not None and target not in columns:
            errors["anon_target"] = f"unknown target column {target!r}; columns are {columns}"
        spec.target = target
        spec.holdout = _holdout(_text(form, "holdout") or "0.2", len(frame), errors)
        spec.pii = _text(form, "pii") or "regenerate"
        spec.pii_columns = [c for c in form.getlist("pii_columns") if c in columns]
        spec.epsilon = epsilon
    if not errors:
        _check_with_api(spec, dataset, errors)
    if errors:
        raise FormError(errors)
    return spec


def _strategy(text: str, y: pd.Series | None, errors):
    """The rebalancing strategy: a ratio, ``CLASS=COUNT,...`` (class names matched to the
    column's values by their text) or a name; checked with the pipeline's own parser
    (:func:`tabgen.pipelines.target_counts`)."""
    from tabgen.pipelines import target_counts

    strategy: object = text
    try:
        strategy = float(text)
    except ValueError:
        if "=" in text:
            classes = {} if y is None else {str(v): v for v in y.dropna().unique()}
            strategy = {}
            for part in text.split(","):
                key, sep, value = (p.strip() for p in part.partition("="))
                try:
                    count = int(value)
                except ValueError:
                    count = None
                if not sep or count is None:
                    errors["strategy"] = f"expected CLASS=COUNT, got {part.strip()!r}"
                    return text
                found = classes.get(key, key)
                strategy[found.item() if isinstance(found, np.generic) else found] = count
    if y is not None:
        try:
            target_counts(strategy, y.dropna())
        except (ValueError, TypeError) as exc:
            errors["strategy"] = str(exc)
    return strategy


def _holdout(text: str, n: int, errors):
    from tabgen.pipelines.anonymization.checks import holdout_rows

    try:
        value = float(text)
    except ValueError:
        errors["holdout"] = f"holdout must be a share in (0, 1) or a row count, got {text!r}"
        return 0.2
    value = int(value) if value >= 1 and value.is_integer() else value
    try:
        holdout_rows(value, n)
    except (ValueError, TypeError) as exc:
        errors["holdout"] = str(exc)
    return value


def _check_with_api(spec: JobSpec, dataset: Dataset, errors: dict) -> None:
    """Run the API's own parameter checks on what the form built."""
    if spec.model == CHAINED:
        return  # no synthesizer; the draws were checked above
    try:
        model = build_model(spec)
        model.check_params()  # the errors fit would raise first
    except (ValueError, TypeError) as exc:
        field_name = next(
            (f for f in ("epochs", "max_time") if f in str(exc)),
            "model",
        )
        errors[field_name] = str(exc)
        return
    if spec.kind == "anonymize":
        from tabgen.pipelines import Anonymizer
        from tabgen.pipelines.anonymization.checks import check_params

        anon = Anonymizer(
            synthesizer=model,
            holdout=spec.holdout,
            target=spec.target,
            pii=spec.pii,
            pii_columns=spec.pii_columns or None,
            epsilon=spec.epsilon,
            random_state=spec.seed,
        )
        try:
            check_params(anon, dataset.frame)
        except (ValueError, TypeError) as exc:
            text = str(exc)
            name = next((f for f in ("holdout", "pii", "target", "epsilon") if f in text), "kind")
            errors["anon_target" if name == "target" else name] = text
