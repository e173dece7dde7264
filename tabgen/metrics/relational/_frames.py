"""The frames the database metrics score: tables without their keys, children joined with
their parents, parents enriched with aggregates of their children."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

#: Prefix of the parent's columns in a joined table.
PARENT = "parent."
#: The parent's number of children in a joined table / enriched parent table.
N_CHILDREN = "n_children"


class Rel:
    def __init__(self, d: Mapping):
        self.parent = d["parent_table"]
        self.parent_key = d["parent_primary_key"]
        self.child = d["child_table"]
        self.child_key = d["child_foreign_key"]
        self.nullable = bool(d.get("nullable", False))
        self.name = f"{self.parent}->{self.child}.{self.child_key}"


def layout(metadata) -> tuple[dict, list]:
    """``({table: primary key}, [relationship])`` from a Metadata or its JSON form."""
    if hasattr(metadata, "to_dict"):
        metadata = metadata.to_dict()
    if not isinstance(metadata, Mapping) or not isinstance(metadata.get("tables"), Mapping):
        raise TypeError("metadata must be a Metadata or a dict with a 'tables' object")
    keys = {t: (spec or {}).get("primary_key") for t, spec in metadata["tables"].items()}
    rels = [Rel(r) for r in metadata.get("relationships", [])]
    return keys, rels


def check_db(db, name: str, keys: dict) -> None:
    if not isinstance(db, Mapping):
        raise TypeError(f"{name} must be a dict of DataFrames, got {type(db).__name__}")
    missing = [t for t in keys if t not in db]
    if missing:
        raise ValueError(f"{name} lacks the table(s) {missing} of the metadata")


def checked_layout(metadata, **databases) -> tuple[dict, list]:
    """:func:`layout` of ``metadata`` after checking that each database (named by its
    keyword) is a dict holding every table of the metadata."""
    keys, rels = layout(metadata)
    for name, db in databases.items():
        check_db(db, name, keys)
    return keys, rels


def key_columns(table: str, keys: dict, rels: list) -> set:
    out = {r.child_key for r in rels if r.child == table}
    if keys.get(table):
        out.add(keys[table])
    return out


def attributes(db, table: str, keys: dict, rels: list, counts: bool = False) -> pd.DataFrame:
    """A table without its keys; with ``counts``, plus its number of children in each
    relationship where it is the parent (``n(<child>.<fk>)``: a key-only table's data)."""
    frame = db[table]
    out = frame.drop(columns=[c for c in key_columns(table, keys, rels) if c in frame.columns])
    if counts:
        out = out.reset_index(drop=True)
        for rel in rels:
            if rel.parent == table:
                out[f"n({rel.child}.{rel.child_key})"] = children_per_parent(db, rel)
    return out


def children_per_parent(db, rel: Rel) -> np.ndarray:
    parent_keys = db[rel.parent][rel.parent_key]
    counts = db[rel.child][rel.child_key].dropna().value_counts()
    return counts.reindex(parent_keys.to_numpy(), fill_value=0).to_numpy()


def joined(db, rel: Rel, keys: dict, rels: list) -> pd.DataFrame:
    """Each child row (attributes) beside its parent's attributes and number of children."""
    parent = attributes(db, rel.parent, keys, rels).reset_index(drop=True)
    parent[N_CHILDREN] = children_per_parent(db, rel)
    parent.columns = [PARENT + str(c) for c in parent.columns]
    child = db[rel.child]
    index = pd.Index(db[rel.parent][rel.parent_key]).get_indexer(child[rel.child_key])
    have = index >= 0
    left = attributes(db, rel.child, keys, rels, counts=True)[have].reset_index(drop=True)
    right = parent.iloc[index[have]].reset_index(drop=True)
    return pd.concat([right, left], axis=1)


def enriched(db, rel: Rel, keys: dict, rels: list) -> pd.DataFrame:
    """Parent attributes plus aggregates of the children: count, mean and std of numeric
    columns (the children's own numbers of children included), share of the most frequent
    value of the others."""
    parent = attributes(db, rel.parent, keys, rels).reset_index(drop=True)
    child = attributes(db, rel.child, keys, rels, counts=True)
    index = pd.Index(db[rel.parent][rel.parent_key]).get_indexer(db[rel.child][rel.child_key])
    n = len(parent)
    have = index >= 0
    g = index[have]
    out = {N_CHILDREN: np.bincount(g, minlength=n).astype("float64")}
    for col in child.columns:
        values = child[col][have]
        if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(
            values.dtype
        ):
            x = values.to_numpy(dtype="float64")
            stats = pd.DataFrame({"g": g, "x": x}).groupby("g")["x"].agg(["mean", "std"])
            out[f"mean({col})"] = stats["mean"].reindex(range(n)).to_numpy()
            out[f"std({col})"] = stats["std"].reindex(range(n)).to_numpy()
        else:
            frame = pd.DataFrame({"g": g, "x": values.astype(str).to_numpy()})
            top = frame.groupby(["g", "x"]).size().groupby("g").max()
            size = frame.groupby("g").size()
            out[f"mode_share({col})"] = (top / size).reindex(range(n)).to_numpy()
    return pd.concat([parent, pd.DataFrame(out)], axis=1)
