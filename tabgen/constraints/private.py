"""What a constrained fit may take from the rows under differential privacy (``epsilon``).

The rules a user gives are public: they are knowledge about the domain, not about the
rows. Their transforms must then learn nothing from the rows either, or the model file
would release it outside the privacy accounting:

* an inequality's gap and a linear equality's derived column are pure reparameterisations;
  the derived column of a row with a missing part is left missing (outside DP it is kept
  when the training rows have such cells: a fact about the rows);
* :class:`~tabgen.constraints.Determines` needs its ``mapping`` and
  :class:`~tabgen.constraints.FixedCombinations` its ``combinations`` (the lookup table and
  the set of combinations seen in the rows are not public): without them the fit is refused;
* :class:`~tabgen.constraints.OneHot` uses the one-hot vectors themselves (and the
  all-missing row), weighted equally;
* rules proposed by :func:`~tabgen.constraints.discover` (they carry a ``support``) were read
  off the rows and are refused;
* a declared ``domain`` of a column a rule rewrites (a gap, a joint category) would describe
  the wrong values and is refused.

Training rows that break a rule are refused or dropped as without DP (the number of rows
is public in tabgen's DP fits).
"""

from __future__ import annotations

from tabgen.constraints.categorical import Determines, FixedCombinations, OneHot


def check_private_rules(rules) -> None:
    """Raise a ``ValueError`` for a rule whose transform would read the rows under DP."""
    for rule in rules:
        if hasattr(rule, "support"):
            raise ValueError(
                f"rule {rule!r} was proposed by discover() from the data (it has a support of "
                f"{float(rule.support):.3g}): discovery reads the rows and is not "
                "differentially private. With epsilon, give only rules that are public "
                "knowledge: build the rule yourself (or delete its 'support' from the rules "
                "file to declare it public)"
            )
        if isinstance(rule, Determines) and rule.mapping is None:
            raise ValueError(
                f"rule {rule!r} learns its lookup table from the rows, which is not private: "
                "with epsilon, pass the dependency itself, Determines(source, target, "
                "mapping={source value: target value, ...})"
            )
        if (
            isinstance(rule, FixedCombinations)
            and not isinstance(rule, OneHot)
            and rule.combinations is None
        ):
            raise ValueError(
                f"rule {rule!r} takes its combinations from the rows, which is not private: "
                "with epsilon, list them, FixedCombinations(columns, combinations=[...])"
            )


def check_private_domain(domain, rewritten: list) -> None:
    """Refuse a declared public ``domain`` (``{column: bounds or values}``) of a column
    that a rule rewrites before the model sees it."""
    if not isinstance(domain, dict):
        return
    clash = [c for c in domain if c in rewritten]
    if clash:
        raise ValueError(
            f"domain declares column(s) {clash!r}, which the constraints rewrite before the "
            "model sees them (an inequality's gap, a derived or joint column): leave them "
            "out of domain= (their domain is then measured with DP)"
        )
