"""Self-contained HTML rendering of a :class:`~tabgen.metrics.report.Report`.

matplotlib is imported here only, inside the functions, and used through the object API with
the Agg canvas: no pyplot, no global backend switch, nothing at ``import tabgen.metrics``.
"""

from __future__ import annotations

import base64
import io
import math
from html import escape
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._columns import joint_codes, to_float
from .fidelity import PAIR_COLUMNS

if TYPE_CHECKING:  # pragma: no cover
    from .report import Report

_REAL, _SYNTH, _HOLD = "#1f77b4", "#ff7f0e", "#2ca02c"
_TOP_CATEGORIES = 10

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
    "time_s": ("Evaluation time, seconds", "–"),
}

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2em auto;max-width:1200px;
color:#222;padding:0 1em}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;
text-align:left}th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}
img{max-width:100%;height:auto}.note{color:#666;font-size:90%}
"""


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, (float, np.floating)):
        return "–" if math.isnan(value) else f"{value:.4f}"
    return escape(str(value))


def _plain(text: Any, limit: int = 40) -> str:
    """Text safe for matplotlib (no mathtext) and short enough for a label."""
    text = str(text)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.replace("$", r"\$")


def _png(fig: Any) -> str:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=72, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _img(data: str, alt: str) -> str:
    return f'<img alt="{escape(alt)}" src="data:image/png;base64,{data}">'


def _numeric_panel(ax: Any, real: np.ndarray, synth: np.ndarray, kind: str) -> None:
    r, s = real[~np.isnan(real)], synth[~np.isnan(synth)]
    both = np.concatenate([r, s])
    if len(both) == 0:
        ax.text(0.5, 0.5, "all missing", ha="center", transform=ax.transAxes)
        return
    lo, hi = np.quantile(both, [0.005, 0.995])
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, 31)
    x = edges
    if kind == "datetime":
        from matplotlib import dates

        x = dates.date2num(edges.astype("int64").astype("datetime64[ns]"))
        ax.xaxis_date()
    for values, color, label in ((r, _REAL, "real"), (s, _SYNTH, "synthetic")):
        if len(values):
            counts, _ = np.histogram(np.clip(values, lo, hi), bins=edges)
            ax.stairs(counts / len(values), x, color=color, label=label, linewidth=1.5)


def _categorical_panel(ax: Any, real: pd.Series, synth: pd.Series) -> None:
    (rc, sc), uniques = joint_codes([real, synth])
    size = len(uniques)
    r = np.bincount(np.where(rc < 0, size, rc), minlength=size + 1) / max(len(rc), 1)
    s = np.bincount(np.where(sc < 0, size, sc), minlength=size + 1) / max(len(sc), 1)
    order = np.argsort(-(r[:size] + s[:size] / 1e6), kind="stable")[:_TOP_CATEGORIES]
    labels = [_plain(uniques[i], 18) for i in order]
    rv, sv = list(r[order]), list(s[order])
    rest = np.setdiff1d(np.arange(size), order)
    if len(rest):
        labels.append("(other)")
        rv.append(r[rest].sum())
        sv.append(s[rest].sum())
    if r[size] > 0 or s[size] > 0:
        labels.append("(missing)")
        rv.append(r[size])
        sv.append(s[size])
    pos = np.arange(len(labels))
    ax.barh(pos - 0.2, rv, height=0.4, color=_REAL, label="real")
    ax.barh(pos + 0.2, sv, height=0.4, color=_SYNTH, label="synthetic")
    ax.set_yticks(pos)
    ax.set_yticklabels(labels, fontsize=7)
    ax.invert_yaxis()


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


def _distribution_figure(report: Report, columns: list[str]) -> str:
    from matplotlib.figure import Figure

    real, synth = report._frames["real"], report._frames["synthetic"]
    ncols = 3
    nrows = math.ceil(len(columns) / ncols)
    fig = Figure(figsize=(12, 2.6 * nrows))
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, column in zip(axes, columns):
        kind = report.kinds[column]
        if kind == "categorical":
            _categorical_panel(ax, real[column], synth[column])
        else:
            _numeric_panel(ax, to_float(real[column], kind), to_float(synth[column], kind), kind)
        ax.set_title(_plain(column), fontsize=9)
        ax.tick_params(labelsize=7)
    for ax in axes[len(columns) :]:
        ax.set_visible(False)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    return _png(fig)


def _numeric_matrix(frame: pd.DataFrame, codes: dict[str, np.ndarray], kinds: dict) -> np.ndarray:
    out = []
    for column, kind in kinds.items():
        if kind == "categorical":
            c = codes[column].astype(np.float64)
            c[c < 0] = np.nan
            out.append(c)
        else:
            out.append(to_float(frame[column], kind))
    return np.column_stack(out)


def correlation_difference(report: Report, columns: list[str]) -> pd.DataFrame:
    """|corr_real - corr_synth| (Pearson, pairwise complete) over numerical + ordinal codes.

    Categories are coded by their order of first appearance in the real table.
    """
    real, synth = report._frames["real"], report._frames["synthetic"]
    kinds = {c: report.kinds[c] for c in columns}
    codes_r, codes_s = {}, {}
    for column, kind in kinds.items():
        if kind == "categorical":
            (codes_r[column], codes_s[column]), _ = joint_codes([real[column], synth[column]])
    names = [str(c) for c in kinds]
    corr_r = pd.DataFrame(_numeric_matrix(real, codes_r, kinds), columns=names).corr()
    corr_s = pd.DataFrame(_numeric_matrix(synth, codes_s, kinds), columns=names).corr()
    return (corr_r - corr_s).abs()


def _heatmap_figure(diff: pd.DataFrame) -> str:
    from matplotlib.figure import Figure

    k = len(diff)
    size = max(4.0, 0.35 * k + 2)
    fig = Figure(figsize=(size + 1, size))
    ax = fig.subplots()
    image = ax.imshow(diff.to_numpy(dtype=float), vmin=0.0, vmax=1.0, cmap="Reds")
    labels = [_plain(c, 20) for c in diff.columns]
    ax.set_xticks(range(k))
    ax.set_xticklabels(labels, rotation=90, fontsize=7)
    ax.set_yticks(range(k))
    ax.set_yticklabels(labels, fontsize=7)
    ax.set_title("|corr(real) − corr(synthetic)|", fontsize=10)
    fig.colorbar(image, ax=ax, fraction=0.046)
    fig.tight_layout()
    return _png(fig)


def _dcr_figure(d_train: np.ndarray, d_holdout: np.ndarray) -> str:
    from matplotlib.figure import Figure

    both = np.concatenate([d_train, d_holdout])
    hi = float(np.quantile(both, 0.99)) if len(both) else 1.0
    edges = np.linspace(0.0, hi if hi > 0 else 1.0, 41)
    fig = Figure(figsize=(7, 3))
    ax = fig.subplots()
    for values, color, label in (
        (d_train, _REAL, "to closest training row"),
        (d_holdout, _HOLD, "to closest holdout row"),
    ):
        counts, _ = np.histogram(np.clip(values, 0, edges[-1]), bins=edges)
        ax.stairs(counts / max(len(values), 1), edges, color=color, label=label, linewidth=1.5)
    ax.set_xlabel("distance of each synthetic row", fontsize=8)
    ax.set_ylabel("share of synthetic rows", fontsize=8)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return _png(fig)


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


def render_html(report: Report, *, max_columns: int = 30) -> str:
    """Return the report as one HTML page (all text escaped, plots inlined)."""
    parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'>"]
    parts.append(f"<title>tabgen evaluation report</title><style>{_CSS}</style></head><body>")
    parts.append("<h1>tabgen evaluation report</h1>")
    cfg = report.config
    parts.append(
        "<p class='note'>"
        + escape(
            f"real rows: {cfg.get('rows_real')}, synthetic rows: {cfg.get('rows_synthetic')}, "
            f"holdout rows: {cfg.get('rows_holdout')}, target: {cfg.get('target')}, "
            f"row cap for detection/precision-recall/privacy: {cfg.get('max_rows')}"
        )
        + "</p>"
    )

    parts.append("<h2>Summary</h2>")
    rows = []
    for key, value in report.scores.items():
        description, ideal = _DESCRIPTIONS.get(key, ("", ""))
        rows.append([key, value, ideal, description])
    parts.append(_table(rows, ["score", "value", "ideal", "meaning"]))
    notes = [(g, k, v) for g, r in report.results.items() for k, v in r.notes.items()]
    notes += [(g, "skipped", reason) for g, reason in report.skipped.items()]
    if notes:
        parts.append("<h3>Notes</h3>")
        parts.append(_table([list(n) for n in notes], ["group", "item", "note"]))

    has_frames = "real" in report._frames and "synthetic" in report._frames
    fid = report.results.get("fidelity")
    if fid is not None:
        shapes = fid.details["column_shapes"]
        parts.append("<h2>Column shapes</h2>")
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

    if has_frames:
        columns = _columns_to_plot(report, max_columns)
        parts.append("<h2>Distributions, real vs synthetic</h2>")
        if len(columns) < len(report.kinds):
            parts.append(
                f"<p class='note'>{len(columns)} of {len(report.kinds)} columns shown "
                "(those with the lowest shape scores).</p>"
            )
        parts.append(_img(_distribution_figure(report, columns), "per-column distributions"))
        if len(columns) >= 2:
            parts.append("<h2>Correlation difference</h2>")
            parts.append(
                "<p class='note'>Pearson correlations on numbers and on category codes "
                "(order of first appearance); 0 = same correlation in both tables.</p>"
            )
            diff = correlation_difference(report, columns)
            parts.append(_img(_heatmap_figure(diff), "correlation difference heatmap"))
    else:
        parts.append("<p class='note'>No tables attached to this report: plots omitted.</p>")

    arrays = report.arrays
    if "dcr_train" in arrays and "dcr_holdout" in arrays:
        parts.append("<h2>Privacy: distance to the closest record</h2>")
        parts.append(_img(_dcr_figure(arrays["dcr_train"], arrays["dcr_holdout"]), "DCR"))

    attacks = report.results.get("attacks")
    if attacks is not None:
        parts += _attacks_section(attacks)
    guards = report.config.get("anonymizer")
    if isinstance(guards, dict):
        parts += _safeguards_section(guards)

    parts.append("</body></html>")
    return "\n".join(parts)
