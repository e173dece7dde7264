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
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tabgen
from benchmarks._common import RESULTS, load_dataset, machine_info
from tabgen.metrics import detection, fidelity, privacy


def score(train, test, synth, kinds, det_rows: int, folds: int, seed: int = 0) -> dict:
    """Detection (gb), shape, trend, DCR share and MIA AUC of ``synth``."""
    out = {}
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
    return {k: round(float(v), 4) for k, v in out.items()}


def refit_postprocessors(model, train, names, seed: int) -> None:
    """Fit the post-processors ``names`` on an already fitted ``model`` (same rows)."""
    model.set_params(postprocess=list(names))
    model._fit_postprocessors(train, np.random.default_rng(seed))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="adult")
    parser.add_argument("--arm", default="default", help="name of this arm in the results")
    parser.add_argument("--params", default="{}", help="constructor parameters (JSON)")
    parser.add_argument("--load", type=Path, default=None, help="a saved model: no fit")
    parser.add_argument("--save", type=Path, default=None)
    parser.add_argument("--rows", type=int, default=None, help="first N training rows")
    parser.add_argument(
        "--variants",
        default="default",
        help="';'-separated post-processor lists ('default', 'none', 'a,b') with an optional "
        "'@sampler:steps' or '@draws=K' suffix",
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
    kinds = {c: "categorical" for c in meta["categorical"]}
    kinds.update({c: "numerical" for c in meta["numerical"]})
    params = json.loads(args.params)
    load = os.getloadavg()[0]
    if args.load:
        model = tabgen.load(args.load)
        fit_cpu = fit_wall = None
    else:
        model = tabgen.DiffusionSynthesizer(**params, random_state=args.seed)
        c0, w0 = time.process_time(), time.perf_counter()
        model.fit(train)
        fit_cpu, fit_wall = time.process_time() - c0, time.perf_counter() - w0
        print(f"fit {fit_cpu:.1f} cpu s, {fit_wall:.1f} wall s, {model.n_epochs_} epochs")
        if args.save:
            model.save(args.save, overwrite=True)
    results = json.loads(args.out.read_text()) if args.out.is_file() else {"runs": []}
    results["machine"] = machine_info()
    fitted_names = None  # post-processors fitted by this script (None: the model's own)
    sampling_params = {"sampler": model.sampler, "n_steps": model.n_steps}
    for variant in args.variants.split(";"):
        names, _, sampling = variant.partition("@")
        draws, post_cpu = 4, None
        model.set_params(**sampling_params)
        for part in filter(None, sampling.split("@")):
            if part.startswith("draws="):
                draws = int(part.split("=")[1])
            else:
                sampler, steps = part.split(":")
                model.set_params(sampler=sampler, n_steps=int(steps))
        if names != "default" and names != fitted_names:
            chosen = [] if names == "none" else names.split(",")
            c0 = time.process_time()
            refit_postprocessors(model, train, chosen, args.seed + 7)
            post_cpu = round(time.process_time() - c0, 1)
            fitted_names = names
        step = model._postprocessor("discriminator")
        if step is not None:  # candidates per row
            step.__dict__.pop("draw", None)
            step.draw = lambda m, n, c, r, d=draws, f=step.draw: f(m, n, c, r, draws=d)
        c0, w0 = time.process_time(), time.perf_counter()
        synth = model.sample(len(train), random_state=args.seed + 1)
        sample_cpu, sample_wall = time.process_time() - c0, time.perf_counter() - w0
        row = {
            "dataset": args.dataset,
            "arm": args.arm,
            "variant": variant,
            "params": params,
            "train_rows": len(train),
            "epochs_run": model.n_epochs_,
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
        row.update(score(train, test, synth, kinds, args.det_rows, args.folds))
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


def render(results: dict) -> str:
    """The RESULTS.md fragment of the ablation JSON (one table per dataset)."""
    m = results.get("machine", {})
    lines = [
        "## Diffusion at the frontier: ablation (issue #26, bench_diffusion_ablation.py)",
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
    datasets = list(dict.fromkeys(r["dataset"] for r in results["runs"]))
    for name in datasets:
        lines += [f"### {name}", ""]
        head = ["arm", "post-processors / sampling", "train rows", "epochs"]
        head += [title for _, title in COLUMNS] + ["load", "command"]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for r in results["runs"]:
            if r["dataset"] != name:
                continue
            cells = [r["arm"], r["variant"], str(r["train_rows"]), str(r["epochs_run"])]
            for key, _ in COLUMNS:
                v = r.get(key)
                fmt = "{:.1f}" if key.endswith("_s") else "{:.3f}"
                cells.append("–" if v is None else fmt.format(v))
            cells += [str(r.get("load_1m", "")), f"`{r['command']}`"]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    main()
