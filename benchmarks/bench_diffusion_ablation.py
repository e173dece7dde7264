"""Ablation of DiffusionSynthesizer settings at a fixed budget (issue #26; run by hand).

One arm = one fit (constructor parameters as JSON, or a saved model) and any number of
sampling variants of it (post-processors refitted on the same model, sampler settings).
Each variant samples as many rows as the training table and is scored against:

* the training rows: gradient-boosting detection (C2ST, ``n_splits`` folds, native
  categoricals, at most ``--det-rows`` rows a side; 1 = indistinguishable), shape, trend;
* the holdout rows: DCR share and the distance membership-inference AUC
  (:func:`tabgen.metrics.privacy`, both .5 = no closer to training than to unseen rows).

Fit and sampling are timed in CPU seconds of this process (``time.process_time``) beside
wall seconds: the machine is shared, so wall time over-states the cost. Each variant is
appended to ``--out`` (JSON) with its command, so every row can be reproduced.

Examples
--------
Baseline (the defaults) on Adult, saved for the sampling variants::

    python benchmarks/bench_diffusion_ablation.py --arm default --save /tmp/d0.tabgen \\
        --variants "none;dependencies;dependencies,selection"

A training change at the same data::

    python benchmarks/bench_diffusion_ablation.py --arm wide --params '{"hidden": 512}'

Another model through the same scorer (``--model copula`` or ``vae``; e.g. the before/after of
an encoder change, which all of them share)::

    python benchmarks/bench_diffusion_ablation.py --dataset shoppers --model copula \\
        --arm copula --variants default
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tabgen
from benchmarks._common import RESULTS, load_dataset, machine_info, set_constants
from tabgen.metrics import detection, fidelity, privacy
from tabgen.metrics.utility import utility
from tabgen.synthesizers.diffusion import gate

MODELS = {
    "diffusion": "DiffusionSynthesizer",
    "copula": "GaussianCopulaSynthesizer",
    "vae": "VAESynthesizer",
}


def score(train, test, synth, kinds, det_rows: int, folds: int, seed: int = 0, target=None) -> dict:
    """Detection (gb), shape, trend, DCR share and MIA AUC of ``synth``; with ``target``
    (a classification table's) also the MLE ROC-AUC on the test rows (run.py's protocol:
    scikit-learn's gradient boosting, default settings, trained on ``synth``)."""
    out = {}
    if target is not None:
        mle = utility(None, synth, test, target, metadata=kinds, random_state=seed)
        out["mle"] = mle.scores["utility_synthetic"]
    det = detection(
        train,
        synth,
        metadata=kinds,
        classifiers=["gb"],
        n_splits=folds,
        max_rows=det_rows,
        random_state=seed,
    )
    out["detection_gb"] = det.scores["detection_score_gb"]
    fid = fidelity(train, synth, metadata=kinds)
    out["shape"], out["trend"] = fid.scores["shape"], fid.scores["trend"]
    priv = privacy(train, synth, test, metadata=kinds, max_rows=det_rows, membership=False)
    out["dcr_share"], out["mia_auc"] = priv.scores["dcr_share"], priv.scores["mia_auc"]
    out["exact_copy_rate"] = priv.scores["exact_copy_rate"]
    out["atom_gap"] = atom_gap(train, synth, [c for c, k in kinds.items() if k == "numerical"])
    return {k: round(float(v), 4) for k, v in out.items()}


def atom_gap(train, synth, columns) -> float:
    """Mean over the numeric ``columns`` that have heavy values (held by at least 1/1000 of
    the training rows and two rows) of ``|synthetic share - training share|`` of the cells on
    those values: how far the model is from reproducing the spikes of the table."""
    gaps = []
    for c in columns:
        x = train[c].dropna().to_numpy(dtype="float64")
        values, counts = np.unique(x, return_counts=True)
        heavy = values[counts >= max(2, x.size / 1000)]
        y = pd.to_numeric(synth[c], errors="coerce").dropna().to_numpy(dtype="float64")
        if heavy.size and y.size:
            gaps.append(abs(_on_values(y, heavy).mean() - _on_values(x, heavy).mean()))
    return float(np.mean(gaps)) if gaps else 0.0


def _on_values(y, values) -> np.ndarray:
    """Whether each of ``y`` equals one of the sorted ``values`` up to float rounding (a
    standard-scaled column comes back within a few ulps)."""
    i = np.clip(np.searchsorted(values, y), 0, values.size - 1)
    near = np.minimum(np.abs(y - values[i]), np.abs(y - values[np.maximum(i - 1, 0)]))
    return near <= 1e-9 * np.maximum(1.0, np.abs(y))


def set_atom_defaults(share: float | None, cap: int | None, spike: float | None = None) -> dict:
    """Set the defaults of the mixed atom encoder (``atoms="mixed"``) for this run; the
    settings that differ from the module's, for the results."""
    from tabgen.encoders import mixed

    out = {}
    if share is not None:
        mixed.MIN_SHARE = out["atom_share"] = share
    if cap is not None:
        mixed.MAX_ATOMS = out["atom_cap"] = cap
    if spike is not None:
        mixed.SPIKE_RATIO = out["atom_spike"] = spike
    return out


def restrict_atoms(columns: list[str]) -> dict:
    """Per-column arms of ``atoms="mixed"``: only ``columns`` keep their atoms, every other
    numeric column is encoded as the quantile encoder encodes it (no atoms)."""
    from tabgen.encoders.mixed import AtomMixtureEncoder

    fit_core = AtomMixtureEncoder._fit_core

    def _fit_core(self, x):
        cap = self.max_atoms
        if self.spec_.name not in columns:  # no atoms: the quantile code of every value
            self.max_atoms = 0
        fit_core(self, x)
        self.max_atoms = cap

    AtomMixtureEncoder._fit_core = _fit_core
    return {"atom_columns": columns}


def refit_postprocessors(model, train, names, seed: int) -> None:
    """Fit the post-processors ``names`` on an already fitted ``model`` (same rows)."""
    model.set_params(postprocess=list(names))
    model._fit_postprocessors(train, np.random.default_rng(seed))


def other_sampler(model) -> str:
    """The unconditional sampler of a fitted diffusion ``model`` that its fit did not keep
    (``sampler_``): DPM-Solver++ for the student, the student for a solver."""
    return "dpm" if model.sampler_ == "distilled" else "distilled"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="adult")
    parser.add_argument("--arm", default="default", help="name of this arm in the results")
    parser.add_argument("--model", default="diffusion", choices=sorted(MODELS))
    parser.add_argument("--params", default="{}", help="constructor parameters (JSON)")
    parser.add_argument("--load", type=Path, default=None, help="a saved model: no fit")
    parser.add_argument("--save", type=Path, default=None)
    parser.add_argument("--rows", type=int, default=None, help="first N training rows")
    parser.add_argument(
        "--sample-rows", type=int, default=None, help="a random N of the training rows (seed)"
    )
    parser.add_argument(
        "--variants",
        default="default",
        help="';'-separated post-processor lists ('default', 'none', 'a,b') with an optional "
        "'@sampler:steps', '@other' (diffusion: the sampler its fit's check did not keep), "
        "'@trees=0' / '@trees=1' (the selection refitted without / with its boosted trees) or "
        "'@draws=K' suffix",
    )
    parser.add_argument(
        "--atom-share",
        type=float,
        default=None,
        help="atoms='mixed': share of the rows that makes a value an atom (module default)",
    )
    parser.add_argument(
        "--atom-cap", type=int, default=None, help="atoms='mixed': most atoms per column"
    )
    parser.add_argument(
        "--atom-spike", type=float, default=None, help="atoms='mixed': spike ratio of an atom"
    )
    parser.add_argument(
        "--atom-columns",
        default=None,
        help="atoms='mixed': only these columns (comma-separated) keep their atoms",
    )
    parser.add_argument(
        "--mle", action="store_true", help="also the MLE ROC-AUC (classification tables)"
    )
    parser.add_argument(
        "--consts", default="{}", help="constants of diffusion/estimator.py to override (JSON)"
    )
    parser.add_argument(
        "--min-tree-rows",
        type=int,
        default=None,
        help="fewest training rows for the selection's trees (module default)",
    )
    parser.add_argument("--det-rows", type=int, default=10_000)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS / "diffusion_ablation.json")
    parser.add_argument("--render", action="store_true", help="only write the .md beside --out")
    args = parser.parse_args(argv)
    if args.render:
        path = args.out.with_suffix(".md")
        path.write_text(render(json.loads(args.out.read_text())))
        print(f"wrote {path}")
        return
    torch.set_num_threads(args.threads)
    os.environ.setdefault("OMP_NUM_THREADS", "1")

    train, test, meta = load_dataset(args.dataset)
    if args.rows:
        train = train.iloc[: args.rows].reset_index(drop=True)
    if args.sample_rows and args.sample_rows < len(train):
        train = train.sample(args.sample_rows, random_state=args.seed).reset_index(drop=True)
    kinds = {c: "categorical" for c in meta["categorical"]}
    kinds.update({c: "numerical" for c in meta["numerical"]})
    params = json.loads(args.params)
    set_constants(json.loads(args.consts))
    if args.min_tree_rows is not None:
        from tabgen.synthesizers.postprocess import selection

        selection.MIN_TREE_ROWS = args.min_tree_rows
    atom_settings = set_atom_defaults(args.atom_share, args.atom_cap, args.atom_spike)
    if args.atom_columns is not None:
        atom_settings.update(restrict_atoms(list(filter(None, args.atom_columns.split(",")))))
    load = os.getloadavg()[0]
    if args.load:
        model = tabgen.load(args.load)
        fit_cpu = fit_wall = None
    else:
        model = getattr(tabgen, MODELS[args.model])(**params, random_state=args.seed)
        c0, w0 = time.process_time(), time.perf_counter()
        model.fit(train)
        fit_cpu, fit_wall = time.process_time() - c0, time.perf_counter() - w0
        epochs = getattr(model, "n_epochs_", None)
        print(f"fit {fit_cpu:.1f} cpu s, {fit_wall:.1f} wall s, {epochs} epochs")
        if args.save:
            model.save(args.save, overwrite=True)
    results = json.loads(args.out.read_text()) if args.out.is_file() else {"runs": []}
    results["machine"] = machine_info()
    fitted_names = None  # post-processors fitted by this script (None: the model's own)
    sampling_params = {k: getattr(model, k) for k in ("sampler", "n_steps") if hasattr(model, k)}
    for variant in args.variants.split(";"):
        names, _, sampling = variant.partition("@")
        draws, post_cpu = None, None  # None: the model's own count of candidates
        model.set_params(**sampling_params)
        model.__dict__.pop("_selection_trees", None)  # the class's own (trees=0 below)
        for part in filter(None, sampling.split("@")):
            if part.startswith("draws="):
                draws = int(part.split("=")[1])
            elif part.startswith("trees="):  # the selection's second stage, refitted
                model._selection_trees = part == "trees=1"
                names = f"{names}@{part}"
            elif part == "other":  # the unconditional sampler the fit's check did not keep
                model.set_params(sampler=other_sampler(model))
            else:
                sampler, steps = part.split(":")
                model.set_params(sampler=sampler, n_steps=int(steps))
        if names != "default" and names != fitted_names:
            chosen = [] if names == "none" else names.partition("@")[0].split(",")
            c0 = time.process_time()
            refit_postprocessors(model, train, chosen, args.seed + 7)
            post_cpu = round(time.process_time() - c0, 1)
            fitted_names = names
        step = model._postprocessor("discriminator")
        if step is not None:  # an earlier variant's count of candidates undone
            step.__dict__.pop("draw", None)
        if step is not None and draws is not None:  # candidates per row
            # the model's own keywords (e.g. diffusion's low_precision) kept, draws replaced
            step.draw = lambda m, n, c, r, d=draws, f=step.draw, **kw: f(
                m, n, c, r, **{**kw, "draws": d}
            )
        c0, w0 = time.process_time(), time.perf_counter()
        synth = model.sample(len(train), random_state=args.seed + 1)
        sample_cpu, sample_wall = time.process_time() - c0, time.perf_counter() - w0
        row = {
            "dataset": args.dataset,
            "model": args.model,
            "arm": args.arm,
            "variant": variant,
            "params": {**params, **atom_settings},
            "train_rows": len(train),
            "epochs_run": getattr(model, "n_epochs_", None),
            "fit_cpu_s": None if fit_cpu is None else round(fit_cpu, 1),
            "fit_wall_s": None if fit_wall is None else round(fit_wall, 1),
            "postprocess_fit_cpu_s": post_cpu,
            "sample_cpu_s": round(sample_cpu, 1),
            "sample_wall_s": round(sample_wall, 1),
            "load_1m": round(load, 1),
            "date": time.strftime("%Y-%m-%d %H:%M"),
            "command": "python benchmarks/bench_diffusion_ablation.py "
            + " ".join(f"'{a}'" if " " in a or "{" in a or ";" in a else a for a in sys.argv[1:]),
        }
        if hasattr(model, "sampler_"):  # the diffusion model's sampler and its check
            row["sampler"] = gate.in_use(model)
            row["sampler_check"] = getattr(model, "sampler_check_", {})
        conditionals = model._postprocessor("conditionals")
        if conditionals is not None:  # the columns drawn again and the held-out check
            row["conditionals"] = conditionals.info
        target = meta["target"] if args.mle and meta["task"] != "regression" else None
        row.update(score(train, test, synth, kinds, args.det_rows, args.folds, target=target))
        print(json.dumps(row), flush=True)
        results["runs"].append(row)
        args.out.write_text(json.dumps(results, indent=1) + "\n")


COLUMNS = (
    ("detection_gb", "detection (GB, 5-fold)"),
    ("shape", "shape"),
    ("trend", "trend"),
    ("dcr_share", "DCR share"),
    ("mia_auc", "MIA AUC"),
    ("fit_cpu_s", "fit CPU s"),
    ("sample_cpu_s", "sample CPU s"),
)


#: Shown only where some run has them (older JSON files predate them).
OPTIONAL_COLUMNS = (("atom_gap", "atom gap"), ("mle", "MLE AUC"))
TITLE = "Diffusion at the frontier: ablation (issue #26, bench_diffusion_ablation.py)"


def _cell(value, key: str) -> str:
    if value is None:
        return "–"
    return ("{:.1f}" if key.endswith("_s") else "{:.3f}").format(value)


def summary(results: dict) -> list[str]:
    """One line per dataset: the ``summary_arm`` sampled with the default sampler
    (``default``) and with DPM-Solver++ 20 steps (``default@dpm:20``), where run; the other
    figures from the DPM row (present on every table), beside the previous figures
    (``previous`` in the JSON; a ``row`` there for a table quoted without a run)."""
    arm, previous = results["summary_arm"], results.get("previous", {})
    runs = [r for r in results["runs"] if r["arm"] == arm]
    head = [
        "table",
        "train rows",
        "detection, default sampler",
        "detection, DPM-Solver++ 20 steps",
        "≥ .85 (DPM)",
        "shape",
        "trend",
        "DCR share",
        "MIA AUC",
        "fit CPU s",
        "previous",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name in list(dict.fromkeys(r["dataset"] for r in runs)):
        rows = {r["variant"]: r for r in runs if r["dataset"] == name}
        dpm = rows.get("default@dpm:20")
        if dpm is None:
            continue
        distilled = rows.get("default")
        cells = [name, str(dpm["train_rows"]), _cell(distilled and distilled["detection_gb"], "d")]
        cells += [
            _cell(dpm["detection_gb"], "d"),
            "yes" if dpm["detection_gb"] >= 0.85 else "**no**",
        ]
        cells += [_cell(dpm[k], k) for k in ("shape", "trend", "dcr_share", "mia_auc", "fit_cpu_s")]
        cells.append(previous.get(name, {}).get("text", "–"))
        lines.append("| " + " | ".join(cells) + " |")
    for name, prev in previous.items():  # tables quoted without a run of this arm
        if "row" in prev and name not in {r["dataset"] for r in runs}:
            lines.append("| " + " | ".join([name, *prev["row"], prev.get("text", "–")]) + " |")
    return [*lines, ""]


def render(results: dict) -> str:
    """The RESULTS.md fragment of the ablation JSON (one table per dataset; a summary table
    first when the JSON names its ``summary_arm``)."""
    m = results.get("machine", {})
    lines = [
        f"## {results.get('title', TITLE)}",
        "",
        results.get("note", "").strip(),
        "",
        f"Machine: {m.get('cpu', '?')}, {m.get('cores', '?')} cores, busy (load average in "
        "the `load` column; other engineers' jobs shared the 2 cores), torch "
        f"{m.get('torch', '?')}, scikit-learn {m.get('scikit-learn', '?')}, 1 torch thread. "
        "Times are CPU seconds of the benchmark process (wall time on the busy machine was "
        "several times longer). Detection: gradient-boosting C2ST against the training rows, "
        "5 folds, native categoricals, 10,000 rows a side (1 = indistinguishable); shape and "
        "trend against the training rows; DCR share and distance-MIA AUC against the holdout "
        "(.5 = synthetic rows no closer to training rows than to unseen ones).",
        "",
    ]
    if "summary_arm" in results:
        lines += summary(results)
    columns = list(COLUMNS)
    columns += [c for c in OPTIONAL_COLUMNS if any(c[0] in r for r in results["runs"])]
    datasets = list(dict.fromkeys(r["dataset"] for r in results["runs"]))
    for name in datasets:
        lines += [f"### {name}", ""]
        head = ["arm", "post-processors / sampling", "train rows", "epochs"]
        head += [title for _, title in columns] + ["load", "command"]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for r in results["runs"]:
            if r["dataset"] != name:
                continue
            epochs = "–" if r["epochs_run"] is None else str(r["epochs_run"])
            cells = [r["arm"], r["variant"], str(r["train_rows"]), epochs]
            cells += [_cell(r.get(key), key) for key, _ in columns]
            cells += [str(r.get("load_1m", "")), f"`{r['command']}`"]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    main()
