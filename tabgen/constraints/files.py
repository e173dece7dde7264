"""Rules as a JSON file: ``{"constraints": [{"kind": ..., arguments}, ...]}``."""

from __future__ import annotations

import json
from pathlib import Path

from tabgen.constraints.rules import Custom, check_rules


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
    """Read the rules of a file written by :func:`rules_to_json` (or a plain list)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{str(path)!r} is not valid JSON: {exc}") from None
    if isinstance(data, dict):
        data = data.get("constraints")
    if not isinstance(data, list):
        raise ValueError(f"{str(path)!r} holds no list of constraints")
    rules = [{k: v for k, v in entry.items() if k != "support"} for entry in data]
    try:
        return check_rules(rules)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{str(path)!r}: bad constraint: {exc}") from None
