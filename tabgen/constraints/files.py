"""Rules as a JSON file: ``{"constraints": [{"kind": ..., arguments}, ...]}``."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from tabgen.constraints.kinds import check_rules
from tabgen.constraints.rules import Custom


def rules_to_json(rules) -> str:
    """The rules as JSON text (each with its ``support`` when :func:`discover` gave one).

    Examples
    --------
    >>> from tabgen.constraints import Inequality
    >>> print(rules_to_json([Inequality("a", "<", "b")]))
    {
      "constraints": [
        {
          "kind": "inequality",
          "left": "a",
          "op": "<",
          "right": "b"
        }
      ]
    }
    """
    out = []
    for rule in check_rules(list(rules)):
        if isinstance(rule, Custom):
            raise ValueError(f"the Custom rule {rule.name!r} is code and cannot be written")
        entry = rule.to_dict()
        if hasattr(rule, "support"):
            entry["support"] = round(float(rule.support), 6)
        out.append(entry)
    return json.dumps({"constraints": out}, indent=2)


def read_rules(path) -> list:
    """Read the rules of a file written by :func:`rules_to_json` (or a plain list).

    A rule with a ``support`` keeps it as an attribute: it was proposed by
    :func:`~tabgen.constraints.discover` from the data, and a differentially private fit
    refuses it (delete the ``support`` to declare the rule public knowledge)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{str(path)!r} is not valid JSON: {exc}") from None
    if isinstance(data, dict):
        data = data.get("constraints")
    if not isinstance(data, list):
        raise ValueError(f"{str(path)!r} holds no list of constraints")
    if not all(isinstance(entry, dict) for entry in data):
        raise ValueError(f"{str(path)!r}: bad constraint: each entry must be an object")
    rules = [{k: v for k, v in entry.items() if k != "support"} for entry in data]
    try:
        rules = check_rules(rules)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{str(path)!r}: bad constraint: {exc}") from None
    for rule, entry in zip(rules, data):
        if "support" in entry:  # proposed by discover(): read off the data (refused under DP)
            rule.support = float(entry["support"])
    return rules


def file_schema(rules, inner, batch):
    """The Arrow schema of a file of a constrained model's rows.

    ``inner`` is the schema the model's own (inner) columns would be written with
    (:func:`tabgen.io.parquet_schema`); a column a rule rewrites or derives takes instead
    its Arrow input type, or the type of its values in the first ``batch`` (a column with
    no value there: ``float64`` for a numeric dtype, else ``string``).
    """
    import pyarrow as pa

    from tabgen._frames import arrow_type

    rewritten = set(rules.transformed_columns)
    fields = []
    for col in rules.columns_:
        name = str(col)
        if col not in rewritten and name in inner.names:
            fields.append(inner.field(name))
            continue
        if col in rules.arrow_:
            t = arrow_type(rules.arrow_[col])
        else:
            try:
                t = pa.array(batch[col], from_pandas=True).type
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                t = pa.string()
            if pa.types.is_null(t):
                numeric = pd.api.types.is_numeric_dtype(
                    pd.api.types.pandas_dtype(rules.dtypes_[col])
                )
                t = pa.float64() if numeric else pa.string()
        fields.append(pa.field(name, t))
    return pa.schema(fields)
