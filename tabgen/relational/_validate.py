"""Checks of a database's tables against its :class:`~tabgen.relational.Metadata`."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

logger = logging.getLogger("tabgen")


def validate_tables(meta, tables, *, drop_orphans: bool = False) -> dict:
    """The tables to learn from, in metadata order (see :meth:`Metadata.validate`)."""
    if not isinstance(tables, dict):
        raise TypeError(f"tables must be a dict of DataFrames, got {type(tables).__name__}")
    missing = [t for t in meta.tables if t not in tables]
    if missing:
        raise ValueError(
            f"table(s) {missing} are in the metadata but not in the data "
            f"(tables given: {sorted(map(str, tables))})"
        )
    extra = [t for t in tables if t not in meta.tables]
    if extra:
        raise ValueError(
            f"table(s) {sorted(map(str, extra))} are not in the metadata; add them or "
            "leave them out"
        )
    out = {}
    for name in meta.order():
        frame = tables[name]
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"table {name!r} must be a DataFrame, got {type(frame).__name__}")
        needed = meta.key_columns(name) + [c for c in [meta.order_by(name)] if c]
        absent = [c for c in needed if c not in frame.columns]
        if absent:
            raise ValueError(
                f"table {name!r} lacks column(s) {absent} named in the metadata; its "
                f"columns are {list(frame.columns)}"
            )
        pk = meta.primary_key(name)
        if pk is not None:
            keys = frame[pk]
            if keys.isna().any():
                raise ValueError(
                    f"table {name!r}: primary key {pk!r} has {int(keys.isna().sum())} "
                    "missing value(s)"
                )
            dup = keys.duplicated()
            if dup.any():
                raise ValueError(
                    f"table {name!r}: primary key {pk!r} has {int(dup.sum())} duplicate "
                    f"value(s) (e.g. {keys[dup].iloc[0]!r})"
                )
        keep = np.ones(len(frame), dtype=bool)
        for rel in meta.parents(name):
            fk = frame[rel.child_key]
            null = fk.isna().to_numpy()
            if null.any() and not rel.nullable:
                raise ValueError(
                    f"table {name!r}: foreign key {rel.child_key!r} has {int(null.sum())} "
                    f"missing value(s) but relationship {rel.name} is not nullable (set "
                    "nullable=True if a row may lack that parent)"
                )
            parent_keys = out[rel.parent][rel.parent_key]
            orphan = ~null & ~fk.isin(parent_keys).to_numpy()
            if orphan.any() and not drop_orphans:
                raise ValueError(
                    f"table {name!r}: {int(orphan.sum())} row(s) have a foreign key "
                    f"{rel.child_key!r} with no parent in {rel.parent!r}.{rel.parent_key!r} "
                    f"(e.g. {fk[orphan].iloc[0]!r}); fix the data or pass drop_orphans=True"
                )
            if orphan.any():
                logger.warning(
                    "table %r: dropping %d orphan row(s) (foreign key %r)",
                    name,
                    int(orphan.sum()),
                    rel.child_key,
                )
            keep &= ~orphan
        out[name] = frame if keep.all() else frame.loc[keep].reset_index(drop=True)
    return out
