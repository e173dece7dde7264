"""Relational databases: metadata and a synthesizer of several related tables.

* :class:`Metadata`: tables, primary keys, foreign keys (nullable or not), the order column
  of a sequence; detected from data, checked against data, saved as JSON;
* :class:`RelationalSynthesizer`: ``fit(tables)`` / ``sample(scale)`` over any
  single-table model, with fresh keys that always point to generated parents;
* :class:`DatabaseAnonymizer`: a synthetic copy of a database with PII columns regenerated,
  entities held out by root row, and a report per table and across tables.

The metrics of a generated database are in :mod:`tabgen.metrics.relational`. Nothing here
imports torch (a neural per-table model loads it when it is fitted), so the names are
imported directly, not lazily.
"""

from tabgen.relational.anonymizer import DatabaseAnonymizer, split_by_root
from tabgen.relational.metadata import Metadata, Relationship
from tabgen.relational.synthesizer import RelationalSynthesizer

__all__ = [
    "DatabaseAnonymizer",
    "Metadata",
    "RelationalSynthesizer",
    "Relationship",
    "split_by_root",
]
