"""``DatabaseAnonymizer``: a synthetic copy of a whole database with a privacy report.

Steps: hold out a share of the root entities (a held-out root row takes every row that
descends from it, so that no held-out person leaks through a child table); find the PII
columns of every table (:func:`tabgen.pii.detect_pii`) and keep them away from the models;
fit a :class:`~tabgen.relational.RelationalSynthesizer` on the rest; export a synthetic
database with PII columns regenerated as fresh fakes (or dropped); score it against the
training part, with the held-out part as the yardstick of the distance-based privacy
scores (:func:`tabgen.metrics.evaluate_database`: per table and over the joined rows).
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

from tabgen._params import store_params
from tabgen._rng import check_random_state, spawn_seed
from tabgen.relational.metadata import Metadata
from tabgen.relational.synthesizer import RelationalSynthesizer

__all__ = ["DatabaseAnonymizer", "split_by_root"]


def split_by_root(meta: Metadata, tables: dict, root: str, holdout, rng) -> tuple[dict, dict]:
    """``(train, held_out)`` databases: a share (float) or number (int) of ``root``'s rows
    and, recursively, every row whose parent was held out. Tables not under ``root`` are
    kept whole in both (the held-out rows still need their other parents)."""
    n = len(tables[root])
    k = round(holdout * n) if isinstance(holdout, float) else int(holdout)
    if not 0 < k < n:
        raise ValueError(
            f"holdout={holdout!r} leaves {n - k} of the {n} rows of {root!r} for training; "
            "give a share in (0, 1) or a row count below the table's size"
        )
    held = {root: np.zeros(n, dtype=bool)}
    held[root][rng.choice(n, size=k, replace=False)] = True
    for table in meta.order():
        if table == root:
            continue
        mask = np.zeros(len(tables[table]), dtype=bool)
        under = False
        for rel in meta.parents(table):
            if rel.parent not in held:
                continue
            under = True
            parent_keys = tables[rel.parent][rel.parent_key][held[rel.parent]]
            mask |= tables[table][rel.child_key].isin(parent_keys).to_numpy()
        if under:
            held[table] = mask
    train, test = {}, {}
    for table, frame in tables.items():
        if table in held:
            train[table] = frame[~held[table]].reset_index(drop=True)
            test[table] = frame[held[table]].reset_index(drop=True)
        else:
            train[table] = test[table] = frame
    return train, test


class DatabaseAnonymizer:
    """Export a synthetic copy of a database, with a privacy and fidelity report.

    Parameters
    ----------
    metadata : Metadata, dict or None
        As for :class:`RelationalSynthesizer` (``None``: detected).
    root : str, optional
        The table whose rows are the entities held out (default: the first root table).
    holdout : float or int, default 0.2
        Share (or number) of the root's rows held out with all their descendants.
    model : str, synthesizer or dict, default "copula"
        Single-table model(s), as for :class:`RelationalSynthesizer`.
    pii : {"regenerate", "drop"}, default "regenerate"
        What becomes of the PII columns found in each table: fresh fake values of the same
        format (:class:`tabgen.pii.FakeColumn`), or no column.
    random_state : None, int or numpy.random.Generator

    Attributes
    ----------
    synthesizer_ : RelationalSynthesizer
    pii_columns_ : dict
        Table -> ``{column: pii_type}`` kept away from the models.
    held_out_rows_ : dict
        Table -> rows held out (the root's entities and everything under them).
    report_ : DatabaseReport
        Set by :meth:`export`: scores against the training part, ``dcr_share`` over the
        joined rows against the held-out part (0.5: no closer to training rows).
    exact_copies_ : dict
        Set by :meth:`export`: table -> exported rows whose attributes (keys and PII left
        out) equal a training row's, for tables of two or more attributes.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> users = pd.DataFrame({"user_id": range(80), "age": rng.integers(20, 70, 80),
    ...                       "email": [f"u{i}@mail.com" for i in range(80)]})
    >>> orders = pd.DataFrame({"order_id": range(200), "user_id": rng.integers(0, 80, 200),
    ...                        "amount": rng.gamma(2.0, 10.0, 200).round(2)})
    >>> meta = Metadata({"users": {"primary_key": "user_id"},
    ...                  "orders": {"primary_key": "order_id"}},
    ...                 [{"parent_table": "users", "parent_primary_key": "user_id",
    ...                   "child_table": "orders", "child_foreign_key": "user_id"}])
    >>> anon = DatabaseAnonymizer(meta, random_state=0).fit({"users": users, "orders": orders})
    >>> anon.pii_columns_["users"]
    {'email': 'email'}
    >>> fake = anon.export(n_jobs=1, detection_metrics=False)
    >>> fake["users"]["email"].str.endswith((".com", ".org", ".net")).all()
    np.True_
    >>> 0.0 <= anon.report_.scores["users->orders.user_id.dcr_share"] <= 1.0
    True
    """

    def __init__(
        self,
        metadata=None,
        *,
        root: str | None = None,
        holdout=0.2,
        model="copula",
        pii: str = "regenerate",
        random_state=None,
    ):
        store_params(self, locals())

    def fit(self, tables: dict) -> DatabaseAnonymizer:
        """Split by root entity, set PII columns aside, fit the database synthesizer."""
        from tabgen.pii import FakeColumn, detect_pii

        if self.pii not in ("regenerate", "drop"):
            raise ValueError(f"pii must be 'regenerate' or 'drop', got {self.pii!r}")
        h = self.holdout
        if isinstance(h, bool) or not isinstance(h, numbers.Real):
            raise TypeError(f"holdout must be a share or a row count, got {h!r}")
        if isinstance(h, float) and not 0 < h < 1:
            raise ValueError(f"holdout must be a share in (0, 1) or a row count, got {h!r}")
        meta = RelationalSynthesizer(self.metadata)._metadata(tables)
        data = meta.validate(tables)
        roots = [t for t in meta.order() if not meta.parents(t)]
        root = self.root if self.root is not None else roots[0]
        if root not in roots:
            raise ValueError(f"root must be a table without parents, one of {roots}; got {root!r}")
        rng = check_random_state(self.random_state)
        train, held = split_by_root(meta, data, root, h, rng)
        self.pii_columns_, self.fakes_ = {}, {}
        for table in meta.tables:
            keys = set(meta.key_columns(table)) | {meta.order_by(table)}
            found = {
                c: kind
                for c, kind in detect_pii(train[table].drop(columns=list(keys - {None}))).items()
            }
            self.pii_columns_[table] = found
            if self.pii == "regenerate":
                self.fakes_[table] = {
                    c: FakeColumn(kind).fit(train[table][c]) for c, kind in found.items()
                }
        model_tables = {t: train[t].drop(columns=list(self.pii_columns_[t])) for t in meta.tables}
        self.synthesizer_ = RelationalSynthesizer(
            meta, model=self.model, random_state=spawn_seed(rng) % 2**32
        ).fit(model_tables)
        self.metadata_ = meta
        self.root_ = root
        self._train, self._held = (
            model_tables,
            {t: held[t].drop(columns=list(self.pii_columns_[t])) for t in meta.tables},
        )
        self._columns = {t: list(data[t].columns) for t in meta.tables}
        self.held_out_rows_ = {t: len(held[t]) for t in meta.tables if held[t] is not data[t]}
        self._rng = np.random.default_rng(spawn_seed(rng))
        return self

    def export(
        self,
        scale: float = 1.0,
        random_state=None,
        *,
        n_jobs: int | None = None,
        detection_metrics: bool = True,
    ) -> dict:
        """The synthetic database; sets ``report_``.

        Parameters
        ----------
        scale : float, default 1.0
            Size relative to the training part.
        random_state : None, int or numpy.random.Generator
        n_jobs : int or None
            Thread cap of the report's classifiers (see
            :func:`~tabgen.metrics.evaluate_database`).
        detection_metrics : bool, default True
            Include the classifier scores in the report (the slowest part).

        Returns
        -------
        dict of str to pandas.DataFrame
        """
        from tabgen.metrics import evaluate_database

        if not hasattr(self, "synthesizer_"):
            raise ValueError("call fit before export")
        rng = self._rng if random_state is None else check_random_state(random_state)
        fake = self.synthesizer_.sample(scale=scale, random_state=rng)
        self.report_ = evaluate_database(
            self._train,
            fake,
            self.metadata_,
            holdout=self._held,
            n_jobs=n_jobs,
            detection_metrics=detection_metrics,
        )
        self.exact_copies_ = {}
        out = {}
        for table, frame in fake.items():
            attributes = [
                c for c in self._train[table].columns if c not in self.metadata_.key_columns(table)
            ]
            if len(attributes) >= 2:
                train = self._train[table][attributes]
                self.exact_copies_[table] = _copies(frame[attributes], train)
            frame = frame.copy()
            for col, gen in self.fakes_.get(table, {}).items():
                frame[col] = gen.generate(len(frame), rng).to_numpy()
            out[table] = frame[[c for c in self._columns[table] if c in frame.columns]]
        return out

    def safeguards(self) -> dict:
        """What protects the exported database, for a summary or an audit.

        Returns
        -------
        dict
            ``root`` (the table whose entities were held out), ``held_out_rows`` (per
            table), ``pii`` (``"regenerate"`` or ``"drop"``) and ``pii_columns`` (per table,
            ``{column: type}``), and after :meth:`export` ``exact_copies`` (per table, the
            exported rows equal to a training row on their attributes) and
            ``joined_exact_copy_rate`` (per relationship, over the child rows joined with
            their parent). The fitted model is never saved by the command line.
        """
        if not hasattr(self, "synthesizer_"):
            raise ValueError("call fit before safeguards")
        out = {
            "root": self.root_,
            "held_out_rows": dict(self.held_out_rows_),
            "pii": self.pii,
            "pii_columns": {t: dict(c) for t, c in self.pii_columns_.items()},
        }
        if hasattr(self, "report_"):
            out["exact_copies"] = dict(self.exact_copies_)
            out["joined_exact_copy_rate"] = {
                k[: -len(".exact_copy_rate")]: v
                for k, v in self.report_.scores.items()
                if k.endswith(".exact_copy_rate")
            }
        return out


def _copies(rows, reference) -> int:
    """How many of ``rows`` equal one of ``reference``'s rows (values compared as text,
    so that 3 and 3.0 match)."""

    def keys(frame):
        text = frame.astype(object).where(frame.notna(), "<NA>")
        for col in text.columns:
            numbers_ = pd.to_numeric(frame[col], errors="coerce")
            if numbers_.notna().sum() == frame[col].notna().sum():
                text[col] = numbers_.astype(float).map(repr).where(frame[col].notna(), "<NA>")
            else:
                text[col] = text[col].map(str)
        return pd.util.hash_pandas_object(text, index=False)

    return int(keys(rows).isin(set(keys(reference))).sum())
