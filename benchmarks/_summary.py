"""The summary that opens ``benchmarks/RESULTS.md``: headline tables and figures read from the
JSON files in ``benchmarks/results/`` (called by ``make_results.py``; nothing is typed by hand).

Which run stands for which model is named in the ``HEADLINE_*`` tables below, so a reader can
find each figure's run (and its command) in the full log further down RESULTS.md.
"""

from __future__ import annotations

import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
FIGURES = Path(__file__).resolve().parent / "figures"

#: Per table: (run tag of ``synthesis_<tag>.json``, model key in it, label). One row each.
#: The run.py fit of the diffusion model's current defaults on Adult (quiet machine, #26).
DIFFUSION_ADULT_RUN = "diffusion_adult_quiet7"
HEADLINE_SYNTHESIS: dict[str, list[tuple[str, str, str]]] = {
    "adult": [
        (DIFFUSION_ADULT_RUN, "diffusion", "tabgen diffusion"),
        ("gan_select_vs_ctgan_s0", "gan", "tabgen GAN"),
        ("vae_adult_v3", "vae", "tabgen VAE"),
        ("adult_peers", "copula", "tabgen copula"),
        ("gan_select_vs_ctgan_s0", "sdv-ctgan", "SDV CTGAN"),
        ("ctgan_adult_seed2", "sdv-ctgan", "SDV CTGAN (2nd run)"),
        ("adult_peers", "sdv-tvae", "SDV TVAE"),
        ("adult_peers", "sdv-copula", "SDV GaussianCopula"),
    ],
}
#: Peers runs (every model on one table in one run): shown whole.
PEER_RUNS = ("shoppers_peers", "magic_peers", "beijing_peers")
#: Single-model JSONs of bench_diffusion.py shown beside the Adult table.
DIFFUSION_ADULT = ("diffusion_adult_flags", "tabgen diffusion *")

METRICS = [
    ("shape", "shape"),
    ("trend", "trend"),
    ("detection_score_gb", "detection (GB)"),
    ("utility_synthetic", "MLE AUC"),
    ("dcr_share", "DCR share"),
    ("fit_s", "fit s"),
]

STALE = (
    "\\* VAE and diffusion rows marked so predate the category-dependency post-processor that "
    "these two models now apply by default (see the note above); copula and GAN rows are "
    "unaffected. The Adult VAE row (`vae_adult_v3`, 2026-12-05) was re-run with it; other "
    "engineers' runs started during it, so its fit seconds are an upper bound."
)


def _load(name: str) -> dict | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def _median(summary: dict, key: str) -> float | None:
    cell = summary.get(key)
    if isinstance(cell, dict):
        return cell.get("median")
    return cell


def _fmt(value: float | None, key: str) -> str:
    if value is None or value != value:
        return "n/a"
    return f"{value:.1f}" if key.endswith("_s") else f"{value:.3f}"


def _synthesis_rows(dataset: str) -> list[tuple[str, dict, str]]:
    """(label, metric -> value, run tag) for the headline rows of ``dataset``."""
    rows = []
    for tag, model, label in HEADLINE_SYNTHESIS.get(dataset, []):
        res = _load(f"synthesis_{tag}")
        if res is None or model not in res["datasets"].get(dataset, {}).get("models", {}):
            continue
        summary = res["datasets"][dataset]["models"][model]["summary"]
        rows.append((label, {k: _median(summary, k) for k, _ in METRICS}, tag))
    shown = {tag for _, _, tag in rows}  # a run.py diffusion row replaces the JSON below
    if dataset == "adult" and DIFFUSION_ADULT_RUN not in shown:
        diff = _load(DIFFUSION_ADULT[0])
        if diff is not None:
            values = {
                "shape": diff.get("shape"),
                "trend": diff.get("trend"),
                "detection_score_gb": diff.get("detection_gb"),
                "utility_synthetic": diff.get("mle_auc"),
                "dcr_share": diff.get("dcr_share"),
                "fit_s": diff.get("fit_s"),
            }
            rows.insert(0, (DIFFUSION_ADULT[1], values, DIFFUSION_ADULT[0]))
    return rows


def _table(head: list[str], rows: list[list[str]]) -> list[str]:
    return [
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
        *("| " + " | ".join(r) + " |" for r in rows),
    ]


def synthesis_summary() -> tuple[list[str], list[tuple[str, dict]]]:
    """Markdown for the synthesis headline tables and the points of the fidelity/time plot."""
    lines = [
        "### Synthesis fidelity against the SDV peers",
        "",
        "Median over the runs of each JSON; detection (GB) is the gradient-boosting C2ST score "
        "(1 = indistinguishable from real, 0 = always told apart), MLE AUC trains on synthetic "
        "and tests on real, DCR share ≈ .5 means no closer to training than to holdout rows.",
        "",
    ]
    points = []
    rows = _synthesis_rows("adult")
    if rows:
        lines += ["**Adult** (32,561 training rows, holdout = Adult test):", ""]
        body = [[label, *(_fmt(v[k], k) for k, _ in METRICS), f"`{tag}`"] for label, v, tag in rows]
        lines += _table(["model", *(t for _, t in METRICS), "run"], body)
        lines += ["", STALE, ""]
        points += [(label, v) for label, v, _ in rows]
    for tag in PEER_RUNS:
        res = _load(f"synthesis_{tag}")
        if res is None:
            continue
        for dataset, block in res["datasets"].items():
            body = []
            for model, entry in block["models"].items():
                summary = entry["summary"]
                label = model if model.startswith("sdv-") else f"tabgen {model}"
                if model in ("vae", "diffusion"):
                    label += " *"
                body.append(
                    [label, *(_fmt(_median(summary, k), k) for k, _ in METRICS), f"`{tag}`"]
                )
            lines += [f"**{dataset}** ({block.get('rows', '?')} training rows):", ""]
            lines += _table(["model", *(t for _, t in METRICS), "run"], body)
            lines.append("")
    return lines, points


def rebalance_summary(runs: dict[str, str]) -> list[str]:
    """PR-AUC of every arm (no resampling, class weights, ROS, SMOTE, tabgen) per table and
    classifier, from ``runs`` (table -> tag of the run that holds the current default)."""

    lines = [
        "### Rebalancing: every baseline",
        "",
        "PR-AUC on the held-out folds (3 folds, seed 0) for each classifier after each way of "
        "handling the imbalance; **bold** is the best arm of the row. `tabgen` is the default "
        "over-sampler (diffusion, inpainted draws).",
        "",
    ]
    arms = ["none", "class_weight", "ros", "smote", "tabgen-diffusion"]
    body = []
    for name, tag in runs.items():
        res = _load(f"rebalance_{tag}")
        if res is None or name not in res["datasets"]:
            continue
        summary = res["datasets"][name]["summary"]
        for clf in ("lr", "rf", "gb"):
            values = [summary.get(f"{a}|{clf}", {}).get("pr_auc") for a in arms]
            present = [v for v in values if v is not None]
            if not present:
                continue
            best = max(present)
            cells = [
                "n/a" if v is None else (f"**{v:.3f}**" if v == best else f"{v:.3f}")
                for v in values
            ]
            body.append([name, clf, *cells, f"`{tag}`"])
    if not body:
        return []
    head = ["table", "classifier", "none", "class weights", "ROS", "SMOTE", "tabgen", "run"]
    return [*lines, *_table(head, body), ""]


def impute_summary() -> tuple[list[str], dict]:
    """Numeric RMSE of every arm per table at 30 % (MCAR), from the headline imputation run."""
    res = _load("impute_6ds_flags_d100")
    if res is None:
        return [], {}
    by: dict = {}
    for r in res["runs"]:
        if r["rate"] != 0.3:
            continue
        by.setdefault((r["dataset"], r["mechanism"]), {})[r["arm"]] = r
    arms = sorted({a for group in by.values() for a in group})
    lines = [
        "### Imputation: every baseline",
        "",
        "Standardised numeric RMSE at 30 % missing (lower is better) per table and mechanism, run "
        "`impute_6ds_flags_d100` (4,000 rows a table); **bold** is the lowest. These tables are "
        "also the ones the imputer's settings were chosen on: see the imputation sections below "
        "for the runs on tables held out from design.",
        "",
    ]
    body = []
    for (name, mech), group in sorted(by.items()):
        values = [group.get(a, {}).get("rmse") for a in arms]
        present = [v for v in values if v is not None]
        best = min(present) if present else None
        body.append(
            [
                name,
                mech,
                *(
                    "n/a" if v is None else (f"**{v:.3f}**" if v == best else f"{v:.3f}")
                    for v in values
                ),
            ]
        )
    return [*lines, *_table(["table", "mechanism", *arms], body), ""], by


def dp_summary() -> tuple[list[str], dict]:
    """ε against MLE AUC for every DP model on Adult, from the side-by-side runs."""
    curves: dict = {}
    for path in sorted(RESULTS.glob("dp_*.json")):
        res = json.loads(path.read_text())
        block = res.get("datasets", {}).get("adult")
        if not block:
            continue
        for r in block.get("runs", []):
            value = r.get("utility_synthetic")
            if value is None or value != value:  # not run, or failed (NaN)
                continue
            eps = float(r["epsilon"])
            curves.setdefault(r["model"], {}).setdefault(eps, []).append(value)
    if not curves:
        return [], {}
    epsilons = sorted({e for c in curves.values() for e in c})
    body = []
    for model, curve in sorted(curves.items()):
        cells = []
        for e in epsilons:
            vals = curve.get(e)
            cells.append("–" if not vals else f"{sorted(vals)[len(vals) // 2]:.3f}")
        body.append([model, *cells])
    head = ["model", *("∞" if e == float("inf") else f"ε={e:g}" for e in epsilons)]
    lines = [
        "### Differential privacy: ε against utility (Adult)",
        "",
        "MLE AUC (train on synthetic, test on real; real data gives .927) by privacy budget, "
        "median over the `dp_*` runs below. The neural models ran at short settings (15 "
        "epochs, small networks; see their section): the ∞ column is the ordinary fit at those "
        "same settings, which leaves the GAN undertrained, so it is not the models' full "
        "quality.",
        "",
        *_table(head, body),
        "",
    ]
    return lines, curves


def _figures(points: list, impute: dict, curves: dict) -> list[str]:
    """Write the SVG figures; return Markdown image links (nothing when matplotlib is absent)."""
    try:
        import matplotlib

        matplotlib.use("svg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    FIGURES.mkdir(exist_ok=True)
    plt.rcParams["svg.hashsalt"] = "tabgen"  # stable ids: regenerating changes no byte
    plt.rcParams["svg.fonttype"] = "none"
    links = []
    if points:
        fig, ax = plt.subplots(figsize=(6.5, 4))
        for label, v in points:
            if "2nd run" in label:  # the same model as its first run: one point a model
                continue
            if v.get("fit_s") and v.get("detection_score_gb") is not None:
                color = "tab:gray" if label.startswith("SDV") else "tab:blue"
                ax.scatter(v["fit_s"], v["detection_score_gb"], color=color)
                ax.annotate(label, (v["fit_s"], v["detection_score_gb"]), fontsize=8)
        ax.set_xscale("log")
        ax.set_xlabel("fit time, seconds (log scale, 2-core CPU)")
        ax.set_ylabel("detection score (GB), higher is better")
        ax.set_title("Adult: fidelity against fit time")
        fig.tight_layout()
        fig.savefig(FIGURES / "fidelity_vs_time.svg", metadata={"Date": None})
        plt.close(fig)
        links.append("![Adult: detection score against fit time](figures/fidelity_vs_time.svg)")
    if curves:
        fig, ax = plt.subplots(figsize=(6.5, 4))
        for model, curve in sorted(curves.items()):
            eps = sorted(e for e in curve if e != float("inf"))
            meds = [sorted(curve[e])[len(curve[e]) // 2] for e in eps]
            ax.plot(eps, meds, marker="o", label=model)
        ax.axhline(0.927, color="black", linestyle=":", label="real data")
        ax.set_xscale("log")
        ax.set_xlabel("ε (log scale)")
        ax.set_ylabel("MLE AUC")
        ax.set_title("Adult: ε against utility")
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(FIGURES / "epsilon_utility.svg", metadata={"Date": None})
        plt.close(fig)
        links.append("![Adult: MLE AUC against epsilon](figures/epsilon_utility.svg)")
    if impute:
        keys = sorted(k for k in impute if k[1] == "mcar")
        arms = sorted({a for k in keys for a in impute[k]})
        if keys and arms:
            fig, ax = plt.subplots(figsize=(7.5, 4.6))
            width = 0.8 / len(arms)
            for i, arm in enumerate(arms):
                xs = [j + i * width for j in range(len(keys))]
                ys = [impute[k].get(arm, {}).get("rmse", float("nan")) for k in keys]
                ax.bar(xs, ys, width=width, label=arm)
            ax.set_xticks([j + 0.4 - width / 2 for j in range(len(keys))])
            ax.set_xticklabels([k[0] for k in keys])
            ax.set_ylabel("standardised RMSE (lower is better)")
            ax.set_title("Imputation at 30 % MCAR, per table")
            ax.legend(fontsize=7, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.1))
            fig.tight_layout()
            fig.savefig(FIGURES / "impute_rmse.svg", metadata={"Date": None})
            plt.close(fig)
            links.append("![Imputation RMSE per table](figures/impute_rmse.svg)")
    return links


def _figure_links(points: list, impute: dict, curves: dict) -> list[str]:
    """The links :func:`_figures` would return, without drawing (for the consistency test)."""
    links = []
    if points:
        links.append("![Adult: detection score against fit time](figures/fidelity_vs_time.svg)")
    if curves:
        links.append("![Adult: MLE AUC against epsilon](figures/epsilon_utility.svg)")
    if any(k[1] == "mcar" for k in impute):
        links.append("![Imputation RMSE per table](figures/impute_rmse.svg)")
    return links


def summary(rebalance_runs: dict[str, str], figures: bool = True) -> list[str]:
    """The whole summary section (with ``figures``, writes the SVG figures as a side effect;
    without, links them as they are)."""
    synth, points = synthesis_summary()
    imp, by = impute_summary()
    dp, curves = dp_summary()
    links = _figures(points, by, curves) if figures else _figure_links(points, by, curves)
    lines = [
        "## Summary",
        "",
        "Headline figures of the current defaults, each read from the run named beside it (its "
        "command, machine and date are in that run's section of the full log below). Every "
        "baseline is shown, including those that win.",
        "",
        *synth,
        *rebalance_summary(rebalance_runs),
        *imp,
        *dp,
    ]
    if links:
        lines += ["### Figures", "", *(f"{link}\n" for link in links)]
    return lines


def fragments() -> list[str]:
    """Sections written as Markdown next to their JSON (``results/<name>.md``), in name order."""
    parts: list[str] = []
    for path in sorted(RESULTS.glob("*.md")):
        parts += [path.read_text().rstrip(), ""]
    return parts
