"""The :class:`Report` that :func:`~tabgen.metrics.evaluate` returns: headline scores,
details, and the JSON / HTML renderings (the verdict and the page in :mod:`._verdict`,
:mod:`._html`)."""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tabgen._output import check_output, write_text

from ._result import MetricResult, jsonable

__all__ = ["HEADLINE_KEYS", "Report"]

#: Headline numbers always present in ``Report.scores`` (NaN when not computed).
HEADLINE_KEYS = {
    "shape": "fidelity",
    "trend": "fidelity",
    "missing_similarity": "fidelity",
    "detection_lr_auc": "detection",
    "detection_gb_auc": "detection",
    "detection_score_lr": "detection",
    "detection_score_gb": "detection",
    "alpha_precision": "precision_recall",
    "beta_recall": "precision_recall",
    "utility_synthetic": "utility",
    "utility_real": "utility",
    "dcr_share": "privacy",
    "exact_copy_rate": "privacy",
    "exact_copy_rate_holdout": "privacy",
    "nndr": "privacy",
    "nndr_holdout": "privacy",
    "mia_auc": "privacy",
    # membership attacks' worst case (tabgen.metrics.attacks.membership_attacks)
    "mia_auc_worst": "privacy",
    "mia_tpr_at_1pct_fpr": "privacy",
    "mia_tpr_at_0.1pct_fpr": "privacy",
    "records_at_risk": "privacy",
}


class Report:
    """Results of :func:`evaluate`: headline scores, details, and JSON / HTML renderings.

    Parameters
    ----------
    results : dict of str to MetricResult
        One entry per metric group that ran.
    skipped : dict of str to str, optional
        Metric groups that did not run, with the reason.
    kinds : dict of str to str, optional
        The column kinds used.
    config : dict, optional
        The settings of the run (sizes, seed, ...).
    time_s : float, default NaN
        Wall-clock seconds of the evaluation.
    frames : dict of str to DataFrame, optional
        ``real`` / ``synthetic`` (and ``holdout``) tables, kept for the HTML plots only.

    Attributes
    ----------
    results : dict of str to MetricResult
    skipped : dict of str to str
    kinds : dict of str to str
    config : dict
    time_s : float
    """

    def __init__(
        self,
        results: Mapping[str, MetricResult],
        *,
        skipped: Mapping[str, str] | None = None,
        kinds: Mapping[str, str] | None = None,
        config: Mapping[str, Any] | None = None,
        time_s: float = float("nan"),
        frames: Mapping[str, pd.DataFrame] | None = None,
    ) -> None:
        self.results = dict(results)
        self.skipped = dict(skipped or {})
        self.kinds = dict(kinds or {})
        self.config = dict(config or {})
        self.time_s = time_s
        self._frames = dict(frames or {})

    @property
    def scores(self) -> dict[str, float]:
        """Flat dict of the headline numbers (every key of ``HEADLINE_KEYS`` plus ``time_s``)."""
        out = {key: float("nan") for key in HEADLINE_KEYS}
        for result in self.results.values():
            out.update({k: float(v) for k, v in result.scores.items()})
        out["time_s"] = float(self.time_s)
        return out

    @property
    def details(self) -> dict[str, dict[str, Any]]:
        """Per-group details (per-column shapes, per-pair trends, fold AUCs, ...) and notes."""
        out = {}
        for group, result in self.results.items():
            entry = dict(result.details)
            if result.notes:
                entry["notes"] = dict(result.notes)
            out[group] = entry
        return out

    @property
    def arrays(self) -> dict[str, np.ndarray]:
        """Raw per-row arrays (e.g. ``dcr_train``, ``dcr_holdout``), not written to JSON."""
        out = {}
        for result in self.results.values():
            out.update(result.arrays)
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: ``scores``, ``details``, ``skipped``, ``kinds``, ``config``."""
        return jsonable(
            {
                "scores": self.scores,
                "details": self.details,
                "skipped": self.skipped,
                "kinds": self.kinds,
                "config": self.config,
            }
        )

    def to_json(
        self, path: str | Path | None = None, *, indent: int = 2, overwrite: bool = False
    ) -> str:
        """Return the report as JSON (NaN written as null); also write it when ``path`` is given.

        The file is written atomically (temporary file renamed into place); an existing
        ``path`` raises ``FileExistsError`` unless ``overwrite=True``.

        Examples
        --------
        >>> import json
        >>> from tabgen.metrics import evaluate
        >>> real = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "c": list("abab")})
        >>> report = evaluate(real, real, metrics=["fidelity"])
        >>> json.loads(report.to_json())["scores"]["shape"]
        1.0
        """
        if path is not None:
            path = check_output(path, overwrite=overwrite)
        text = json.dumps(self.to_dict(), indent=indent, allow_nan=False)
        if path is not None:
            write_text(path, text)
        return text

    def to_html(
        self, path: str | Path | None = None, *, max_columns: int = 50, overwrite: bool = False
    ) -> Path | str:
        """Render the report as one self-contained HTML page; write it when ``path`` is given.

        The page opens with the verdict (one line per metric group), then the scores, the
        per-column shapes, SVG small multiples of the distributions (real vs synthetic, at
        most ``max_columns`` columns: the worst-scoring ones when there are more), the
        association heatmaps (real, synthetic, 1 − trend score), the worst column pairs and
        the privacy sections. The Anonymizer's report (or one with privacy groups only) is
        titled and ordered as a privacy report. Needs matplotlib.

        Parameters
        ----------
        path : str or path-like, optional
            Where to write the page. Written atomically (temporary file renamed into place);
            an existing file raises ``FileExistsError`` unless ``overwrite=True``.
        max_columns : int, default 50
            Most columns drawn.
        overwrite : bool, default False
            Replace an existing ``path``.

        Returns
        -------
        pathlib.Path or str
            The path written, or the page itself when no ``path`` is given.
        """
        if not isinstance(max_columns, (int, np.integer)) or max_columns < 1:
            raise ValueError(f"max_columns must be a positive integer, got {max_columns!r}")
        if path is not None:
            path = check_output(path, overwrite=overwrite)
        page = self._render(max_columns=int(max_columns), full_page=True)
        if path is None:
            return page
        write_text(path, page)
        return path

    def _render(self, *, max_columns: int, full_page: bool) -> str:
        from ._html import render_html

        with warnings.catch_warnings():
            # Labels in scripts the default font lacks render as boxes; not worth a warning.
            warnings.filterwarnings("ignore", message="Glyph .* missing from font")
            return render_html(self, max_columns=max_columns, full_page=full_page)

    def _repr_html_(self) -> str:
        """The report shown inline in a notebook (the page body, figures included)."""
        return self._render(max_columns=50, full_page=False)

    @property
    def verdict(self) -> dict[str, str]:
        """One plain-language sentence per metric group that ran (``fidelity``,
        ``detection``, ``utility``, ``privacy``), as at the top of the HTML page."""
        from ._verdict import verdict

        return verdict(self)

    def __repr__(self) -> str:
        shown = [
            f"{k}={v:.4g}" for k, v in self.scores.items() if k != "time_s" and not math.isnan(v)
        ]
        skipped = f", skipped={sorted(self.skipped)}" if self.skipped else ""
        return f"Report({', '.join(shown)}, time_s={self.time_s:.1f}{skipped})"
