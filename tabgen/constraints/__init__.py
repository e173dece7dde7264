"""Business rules that every synthesizer honours by construction, and their discovery.

Pass rules as ``constraints=[...]`` to any synthesizer::

    from tabgen.constraints import Inequality, LinearEquality, Determines
    model = GaussianCopulaSynthesizer(constraints=[
        Inequality("check_in", "<=", "check_out"),
        LinearEquality("total", ["net", "tax"]),
        Determines("zip_code", "city"),
    ])

The rules are a reversible transform of the table applied before the encoder and inverted
after decoding (:mod:`tabgen.constraints.transform`); they are saved in the model file as
data (kind and arguments). :func:`discover` proposes the rules a table obeys.

Semantics with missing values: a rule applies to the rows where all its columns are present.

Modules: :mod:`~tabgen.constraints.rules` (the rule base class, inequalities, ranges, sums,
``Custom``), :mod:`~tabgen.constraints.categorical` (``Determines``, ``FixedCombinations``,
``OneHot``), :mod:`~tabgen.constraints.kinds` (rules from their JSON form),
:mod:`~tabgen.constraints.transform` (:class:`ConstraintSet`: checks, compiling, ordering),
:mod:`~tabgen.constraints.steps` and :mod:`~tabgen.constraints.derive` (the reversible
steps), :mod:`~tabgen.constraints.sampling` (sampling and resampling through the rules),
:mod:`~tabgen.constraints.private` (what a DP fit allows), :mod:`~tabgen.constraints.files`
(rules files) and :mod:`~tabgen.constraints.discover`.
"""

from tabgen.constraints.categorical import Determines, FixedCombinations, OneHot
from tabgen.constraints.discover import discover
from tabgen.constraints.kinds import rule_from_dict
from tabgen.constraints.rules import Custom, Inequality, LinearEquality, Range, Rule
from tabgen.constraints.transform import ConstraintSet

__all__ = [
    "ConstraintSet",
    "Custom",
    "Determines",
    "FixedCombinations",
    "Inequality",
    "LinearEquality",
    "OneHot",
    "Range",
    "Rule",
    "discover",
    "rule_from_dict",
]
