"""SVG figures of the HTML report: distributions, association heatmaps, DCR histogram.

matplotlib is imported here only, inside the functions, and used through the object API: no
pyplot, no global backend switch, nothing at ``import tabgen.metrics``. Figures are written as
SVG with their text kept as ``<text>`` elements (``svg.fonttype = "none"``), so labels stay
sharp at any zoom and can be searched in the page.
"""

from __future__ import annotations

import io
import itertools
import math
import re
from typing import Any

import numpy as np
import pandas as pd

from ._columns import joint_codes, to_float
from .similarity import _category_codes, _discretise_pair

REAL, SYNTH, HOLD = "#1f77b4", "#ff7f0e", "#2ca02c"
#: Panels per distribution figure (one "page" of small multiples: 3 rows of 4).
PANELS_PER_FIGURE = 12
_PANEL_COLUMNS = 4
_TOP_CATEGORIES = 10
_TREND_BINS = 10  # the bins of the trend score's ContingencySimilarity


def plain(text: Any, limit: int = 40) -> str:
    """Text safe for matplotlib (no mathtext) and short enough for a label."""
    text = str(text)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.replace("$", r"\$")


def to_svg(fig: Any) -> str:
    """Inline ``<svg>`` markup of a matplotlib figure (no XML prologue), text as text."""
    import matplotlib
    from matplotlib.backends.backend_svg import FigureCanvasSVG

    FigureCanvasSVG(fig)
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "tabgen"}):
        fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buffer.getvalue()
    start = text.find("<svg")
    return text[start:] if start >= 0 else text


def _uniquify_ids(svg: str, prefix: str) -> str:
    """Prefix every ``id`` (and its references) so that several inline SVGs can share a page."""
    ids = set(re.findall(r'\bid="([^"]+)"', svg))
    if not ids:
        return svg
    pattern = re.compile(r'(\bid="|#)(' + "|".join(re.escape(i) for i in ids) + r')(?=["\)])')
    return pattern.sub(lambda m: f"{m.group(1)}{prefix}{m.group(2)}", svg)


class _Ids:
    """Hands out ``<name>0-``, ``<name>1-``, ... prefixes for a family of figures."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._count = itertools.count()

    def __call__(self, svg: str) -> str:
        return _uniquify_ids(svg, f"{self._name}{next(self._count)}-")


def needs_log_scale(values: np.ndarray) -> bool:
    """True for a non-negative column that is mostly zeros or heavy-tailed.

    Mostly zeros: at least half the values are 0 and some are positive (``capital_gain``).
    Heavy-tailed: the largest value is over 1,000 times the median positive value.
    """
    values = values[np.isfinite(values)]
    if len(values) == 0 or values.min() < 0:
        return False
    positive = values[values > 0]
    if len(positive) == 0:
        return False
    if (values == 0).mean() >= 0.5:
        return True
    return bool(positive.max() > 1000 * np.median(positive))


def _numeric_panel(ax: Any, real: np.ndarray, synth: np.ndarray, kind: str) -> str:
    """Real as a filled translucent area, synthetic as a dashed outline; returns a scale note."""
    r, s = real[~np.isnan(real)], synth[~np.isnan(synth)]
    both = np.concatenate([r, s])
    if len(both) == 0:
        ax.text(0.5, 0.5, "all missing", ha="center", transform=ax.transAxes)
        return ""
    log = kind == "numerical" and needs_log_scale(both)
    if log:
        top = math.log10(1.0 + float(both.max()))
        edges = 10.0 ** np.linspace(0.0, top, 31) - 1.0
        lo, hi = 0.0, float(both.max())
    else:
        lo, hi = np.quantile(both, [0.005, 0.995])
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5
        edges = np.linspace(lo, hi, 31)
    x = edges
    if kind == "datetime":
        from matplotlib import dates

        x = dates.date2num(edges.astype("int64").astype("datetime64[ns]"))
        ax.xaxis_date()
    shares = []
    for values in (r, s):
        counts, _ = np.histogram(np.clip(values, lo, hi), bins=edges)
        shares.append(counts / max(len(values), 1))
    baseline = 0.0
    if log:
        positive = np.concatenate(shares)
        positive = positive[positive > 0]
        baseline = float(positive.min()) / 2 if len(positive) else 1e-4
        ax.set_xscale("symlog", linthresh=1.0)
        ax.set_yscale("log")
    if len(r):
        ax.stairs(
            np.maximum(shares[0], baseline),
            x,
            baseline=baseline,
            fill=True,
            color=REAL,
            alpha=0.35,
            label="real",
        )
        ax.stairs(np.maximum(shares[0], baseline), x, baseline=baseline, color=REAL, linewidth=1.2)
    if len(s):
        ax.stairs(
            np.maximum(shares[1], baseline),
            x,
            baseline=baseline,
            color=SYNTH,
            linewidth=1.6,
            linestyle="--",
            label="synthetic",
        )
    elif kind == "numerical":
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(5))
        ax.ticklabel_format(axis="x", style="sci", scilimits=(-3, 4))
    return "log scales" if log else ""


def _categorical_panel(ax: Any, real: pd.Series, synth: pd.Series) -> None:
    """Side-by-side bars of the most frequent categories (others and missing grouped)."""
    (rc, sc), uniques = joint_codes([real, synth])
    size = len(uniques)
    r = np.bincount(np.where(rc < 0, size, rc), minlength=size + 1) / max(len(rc), 1)
    s = np.bincount(np.where(sc < 0, size, sc), minlength=size + 1) / max(len(sc), 1)
    order = np.argsort(-(r[:size] + s[:size] / 1e6), kind="stable")[:_TOP_CATEGORIES]
    labels = [plain(uniques[i], 18) for i in order]
    rv, sv = list(r[order]), list(s[order])
    rest = np.setdiff1d(np.arange(size), order)
    if len(rest):
        labels.append(f"(other {len(rest)})")
        rv.append(r[rest].sum())
        sv.append(s[rest].sum())
    if r[size] > 0 or s[size] > 0:
        labels.append("(missing)")
        rv.append(r[size])
        sv.append(s[size])
    pos = np.arange(len(labels))
    ax.barh(pos - 0.2, rv, height=0.4, color=REAL, alpha=0.6, edgecolor=REAL, label="real")
    ax.barh(
        pos + 0.2,
        sv,
        height=0.4,
        color="none",
        edgecolor=SYNTH,
        hatch="///",
        linewidth=1.0,
        label="synthetic",
    )
    ax.set_yticks(pos)
    ax.set_yticklabels(labels, fontsize=7)
    ax.invert_yaxis()


def distribution_figures(
    real: pd.DataFrame,
    synth: pd.DataFrame,
    kinds: dict[str, str],
    columns: list[str],
    shapes: dict[str, float],
) -> list[tuple[list[str], str]]:
    """Small multiples, :data:`PANELS_PER_FIGURE` columns per figure.

    Returns
    -------
    list of (columns, svg)
        One entry per figure with the columns it shows.
    """
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    ids = _Ids("dist")
    out = []
    for start in range(0, len(columns), PANELS_PER_FIGURE):
        chunk = columns[start : start + PANELS_PER_FIGURE]
        nrows = math.ceil(len(chunk) / _PANEL_COLUMNS)
        fig = Figure(figsize=(13, 2.7 * nrows + 0.4))
        axes = fig.subplots(nrows, _PANEL_COLUMNS, squeeze=False).ravel()
        for ax, column in zip(axes, chunk):
            kind = kinds[column]
            note = ""
            if kind == "categorical":
                _categorical_panel(ax, real[column], synth[column])
            else:
                note = _numeric_panel(
                    ax, to_float(real[column], kind), to_float(synth[column], kind), kind
                )
            score = shapes.get(column)
            extra = [] if score is None or np.isnan(score) else [f"shape {score:.2f}"]
            extra += [note] if note else []
            title = plain(column) + (f"  ({', '.join(extra)})" if extra else "")
            ax.set_title(title, fontsize=9)
            ax.tick_params(labelsize=7)
        for ax in axes[len(chunk) :]:
            ax.set_visible(False)
        handles = [
            Patch(facecolor=REAL, alpha=0.45, edgecolor=REAL, label="real"),
            Patch(facecolor="none", edgecolor=SYNTH, hatch="///", label="synthetic"),
        ]
        fig.legend(handles=handles, loc="upper right", ncol=2, fontsize=8, frameon=False)
        fig.tight_layout(rect=(0, 0, 1, 1 - 0.35 / fig.get_figheight()))
        out.append((chunk, ids(to_svg(fig))))
    return out


def _cramers_v(a: np.ndarray, b: np.ndarray, size_a: int, size_b: int) -> float:
    table = np.bincount(a * size_b + b, minlength=size_a * size_b).reshape(size_a, size_b)
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0].astype(np.float64)
    if min(table.shape) < 2:
        return np.nan
    n = table.sum()
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / n
    chi2 = float(((table - expected) ** 2 / expected).sum())
    return math.sqrt(chi2 / (n * (min(table.shape) - 1)))


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    keep = ~(np.isnan(x) | np.isnan(y))
    x, y = x[keep], y[keep]
    if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return np.nan
    return float(np.corrcoef(x, y)[0, 1])


def association_matrices(
    real: pd.DataFrame, synth: pd.DataFrame, kinds: dict[str, str], columns: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Association of every column pair in each table, measured as the trend score does.

    Number pairs (numerical / datetime): Pearson's ρ on the rows where both are present.
    Pairs with a category: Cramér's V of the contingency table, a number column cut into
    the trend score's 10 equal-width bins and missing values counted as a level.
    """
    continuous = {c for c in columns if kinds[c] != "categorical"}
    floats, discrete = {}, {}
    for column in columns:
        kind = kinds[column]
        if column in continuous:
            r, s = to_float(real[column], kind), to_float(synth[column], kind)
            floats[column] = (r, s)
            discrete[column] = _discretise_pair(r, s, _TREND_BINS, "each")
        else:
            discrete[column] = _category_codes(real[column], synth[column])
    names = [str(c) for c in columns]
    mats = [np.eye(len(columns)), np.eye(len(columns))]
    for (i, c1), (j, c2) in itertools.combinations(enumerate(columns), 2):
        for t in (0, 1):
            if c1 in continuous and c2 in continuous:
                value = _pearson(floats[c1][t], floats[c2][t])
            else:
                (r1, s1, k1), (r2, s2, k2) = discrete[c1], discrete[c2]
                value = _cramers_v((r1, s1)[t], (r2, s2)[t], k1, k2)
            mats[t][i, j] = mats[t][j, i] = value
    return tuple(pd.DataFrame(m, index=names, columns=names) for m in mats)


def trend_gap(trends: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``1 - trend score`` per pair as a symmetric matrix (0 on the diagonal)."""
    names = [str(c) for c in columns]
    index = {c: i for i, c in enumerate(columns)}
    out = np.zeros((len(columns), len(columns)))
    for c1, c2, score in trends[["column_1", "column_2", "score"]].itertuples(index=False):
        if c1 in index and c2 in index:
            out[index[c1], index[c2]] = out[index[c2], index[c1]] = 1.0 - score
    return pd.DataFrame(out, index=names, columns=names)


def heatmap_figures(matrices: list[tuple[pd.DataFrame, str, str, float, float]]) -> list[str]:
    """One SVG per ``(matrix, title, colormap, vmin, vmax)``."""
    from matplotlib.figure import Figure

    ids = _Ids("heat")
    out = []
    for matrix, title, cmap, vmin, vmax in matrices:
        k = len(matrix)
        size = max(3.5, 0.2 * k + 1.8)
        fig = Figure(figsize=(size + 0.9, size))
        ax = fig.subplots()
        image = ax.imshow(matrix.to_numpy(dtype=float), vmin=vmin, vmax=vmax, cmap=cmap)
        labels = [plain(c, 20) for c in matrix.columns]
        fontsize = 7 if k <= 30 else 6
        ax.set_xticks(range(k))
        ax.set_xticklabels(labels, rotation=90, fontsize=fontsize)
        ax.set_yticks(range(k))
        ax.set_yticklabels(labels, fontsize=fontsize)
        ax.set_title(title, fontsize=9)
        fig.colorbar(image, ax=ax, fraction=0.046)
        fig.tight_layout()
        out.append(ids(to_svg(fig)))
    return out


def dcr_figure(d_train: np.ndarray, d_holdout: np.ndarray) -> str:
    """Histograms of the distance to the closest training / holdout row, both visible."""
    from matplotlib.figure import Figure

    both = np.concatenate([d_train, d_holdout])
    hi = float(np.quantile(both, 0.99)) if len(both) else 1.0
    edges = np.linspace(0.0, hi if hi > 0 else 1.0, 41)
    fig = Figure(figsize=(7, 3))
    ax = fig.subplots()
    styles = (
        (d_train, REAL, "to closest training row", "-"),
        (d_holdout, HOLD, "to closest holdout row", "--"),
    )
    for values, color, label, style in styles:
        counts, _ = np.histogram(np.clip(values, 0, edges[-1]), bins=edges)
        share = counts / max(len(values), 1)
        ax.stairs(share, edges, fill=True, color=color, alpha=0.2)
        ax.stairs(share, edges, color=color, label=label, linewidth=1.6, linestyle=style)
    ax.set_xlabel("distance of each synthetic row", fontsize=8)
    ax.set_ylabel("share of synthetic rows", fontsize=8)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return _uniquify_ids(to_svg(fig), "dcr-")
