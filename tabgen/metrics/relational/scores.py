"""The database metrics: key integrity, cardinality shape, parent-child trends and
aggregate detection (see :mod:`tabgen.metrics.relational`)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .._result import MetricResult
from .._sampling import RandomState, resolve_rng, subsample
from ..detection import detection
from ..fidelity import column_pair_trends
from ..similarity import ks_complement
from ._frames import PARENT, checked_layout, children_per_parent, enriched, joined


def _over_relationships(scores: list, reduce=np.mean) -> float:
    """``reduce`` (mean, min) of the per-relationship ``scores`` that are not NaN (NaN when
    none is)."""
    valid = [x for x in scores if not math.isnan(x)]
    return float(reduce(valid)) if valid else np.nan


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
    keys, rels = checked_layout(metadata, tables=tables)
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
    _, rels = checked_layout(metadata, real=real, synthetic=synthetic)
    result = MetricResult()
    scores = []
    for rel in rels:
        r, s = children_per_parent(real, rel), children_per_parent(synthetic, rel)
        score = ks_complement(r, s) if len(r) and len(s) else float("nan")
        result.scores[f"cardinality[{rel.name}]"] = score
        result.details[rel.name] = {
            "mean_real": float(r.mean()) if len(r) else np.nan,
            "mean_synthetic": float(s.mean()) if len(s) else np.nan,
            "childless_real": float((r == 0).mean()) if len(r) else np.nan,
            "childless_synthetic": float((s == 0).mean()) if len(s) else np.nan,
        }
        scores.append(score)
    result.scores["cardinality_shape"] = _over_relationships(scores, np.mean)
    result.scores["cardinality_shape_min"] = _over_relationships(scores, np.min)
    return result


# -- parent-child trends --------------------------------------------------------------------
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
    keys, rels = checked_layout(metadata, real=real, synthetic=synthetic)
    rng = resolve_rng(random_state)
    result = MetricResult()
    per_rel = []
    for rel in rels:
        r = joined(real, rel, keys, rels)
        s = joined(synthetic, rel, keys, rels)
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
    result.scores["parent_child_trend"] = _over_relationships(per_rel)
    return result


# -- aggregate detection ----------------------------------------------------------------------
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
    keys, rels = checked_layout(metadata, real=real, synthetic=synthetic)
    result = MetricResult()
    aucs: dict = {c: [] for c in classifiers}
    for rel in rels:
        r = enriched(real, rel, keys, rels)
        s = enriched(synthetic, rel, keys, rels)
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
