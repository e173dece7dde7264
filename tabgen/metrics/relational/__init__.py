"""Metrics of a synthetic database (several tables linked by keys).

Every function takes the real and the synthetic database as ``{table: DataFrame}`` and the
metadata: a :class:`tabgen.relational.Metadata` or its JSON form (``{"tables": {name:
{"primary_key": ...}}, "relationships": [{"parent_table", "parent_primary_key",
"child_table", "child_foreign_key"}]}``). Key columns are never scored as data.

* :func:`key_integrity`: unique, complete primary keys; foreign keys that point to a row of
  their parent (or are null where the relationship is nullable);
* :func:`cardinality_shape`: KS complement of the number of children per parent (zeros
  included), per relationship;
* :func:`parent_child_trends`: the pair-trend score (:func:`~tabgen.metrics.column_pair_trends`)
  over each child joined with its parent, only the pairs of a parent column (its number of
  children included) with a child column;
* :func:`aggregate_detection`: a C2ST (:func:`~tabgen.metrics.detection`) on parent rows
  enriched with aggregates of their children (count; mean and std of numbers; the share of
  the most frequent category), as in SyntheRela's aggregation-based detection;
* :func:`evaluate_database`: all of the above plus per-table shape, trend and detection and
  DCR / exact copies over the joined rows, as a :class:`DatabaseReport`.
"""

from .report import DatabaseReport, evaluate_database
from .scores import aggregate_detection, cardinality_shape, key_integrity, parent_child_trends

__all__ = [
    "DatabaseReport",
    "aggregate_detection",
    "cardinality_shape",
    "evaluate_database",
    "key_integrity",
    "parent_child_trends",
]
