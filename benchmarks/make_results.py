"""Regenerate ``benchmarks/RESULTS.md`` from the JSON files in ``benchmarks/results/``.

python benchmarks/make_results.py
"""

from __future__ import annotations

import json
from pathlib import Path

try:  # run as a script (python benchmarks/make_results.py) or imported as benchmarks.make_results
    from _summary import fragments, summary
except ImportError:  # pragma: no cover
    from benchmarks._summary import fragments, summary

RESULTS = Path(__file__).resolve().parent / "results"
OUT = Path(__file__).resolve().parent / "RESULTS.md"


def _s(t: dict | None) -> str:
    if not t:
        return "n/a"
    return f"{t['median_s']:.3f} s ({t['min_s']:.3f}–{t['max_s']:.3f})"


def _machine(m: dict) -> str:
    return (
        f"{m['cpu']}, {m['cores']} cores; Python {m['python']}, tabgen {m['tabgen']}, "
        f"numpy {m['numpy']}, pandas {m['pandas']}, scikit-learn {m['scikit-learn']}, "
        f"torch {m['torch']}"
    )


def foundation(res: dict) -> list[str]:
    lines = [
        "## Foundation: encoder and Gaussian copula speed (Adult train, 32,561 rows)",
        "",
        "Command: `OMP_NUM_THREADS=1 python benchmarks/bench_foundation.py --repeats 3`.",
        f"Machine: {_machine(res['machine'])}.",
        f"Median over {res['repeats']} repeats (min–max).",
        "",
        "| step | tabgen | SDV GaussianCopula |",
        "|---|---|---|",
    ]
    t, s = res["tabgen_copula"], res.get("sdv_copula")
    sdv = f" ({s['version']})" if s else ""
    lines.append(f"| copula fit | {_s(t['fit'])} | {_s(s and s['fit'])}{sdv} |")
    lines.append(f"| copula sample 32,561 rows | {_s(t['sample'])} | {_s(s and s['sample'])} |")
    if res.get("speedup_fit"):
        lines += ["", f"Copula fit speed-up over SDV: **{res['speedup_fit']:.1f}×** (target ≥ 2×)."]
    lines += [
        "",
        "| encoder (numerical / categorical) | width | fit | transform | inverse |",
        "|---|---|---|---|---|",
    ]
    for key, v in res.items():
        if key.startswith("encoder_"):
            _, num, cat = key.split("_")
            cells = [f"{num} / {cat}", str(v["width"])]
            cells += [_s(v[k]) for k in ("fit", "transform", "inverse")]
            lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Target: encoding Adult under 1 s (fit + transform + inverse)."]
    return lines


COLUMNS = [
    ("fit_s", "fit s", "{:.1f}"),
    ("sample_s", "sample s", "{:.1f}"),
    ("shape", "shape", "{:.3f}"),
    ("trend", "trend", "{:.3f}"),
    ("detection_score_lr", "det. LR", "{:.3f}"),
    ("detection_score_gb", "det. GB", "{:.3f}"),
    ("alpha_precision", "α-prec", "{:.3f}"),
    ("beta_recall", "β-rec", "{:.3f}"),
    ("utility_synthetic", "MLE", "{:.3f}"),
    ("utility_real", "MLE real", "{:.3f}"),
    ("dcr_share", "DCR share", "{:.3f}"),
    ("exact_copy_rate", "copies", "{:.4f}"),
    ("mia_auc", "MIA AUC", "{:.3f}"),
]


def _cell(summary: dict, key: str, fmt: str) -> str:
    v = summary.get(key)
    if not v:
        return "–"
    text = fmt.format(v["median"])
    if v["n"] > 1:
        text += f" [{fmt.format(v['min'])}–{fmt.format(v['max'])}]"
    return text


def synthesis(res: dict) -> list[str]:
    lines = [
        f"## Synthesis benchmark `{res['tag']}` ({res['date']})",
        "",
        f"Command: `{res['command']}`.",
        f"Machine: {_machine(res['machine'])}"
        + (f", SDV {res['machine']['sdv']}" if "sdv" in res["machine"] else "")
        + ".",
        "Scores from `tabgen.evaluate` (holdout = the dataset's test split); fit/sample in "
        "seconds; sample = as many rows as the training table. Median over seeds "
        "[min–max] when several. MLE: gradient boosting trained on synthetic rows, ROC-AUC (R² "
        "for regression) on the holdout; 'MLE real' trains on the real rows.",
    ]
    if "torch_threads" in res:
        load = ", ".join(f"{x:.1f}" for x in res.get("load_average_at_start", []))
        lines.append(f"Torch threads: {res['torch_threads']}; load average at start: {load}.")
    if res.get("notes"):
        lines.append(f"Notes: {res['notes']}")
    if res.get("epochs_overrides"):
        lines.append(f"Epoch overrides: {res['epochs_overrides']}.")
    for name, entry in res["datasets"].items():
        lines += [
            "",
            f"### {name} ({entry['rows']} train rows, {entry['holdout_rows']} holdout rows, "
            f"target `{entry['target']}`)",
            "",
            "| model | " + " | ".join(c[1] for c in COLUMNS) + " |",
            "|---|" + "---|" * len(COLUMNS),
        ]
        for model, m in entry["models"].items():
            errors = [r["error"] for r in m["runs"] if "error" in r]
            if not m["summary"]:
                lines.append(f"| {model} | failed: {errors[0] if errors else '?'} |")
                continue
            cells = [_cell(m["summary"], k, f) for k, _, f in COLUMNS]
            lines.append(f"| {model} | " + " | ".join(cells) + " |")
    return lines


def rebalance(res: dict, tag: str = "") -> list[str]:
    if "timing" in res:
        return rebalance_timing(res)
    selection = "factor" in res  # bench_rebalance_selection.py: variants on shared pools
    title = (
        f"Rebalancing: selection of the synthetic rows, {res['model']} ({res['date']})"
        if selection
        else f"Rebalancing benchmark `{tag}` ({res['date']})"
    )
    lines = [
        f"## {title}",
        "",
        f"Command: `{res['command']}`.",
        f"Machine: {_machine(res['machine'])}.",
        "Resampling only inside the training folds; medians over folds x seeds.",
    ]
    if res.get("note"):
        lines.append(f"Note: {res['note']}")
    if selection:
        lines.append(
            f"One fitted model per fold drew {res['factor']:g} candidates per row to add; every "
            "variant picks from that same pool (`raw`: the first draws)."
        )
    if res.get("minority_f1", "").startswith("macro"):
        lines.append(
            "Minority F1 of a multiclass table: the macro mean over every class but the majority."
        )
    else:
        lines.append(
            "Minority F1 of a multiclass table (older definition): the F1 of the rarest class "
            "in the test fold, which no arm predicts on hypothyroid."
        )
    keys = ("pr_auc", "roc_auc", "balanced_accuracy", "minority_f1", "brier", "resample_s")
    for name, entry in res["datasets"].items():
        lines += [
            "",
            f"### {name} ({entry['rows']} rows, classes {', '.join(entry['classes'])})",
            "",
            *(
                [f"Dropped as too rare for the folds (rows): {entry['dropped_classes']}.", ""]
                if entry.get("dropped_classes")
                else []
            ),
            "| arm | classifier | PR-AUC | ROC-AUC | bal. acc | minority F1 | Brier | resample s |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for arm, errs in entry.get("errors", {}).items():
            lines.append(
                f"| {arm} | all | failed in {len(errs)} fold(s): {errs[0][:90]} | | | | | |"
            )
        for key, m in entry["summary"].items():
            arm, clf = key.split("|")
            cells = [f"{m[k]:.3f}" if k in m else "" for k in keys]
            lines.append(f"| {arm} | {clf} | " + " | ".join(cells) + " |")
    return lines


#: The runs at the current over-sampler (density-ratio selection, purity 2), one per table.
#: The current default (inpainted draws around real rows, density-ratio selection).
REBALANCE_FINAL = {
    "bank": "inpaint_a",
    "mammography": "inpaint_b",
    "adult": "inpaint_b",
    "hypothyroid": "inpaint_hypothyroid",
    "covertype": "inpaint_a",
}
#: The current default with a second seed (other folds, other model seeds).
REBALANCE_SEED1 = {
    "bank": "inpaint_seed1_a",
    "mammography": "inpaint_seed1_b",
    "adult": "inpaint_seed1_b",
    "hypothyroid": "inpaint_seed1_b",
    "covertype": "inpaint_seed1_a",
}
#: The previous default (whole-row class-conditional draws, density-ratio selection).
REBALANCE_CONDITIONAL = {
    "bank": "selection_a",
    "mammography": "selection_a",
    "adult": "selection_b",
    "hypothyroid": "selection_hypothyroid",
    "covertype": "selection_covertype",
}


def rebalance_target(
    runs: dict = REBALANCE_FINAL,
    what: str = "the default over-sampler (draws inpainted around real rows of the class)",
    arm: str = "tabgen-diffusion",
    seed: int = 0,
) -> list[str]:
    """The issue's target read off the final runs: ``arm`` against SMOTE for lr and rf (PR-AUC
    and minority F1), and gradient boosting's PR-AUC against no resampling."""
    lines = [
        f"## Rebalancing: target check, `{arm}` against SMOTE: {what}",
        "",
        f"Read from the runs named in the last column (3 folds, seed {seed}). A cell is "
        "tabgen / SMOTE (gb: tabgen / no resampling); **bold** where tabgen is higher.",
        "",
        "| table | PR-AUC lr | PR-AUC rf | minority F1 lr | minority F1 rf | gb PR-AUC vs none "
        "| all four won | run |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, tag in runs.items():
        path = RESULTS / f"rebalance_{tag}.json"
        if not path.is_file():
            continue
        datasets = json.loads(path.read_text())["datasets"]
        if name not in datasets:
            continue
        summary = datasets[name]["summary"]
        if f"{arm}|lr" not in summary:
            continue
        cells, won = [], 0
        for metric, clf in [
            ("pr_auc", "lr"),
            ("pr_auc", "rf"),
            ("minority_f1", "lr"),
            ("minority_f1", "rf"),
        ]:
            ours, ref = summary[f"{arm}|{clf}"][metric], summary[f"smote|{clf}"][metric]
            won += ours > ref
            cells.append(_bold(f"{ours:.3f} / {ref:.3f}", ours > ref))
        gb, none = summary[f"{arm}|gb"]["pr_auc"], summary["none|gb"]["pr_auc"]
        gb_cell = f"{gb:.3f} / {none:.3f} ({gb - none:+.3f})"
        lines.append(
            f"| {name} | " + " | ".join(cells) + f" | {gb_cell} | {'yes' if won == 4 else 'no'} "
            f"| `{tag}` |"
        )
    return lines


def rebalance_timing(res: dict) -> list[str]:
    lines = [
        f"## Rebalancing: time to balance a whole table ({res['date']})",
        "",
        f"Command: `{res['command']}`.",
        f"Machine: {_machine(res['machine'])}; torch threads: {res['timing']['torch_threads']}.",
        "One `fit_resample` (training, candidate draws and selection) on all rows, every class "
        "grown to the majority's size.",
        "",
        "| table | model | rows in | rows out | seconds | load avg at end |",
        "|---|---|---|---|---|---|",
    ]
    for key, m in res["timing"].items():
        if key == "torch_threads":
            continue
        name, model = key.split("|")
        load = ", ".join(f"{v:.1f}" for v in m["load_avg_end"])
        lines.append(
            f"| {name} | {model} | {m['rows_in']} | {m['rows_out']} | {m['seconds']} | {load} |"
        )
    return lines


def model_bench(res: dict, title: str) -> list[str]:
    """A single-model benchmark file (flat keys) as a two-column table."""
    lines = [f"## {title}", "", f"Command: `{res.get('command', '?')}`."]
    if isinstance(res.get("machine"), dict):
        lines.append(f"Machine: {_machine(res['machine'])}.")
    if res.get("note"):
        lines.append(f"Conditions: {res['note']}.")
    lines += ["", "| figure | value |", "|---|---|"]
    for key, value in res.items():
        if key in ("command", "note", "params") or isinstance(value, (dict, list)):
            continue
        lines.append(f"| {key} | {value} |")
    if isinstance(res.get("params"), dict):
        params = ", ".join(f"{k}={v}" for k, v in res["params"].items())
        lines += ["", f"Parameters: {params}."]
    return lines


def impute(res: dict) -> list[str]:
    if "dev_tables" in res or "fit_transform_seconds" in res:
        return []  # bench_impute_unseen.py: rendered in results/impute_unseen.md
    if res.get("kind") == "rounds_ablation":
        return []  # bench_impute_rounds.py: rendered in results/impute_unseen_rounds.md
    if "commands" in res:
        return impute_ablation(res)
    if "folds" in res:
        return impute_natural(res)
    lines = [
        f"## Imputation benchmark ({res['date']})",
        "",
        f"Command: `{res['command']}`.",
        f"Machine: {_machine(res['machine'])}.",
        "Complete rows of each training table; cells hidden by the mechanism; RMSE/MAE of "
        "numeric cells in units of the true column's std (averaged over columns), accuracy of "
        "categorical cells. One seed.",
    ]
    if res.get("note"):
        lines.append(res["note"])
    if any("downstream" in r for r in res["runs"]):
        lines.append(
            "Downstream: ROC-AUC (R² for regression) on the dataset's real test rows of a "
            "random forest (100 trees) trained on the completed table."
        )
    if res.get("synthesizer_params") or res.get("n_draws"):
        params = "; ".join(
            f"{model}: " + ", ".join(f"{k}={v}" for k, v in values.items())
            for model, values in (res.get("synthesizer_params") or {}).items()
        )
        lines += [
            "",
            f"tabgen settings: {params or 'defaults'}; n_draws {res.get('n_draws') or 'default'}.",
        ]
    lines += [
        "",
        "| dataset | mechanism | rate | arm | RMSE | MAE | cat. accuracy | downstream | seconds |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in res["runs"]:
        down = f"{r['downstream']:.3f}" if "downstream" in r else "–"
        lines.append(
            f"| {r['dataset']} | {r['mechanism']} | {r['rate']} | {r['arm']} | {r['rmse']:.3f} "
            f"| {r['mae']:.3f} | {r['cat_accuracy']:.3f} | {down} | {r['seconds']:.1f} |"
        )
    return lines + impute_winners(res["runs"])


def _bold(cell: str, won: bool) -> str:
    return f"**{cell}**" if won else cell


def _best_pair(group: list) -> tuple | None:
    """(best tabgen run, best other run) on RMSE, or None when either side is absent."""
    ours = [r for r in group if r["arm"].startswith("tabgen-")]
    others = [r for r in group if not r["arm"].startswith("tabgen-")]
    if not ours or not others:
        return None
    return min(ours, key=lambda r: r["rmse"]), min(others, key=lambda r: r["rmse"])


def impute_winners(runs: list) -> list[str]:
    """Best tabgen arm against the best other arm on RMSE, per dataset, mechanism and rate
    (settings where no tabgen arm ran are left out)."""
    groups: dict = {}
    for r in runs:
        groups.setdefault((r["dataset"], r["mechanism"], r["rate"]), []).append(r)
    rows = []
    for (name, mech, rate), group in groups.items():
        pair = _best_pair(group)
        if pair is None:
            continue
        a, b = pair
        rows.append(
            f"| {name} | {mech} | {rate} | {a['arm']} {a['rmse']:.3f} | {b['arm']} "
            f"{b['rmse']:.3f} | {'tabgen' if a['rmse'] < b['rmse'] else b['arm']} |"
        )
    if not rows:
        return []
    wins = sum(r.endswith("| tabgen |") for r in rows)
    return [
        "",
        f"Lowest RMSE: tabgen in {wins} of {len(rows)} settings.",
        "",
        "| dataset | mechanism | rate | best tabgen arm | best other arm | lowest |",
        "|---|---|---|---|---|---|",
        *rows,
    ]


def impute_seeds(first: str = "impute_6ds_flags_d100", second: str = "impute_seed1_*") -> list:
    """Best tabgen arm against the best other arm at 30 %, seed 0 beside seed 1, for the
    settings that the seed-1 runs cover (same arms and settings; other masks and rows)."""
    path = RESULTS / f"{first}.json"
    seconds = sorted(RESULTS.glob(f"{second}.json"))
    if not path.is_file() or not seconds:
        return []
    runs = {0: json.loads(path.read_text())["runs"]}
    runs[1] = [r for p in seconds for r in json.loads(p.read_text())["runs"]]
    groups: dict = {}
    for seed, rs in runs.items():
        for r in rs:
            if r["rate"] == 0.3:
                groups.setdefault((r["dataset"], r["mechanism"]), {}).setdefault(seed, []).append(r)
    lines = [
        "## Imputation at 30 %: a second seed",
        "",
        f"Seed 0: `{first}`; seed 1: {', '.join(f'`{p.stem}`' for p in seconds)} (same arms "
        "and settings, `--seed 1`: other rows, other masks). Each cell: best tabgen arm's RMSE "
        "/ best other arm's RMSE (its name); **bold** where tabgen is lower.",
        "",
        "| dataset | mechanism | seed 0 | seed 1 |",
        "|---|---|---|---|",
    ]
    wins: dict = {}
    counts: dict = {}
    for (name, mech), by_seed in sorted(groups.items()):
        complete = all(
            seed in by_seed
            and any(r["arm"].startswith("tabgen-diffusion") for r in by_seed[seed])
            and any(r["arm"] == "missforest" for r in by_seed[seed])
            for seed in (0, 1)
        )
        if not complete:
            continue
        counts[mech] = counts.get(mech, 0) + 1
        cells = []
        for seed in (0, 1):
            ours, other = _best_pair(by_seed[seed])
            won = ours["rmse"] < other["rmse"]
            wins[seed, mech] = wins.get((seed, mech), 0) + won
            cells.append(_bold(f"{ours['rmse']:.4f} / {other['rmse']:.4f} ({other['arm']})", won))
        lines.append(f"| {name} | {mech} | {cells[0]} | {cells[1]} |")
    lines.append("")
    for mech, count in sorted(counts.items()):
        lines.append(
            f"- {mech.upper()}: tabgen lowest in {wins.get((0, mech), 0)} of {count} (seed 0) "
            f"and {wins.get((1, mech), 0)} of {count} (seed 1)."
        )
    return lines


def impute_natural(res: dict) -> list[str]:
    lines = [
        f"## Imputation of natural missing values, judged downstream ({res['date']})",
        "",
        f"Command: `{res['command']}`.",
        f"Machine: {_machine(res['machine'])}.",
        "Each arm completes the feature columns of the whole table (no target); a random "
        f"forest is then scored by {res['folds']}-fold stratified cross-validation (macro "
        "one-vs-rest ROC-AUC, accuracy). `none`: the forest on the table with its holes.",
        "",
    ]
    return lines + _table(
        ["dataset", "rows", "missing cells", "arm", "ROC-AUC", "accuracy", "seconds"],
        [
            [
                r["dataset"],
                r["rows"],
                f"{r['missing_share']:.1%}",
                r["arm"],
                f"{r['roc_auc']:.3f}",
                f"{r['accuracy']:.3f}",
                f"{r['seconds']:.1f}",
            ]
            for r in res["runs"]
        ],
    )


def _table(head: list, rows: list) -> list[str]:
    """A Markdown table: header, separator, one line per row of cells."""
    return [
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
        *("| " + " | ".join(str(c) for c in row) + " |" for row in rows),
    ]


def impute_ablation(res: dict) -> list[str]:
    lines = [
        f"## {res.get('title', 'Imputation: diffusion settings')} ({res['date']})",
        "",
        "Commands:",
        "",
        *[f"- `{c}`" for c in res["commands"]],
        "",
        f"Machine: {_machine(res['machine'])}. {res.get('note', '')}",
        "",
    ]
    return lines + _table(
        ["dataset", "mechanism", "setting", "RMSE", "MAE", "cat. accuracy", "seconds"],
        [
            [
                r["dataset"],
                r["mechanism"],
                r["setting"],
                f"{r['rmse']:.3f}",
                f"{r['mae']:.3f}",
                f"{r['cat_accuracy']:.3f}",
                f"{r['seconds']:.1f}",
            ]
            for r in res["runs"]
        ],
    )


def anonymize(res: dict) -> list[str]:
    lines = [
        f"## Anonymized export ({res['model']}, epochs {res.get('epochs') or 'default'}, "
        f"holdout {res.get('holdout', 0.2):.0%})",
        "",
        f"Command: `{res['command']}`.",
        f"Machine: {_machine(res['machine'])}, torch threads {res.get('torch_threads')}.",
        f"Conditions: {res['note']}." if res.get("note") else "",
        f"Holdout {res.get('holdout', 0.2):.0%} of the training file, never seen by the model; "
        f"privacy against it; at most {res.get('n_attacks_cap', 5000)} attacks per evaluation. "
        "*safeguarded* = `Anonymizer` with every safeguard on; *raw* = the same model, seed and "
        "training rows, no safeguard. Attack risks: Anonymeter-style, holdout as control, "
        "value [95 % CI]. Measured risks, not proofs of anonymity.",
        "",
        "| dataset | arm | shape | trend | det. GB | MLE | MLE real | DCR share | exact copy "
        "| MIA AUC | singling out (uni) | singling out (multi) | linkability | inference "
        "| replaced | seconds |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    attacks = (
        "singling_out_univariate",
        "singling_out_multivariate",
        "linkability",
        "inference",
    )
    for r in res["results"]:
        for arm in ("safeguarded", "raw"):
            m = r[arm]
            risks = [
                f"{m[a + '_risk']:.3f} [{m[a + '_risk_low']:.3f}, {m[a + '_risk_high']:.3f}]"
                if a + "_risk" in m
                else "–"
                for a in attacks
            ]
            secs = m.get("total_s", m.get("fit_sample_s"))
            lines.append(
                f"| {r['dataset']} | {arm} | {m['shape']:.3f} | {m['trend']:.3f} "
                f"| {m['detection_score_gb']:.3f} | {m['utility_synthetic']:.3f} "
                f"| {m['utility_real']:.3f} | {m['dcr_share']:.3f} | {m['exact_copy_rate']:.4f} "
                f"| {m['mia_auc']:.3f} | "
                + " | ".join(risks)
                + f" | {m.get('rows_replaced', '–')} "
                f"| {secs} |"
            )
    return lines


def attack_floor(res: dict) -> list[str]:
    attacks = (
        "singling_out_univariate",
        "singling_out_multivariate",
        "linkability",
        "inference",
    )
    head = ["dataset", "holdout rows", "attacks", "seed"]
    head += [a.replace("_", " ") for a in attacks] + ["inference secret"]
    rows = []
    for r in res["results"]:
        for run in r["runs"]:
            cells = [f"{run[a][0]:.3f} [≤ {run[a][1]:.3f}]" for a in attacks]
            head_cells = [r["dataset"], r["rows_holdout"], run["n_attacks"], run["seed"]]
            rows.append([*head_cells, *cells, run["inference_secret"]])
        med = [f"median upper {r['upper_bound_median'][a]:.3f}" for a in attacks]
        rows.append([r["dataset"], "", "", "**all**", *med, ""])
    lines = [
        f"## Attack risks on a release that leaks nothing (holdout {res['holdout']:.0%})",
        "",
        f"Command: `{res['command']}`.",
        f"Machine: {_machine(res['machine'])}.",
        "The release is real rows of the same table, disjoint from the attacked training "
        "rows and from the holdout (control): the true residual risk of every attack is 0, so "
        "each upper bound is the floor of the measurement at this many attacks (interval "
        "width, plus the upward bias of the inference headline, the largest of the "
        "per-secret risks). Cells: risk [upper 95 % bound].",
        "",
    ]
    return lines + _table(head, rows)


def dp_curve(res: dict) -> list[str]:
    lines = [
        f"## Differential privacy: utility against epsilon (`{res['tag']}`, {res['date']})",
        "",
        f"Command: `{res['command']}`.",
        f"Machine: {_machine(res['machine'])}.",
        "No public domain: category sets, bounds and marginals are measured with DP too (part "
        "of epsilon). `inf` = the non-private model. MLE: gradient boosting trained on the "
        "synthetic rows, ROC-AUC on the test split. One seed.",
        "",
        "| dataset | model | epsilon | delta | shape | trend | MLE | MLE real | fit s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, entry in res["datasets"].items():
        for r in entry["runs"]:
            if "error" in r:
                lines.append(f"| {name} | {r['model']} | {r['epsilon']} | failed: {r['error']} |")
                continue
            delta = (r.get("privacy") or {}).get("delta")
            lines.append(
                f"| {name} | {r['model']} | {r['epsilon']} | "
                f"{'–' if delta is None else f'{delta:.1e}'} | {r['shape']:.3f} | "
                f"{r['trend']:.3f} | {r['utility_synthetic']:.3f} | {r['utility_real']:.3f} | "
                f"{r['fit_s']:.1f} |"
            )
    return lines


def dp_side_by_side(results: list[dict]) -> list[str]:
    """One table per dataset: every model's MLE / shape / trend at each epsilon, from the
    ``dp_all_models_*.json`` runs (one setting per model for all its epsilons)."""
    cells: dict = {}
    sources = []
    for res in results:
        sources.append(f"`{res['command']}`")
        for name, entry in res["datasets"].items():
            for r in entry["runs"]:
                if "error" not in r:
                    cells[(name, r["model"], r["epsilon"])] = r
    if not cells:
        return []
    eps = sorted({k[2] for k in cells}, key=float)
    lines = [
        "## Differential privacy: all models side by side",
        "",
        "Each cell is `MLE / shape / trend` (MLE: ROC-AUC on the test split of a gradient "
        "boosting model trained on the synthetic rows). `nan`: the synthetic rows held one "
        "target class only, so no classifier could be trained. A model has the same settings "
        "at every epsilon, `inf` included (the ordinary fit: for the GAN that is WGAN-GP with "
        "pac 10, which these short settings leave undertrained). No public domain: category "
        "sets, bounds and marginals are measured with DP too. One seed. From: "
        + "; ".join(sources)
        + ".",
        "",
        "| dataset | model | " + " | ".join(f"eps {e}" for e in eps) + " |",
        "|---|---|" + "---|" * len(eps),
    ]
    for name, model in sorted({(k[0], k[1]) for k in cells}):
        row = []
        for e in eps:
            r = cells.get((name, model, e))
            row.append(
                "–"
                if r is None
                else f"{r['utility_synthetic']:.3f} / {r['shape']:.3f} / {r['trend']:.3f}"
            )
        lines.append(f"| {name} | {model} | " + " | ".join(row) + " |")
    return lines


def scale(res: dict, title: str) -> list[str]:
    lines = [f"## {title}", "", f"Command: `{res['command']}`."]
    lines.append(f"Machine: {_machine(res['machine'])}.")
    load = res.get("load_avg_start_of_write")
    if load:
        lines.append(f"Load average while writing the file: {', '.join(f'{x:.1f}' for x in load)}.")
    lines += ["", "```", json.dumps(res["results"], indent=1, default=str)[:4000], "```"]
    return lines


def postprocess(res: dict) -> list[str]:
    """The post-processors on and off for the VAE and the diffusion model (one fit each)."""
    lines = [
        f"## Post-processors on the VAE and the diffusion model (Adult, {res['train']:,} "
        f"training rows, {res['holdout']:,} held-out rows)",
        "",
        "`python -m benchmarks.bench_postprocess` (one fit per model with every post-processor, "
        "then sampled as many rows as the holdout with each subset on; evaluated against "
        "the held-out rows: shape, trend, gradient-boosting detection score; higher is better). "
        f"Machine: {_machine(res['machine'])}, busy (2 cores shared with other jobs).",
        "",
        "| model | post-processors | shape | trend | detection | sample s |",
        "|---|---|---|---|---|---|",
    ]
    for key, r in res["rows"].items():
        model, variant = key.split("/")
        lines.append(
            f"| {model} | {variant} | {r['shape']:.3f} | {r['trend']:.3f} | "
            f"{r['detection']:.3f} | {r['sample_s']:.1f} |"
        )
    fits = {k.split("/")[0]: r["fit_s"] for k, r in res["rows"].items()}
    lines += [
        "",
        "Fit times (all post-processors fitted): "
        + ", ".join(f"{m} {s:.0f} s" for m, s in fits.items())
        + ". Defaults chosen from this run: `dependencies` on for both models (detection "
        "and trend up, shape unchanged); `snap` changed no row (both already return the "
        "seen values of such columns); `selection` raised detection but lowered trend (and "
        "shape for diffusion), so it stays off for them (the GAN keeps it).",
    ]
    return lines


def engine_before_after(res: dict) -> list[str]:
    """#20's no-regression check: the same benchmarks before and after the engine refactor."""
    lines = [
        f"## {res['title']} ({res['date']})",
        "",
        f"Before: {res['before']}. After: {res['after']}.",
        f"How: {res['driver']}.",
        f"Machine: {_machine(res['machine'])}. **Busy**: the 2 cores were shared with seven "
        "other engineers' tests and benchmarks (load average 12-18), so every time below is "
        "an upper bound and only comparable within a row pair; quality figures come from "
        "fixed epochs, not a time budget, so the load does not change them.",
    ]
    syn = res.get("synthesis", {})
    if syn:
        sides = [syn[m][side] for m in syn for side in ("before", "after") if side in syn[m]]
        model, first = next(iter(syn.items()))
        lines += [
            "",
            f"### Synthesis: Adult, {first['rows']} training rows (a fixed random subset), "
            f"{first['holdout_rows']} holdout rows",
            "",
            f"Command: `{sides[0]['command']}` (`--models`, `--seeds` and `--epochs` per row).",
            "Median over the seeds [min–max] where two seeds ran (run-to-run spread).",
            "",
            "| model | code | seeds | " + " | ".join(c[1] for c in COLUMNS[:9]) + " |",
            "|---|---|---|" + "---|" * 9,
        ]
        for model, entry in syn.items():
            for side in ("before", "after"):
                if side not in entry:
                    lines.append(f"| {model} | {side} | – | not run |")
                    continue
                got = entry[side]
                cells = [_cell(got["summary"], k, f) for k, _, f in COLUMNS[:9]]
                seeds = ", ".join(str(x) for x in got["seeds"])
                lines.append(f"| {model} | {side} | {seeds} | " + " | ".join(cells) + " |")
    imp = res.get("impute", {})
    if imp:
        lines += ["", "### Imputation target check", ""]
        commands = imp.get("after", imp.get("before"))["commands"]
        lines += [f"Command: `{c}` (the same before and after)." for c in commands]
        lines.append(
            "Complete rows of the table, cells hidden by the mechanism; RMSE of numeric cells "
            "in units of the column's std, accuracy of categorical cells; one seed."
        )
        lines += [
            "",
            "| dataset | mechanism | arm | RMSE before | RMSE after | cat. acc. before | "
            "cat. acc. after | s before | s after |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        keyed = {
            side: {(r["dataset"], r["mechanism"], r["arm"]): r for r in imp[side]["runs"]}
            for side in imp
        }
        for key in keyed.get("before", keyed.get("after", {})):
            b, a = keyed.get("before", {}).get(key, {}), keyed.get("after", {}).get(key, {})
            cells = [f"{x[k]:.4f}" if k in x else "–" for k in ("rmse",) for x in (b, a)] + [
                f"{x[k]:.4f}" if k in x else "–" for k in ("cat_accuracy",) for x in (b, a)
            ]
            cells += [f"{x['seconds']:.0f}" if "seconds" in x else "–" for x in (b, a)]
            lines.append("| " + " | ".join(key) + " | " + " | ".join(cells) + " |")
    reb = res.get("rebalance", {})
    if reb:
        lines += ["", "### Rebalancing target check", ""]
        commands = reb.get("after", reb.get("before"))["commands"]
        lines += [f"Command: `{c}` (the same before and after)." for c in commands]
        lines.append("Resampling only inside the training folds; medians over the folds.")
        lines += [
            "",
            "| dataset | arm | classifier | PR-AUC before | PR-AUC after | minority F1 before | "
            "minority F1 after |",
            "|---|---|---|---|---|---|---|",
        ]
        first = reb.get("before", reb.get("after"))
        for name, entry in sorted(first["datasets"].items()):
            for key in entry["summary"]:
                arm, clf = key.split("|")
                vals = []
                for metric in ("pr_auc", "minority_f1"):
                    for side in ("before", "after"):
                        got = reb.get(side, {}).get("datasets", {}).get(name, {})
                        v = got.get("summary", {}).get(key, {}).get(metric)
                        vals.append("–" if v is None else f"{v:.3f}")
                lines.append(f"| {name} | {arm} | {clf} | " + " | ".join(vals) + " |")
    if res.get("notes"):
        lines += ["", *res["notes"]]
    if res.get("not_run"):
        lines += ["", "Not run in the time available: " + res["not_run"]]
    return lines


RENDERERS = {"foundation_adult.json": foundation}
RENDERERS["engine_before_after.json"] = engine_before_after


def relational(res: dict) -> list[str]:
    """Section of ``bench_relational.py`` (tabgen's database synthesizer against HMA, beside
    the resampled real database, the ceiling of the metrics)."""

    def get(method: dict, key: str, fmt: str = ".3f") -> str:
        value = method.get("scores", {}).get(key)
        return "n/a" if value is None else format(value, fmt)

    names = {
        "tabgen": "tabgen (copula, default: joint match)",
        "tabgen-columns": "tabgen, marginals=True (column by column)",
        "tabgen-nomarg": "tabgen, marginals=False",
        "tabgen-earlier": "tabgen default of the earlier run (before the marginal map)",
        "tabgen-counts": "tabgen, counts only (aggregates=0)",
        "tabgen-vae": "tabgen, VAE per table (fixed epochs)",
        "tabgen-diffusion": "tabgen, diffusion per table (fixed epochs)",
        "bootstrap": "**ceiling**: real database resampled by root entity",
        "hma": f"SDV HMASynthesizer {res['machine'].get('sdv') or ''}".strip(),
        "single": "single-table copula per table",
    }
    shown = (
        "tabgen",
        "tabgen-columns",
        "tabgen-nomarg",
        "tabgen-earlier",
        "tabgen-counts",
        "tabgen-vae",
        "tabgen-diffusion",
        "bootstrap",
        "hma",
    )

    def label(entry: dict, key: str) -> str:
        epochs = f", {entry['epochs']} epochs" if "epochs" in entry else ""
        return names[key] + epochs + (" *(earlier run)*" if entry.get("earlier") else "")

    def seconds(m: dict, key: str) -> str:
        wall, cpu = m.get(f"{key}_s"), m.get(f"{key}_cpu_s")
        if wall is None:
            return "n/a"
        return f"{wall:.1f}" + (f" ({cpu:.1f})" if cpu is not None else "")

    earlier = res.get("earlier_command")
    lines = [
        "## Relational synthesis: four databases, tabgen against SDV HMA (bench_relational.py)",
        "",
        f"Command: `{res['command']}` ({res['date']}).",
    ]
    if earlier:
        lines.append(
            f"Rows marked *(earlier run)* come from the previous session's run "
            f"({res.get('earlier_date', '')}): `{earlier}`."
        )
    lines += [
        f"Machine: {_machine(res['machine'])}. Timings were taken on a busy machine "
        f"({res.get('note', 'shared')}): wall seconds, CPU seconds of the process in "
        "brackets (HMA: of its worker process); quality numbers are unaffected.",
        "",
        "Scores of `tabgen.metrics.evaluate_database` against the training database: key "
        "integrity; cardinality = KS complement of children per parent (the minimum over the "
        "relationships); parent-child trend = pair-trend score over child rows joined with "
        "their parent (parent x child pairs only); aggregate detection = C2ST AUC on parent "
        "rows enriched with child aggregates (0.5 = indistinguishable; mean over "
        "relationships; `gb` gradient boosting, `lr` logistic regression). The **ceiling** "
        "row is no model: the real database resampled by root entity (root rows drawn with "
        "replacement with everything under them; insteval's larger root, students, drawn, "
        "its lecturers kept), what the metrics give a generator as good as the data allow; "
        "its detection AUC is below .5 because it copies rows, and its cardinality is below "
        "1 because resampling moves the counts (tabgen's calibration reproduces them), so "
        "the ceiling applies to the trends.",
        "",
        "| database | method | key integrity | cardinality (min) | parent-child trend | "
        "agg. detection AUC gb | agg. detection AUC lr | fit s (CPU) | sample s (CPU) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for db, entry in res["databases"].items():
        for key in shown:
            m = entry["methods"].get(key)
            if m is None:
                continue
            if "error" in m:
                lines.append(f"| {db} | {label(m, key)} | {m['error']} | | | | | | |")
                continue
            lines.append(
                f"| {db} | {label(m, key)} | {get(m, 'key_integrity')} | "
                f"{get(m, 'cardinality_shape_min')} | {get(m, 'parent_child_trend')} | "
                f"{get(m, 'aggregate_detection_gb_auc')} | {get(m, 'aggregate_detection_lr_auc')} "
                f"| {seconds(m, 'fit')} | {seconds(m, 'sample')} |"
            )
    lines += _relational_targets(res)
    lines += [
        "",
        "Per relationship:",
        "",
        "| relationship | metric | tabgen | marginals=True | marginals=False | ceiling | HMA |",
        "|---|---|---|---|---|---|---|",
    ]
    for db, entry in res["databases"].items():
        methods = entry["methods"]
        rels = sorted(
            k[len("cardinality[") : -1]
            for k in methods.get("tabgen", {}).get("scores", {})
            if k.startswith("cardinality[")
        )
        for rel in rels:
            for name, key in (
                ("cardinality", f"cardinality[{rel}]"),
                ("parent-child trend", f"parent_child_trend[{rel}]"),
                ("agg. detection AUC gb", f"aggregate_detection_gb_auc[{rel}]"),
            ):
                cells = [
                    get(methods.get(m, {}), key)
                    for m in ("tabgen", "tabgen-columns", "tabgen-nomarg", "bootstrap", "hma")
                ]
                lines.append(f"| {db}: {rel} | {name} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Per table (shape / trend of the table's own columns; keys left out):",
        "",
        "| table | tabgen | marginals=True | marginals=False | single-table copula | ceiling "
        "| HMA |",
        "|---|---|---|---|---|---|---|",
    ]
    for db, entry in res["databases"].items():
        methods = entry["methods"]
        for table in entry["rows"]:
            cells = []
            for m in (
                "tabgen",
                "tabgen-columns",
                "tabgen-nomarg",
                "single",
                "bootstrap",
                "hma",
            ):
                shape = get(methods.get(m, {}), f"{table}.shape")
                trend = get(methods.get(m, {}), f"{table}.trend")
                cells.append(f"{shape} / {trend}")
            if all(c == "n/a / n/a" for c in cells):
                continue
            lines.append(f"| {db}.{table} | " + " | ".join(cells) + " |")
    lines += _relational_seeds(res)
    return lines


def _relational_targets(res: dict) -> list[str]:
    """The #24 targets per database: tabgen's default against HMA, the ceiling beside."""

    lines = ["", "Targets (tabgen default against HMA, the ceiling beside):", ""]
    for db, entry in res["databases"].items():
        methods = entry["methods"]
        ours = methods.get("tabgen", {}).get("scores", {})
        hma = methods.get("hma", {}).get("scores", {})
        ceiling = methods.get("bootstrap", {}).get("scores", {})
        if not ours:
            continue
        text = (
            f"- {db}: key integrity {ours.get('key_integrity', float('nan')):.3f}; "
            f"cardinality min {ours.get('cardinality_shape_min', float('nan')):.3f}"
        )
        if hma:
            gap = ours["parent_child_trend"] - hma["parent_child_trend"]
            text += (
                f" (HMA {hma['cardinality_shape_min']:.3f}); parent-child trend "
                f"{ours['parent_child_trend']:.3f}, {gap:+.3f} over HMA (target +0.05: "
                + ("met" if gap >= 0.05 else f"missed by {0.05 - gap:.3f}")
                + ")"
            )
            if ceiling:
                want = hma["parent_child_trend"] + 0.05
                top = ceiling["parent_child_trend"]
                text += f"; the ceiling scores {top:.3f}, " + (
                    f"below HMA + .05 = {want:.3f}: the target is out of reach of any "
                    "generator on this database"
                    if top < want
                    else f"above HMA + .05 = {want:.3f}"
                )
            text += (
                f"; aggregate detection AUC gb {ours['aggregate_detection_gb_auc']:.3f} "
                f"vs HMA {hma['aggregate_detection_gb_auc']:.3f}, lr "
                f"{ours['aggregate_detection_lr_auc']:.3f} vs "
                f"{hma['aggregate_detection_lr_auc']:.3f} (lower is better)"
            )
        else:
            text += (
                f"; parent-child trend {ours['parent_child_trend']:.3f} (ceiling "
                f"{ceiling.get('parent_child_trend', float('nan')):.3f}); HMA gave no "
                "database (see the table), no comparison"
            )
        per_table = []
        for table in entry["rows"]:
            mine = methods.get("tabgen", {}).get("seeds", {}).get(f"{table}.trend")
            single = methods.get("single", {}).get("seeds", {}).get(f"{table}.trend")
            if mine is None or single is None:
                continue
            gap = single[0] - mine[0]
            verdict = (
                "met"
                if gap <= 0
                else f"below by {gap:.4f}, "
                + ("within noise, " if gap < max(mine[1], single[1]) else "")
                + f"standard deviations {mine[1]:.3f} / {single[1]:.3f}"
            )
            per_table.append(f"{table} {mine[0]:.3f} vs {single[0]:.3f} ({verdict})")
        if per_table:
            text += "; per-table trend, seed means, tabgen vs single-table copula: " + ", ".join(
                per_table
            )
        lines.append(text + ".")
    return lines


def _relational_seeds(res: dict) -> list[str]:
    """The spread over sampling seeds (``--seeds``) of tabgen, its ablations, the
    single-table copula and the ceiling (resampled with as many seeds)."""

    def cell(method: dict, key: str) -> str:
        value = method.get("seeds", {}).get(key)
        return "n/a" if value is None else f"{value[0]:.3f} ± {value[1]:.3f}"

    columns = ("tabgen", "tabgen-columns", "tabgen-nomarg", "single", "bootstrap")
    rows = []
    for db, entry in res["databases"].items():
        methods = entry["methods"]
        if "seeds" not in methods.get("tabgen", {}):
            continue
        keys = [("parent-child trend", "parent_child_trend")]
        for table in entry["rows"]:
            keys += [(f"{table} shape", f"{table}.shape"), (f"{table} trend", f"{table}.trend")]
        for name, key in keys:
            cells = [cell(methods.get(m, {}), key) for m in columns]
            if all(c == "n/a" for c in cells):
                continue
            rows.append(f"| {db} | {name} | " + " | ".join(cells) + " |")
    if not rows:
        return []
    n = next(
        e["methods"]["tabgen"]["seeds"]["key_integrity"][2]
        for e in res["databases"].values()
        if "seeds" in e["methods"].get("tabgen", {})
    )
    return [
        "",
        f"Spread over {n} sampling seeds of the same fit (mean ± standard deviation; the "
        f"tables above show the first seed; the ceiling resampled {n} times): differences "
        "smaller than about two standard deviations are noise.",
        "",
        "| database | score | tabgen | marginals=True | marginals=False | single-table copula "
        "| ceiling |",
        "|---|---|---|---|---|---|---|",
        *rows,
    ]


RENDERERS["relational.json"] = relational


def render(figures: bool = True) -> str:
    """The text of RESULTS.md (and, when ``figures``, the SVG figures written beside it)."""
    parts = [
        "# Benchmark results",
        "",
        "Generated by `python benchmarks/make_results.py` from `benchmarks/results/*.json`; every",
        "figure was measured by the command named in its section, on the machine named there.",
        "",
        "**Stale figures.** Since the engine refactor (2026-12-04) the VAE and the diffusion model",
        "apply the category-dependency post-processor by default (see the post-processor section).",
        "Every VAE and diffusion figure measured before it (synthesis, imputation, rebalancing,",
        "anonymized export) predates that default and has not been re-run. Copula and GAN",
        "figures are unaffected: their fixed-seed fits are bit-identical before and after.",
        "The section *Engine refactor (#20): before and after* re-measures all four models,",
        "the imputer and the over-sampler before and after it, at smaller fixed settings.",
        "",
        *summary(REBALANCE_FINAL, figures=figures),
        "# Full log",
        "",
        *fragments(),
    ]
    for name, render in RENDERERS.items():
        path = RESULTS / name
        if path.is_file():
            parts += [*render(json.loads(path.read_text())), ""]
    for path in sorted(RESULTS.glob("synthesis_*.json")):
        parts += [*synthesis(json.loads(path.read_text())), ""]
    path = RESULTS / "peers_adult_partial.log"
    if path.is_file():
        parts += [
            "## SDV peers on Adult (partial run, printed lines)",
            "",
            "```",
            path.read_text().rstrip(),
            "```",
            "",
        ]
    path = RESULTS / "sdmetrics_agreement.txt"
    if path.is_file():
        parts += [
            "## Fidelity agreement with SDMetrics' QualityReport",
            "",
            "Command: `python benchmarks/check_sdmetrics_agreement.py --datasets adult default "
            "shoppers` (bench environment). Columns `s sdm` / `s tg`: seconds taken by each.",
            "",
            "```",
            path.read_text().rstrip(),
            "```",
            "",
        ]
    path = RESULTS / "evaluate_adult.json"
    if path.is_file():
        title = "Evaluation report speed on Adult (bench_evaluate.py)"
        parts += [*model_bench(json.loads(path.read_text()), title), ""]
    for name, title in [
        ("diffusion_adult", "Diffusion model on Adult (bench_diffusion.py)"),
        ("diffusion_adult_flags", "Diffusion model on Adult, current code (bench_diffusion.py)"),
    ]:
        path = RESULTS / f"{name}.json"
        if path.is_file():
            parts += [*model_bench(json.loads(path.read_text()), title), ""]
    path = RESULTS / "postprocess.json"
    if path.is_file():
        parts += [*postprocess(json.loads(path.read_text())), ""]
    parts += [*impute_seeds(), ""]
    for path in sorted(RESULTS.glob("impute_*.json")):
        parts += [*impute(json.loads(path.read_text())), ""]
    parts += [*rebalance_target(), ""]
    what = "the default over-sampler, seed 1 (other folds, other model seeds)"
    parts += [*rebalance_target(REBALANCE_SEED1, what, seed=1), ""]
    what = "the previous default (whole-row class-conditional draws)"
    parts += [*rebalance_target(REBALANCE_CONDITIONAL, what), ""]
    for path in sorted(RESULTS.glob("rebalance_*.json")):
        tag = path.stem.removeprefix("rebalance_")
        parts += [*rebalance(json.loads(path.read_text()), tag), ""]
    for path in sorted(RESULTS.glob("anonymize_*.json")):
        parts += [*anonymize(json.loads(path.read_text())), ""]
    for path in sorted(RESULTS.glob("attack_floor_*.json")):
        parts += [*attack_floor(json.loads(path.read_text())), ""]
    side = [json.loads(p.read_text()) for p in sorted(RESULTS.glob("dp_all_models_*.json"))]
    parts += [*dp_side_by_side(side), ""]
    for path in sorted(RESULTS.glob("dp_*.json")):
        parts += [*dp_curve(json.loads(path.read_text())), ""]
    titles = {
        "scale_generate": "Scale: streamed generation to Parquet (bench_scale.py generate)",
        "scale_generate_default_threads": "Scale: streamed generation, torch default threads",
        "scale_generate_diffusion_1m": "Scale: streamed generation, diffusion, 1M rows",
        "scale_sharded": "Scale: sharded sampling on a local Dask cluster (bench_scale.py sharded)",
        "scale_fit_large": "Scale: fit from a 10M-row Parquet file (bench_scale.py fit-large)",
    }
    for path in sorted(RESULTS.glob("scale_*.json")):
        title = titles.get(path.stem, path.stem)
        parts += [*scale(json.loads(path.read_text()), title), ""]
    return "\n".join(parts)


def main() -> None:
    OUT.write_text(render())
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
