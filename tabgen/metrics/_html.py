"""Self-contained HTML rendering of a :class:`~tabgen.metrics.report.Report`.

The page opens with the verdict (one line per metric group), then the tables and the SVG
figures of :mod:`tabgen.metrics._figures`. A report with the Anonymizer's safeguards, or with
only privacy groups, is a *privacy report*: titled so, privacy sections first.
"""

from __future__ import annotations

import math
from html import escape
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import _figures as figs
from ._verdict import verdict
from .fidelity import PAIR_COLUMNS, column_pair_trends

if TYPE_CHECKING:  # pragma: no cover
    from .report import Report

_DESCRIPTIONS = {
    "shape": ("Column shapes (KS / TV complement), mean over columns", "1"),
    "trend": ("Column pair trends (correlation / contingency similarity)", "1"),
    "missing_similarity": ("Missing-rate similarity, mean over columns", "1"),
    "detection_lr_auc": ("C2ST ROC-AUC, logistic regression", "0.5"),
    "detection_gb_auc": ("C2ST ROC-AUC, gradient boosting", "0.5"),
    "detection_score_lr": ("Detection score 1 - (2·max(AUC, .5) - 1), logistic", "1"),
    "detection_score_gb": ("Detection score, gradient boosting", "1"),
    "alpha_precision": ("α-precision (naive)", "1"),
    "beta_recall": ("β-recall (naive)", "1"),
    "utility_synthetic": ("Utility, model trained on synthetic, tested on holdout", "≈ real"),
    "utility_real": ("Utility, model trained on real (baseline)", "–"),
    "dcr_share": ("Share of synthetic rows closer to train than to holdout", "0.5"),
    "exact_copy_rate": ("Synthetic rows identical to a training row", "≈ holdout rate"),
    "exact_copy_rate_holdout": ("Synthetic rows identical to a holdout row", "–"),
    "nndr": ("Median nearest/second-nearest distance ratio to train", "≈ holdout NNDR"),
    "nndr_holdout": ("Same ratio against the holdout", "–"),
    "mia_auc": ("Membership-inference ROC-AUC (distance to synthetic)", "0.5"),
    "singling_out_univariate_risk": ("Singling-out risk, one-column predicates", "0"),
    "singling_out_univariate_risk_low": ("Lower end of its confidence interval", "0"),
    "singling_out_univariate_risk_high": ("Upper end of its confidence interval", "0"),
    "singling_out_multivariate_risk": ("Singling-out risk, multi-column predicates", "0"),
    "singling_out_multivariate_risk_low": ("Lower end of its confidence interval", "0"),
    "singling_out_multivariate_risk_high": ("Upper end of its confidence interval", "0"),
    "linkability_risk": ("Linkability risk (two column halves linked via synthetic)", "0"),
    "linkability_risk_low": ("Lower end of its confidence interval", "0"),
    "linkability_risk_high": ("Upper end of its confidence interval", "0"),
    "inference_risk": ("Attribute-inference risk, most exposed secret column", "0"),
    "inference_risk_low": ("Lower end of its confidence interval", "0"),
    "inference_risk_high": ("Upper end of its confidence interval", "0"),
    "inference_risk_high_max": ("Largest upper end over all secret columns", "0"),
    "inference_risk_high_floor": ("Leak-free floor of that upper end (same counts)", "≥ upper end"),
    "time_s": ("Evaluation time, seconds", "–"),
}

_CSS = """
.tabgen-report{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:1300px;
color:#222;padding:0 1em;margin:0 auto}
.tabgen-report table{border-collapse:collapse;margin:1em 0}
.tabgen-report td,.tabgen-report th{border:1px solid #ccc;padding:4px 8px;text-align:left}
.tabgen-report th{background:#f3f3f3}
.tabgen-report td.num{text-align:right;font-variant-numeric:tabular-nums}
.tabgen-report svg{max-width:100%;height:auto}
.tabgen-report .note{color:#666;font-size:90%}
.tabgen-report .verdict td:first-child{font-weight:600;text-transform:capitalize}
.tabgen-report .figures{display:flex;flex-wrap:wrap;gap:1em;align-items:flex-start}
.tabgen-report .figures>figure{margin:0;flex:1 1 400px}
"""


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, (float, np.floating)):
        return "–" if math.isnan(value) else f"{value:.4f}"
    return escape(str(value))


def _note(text: str) -> str:
    return f"<p class='note'>{escape(text)}</p>"


def _table(rows: list[list[Any]], header: list[str]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = []
    for row in rows:
        cells = []
        for value in row:
            cls = ' class="num"' if isinstance(value, (int, float, np.number)) else ""
            cells.append(f"<td{cls}>{_fmt(value)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


_ATTACK_LABELS = {
    "singling_out_univariate": "Singling out, univariate",
    "singling_out_multivariate": "Singling out, multivariate",
    "linkability": "Linkability",
    "inference": "Inference (most exposed secret)",
}


def _attacks_section(result: Any) -> list[str]:
    """The "Privacy attacks" section: one row per attack, then the top inference secrets."""
    details = result.details
    confidence = details.get("settings", {}).get("confidence", 0.95)
    level = f"{100 * confidence:g} %"
    parts = ["<h2>Privacy attacks (measured risk)</h2>"]
    parts.append(
        "<p class='note'>"
        + escape(
            "Anonymeter-style attacks on the training rows, with the same attacks on the "
            "holdout rows as the control: risk = (attack − control) / (1 − control). These are "
            f"empirical risk estimates with {level} confidence intervals, not a guarantee."
        )
        + "</p>"
    )
    rows = []
    for name, label in _ATTACK_LABELS.items():
        entry = details.get(name)
        if not isinstance(entry, dict):
            continue
        if name == "inference" and "secret" in entry:
            label = f"{label}: {entry['secret']}"
        rows.append(
            [
                label,
                entry.get("risk"),
                entry.get("risk_low"),
                entry.get("risk_high"),
                entry.get("attack_rate"),
                entry.get("control_rate"),
                entry.get("baseline_rate"),
                entry.get("n_attacks"),
            ]
        )
    header = ["attack", "risk", f"{level} CI low", f"{level} CI high"]
    header += ["attack rate", "control rate", "baseline rate", "n"]
    parts.append(_table(rows, header))
    per_secret = details.get("inference_per_secret")
    if isinstance(per_secret, pd.DataFrame) and len(per_secret):
        top = per_secret.sort_values("risk", ascending=False, kind="stable").head(10)
        parts.append("<h3>Inference risk by secret column (highest 10)</h3>")
        columns = ["secret", "kind", "risk", "low", "high"]
        columns += ["attack_rate", "control_rate", "baseline_rate"]
        header = ["secret", "kind", "risk", "CI low", "CI high"]
        header += ["attack rate", "control rate", "baseline rate"]
        parts.append(_table(top[columns].values.tolist(), header))
    return parts


def _safeguards_section(guards: dict) -> list[str]:
    """What :class:`tabgen.pipelines.Anonymizer` did before and after generation."""
    pii = ", ".join(f"{c} ({t})" for c, t in guards.get("pii_columns", {}).items()) or "none"
    rare = guards.get("rare_categories_merged", {})
    rows = [
        ["synthesizer", guards.get("synthesizer")],
        [
            "training rows / holdout rows",
            f"{guards.get('rows_train')} / {guards.get('rows_holdout')}",
        ],
        [f"PII and key columns ({guards.get('pii_action')})", pii],
        [
            f"categories seen < {guards.get('rare_threshold')} times merged",
            ", ".join(f"{c}: {n}" for c, n in rare.items()) or "none",
        ],
        [
            "columns clipped to robust bounds",
            ", ".join(guards.get("clipped_columns", [])) or "none",
        ],
        [
            "near-copy filter (distance threshold)",
            f"quantile {guards.get('distance_quantile')}: "
            + _fmt(guards.get("distance_threshold")),
        ],
        [
            "rows generated / near-copies replaced",
            f"{guards.get('rows_generated')} / {guards.get('rows_replaced')}",
        ],
    ]
    return [
        "<h2>Safeguards</h2>",
        "<p class='note'>" + escape(str(guards.get("wording", ""))) + "</p>",
        _table(rows, ["safeguard", "applied"]),
    ]


def is_privacy_report(report: Report) -> bool:
    """True for the Anonymizer's report or one that measured privacy only."""
    if isinstance(report.config.get("anonymizer"), dict):
        return True
    ran = set(report.results) | set(report.skipped)
    return bool(ran) and ran <= {"privacy", "attacks"}


def _verdict_section(report: Report) -> list[str]:
    lines = verdict(report)
    if not lines:
        return []
    rows = "".join(
        f"<tr><td>{escape(group)}</td><td>{escape(text)}</td></tr>" for group, text in lines.items()
    )
    return [
        "<h2>Verdict</h2>",
        f"<table class='verdict'>{rows}</table>",
        _note(
            "Grades are rules of thumb: fidelity (the lower of shape and trend) good ≥ 0.90, "
            "fair ≥ 0.80; detection good at "
            "AUC ≤ 0.60, fair ≤ 0.80; utility good ≥ 95 % of the real-data score, fair ≥ 85 %."
        ),
    ]


def _scores_table(report: Report, keys: list[str]) -> str:
    scores = report.scores
    rows = []
    for key in keys:
        description, ideal = _DESCRIPTIONS.get(key, ("", ""))
        rows.append([key, scores.get(key, math.nan), ideal, description])
    return _table(rows, ["score", "value", "ideal", "meaning"])


def _details_section(details: dict, skip: tuple[str, ...] = ()) -> list[str]:
    """Any group's details, generically: scalars and small dicts in one table, frames below."""
    rows, frames = [], []
    for key, value in details.items():
        if key in skip:
            continue
        if isinstance(value, pd.DataFrame):
            frames.append((key, value))
        elif isinstance(value, dict):
            flat = ", ".join(f"{k}: {_fmt(v)}" for k, v in value.items())
            rows.append(f"<tr><td>{escape(str(key))}</td><td>{flat}</td></tr>")
        elif isinstance(value, (list, tuple, np.ndarray)):
            shown = ", ".join(_fmt(v) for v in list(value)[:20])
            rows.append(f"<tr><td>{escape(str(key))}</td><td>{shown}</td></tr>")
        else:
            rows.append(f"<tr><td>{escape(str(key))}</td><td>{_fmt(value)}</td></tr>")
    parts = []
    if rows:
        parts.append(f"<table><tr><th>detail</th><th>value</th></tr>{''.join(rows)}</table>")
    for key, frame in frames:
        parts.append(f"<h3>{escape(str(key))}</h3>")
        parts.append(_table(frame.head(20).values.tolist(), [str(c) for c in frame.columns]))
    return parts


def _privacy_sections(report: Report) -> list[str]:
    parts = []
    result = report.results.get("privacy")
    if result is not None:
        parts.append("<h2>Privacy scores</h2>")
        parts.append(
            _note(
                "Distances are measured on min-max scaled numbers and one-hot categories; a "
                "holdout (real rows the generator never saw) is the yardstick for 'too close'."
            )
        )
        parts.append(_scores_table(report, list(result.scores)))
        if result.notes:
            notes = [[k, v] for k, v in result.notes.items()]
            parts.append(_table(notes, ["score", "note"]))
        parts += _details_section(result.details)
    arrays = report.arrays
    if "dcr_train" in arrays and "dcr_holdout" in arrays:
        parts.append("<h2>Distance to the closest record</h2>")
        parts.append(
            _note(
                "If the generator copied its training rows, the solid (training) curve would "
                "sit left of the dashed (holdout) one."
            )
        )
        parts.append(figs.dcr_figure(arrays["dcr_train"], arrays["dcr_holdout"]))
    attacks = report.results.get("attacks")
    if attacks is not None:
        parts += _attacks_section(attacks)
        known = {f"{name}_risk" for name in _ATTACK_LABELS}
        known |= {f"{k}_low" for k in known} | {f"{k}_high" for k in known}
        extra = [k for k in attacks.scores if k not in known]
        if extra:
            parts.append("<h3>Other attack scores</h3>")
            parts.append(_scores_table(report, extra))
    guards = report.config.get("anonymizer")
    if isinstance(guards, dict):
        parts += _safeguards_section(guards)
    return parts


def _fidelity_tables(report: Report) -> list[str]:
    fid = report.results.get("fidelity")
    if fid is None:
        return []
    shapes = fid.details["column_shapes"]
    parts = ["<h2>Column shapes</h2>"]
    parts.append(
        _table(
            shapes[
                ["column", "kind", "metric", "score", "missing_real", "missing_synthetic"]
            ].values.tolist(),
            ["column", "kind", "metric", "score", "missing (real)", "missing (synthetic)"],
        )
    )
    trends = fid.details["column_pair_trends"]
    if len(trends):
        worst = trends.sort_values("score", kind="stable").head(15)
        parts.append("<h2>Column pairs with the lowest trend scores</h2>")
        parts.append(
            _table(
                worst[list(PAIR_COLUMNS)].values.tolist(),
                ["column 1", "column 2", "metric", "score", "ρ real", "ρ synthetic"],
            )
        )
    return parts


def _columns_to_plot(report: Report, max_columns: int) -> list[str]:
    columns = list(report.kinds)
    if len(columns) <= max_columns:
        return columns
    shapes = report.results.get("fidelity")
    if shapes is None:
        return columns[:max_columns]
    table = shapes.details["column_shapes"].sort_values("score", kind="stable")
    worst = set(table["column"].head(max_columns))
    return [c for c in columns if c in worst]


def _figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption class='note'>{escape(caption)}</figcaption></figure>"


def _figure_sections(report: Report, max_columns: int) -> list[str]:
    real, synth = report._frames["real"], report._frames["synthetic"]
    columns = _columns_to_plot(report, max_columns)
    fid = report.results.get("fidelity")
    shapes = {}
    if fid is not None:
        table = fid.details["column_shapes"]
        shapes = dict(zip(table["column"], table["score"]))
    parts = ["<h2>Distributions, real vs synthetic</h2>"]
    shown = f"{len(columns)} of {len(report.kinds)} columns shown"
    if len(columns) < len(report.kinds):
        shown += f" (the {len(columns)} with the lowest shape scores; raise max_columns for more)"
    parts.append(
        _note(
            f"{shown}. Real: filled area; synthetic: dashed outline (bars: hatched). Where they "
            "agree the outline runs along the edge of the area. Mostly-zero or heavy-tailed "
            "columns are drawn on log scales (said in the panel title)."
        )
    )
    for chunk, svg in figs.distribution_figures(real, synth, report.kinds, columns, shapes):
        parts.append(_figure(svg, "columns: " + ", ".join(map(str, chunk))))
    if len(columns) >= 2:
        parts.append("<h2>Associations between columns</h2>")
        parts.append(
            _note(
                "Measured as the trend score measures them: Pearson's ρ for pairs of number "
                "columns, Cramér's V (0 to 1) for pairs with a category, numbers cut into 10 "
                "bins. The third map is 1 − the pair's trend score: |Δρ|/2 for number pairs, "
                "the distance between the joint distributions for pairs with a category."
            )
        )
        assoc_real, assoc_synth = figs.association_matrices(real, synth, report.kinds, columns)
        if fid is not None:
            trends = fid.details["column_pair_trends"]
        else:
            kinds = {c: report.kinds[c] for c in columns}
            trends = column_pair_trends(real[columns], synth[columns], metadata=kinds)
        gap = figs.trend_gap(trends, columns)
        svgs = figs.heatmap_figures(
            [
                (assoc_real, "real: ρ / Cramér's V", "RdBu_r", -1.0, 1.0),
                (assoc_synth, "synthetic: ρ / Cramér's V", "RdBu_r", -1.0, 1.0),
                (gap, "1 − trend score (0 = same)", "Reds", 0.0, 1.0),
            ]
        )
        captions = ("real table", "synthetic table", "difference, consistent with the trend")
        parts.append(
            "<div class='figures'>"
            + "".join(_figure(s, c) for s, c in zip(svgs, captions))
            + "</div>"
        )
    return parts


def render_html(report: Report, *, max_columns: int = 50, full_page: bool = True) -> str:
    """Return the report as HTML (all text escaped, figures inlined as SVG).

    ``full_page=False`` gives a ``<div>`` fragment (with its scoped style) for notebooks.
    """
    privacy_first = is_privacy_report(report)
    title = "tabgen privacy report" if privacy_first else "tabgen evaluation report"
    parts = [f"<div class='tabgen-report'><style>{_CSS}</style><h1>{title}</h1>"]
    cfg = report.config
    parts.append(
        _note(
            f"real rows: {cfg.get('rows_real')}, synthetic rows: {cfg.get('rows_synthetic')}, "
            f"holdout rows: {cfg.get('rows_holdout')}, target: {cfg.get('target')}, "
            f"row cap for detection/precision-recall/privacy: {cfg.get('max_rows')}"
        )
    )
    parts += _verdict_section(report)
    if privacy_first:
        parts += _privacy_sections(report)
        parts.append("<h2>What the synthetic data keep</h2>")

    parts.append("<h2>Summary</h2>" if not privacy_first else "<h3>All scores</h3>")
    parts.append(_scores_table(report, list(report.scores)))
    notes = [(g, k, v) for g, r in report.results.items() for k, v in r.notes.items()]
    notes += [(g, "skipped", reason) for g, reason in report.skipped.items()]
    if notes:
        parts.append("<h3>Notes</h3>")
        parts.append(_table([list(n) for n in notes], ["group", "item", "note"]))

    parts += _fidelity_tables(report)
    if "real" in report._frames and "synthetic" in report._frames:
        parts += _figure_sections(report, max_columns)
    else:
        parts.append(_note("No tables attached to this report: plots omitted."))
    if not privacy_first:
        parts += _privacy_sections(report)
    parts.append("</div>")
    body = "\n".join(parts)
    if not full_page:
        return body
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{title}</title></head><body>\n{body}\n</body></html>"
    )
