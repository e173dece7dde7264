"""What the first page knows about a table (:class:`Dataset`): detected kinds, PII columns,
missing rates and discovered rules; and the check of the edited kinds."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import pandas as pd

from tabgen.ui.forms import FormError

#: Column kinds the user can choose.
KINDS = ("numerical", "integer", "categorical", "datetime", "id", "constant")


@dataclass
class Dataset:
    """An uploaded (or demo) table and what the first page shows about it."""

    id: str
    name: str
    frame: pd.DataFrame
    detected: dict  # column -> detected kind
    kinds: dict  # column -> kind chosen (starts as detected)
    pii: dict  # column -> PII type
    missing: dict  # column -> missing share
    rules: list  # discovered rules
    accepted: list  # one bool per rule
    notes: list = field(default_factory=list)  # what detection said (warnings)

    @property
    def overrides(self) -> dict:
        """The kinds the user changed (``schema=`` of the models)."""
        return {c: k for c, k in self.kinds.items() if self.detected.get(c) != k}

    @property
    def accepted_rules(self) -> list:
        return [r for r, ok in zip(self.rules, self.accepted) if ok]


def analyse(dataset_id: str, name: str, frame: pd.DataFrame) -> Dataset:
    """Detect the kinds, PII columns, missing rates and rules of ``frame``."""
    from tabgen.constraints import discover
    from tabgen.pii import detect_pii
    from tabgen.schema import Schema

    notes = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        kinds = Schema.detect(frame).kinds
        pii = detect_pii(frame, kinds)
        rules = discover(rule_view(frame, kinds))
    notes = sorted({str(w.message) for w in caught})
    missing = {c: float(frame[c].isna().mean()) for c in frame.columns}
    return Dataset(
        id=dataset_id,
        name=name,
        frame=frame,
        detected=dict(kinds),
        kinds=dict(kinds),
        pii=dict(pii),
        missing=missing,
        rules=list(rules),
        accepted=[False] * len(rules),
        notes=notes,
    )


def rule_view(frame: pd.DataFrame, kinds: dict) -> pd.DataFrame:
    """The table as rule discovery should see it under the chosen ``kinds``: categorical
    columns as categories (no order rules such as ``grade >= 0``), id and constant columns
    left out."""
    view = {}
    for col in frame.columns:
        kind = kinds.get(col)
        if kind in ("id", "constant"):
            continue
        values = frame[col]
        if kind == "categorical" and not isinstance(values.dtype, pd.CategoricalDtype):
            values = values.astype("category")
        view[col] = values
    return pd.DataFrame(view, index=frame.index)


def rule_text(rule) -> str:
    """A rule in words, e.g. ``age >= 0`` or ``education and income: fixed combinations``."""
    d = rule.to_dict()
    kind = d.get("kind")
    if kind == "inequality":
        return f"{d['left']} {d['op']} {d['right']}"
    if kind == "linear_equality":
        return f"{d.get('total')} = " + " + ".join(map(str, d.get("parts", [])))
    if kind == "determines":
        return f"{d.get('source')} determines {d.get('target')}"
    if kind == "fixed_combinations":
        return " and ".join(map(str, d.get("columns", []))) + ": only combinations seen"
    if kind == "one_hot":
        return "exactly one of " + ", ".join(map(str, d.get("columns", []))) + " is 1"
    return repr(rule)


def apply_column_form(dataset: Dataset, form) -> None:
    """Take the edited kinds and the accepted rules; check the kinds with the schema's own
    checks (``Schema.detect`` with the overrides), raising :class:`FormError`.

    When a kind changed, the rules are discovered again for the new kinds: a rule accepted
    in the same form stays accepted only if it is still found (``grade >= 0`` is not, once
    ``grade`` is a category); new rules start unaccepted.
    """
    from tabgen.schema import Schema

    errors = {}
    kinds = dict(dataset.kinds)
    for k, col in enumerate(dataset.frame.columns):
        value = form.get(f"kind-{k}")
        if value is None:
            continue
        if value not in KINDS:
            errors[f"kind-{k}"] = f"unknown kind {value!r} for column {col!r}; kinds are {KINDS}"
            continue
        kinds[col] = value
    accepted = [form.get(f"rule-{k}") == "accept" for k in range(len(dataset.rules))]
    overrides = {c: k for c, k in kinds.items() if dataset.detected.get(c) != k}
    if not errors and overrides:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                Schema.detect(dataset.frame, overrides)
        except (ValueError, TypeError) as exc:
            col = next((c for c in overrides if repr(c) in str(exc)), next(iter(overrides)))
            errors[f"kind-{list(dataset.frame.columns).index(col)}"] = str(exc)
    if errors:
        raise FormError(errors)
    if kinds != dataset.kinds:
        from tabgen.constraints import discover

        chosen = {rule_text(r) for r, ok in zip(dataset.rules, accepted) if ok}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rules = list(discover(rule_view(dataset.frame, kinds)))
        dataset.rules = rules
        accepted = [rule_text(r) in chosen for r in rules]
    dataset.kinds = kinds
    dataset.accepted = accepted
