"""Evaluation metrics for synthetic tables.

The metrics depend on no tabgen model (only numpy, pandas, scipy, scikit-learn, and matplotlib
for the HTML report), so they measure every generator, ours or a peer's, the same way.

* :func:`evaluate` runs every group and returns a :class:`Report` (``.scores``, ``.details``,
  ``.to_json()``, ``.to_html()``);
* fidelity (SDMetrics QualityReport formulas): :func:`fidelity`, :func:`column_shapes`,
  :func:`column_pair_trends`, :func:`ks_complement`, :func:`tv_complement`,
  :func:`correlation_similarity`, :func:`contingency_similarity`;
* :func:`detection` (C2ST), :func:`precision_recall` (α-precision / β-recall),
  :func:`utility` (train on synthetic, test on real), :func:`privacy` (DCR share, exact copies,
  NNDR, membership inference) and :func:`exact_copy_rate`;
* :func:`attack_risks`: Anonymeter-style singling-out, linkability and inference attacks with
  confidence intervals (``evaluate(..., metrics=["attacks"])``; not part of ``"all"``).
* databases (several tables linked by keys, :mod:`tabgen.metrics.relational`):
  :func:`evaluate_database`, :func:`key_integrity`, :func:`cardinality_shape`,
  :func:`parent_child_trends`, :func:`aggregate_detection`.
"""

from ._result import MetricResult
from .attacks import attack_risks
from .detection import detection
from .fidelity import column_pair_trends, column_shapes, fidelity
from .precision_recall import alpha_precision_beta_recall, precision_recall
from .privacy import exact_copy_rate, privacy
from .relational import (
    DatabaseReport,
    aggregate_detection,
    cardinality_shape,
    evaluate_database,
    key_integrity,
    parent_child_trends,
)
from .report import GROUPS, HEADLINE_KEYS, OPTIONAL_GROUPS, Report, evaluate
from .similarity import (
    contingency_similarity,
    correlation_similarity,
    ks_complement,
    tv_complement,
)
from .utility import infer_task, utility

__all__ = [
    "GROUPS",
    "HEADLINE_KEYS",
    "OPTIONAL_GROUPS",
    "DatabaseReport",
    "MetricResult",
    "Report",
    "aggregate_detection",
    "alpha_precision_beta_recall",
    "attack_risks",
    "cardinality_shape",
    "column_pair_trends",
    "column_shapes",
    "contingency_similarity",
    "correlation_similarity",
    "detection",
    "evaluate",
    "evaluate_database",
    "exact_copy_rate",
    "fidelity",
    "infer_task",
    "key_integrity",
    "ks_complement",
    "parent_child_trends",
    "precision_recall",
    "privacy",
    "tv_complement",
    "utility",
]
