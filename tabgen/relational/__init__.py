"""Relational databases: metadata and a synthesizer of several related tables.

* :class:`Metadata`: tables, primary keys, foreign keys (nullable or not), the order column
  of a sequence; detected from data, checked against data, saved as JSON;
* :class:`RelationalSynthesizer`: ``fit(tables)`` / ``sample(scale)`` over any
  single-table model, with fresh keys that always point to generated parents;
* :class:`DatabaseAnonymizer`: a synthetic copy of a database with PII columns regenerated,
  entities held out by root row, and a report per table and across tables.

The metrics of a generated database are in :mod:`tabgen.metrics.relational`.
"""

from tabgen._lazy import lazy_exports

_EXPORTS = {
    "Metadata": "tabgen.relational.metadata",
    "Relationship": "tabgen.relational.metadata",
    "RelationalSynthesizer": "tabgen.relational.synthesizer",
    "DatabaseAnonymizer": "tabgen.relational.anonymizer",
    "split_by_root": "tabgen.relational.anonymizer",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = sorted(_EXPORTS)
