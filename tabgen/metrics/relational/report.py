"""``evaluate_database``: every database metric, per-table scores and privacy over the
joined rows, as a :class:`DatabaseReport`."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._result import MetricResult
from .._sampling import RandomState
from .._threads import thread_limit
from ..detection import detection
from ..fidelity import fidelity
from ..privacy import privacy
from ..report import Report
from ._frames import attributes, checked_layout, joined
from .scores import aggregate_detection, cardinality_shape, key_integrity, parent_child_trends


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

    @property
    def verdict(self) -> dict[str, str]:
        """One plain-language sentence per database score that ran (keys, cardinality,
        parent-child trends, aggregate detection); the single-table verdicts do not apply."""
        s = self.scores
        out = {}
        if "key_integrity" in s:
            keys = s["key_integrity"]
            out["keys"] = (
                "every primary key is unique and every foreign key points to a parent"
                if keys == 1.0
                else f"only {keys:.1%} of the key checks hold (see key_integrity details)"
            )
        if s.get("cardinality_shape_min", math.nan) == s.get("cardinality_shape_min"):
            out["cardinality"] = (
                "children per parent: KS complement "
                f"{s['cardinality_shape_min']:.3f} on the worst relationship (1 is identical)"
            )
        if s.get("parent_child_trend", math.nan) == s.get("parent_child_trend"):
            out["parent_child_trends"] = (
                f"parent x child column pairs: trend score {s['parent_child_trend']:.3f} "
                "(1 is identical)"
            )
        auc = s.get("aggregate_detection_gb_auc", math.nan)
        if auc == auc:
            out["aggregate_detection"] = (
                f"a classifier tells real from synthetic parents with their children's "
                f"aggregates at AUC {auc:.3f} (0.5: it cannot)"
            )
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
        r = attributes(real, table, keys, rels)
        s = attributes(synthetic, table, keys, rels)
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
        r = joined(real, rel, keys, rels)
        s = joined(synthetic, rel, keys, rels)
        h = joined(holdout, rel, keys, rels) if holdout is not None else None
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
    keys, rels = checked_layout(metadata, real=real, synthetic=synthetic)
    if holdout is not None:
        checked_layout(metadata, holdout=holdout)
    start = time.perf_counter()
    with thread_limit(n_jobs):
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
