"""Metadata of a relational database: tables, primary keys, foreign keys, sequences.

A :class:`Metadata` describes

* each table: its primary key (one column, or none) and, for a child ordered within its
  parent (visits of a patient, transactions of an account), the order column;
* each relationship: parent table and primary key, child table and foreign key, and whether
  the foreign key may be null.

It reads and writes JSON in the shared layout (``{"tables": {name: {"primary_key": ...}},
"relationships": [{"parent_table", "parent_primary_key", "child_table",
"child_foreign_key"}]}``, extra fields such as ``file`` or ``columns`` kept), guesses itself
from data (:meth:`Metadata.detect`) and checks data against itself (:meth:`Metadata.validate`).
Composite keys and self-references are refused, with a message saying so.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field, replace
from pathlib import Path

from tabgen._output import check_output, write_text

logger = logging.getLogger("tabgen")

__all__ = ["Metadata", "Relationship"]


@dataclass(frozen=True)
class Relationship:
    """One foreign key: ``child.child_key`` references ``parent.parent_key``.

    Attributes
    ----------
    parent, parent_key, child, child_key : str
    nullable : bool
        Whether ``child_key`` may be null (a child row without that parent).
    """

    parent: str
    parent_key: str
    child: str
    child_key: str
    nullable: bool = False

    @property
    def name(self) -> str:
        """``"parent->child.child_key"``, the relationship's name in reports."""
        return f"{self.parent}->{self.child}.{self.child_key}"

    def to_dict(self) -> dict:
        out = {
            "parent_table": self.parent,
            "parent_primary_key": self.parent_key,
            "child_table": self.child,
            "child_foreign_key": self.child_key,
        }
        if self.nullable:
            out["nullable"] = True
        return out


@dataclass
class _Table:
    primary_key: str | None = None
    order_by: str | None = None
    extra: dict = field(default_factory=dict)


def _key_name(value, what: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        if len(value) == 1:
            value = value[0]
        else:
            raise ValueError(
                f"{what} is a composite key {list(value)}: composite keys are not supported; "
                "add a single surrogate key column"
            )
    if not isinstance(value, str) or not value:
        raise TypeError(f"{what} must be a column name (str), got {value!r}")
    return value


class Metadata:
    """Tables, keys and relationships of a database.

    Parameters
    ----------
    tables : dict, optional
        ``{name: {"primary_key": column or None, "order_by": column or None, ...}}``; other
        entries (``file``, ``columns``, ``rows``) are kept and saved back.
    relationships : list of dict or Relationship, optional
        Each ``{"parent_table", "parent_primary_key", "child_table", "child_foreign_key"}``
        and optionally ``"nullable": true``.

    Raises
    ------
    ValueError
        A relationship names an unknown table or a parent key that is not the parent's
        primary key, a table references itself, the relationships form a cycle, a key is
        composite, or ``order_by`` is set on a table without exactly one parent.

    Examples
    --------
    >>> meta = Metadata(
    ...     {"users": {"primary_key": "user_id"}, "orders": {"primary_key": "order_id"}},
    ...     [{"parent_table": "users", "parent_primary_key": "user_id",
    ...       "child_table": "orders", "child_foreign_key": "user_id"}])
    >>> meta.order()
    ['users', 'orders']
    >>> [r.name for r in meta.parents("orders")]
    ['users->orders.user_id']
    """

    def __init__(self, tables: dict | None = None, relationships: list | None = None):
        self._tables: dict[str, _Table] = {}
        self._relationships: list[Relationship] = []
        for name, spec in (tables or {}).items():
            spec = dict(spec or {})
            self._add(
                name,
                spec.pop("primary_key", None),
                spec.pop("order_by", None),
                spec,
            )
        for rel in relationships or []:
            if not isinstance(rel, Relationship):
                rel = _relationship_from_dict(rel)
            if rel.parent_key is None and rel.parent in self._tables:
                rel = replace(rel, parent_key=self._tables[rel.parent].primary_key)
            self._relationships.append(rel)
        self.check()

    # -- building ---------------------------------------------------------------------------
    def _add(self, name, primary_key, order_by, extra) -> None:
        if not isinstance(name, str) or not name:
            raise TypeError(f"a table name must be a non-empty str, got {name!r}")
        if name in self._tables:
            raise ValueError(f"table {name!r} is defined twice")
        key = _key_name(primary_key, f"the primary key of table {name!r}")
        order = _key_name(order_by, f"order_by of table {name!r}")
        self._tables[name] = _Table(key, order, dict(extra))

    def add_table(self, name: str, primary_key: str | None = None, *, order_by=None) -> Metadata:
        """Add a table (``order_by``: the column ordering its rows within their parent)."""
        self._add(name, primary_key, order_by, {})
        self.check()
        return self

    def add_relationship(
        self,
        parent: str,
        child: str,
        child_key: str,
        *,
        parent_key: str | None = None,
        nullable: bool = False,
    ) -> Metadata:
        """Add a foreign key ``child.child_key -> parent`` (its primary key by default)."""
        if parent_key is None and parent in self._tables:
            parent_key = self._tables[parent].primary_key
        rel = Relationship(parent, parent_key, child, child_key, bool(nullable))
        self._relationships.append(rel)
        try:
            self.check()
        except (ValueError, TypeError):
            self._relationships.pop()
            raise
        return self

    def set_order(self, table: str, column: str | None) -> Metadata:
        """Declare (``None``: remove) the column that orders ``table``'s rows within their
        parent: the child is then generated as sequences."""
        if table not in self._tables:
            raise ValueError(f"unknown table {table!r}; tables are {self.tables}")
        old = self._tables[table].order_by
        self._tables[table].order_by = _key_name(column, f"order_by of table {table!r}")
        try:
            self.check()
        except ValueError:
            self._tables[table].order_by = old
            raise
        return self

    # -- queries ----------------------------------------------------------------------------
    @property
    def tables(self) -> list[str]:
        """Table names, in the order given."""
        return list(self._tables)

    @property
    def relationships(self) -> list[Relationship]:
        return list(self._relationships)

    def primary_key(self, table: str) -> str | None:
        return self._tables[table].primary_key

    def order_by(self, table: str) -> str | None:
        return self._tables[table].order_by

    def parents(self, table: str) -> list[Relationship]:
        """The relationships in which ``table`` is the child (its foreign keys)."""
        return [r for r in self._relationships if r.child == table]

    def children(self, table: str) -> list[Relationship]:
        """The relationships in which ``table`` is the parent."""
        return [r for r in self._relationships if r.parent == table]

    def key_columns(self, table: str) -> list[str]:
        """The primary key and foreign keys of ``table``."""
        keys = [self.primary_key(table)] + [r.child_key for r in self.parents(table)]
        return list(dict.fromkeys(k for k in keys if k is not None))

    def order(self) -> list[str]:
        """Tables with every parent before its children (ties in the given order)."""
        done: list[str] = []
        pending = list(self._tables)
        while pending:
            ready = [t for t in pending if all(r.parent in done for r in self.parents(t))]
            if not ready:
                raise ValueError(
                    "the relationships form a cycle among tables "
                    f"{sorted(pending)}; a database must be a hierarchy (break the cycle)"
                )
            done.extend(ready)
            pending = [t for t in pending if t not in ready]
        return done

    # -- checks -----------------------------------------------------------------------------
    def check(self) -> None:
        """Check the metadata itself (see the class's Raises)."""
        for rel in self._relationships:
            for role, table in (("parent", rel.parent), ("child", rel.child)):
                if table not in self._tables:
                    raise ValueError(
                        f"relationship {rel.name}: {role} table {table!r} is not in the "
                        f"metadata's tables {self.tables}"
                    )
            if rel.parent == rel.child:
                raise ValueError(
                    f"relationship {rel.name}: table {rel.child!r} references itself "
                    "(self-references are not supported; move the hierarchy to a table "
                    "of its own)"
                )
            pk = self._tables[rel.parent].primary_key
            if pk is None:
                raise ValueError(
                    f"relationship {rel.name}: parent table {rel.parent!r} has no primary key"
                )
            if rel.parent_key != pk:
                raise ValueError(
                    f"relationship {rel.name}: parent key {rel.parent_key!r} is not the "
                    f"primary key {pk!r} of {rel.parent!r} (only primary keys can be referenced)"
                )
            if rel.child_key == self._tables[rel.child].primary_key:
                raise ValueError(
                    f"relationship {rel.name}: the foreign key {rel.child_key!r} is also the "
                    f"primary key of {rel.child!r} (one-to-one tables: merge them into one)"
                )
        seen = set()
        for rel in self._relationships:
            key = (rel.child, rel.child_key)
            if key in seen:
                raise ValueError(
                    f"column {rel.child}.{rel.child_key} is the foreign key of two relationships"
                )
            seen.add(key)
        for name, table in self._tables.items():
            if table.order_by is not None:
                parents = self.parents(name)
                if len(parents) != 1:
                    raise ValueError(
                        f"table {name!r} has order_by={table.order_by!r} but "
                        f"{len(parents)} parents; a sequence needs exactly one parent"
                    )
                if table.order_by in self.key_columns(name):
                    raise ValueError(
                        f"order_by {table.order_by!r} of table {name!r} is a key column"
                    )
        self.order()  # raises on a cycle

    def validate(self, tables: dict, *, drop_orphans: bool = False) -> dict:
        """Check ``tables`` against the metadata; return the tables to learn from.

        Parameters
        ----------
        tables : dict of str to pandas.DataFrame
            One DataFrame per metadata table (never modified).
        drop_orphans : bool, default False
            Drop child rows whose foreign key has no parent (and, in turn, their own
            children) instead of raising.

        Returns
        -------
        dict of str to pandas.DataFrame
            The tables in metadata order (copies where rows were dropped).

        Raises
        ------
        ValueError
            A metadata table is missing from ``tables`` or a table is not in the metadata; a
            key or order column is missing; a primary key has missing or duplicate values;
            a non-nullable foreign key has missing values; orphans (without
            ``drop_orphans``). Each message names the table, the column and the count.

        Examples
        --------
        >>> import pandas as pd
        >>> meta = Metadata({"p": {"primary_key": "id"}, "c": {"primary_key": "cid"}},
        ...     [{"parent_table": "p", "parent_primary_key": "id",
        ...       "child_table": "c", "child_foreign_key": "pid"}])
        >>> p = pd.DataFrame({"id": [1, 2]})
        >>> c = pd.DataFrame({"cid": [1, 2, 3], "pid": [1, 1, 7]})
        >>> meta.validate({"p": p, "c": c})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: table 'c': 1 row(s) have a foreign key 'pid' with no parent in 'p'.'id' ...
        >>> len(meta.validate({"p": p, "c": c}, drop_orphans=True)["c"])
        2
        """
        from tabgen.relational._validate import validate_tables

        return validate_tables(self, tables, drop_orphans=drop_orphans)

    # -- detection --------------------------------------------------------------------------
    @classmethod
    def detect(cls, tables: dict, *, verbose: bool = True) -> Metadata:
        """Guess the metadata of ``tables`` from column names and values.

        Primary key: a unique, complete column named ``id``, ``<table>_id`` (also singular)
        or ending in ``id``/``_key``, else none. Foreign key: a column of another table with
        the primary key's name (or ``<table>_id``) whose values are all among the parent's
        keys. Order column: in a child with one parent, a non-key numeric or datetime
        column that is non-decreasing within every parent in the rows' order. The guess is
        logged (``verbose``) for confirmation: check it, fix it with :meth:`add_table`,
        :meth:`add_relationship` or :meth:`set_order`, and save it.

        Parameters
        ----------
        tables : dict of str to pandas.DataFrame
        verbose : bool, default True
            Log the guess (logger ``"tabgen"``, level WARNING) for confirmation.

        Returns
        -------
        Metadata

        Examples
        --------
        >>> import pandas as pd
        >>> users = pd.DataFrame({"user_id": [1, 2, 3], "age": [30, 41, 25]})
        >>> orders = pd.DataFrame({"order_id": [10, 11, 12, 13], "user_id": [1, 1, 3, 3],
        ...                        "amount": [5.0, 7.5, 1.0, 2.0]})
        >>> meta = Metadata.detect({"users": users, "orders": orders}, verbose=False)
        >>> meta.primary_key("orders"), [r.name for r in meta.relationships]
        ('order_id', ['users->orders.user_id'])
        """
        from tabgen.relational._detect import detect_metadata

        meta = detect_metadata(cls, tables)
        if verbose:
            logger.warning("detected metadata (check it before use):\n%s", meta.describe())
        return meta

    # -- text and JSON ----------------------------------------------------------------------
    def describe(self) -> str:
        """A readable summary: one line per table and per relationship."""
        lines = []
        for name in self.order():
            t = self._tables[name]
            order = f", ordered by {t.order_by!r}" if t.order_by else ""
            lines.append(f"table {name}: primary key {t.primary_key!r}{order}")
        for rel in self._relationships:
            null = " (nullable)" if rel.nullable else ""
            lines.append(f"  {rel.child}.{rel.child_key} -> {rel.parent}.{rel.parent_key}{null}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"Metadata(tables={self.tables}, relationships={[r.name for r in self._relationships]})"
        )

    def __eq__(self, other) -> bool:
        return isinstance(other, Metadata) and self.to_dict() == other.to_dict()

    def to_dict(self) -> dict:
        """The JSON form (the shared layout; ``order_by`` and ``nullable`` where set)."""
        tables = {}
        for name, t in self._tables.items():
            entry = dict(t.extra)
            entry["primary_key"] = t.primary_key
            if t.order_by is not None:
                entry["order_by"] = t.order_by
            tables[name] = entry
        return {
            "tables": tables,
            "relationships": [r.to_dict() for r in self._relationships],
        }

    @classmethod
    def from_dict(cls, data: dict) -> Metadata:
        """Metadata from its JSON form (see the class docstring)."""
        if not isinstance(data, dict) or not isinstance(data.get("tables"), dict):
            raise ValueError("metadata must be a JSON object with a 'tables' object")
        relationships = data.get("relationships", [])
        if not isinstance(relationships, list):
            raise ValueError("metadata 'relationships' must be a list")
        return cls(data["tables"], relationships)

    def save(self, path, *, overwrite: bool = False) -> Path:
        """Write the metadata as JSON to ``path`` (atomic; ``overwrite`` as for tables)."""
        path = check_output(path, overwrite=overwrite, parents=True)
        write_text(path, json.dumps(self.to_dict(), indent=1))
        return path

    @classmethod
    def load(cls, path) -> Metadata:
        """Read metadata written by :meth:`save` (or the shared ``metadata.json`` layout)."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"metadata file {str(path)!r} does not exist")
        try:
            data = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"cannot read {str(path)!r} as JSON: {exc}") from None
        return cls.from_dict(data)


def _relationship_from_dict(rel) -> Relationship:
    if not isinstance(rel, dict):
        raise TypeError(f"a relationship must be a dict, got {rel!r}")
    try:
        parent, child = rel["parent_table"], rel["child_table"]
        fk = rel["child_foreign_key"]
    except KeyError as exc:
        raise ValueError(f"relationship {rel!r} lacks the entry {exc}") from None
    fk = _key_name(fk, f"the foreign key of {child!r}")
    pk = _key_name(rel.get("parent_primary_key"), f"the parent key of {child}.{fk}")
    return Relationship(str(parent), pk, str(child), fk, bool(rel.get("nullable", False)))
