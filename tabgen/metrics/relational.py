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

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from ._result import MetricResult
from ._sampling import RandomState, resolve_rng, subsample
from .detection import detection
from .fidelity import column_pair_trends, fidelity
from .privacy import privacy
from .report import Report
from .similarity import ks_complement

__all__ = [
    "DatabaseReport",
    "aggregate_detection",
    "cardinality_shape",
    "evaluate_database",
    "key_integrity",
    "parent_child_trends",
]

#: Prefix of the parent's columns in a joined table.
PARENT = "parent."
#: The parent's number of children in a joined table / enriched parent table.
N_CHILDREN = "n_children"


class _Rel:
    def __init__(self, d: Mapping):
        self.parent = d["parent_table"]
        self.parent_key = d["parent_primary_key"]
        self.child = d["child_table"]
        self.child_key = d["child_foreign_key"]
        self.nullable = bool(d.get("nullable", False))
        self.name = f"{self.parent}->{self.child}.{self.child_key}"


def _layout(metadata) -> tuple[dict, list]:
    """``({table: primary key}, [relationship])`` from a Metadata or its JSON form."""
    if hasattr(metadata, "to_dict"):
        metadata = metadata.to_dict()
    if not isinstance(metadata, Mapping) or not isinstance(metadata.get("tables"), Mapping):
        raise TypeError("metadata must be a Metadata or a dict with a 'tables' object")
    keys = {t: (spec or {}).get("primary_key") for t, spec in metadata["tables"].items()}
    rels = [_Rel(r) for r in metadata.get("relationships", [])]
    return keys, rels


def _check_db(db, name: str, keys: dict) -> None:
    if not isinstance(db, Mapping):
        raise TypeError(f"{name} must be a dict of DataFrames, got {type(db).__name__}")
    missing = [t for t in keys if t not in db]
    if missing:
        raise ValueError(f"{name} lacks the table(s) {missing} of the metadata")


def _key_columns(table: str, keys: dict, rels: list) -> set:
    out = {r.child_key for r in rels if r.child == table}
    if keys.get(table):
        out.add(keys[table])
    return out


def _attributes(db, table: str, keys: dict, rels: list, counts: bool = False) -> pd.DataFrame:
    """A table without its keys; with ``counts``, plus its number of children in each
    relationship where it is the parent (``n(<child>.<fk>)``: a key-only table's data)."""
    frame = db[table]
    out = frame.drop(columns=[c for c in _key_columns(table, keys, rels) if c in frame.columns])
    if counts:
        out = out.reset_index(drop=True)
        for rel in rels:
            if rel.parent == table:
                out[f"n({rel.child}.{rel.child_key})"] = _children_per_parent(db, rel)
    return out


def _children_per_parent(db, rel: _Rel) -> np.ndarray:
    parent_keys = db[rel.parent][rel.parent_key]
    counts = db[rel.child][rel.child_key].dropna().value_counts()
    return counts.reindex(parent_keys.to_numpy(), fill_value=0).to_numpy()


# -- key integrity --------------------------------------------------------------------------
def key_integrity(tables: Mapping[str, pd.DataFrame], metadata) -> MetricResult:
    """Share of key checks that hold in a database.

    Parameters
    ----------
    tables : dict of str to pandas.DataFrame
    metadata : Metadata or dict

    Returns
    -------
    MetricResult
        ``scores["key_integrity"]``: 1.0 when every primary key is unique and complete and
        every foreign key points to a parent row (null only where nullable); otherwise
        the mean over checks of the share of rows that pass. ``details``: per primary key
        and per relationship.

    Examples
    --------
    >>> meta = {"tables": {"p": {"primary_key": "id"}, "c": {"primary_key": "cid"}},
    ...         "relationships": [{"parent_table": "p", "parent_primary_key": "id",
    ...                            "child_table": "c", "child_foreign_key": "pid"}]}
    >>> db = {"p": pd.DataFrame({"id": [1, 2]}),
    ...       "c": pd.DataFrame({"cid": [1, 2, 3, 4], "pid": [1, 2, 2, 9]})}
    >>> result = key_integrity(db, meta)
    >>> result.details["checks"]["foreign_key[p->c.pid]"], round(result["key_integrity"], 3)
    (0.75, 0.917)
    """
    keys, rels = _layout(metadata)
    _check_db(tables, "tables", keys)
    checks, details = [], {}
    for table, pk in keys.items():
        if not pk:
            continue
        col = tables[table][pk]
        ok = col.notna() & ~col.duplicated(keep=False)
        share = float(ok.mean()) if len(col) else 1.0
        details[f"primary_key[{table}.{pk}]"] = share
        checks.append(share)
    for rel in rels:
        fk = tables[rel.child][rel.child_key]
        valid = fk.isin(tables[rel.parent][rel.parent_key]) | (fk.isna() & rel.nullable)
        share = float(valid.mean()) if len(fk) else 1.0
        details[f"foreign_key[{rel.name}]"] = share
        checks.append(share)
    score = float(np.mean(checks)) if checks else 1.0
    return MetricResult(scores={"key_integrity": score}, details={"checks": details})


# -- cardinality ----------------------------------------------------------------------------
def cardinality_shape(
    real: Mapping[str, pd.DataFrame], synthetic: Mapping[str, pd.DataFrame], metadata
) -> MetricResult:
    """KS complement of the children-per-parent distribution, per relationship.

    Returns
    -------
    MetricResult
        ``scores``: ``cardinality_shape`` (mean over relationships),
        ``cardinality_shape_min`` and ``cardinality[<relationship>]`` for each.
        ``details``: mean and share of childless parents, real and synthetic.

    Examples
    --------
    >>> meta = {"tables": {"p": {"primary_key": "id"}, "c": {"primary_key": "cid"}},
    ...         "relationships": [{"parent_table": "p", "parent_primary_key": "id",
    ...                            "child_table": "c", "child_foreign_key": "pid"}]}
    >>> db = {"p": pd.DataFrame({"id": [1, 2, 3]}),
    ...       "c": pd.DataFrame({"cid": [1, 2, 3], "pid": [1, 1, 2]})}
    >>> cardinality_shape(db, db, meta).scores["cardinality_shape"]
    1.0
    """
    keys, rels = _layout(metadata)
    _check_db(real, "real", keys)
    _check_db(synthetic, "synthetic", keys)
    result = MetricResult()
    scores = []
    for rel in rels:
        r, s = _children_per_parent(real, rel), _children_per_parent(synthetic, rel)
        score = ks_complement(r, s) if len(r) and len(s) else float("nan")
        result.scores[f"cardinality[{rel.name}]"] = score
        result.details[rel.name] = {
            "mean_real": float(r.mean()) if len(r) else np.nan,
            "mean_synthetic": float(s.mean()) if len(s) else np.nan,
            "childless_real": float((r == 0).mean()) if len(r) else np.nan,
            "childless_synthetic": float((s == 0).mean()) if len(s) else np.nan,
        }
        scores.append(score)
    valid = [x for x in scores if not math.isnan(x)]
    result.scores["cardinality_shape"] = float(np.mean(valid)) if valid else np.nan
    result.scores["cardinality_shape_min"] = float(np.min(valid)) if valid else np.nan
    return result


# -- parent-child trends --------------------------------------------------------------------
def _joined(db, rel: _Rel, keys: dict, rels: list) -> pd.DataFrame:
    """Each child row (attributes) beside its parent's attributes and number of children."""
    parent = _attributes(db, rel.parent, keys, rels).reset_index(drop=True)
    parent[N_CHILDREN] = _children_per_parent(db, rel)
    parent.columns = [PARENT + str(c) for c in parent.columns]
    child = db[rel.child]
    index = pd.Index(db[rel.parent][rel.parent_key]).get_indexer(child[rel.child_key])
    have = index >= 0
    left = _attributes(db, rel.child, keys, rels, counts=True)[have].reset_index(drop=True)
    right = parent.iloc[index[have]].reset_index(drop=True)
    return pd.concat([right, left], axis=1)


def parent_child_trends(
    real: Mapping[str, pd.DataFrame],
    synthetic: Mapping[str, pd.DataFrame],
    metadata,
    *,
    max_rows: int | None = 50_000,
    random_state: RandomState = 0,
) -> MetricResult:
    """Pair-trend score between parent columns and child columns over the joined rows.

    Each child row (with its own numbers of children, so that key-only tables are scored
    through their sizes) is joined with its parent's attributes and the parent's number of
    children;
    :func:`~tabgen.metrics.column_pair_trends` runs on the real and synthetic joins, and
    only the pairs of one parent column with one child column count.

    Parameters
    ----------
    real, synthetic : dict of str to pandas.DataFrame
    metadata : Metadata or dict
    max_rows : int or None, default 50000
        Joined rows used per side (subsampled without replacement).
    random_state : int, numpy Generator or None, default 0

    Returns
    -------
    MetricResult
        ``scores``: ``parent_child_trend`` (mean over relationships) and
        ``parent_child_trend[<relationship>]``; ``details``: the scored pairs.
    """
    keys, rels = _layout(metadata)
    _check_db(real, "real", keys)
    _check_db(synthetic, "synthetic", keys)
    rng = resolve_rng(random_state)
    result = MetricResult()
    per_rel = []
    for rel in rels:
        r = _joined(real, rel, keys, rels)
        s = _joined(synthetic, rel, keys, rels)
        child_cols = [c for c in r.columns if not str(c).startswith(PARENT)]
        if not child_cols or len(r) < 2 or len(s) < 2:
            result.scores[f"parent_child_trend[{rel.name}]"] = np.nan
            result.notes[rel.name] = "no child attributes or fewer than two joined rows"
            continue
        if max_rows is not None:
            r = subsample(r, min(len(r), max_rows), rng)
            s = subsample(s, min(len(s), max_rows), rng)
        pairs = column_pair_trends(r, s[r.columns])
        cross = pairs["column_1"].str.startswith(PARENT) != pairs["column_2"].str.startswith(PARENT)
        chosen = pairs[cross & pairs["contributes"]]
        score = float(chosen["score"].mean()) if len(chosen) else np.nan
        result.scores[f"parent_child_trend[{rel.name}]"] = score
        result.details[rel.name] = chosen.reset_index(drop=True)
        per_rel.append(score)
    valid = [x for x in per_rel if not math.isnan(x)]
    result.scores["parent_child_trend"] = float(np.mean(valid)) if valid else np.nan
    return result


# -- aggregate detection ----------------------------------------------------------------------
def _enriched(db, rel: _Rel, keys: dict, rels: list) -> pd.DataFrame:
    """Parent attributes plus aggregates of the children: count, mean and std of numeric
    columns (the children's own numbers of children included), share of the most frequent
    value of the others."""
    parent = _attributes(db, rel.parent, keys, rels).reset_index(drop=True)
    child = _attributes(db, rel.child, keys, rels, counts=True)
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


def aggregate_detection(
    real: Mapping[str, pd.DataFrame],
    synthetic: Mapping[str, pd.DataFrame],
    metadata,
    *,
    classifiers: Sequence[str] = ("lr", "gb"),
    max_rows: int | None = 20_000,
    random_state: RandomState = 0,
) -> MetricResult:
    """C2ST on parent rows enriched with aggregates of their children (SyntheRela).

    Returns
    -------
    MetricResult
        ``scores``: per relationship ``aggregate_detection_<clf>_auc[<relationship>]``
        (0.5: indistinguishable) and their means ``aggregate_detection_<clf>_auc`` and
        ``aggregate_detection_score_<clf>`` (1 - mean(2·max(AUC, .5) - 1), 1 is best).
    """
    keys, rels = _layout(metadata)
    _check_db(real, "real", keys)
    _check_db(synthetic, "synthetic", keys)
    result = MetricResult()
    aucs: dict = {c: [] for c in classifiers}
    for rel in rels:
        r = _enriched(real, rel, keys, rels)
        s = _enriched(synthetic, rel, keys, rels)
        try:
            res = detection(
                r,
                s[r.columns],
                classifiers=classifiers,
                max_rows=max_rows,
                random_state=random_state,
            )
        except ValueError as exc:
            result.notes[rel.name] = str(exc)
            continue
        for clf in classifiers:
            auc = res.scores[f"detection_{clf}_auc"]
            result.scores[f"aggregate_detection_{clf}_auc[{rel.name}]"] = auc
            aucs[clf].append(auc)
        result.details[rel.name] = {"rows_per_class": res.details["rows_per_class"]}
    for clf, values in aucs.items():
        result.scores[f"aggregate_detection_{clf}_auc"] = (
            float(np.mean(values)) if values else np.nan
        )
        result.scores[f"aggregate_detection_score_{clf}"] = (
            float(np.mean([1.0 - (2.0 * max(a, 0.5) - 1.0) for a in values])) if values else np.nan
        )
    return result


# -- report ---------------------------------------------------------------------------------
class DatabaseReport(Report):
    """Results of :func:`evaluate_database` (a :class:`~tabgen.metrics.Report` whose scores
    are the relational ones: no single-table headline placeholders).

    ``scores`` is a flat dict: ``key_integrity``, ``cardinality_shape``,
    ``parent_child_trend``, ``aggregate_detection_*``, per-table ``<table>.shape`` /
    ``<table>.trend`` / ``<table>.detection_*``, joined-row privacy
    ``<relationship>.exact_copy_rate`` / ``.dcr_median`` and ``time_s``.
    """

    @property
    def scores(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for result in self.results.values():
            out.update({k: float(v) for k, v in result.scores.items()})
        out["time_s"] = float(self.time_s)
        return out

    def to_html(self, path, *, max_columns: int = 30, overwrite: bool = False) -> Path:
        """Write the scores as one plain HTML table (atomically; ``overwrite`` as for
        :meth:`~tabgen.metrics.Report.to_json`)."""
        from html import escape

        from tabgen._output import check_output, write_text

        path = check_output(path, overwrite=overwrite)
        rows = "".join(
            f"<tr><td>{escape(k)}</td><td>{v:.4f}</td></tr>"
            for k, v in self.scores.items()
            if not math.isnan(v)
        )
        page = (
            "<!doctype html><html><head><meta charset='utf-8'><title>tabgen database "
            "report</title></head><body><h1>Synthetic database report</h1>"
            f"<table><tr><th>score</th><th>value</th></tr>{rows}</table></body></html>"
        )
        write_text(path, page)
        return path


def _table_scores(real, synthetic, keys, rels, random_state, detect=True) -> MetricResult:
    result = MetricResult()
    for table in keys:
        r = _attributes(real, table, keys, rels)
        s = _attributes(synthetic, table, keys, rels)
        if r.shape[1] == 0 or len(r) == 0 or len(s) == 0:
            result.notes[table] = "no attributes (keys only) or no rows"
            continue
        fid = fidelity(r, s[r.columns])
        result.scores[f"{table}.shape"] = fid.scores["shape"]
        result.scores[f"{table}.trend"] = fid.scores["trend"]
        if not detect:
            continue
        try:
            det = detection(r, s[r.columns], classifiers=("gb",), random_state=random_state)
            result.scores[f"{table}.detection_gb_auc"] = det.scores["detection_gb_auc"]
        except ValueError as exc:
            result.notes[f"{table}.detection"] = str(exc)
    return result


def _joined_privacy(real, synthetic, holdout, keys, rels, random_state) -> MetricResult:
    result = MetricResult()
    for rel in rels:
        r = _joined(real, rel, keys, rels)
        s = _joined(synthetic, rel, keys, rels)
        h = _joined(holdout, rel, keys, rels) if holdout is not None else None
        if len(r) < 2 or len(s) < 1:
            continue
        res = privacy(
            r,
            s[r.columns],
            None if h is None else h[r.columns],
            max_rows=5_000,
            random_state=random_state,
        )
        result.scores[f"{rel.name}.exact_copy_rate"] = res.scores["exact_copy_rate"]
        result.scores[f"{rel.name}.dcr_median"] = float(np.median(res.arrays["dcr_train"]))
        if h is not None:
            result.scores[f"{rel.name}.dcr_share"] = res.scores["dcr_share"]
    return result


def evaluate_database(
    real: Mapping[str, pd.DataFrame],
    synthetic: Mapping[str, pd.DataFrame],
    metadata,
    *,
    holdout: Mapping[str, pd.DataFrame] | None = None,
    privacy_metrics: bool = True,
    detection_metrics: bool = True,
    random_state: RandomState = 0,
    n_jobs: int | None = None,
) -> DatabaseReport:
    """Score a synthetic database against the real one.

    Parameters
    ----------
    real, synthetic : dict of str to pandas.DataFrame
    metadata : Metadata or dict
    holdout : dict of str to pandas.DataFrame, optional
        Real rows the generator never saw (a database of its own); adds ``dcr_share``
        over the joined rows.
    privacy_metrics : bool, default True
        Compute exact copies and distances to the closest record over the joined rows.
    detection_metrics : bool, default True
        Run the classifiers (aggregate detection, per-table detection), the slowest part.
    random_state : int, numpy Generator or None, default 0
    n_jobs : int or None, default None
        Cap on the threads of the classifiers and linear algebra (``None``: the
        libraries' defaults; ``1`` is much faster on a busy machine).

    Returns
    -------
    DatabaseReport
        Groups ``key_integrity`` (of the synthetic database), ``cardinality``,
        ``parent_child_trends``, ``aggregate_detection``, ``tables`` and ``privacy``.

    Examples
    --------
    >>> meta = {"tables": {"p": {"primary_key": "id"}, "c": {"primary_key": "cid"}},
    ...         "relationships": [{"parent_table": "p", "parent_primary_key": "id",
    ...                            "child_table": "c", "child_foreign_key": "pid"}]}
    >>> rng = np.random.default_rng(0)
    >>> db = {"p": pd.DataFrame({"id": range(30), "x": rng.normal(size=30)}),
    ...       "c": pd.DataFrame({"cid": range(90), "pid": rng.integers(0, 30, 90),
    ...                          "y": rng.normal(size=90)})}
    >>> report = evaluate_database(db, db, meta, privacy_metrics=False, n_jobs=1)
    >>> report.scores["key_integrity"], report.scores["cardinality_shape"]
    (1.0, 1.0)
    """
    if n_jobs is not None:
        if not isinstance(n_jobs, (int, np.integer)) or isinstance(n_jobs, bool) or n_jobs < 1:
            raise ValueError(f"n_jobs must be a positive integer or None, got {n_jobs!r}")
        with threadpool_limits(limits=int(n_jobs)):
            return evaluate_database(
                real,
                synthetic,
                metadata,
                holdout=holdout,
                privacy_metrics=privacy_metrics,
                detection_metrics=detection_metrics,
                random_state=random_state,
            )
    keys, rels = _layout(metadata)
    _check_db(real, "real", keys)
    _check_db(synthetic, "synthetic", keys)
    if holdout is not None:
        _check_db(holdout, "holdout", keys)
    start = time.perf_counter()
    results = {
        "key_integrity": key_integrity(synthetic, metadata),
        "cardinality": cardinality_shape(real, synthetic, metadata),
        "parent_child_trends": parent_child_trends(
            real, synthetic, metadata, random_state=random_state
        ),
        "tables": _table_scores(real, synthetic, keys, rels, random_state, detection_metrics),
    }
    skipped = {}
    if detection_metrics:
        results["aggregate_detection"] = aggregate_detection(
            real, synthetic, metadata, random_state=random_state
        )
    else:
        skipped["aggregate_detection"] = "detection_metrics=False"
    if privacy_metrics:
        results["privacy"] = _joined_privacy(real, synthetic, holdout, keys, rels, random_state)
    else:
        skipped["privacy"] = "privacy_metrics=False"
    config = {"metadata": json.loads(json.dumps(_plain_metadata(metadata), default=str))}
    return DatabaseReport(
        results, skipped=skipped, config=config, time_s=time.perf_counter() - start
    )


def _plain_metadata(metadata) -> Any:
    return metadata.to_dict() if hasattr(metadata, "to_dict") else dict(metadata)
