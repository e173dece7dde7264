"""Relational databases: metadata and a synthesizer of several related tables.

* :class:`Metadata`: tables, primary keys, foreign keys (nullable or not), the order column
  of a sequence; detected from data, checked against data, saved as JSON;
* :class:`RelationalSynthesizer`: ``fit(tables)`` / ``sample(scale)`` over any
  single-table model, with fresh keys that always point to generated parents.

The metrics of a generated database are in :mod:`tabgen.metrics.relational`.
"""

from tabgen._lazy import lazy_exports

_EXPORTS = {
    "Metadata": "tabgen.relational.metadata",
    "Relationship": "tabgen.relational.metadata",
    "RelationalSynthesizer": "tabgen.relational.synthesizer",
    "load_tables": "tabgen.relational.files",
    "write_tables": "tabgen.relational.files",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = sorted(_EXPORTS)
