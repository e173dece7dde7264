"""The rule kinds by name: rules from their JSON-able form, and the ``constraints``
parameter check."""

from __future__ import annotations

from tabgen.constraints.categorical import Determines, FixedCombinations, OneHot
from tabgen.constraints.rules import Custom, Inequality, LinearEquality, Range, Rule

KINDS = {
    cls.kind: cls
    for cls in (Inequality, Range, LinearEquality, Determines, FixedCombinations, OneHot, Custom)
}


def rule_from_dict(data: dict) -> Rule:
    """Rebuild a rule from :meth:`Rule.to_dict` (``Custom`` without its predicate).

    Examples
    --------
    >>> rule_from_dict({"kind": "inequality", "left": "a", "op": "<", "right": "b"})
    Inequality(left='a', op='<', right='b')
    """
    if not isinstance(data, dict) or data.get("kind") not in KINDS:
        raise ValueError(f"not a rule description: {data!r}; 'kind' must be one of {sorted(KINDS)}")
    args = {k: v for k, v in data.items() if k != "kind"}
    kind = data["kind"]
    if kind == "inequality":
        return Inequality(args["left"], args["op"], args["right"])
    if kind == "range":
        return Range(args["low"], args["value"], args["high"], strict=args.get("strict", False))
    if kind == "linear_equality":
        return LinearEquality(args.pop("total"), args.pop("parts"), **args)
    if kind == "determines":
        return Determines(args["source"], args["target"], mapping=args.get("mapping"))
    if kind == "fixed_combinations":
        return FixedCombinations(args["columns"], args.get("combinations"))
    if kind == "one_hot":
        return OneHot(args["columns"])
    return Custom(
        None, args.get("name", "custom"), **{k: v for k, v in args.items() if k != "name"}
    )


def check_rules(constraints) -> list:
    """Validate the ``constraints`` parameter: a list of rules or rule dicts (``None``:
    none). Returns the rules."""
    if constraints is None:
        return []
    if isinstance(constraints, (Rule, dict)):
        constraints = [constraints]
    if not isinstance(constraints, (list, tuple)):
        raise TypeError(f"constraints must be a list of rules, got {type(constraints).__name__}")
    out = []
    for r in constraints:
        if isinstance(r, dict):
            r = rule_from_dict(r)
        if not isinstance(r, Rule):
            raise TypeError(
                f"constraints must hold rules (tabgen.constraints.Inequality, ...), got {r!r}"
            )
        out.append(r)
    return out
