"""Benchmark DiffusionSynthesizer on Adult (run by hand).

Fits on Adult train, times fit and sampling of as many rows as the training set, scores the
sample with ``tabgen.evaluate`` against the holdout (target ``income``) and writes
``benchmarks/results/diffusion_adult.json`` (or ``--out``).

Examples
--------
Full run with the default settings (2 torch threads, as on the reference 2-core CPU)::

    python benchmarks/bench_diffusion.py --threads 2

A quick iteration run on a subset with fewer epochs::

    python benchmarks/bench_diffusion.py --rows 8000 --epochs 50 --out /tmp/diff.json
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import time
from pathlib import Path

import pandas as pd
import torch

import tabgen
from tabgen import DiffusionSynthesizer

try:
    from tabgen import evaluate
except ImportError:  # the metrics package exists but is not re-exported yet
    from tabgen.metrics import evaluate

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
HEADLINE = {
    "shape": "shape",
    "trend": "trend",
    "detection_gb": "detection_score_gb",
    "mle_auc": "utility_synthetic",
    "mle_auc_real": "utility_real",
    "dcr_share": "dcr_share",
    "beta_recall": "beta_recall",
    "alpha_precision": "alpha_precision",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=None, help="train on the first N rows")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--out", type=Path, default=ROOT / "benchmarks/results/diffusion_adult.json"
    )
    parser.add_argument("--no-eval", action="store_true", help="time only")
    parser.add_argument("--save", type=Path, default=None, help="also save the fitted model")
    parser.add_argument("--no-conditional", action="store_true", help="skip the condition checks")
    # any constructor parameter, e.g. --epochs 100 --hidden 512 --max_time 540
    for name, kind in [
        ("epochs", int),
        ("batch_size", int),
        ("lr", float),
        ("hidden", int),
        ("n_layers", int),
        ("n_steps", int),
        ("ema_decay", float),
        ("max_time", float),
    ]:
        parser.add_argument(f"--{name}", type=kind, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    load_start = os.getloadavg()[0]
    train = pd.read_csv(DATA / "adult_train.csv.gz")
    test = pd.read_csv(DATA / "adult_test.csv.gz")
    if args.rows:
        train = train.iloc[: args.rows].reset_index(drop=True)
    params = {
        k: getattr(args, k)
        for k in (
            "epochs",
            "batch_size",
            "lr",
            "hidden",
            "n_layers",
            "n_steps",
            "ema_decay",
            "max_time",
        )
        if getattr(args, k) is not None
    }
    model = DiffusionSynthesizer(**params, verbose=True, random_state=args.seed)

    t0 = time.perf_counter()
    model.fit(train)
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    synth = model.sample(len(train), random_state=args.seed + 1)
    sample_s = time.perf_counter() - t0
    if args.save:
        model.save(args.save, overwrite=True)
    print(f"fit {fit_s:.1f}s ({model.n_epochs_} epochs)  sample {len(synth)} rows {sample_s:.1f}s")

    result = {
        "model": "DiffusionSynthesizer",
        "params": {k: v for k, v in model.get_params().items() if k != "schema"},
        "epochs_run": model.n_epochs_,
        "train_rows": len(train),
        "fit_s": round(fit_s, 2),
        "sample_s": round(sample_s, 2),
        "torch_threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "tabgen_version": tabgen.__version__,
        "command": "python " + " ".join(sys.argv),
        "load_average_1m": [round(load_start, 2), round(os.getloadavg()[0], 2)],
        "final_loss": model.loss_history_[-1] if model.loss_history_ else None,
    }
    if not args.no_eval:
        t0 = time.perf_counter()
        report = evaluate(train, synth, holdout=test, target="income", random_state=0)
        result["eval_s"] = round(time.perf_counter() - t0, 1)
        scores = report.scores
        for name, key in HEADLINE.items():
            value = scores.get(key) if hasattr(scores, "get") else scores[key]
            result[name] = None if value is None else round(float(value), 4)
            print(f"{name:>16}: {result[name]}")
    if not args.no_conditional:
        result.update(conditional_checks(model, train, test, args.seed))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


def conditional_checks(model, train, test, seed) -> dict:
    """Conditional sampling and inpainting on Adult, against the real conditional truth."""
    out = {}
    rich = model.sample(5000, conditions={"income": ">50K"}, random_state=seed + 2)
    real_rich = train[train["income"] == ">50K"]
    out["cond_rich_age_mean"] = round(float(rich["age"].mean()), 2)
    out["real_rich_age_mean"] = round(float(real_rich["age"].mean()), 2)
    out["all_age_mean"] = round(float(train["age"].mean()), 2)
    married = "Married-civ-spouse"
    out["cond_rich_married"] = round(float((rich["marital_status"] == married).mean()), 3)
    out["real_rich_married"] = round(float((real_rich["marital_status"] == married).mean()), 3)
    # impute the target of holdout rows from their other cells
    rows = test.sample(2000, random_state=seed).reset_index(drop=True)
    holes = rows.copy()
    holes["income"] = None
    t0 = time.perf_counter()
    filled = model.inpaint(holes, random_state=seed + 3)
    out["inpaint_2000_s"] = round(time.perf_counter() - t0, 2)
    out["inpaint_income_accuracy"] = round(float((filled["income"] == rows["income"]).mean()), 4)
    out["majority_accuracy"] = round(float((rows["income"] == train["income"].mode()[0]).mean()), 4)
    for key, value in out.items():
        print(f"{key:>24}: {value}")
    return out


if __name__ == "__main__":
    main()
