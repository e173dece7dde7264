"""Imputation of natural missing values, judged downstream (run by hand).

    python benchmarks/bench_impute_natural.py --datasets horse_colic,hypothyroid \\
        [--models copula,diffusion] [--folds 5] [--draws 30] [--param diffusion:KEY=VALUE]

The shared datasets with their own missing cells (horse_colic, hypothyroid) have no ground
truth for those cells, so each arm is judged by what a classifier makes of the table it
completes. Every arm imputes the feature columns of the whole table once, without the target
(so no label reaches the imputer, and all arms see the same rows); a random forest (300
trees) is then scored by stratified k-fold cross-validation on the completed features:
macro one-vs-rest ROC-AUC and accuracy. The ``none`` arm gives the forest the table with its
missing cells (scikit-learn's forests route them natively). Classes with fewer than
``--min-class`` rows are dropped (hypothyroid's secondary_hypothyroid has 2). Columns that
are never observed stay as they are in every arm. Writes
``benchmarks/results/impute_natural_<tag>.json``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import SHARED, add_param_option, datasets, machine_info, parse_params
from benchmarks.bench_impute import (
    RESULTS,
    arm_names,
    category_levels,
    feature_codes,
    impute_arm,
    record,
)


def downstream(X: np.ndarray, y: np.ndarray, folds: int, seed: int) -> dict:
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.metrics import accuracy_score, roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    forest = RandomForestClassifier(n_estimators=300, n_jobs=1, random_state=seed)
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    proba = cross_val_predict(forest, X, y, cv=cv, method="predict_proba")
    classes = np.unique(y)
    if len(classes) == 2:
        auc = roc_auc_score(y == classes[1], proba[:, 1])
    else:
        auc = roc_auc_score(y, proba, multi_class="ovr", average="macro", labels=classes)
    return {"roc_auc": float(auc), "accuracy": float(accuracy_score(y, classes[proba.argmax(1)]))}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--datasets", default="horse_colic,hypothyroid")
    p.add_argument("--models", default="copula,diffusion")
    p.add_argument("--arms", default="none,mean,knn,iterative_br,missforest")
    p.add_argument("--trees", type=int, default=100, help="trees of the MissForest-style arm")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--min-class", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--draws", type=int, default=None, help="n_draws of tabgen's imputer")
    p.add_argument("--tag", default=None)
    add_param_option(p, "diffusion:cond_fraction=1.0")
    args = p.parse_args(argv)
    synth_params = parse_params(args.param)
    result = {
        "machine": machine_info(),
        "command": "python benchmarks/bench_impute_natural.py " + " ".join(argv or sys.argv[1:]),
        "synthesizer_params": synth_params,
        "n_draws": args.draws,
        "folds": args.folds,
        "date": time.strftime("%Y-%m-%d"),
        "runs": [],
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"impute_natural_{args.tag or args.datasets.replace(',', '_')}.json"
    for name in args.datasets.split(","):
        meta = datasets()[name]
        full = pd.read_csv(SHARED / next(iter(meta["files"].values())))
        target = meta["target"]
        full = full[full[target].notna()]
        counts = full[target].value_counts()
        full = full[full[target].isin(counts[counts >= args.min_class].index)]
        full = full.reset_index(drop=True)
        y = full[target].astype(str).to_numpy()
        X = full.drop(columns=[target])
        categorical = [c for c in meta["categorical"] if c in X.columns]
        levels = category_levels(X, categorical)
        missing = float(X.isna().to_numpy().mean())
        for arm in arm_names(args):
            t0 = time.perf_counter()
            filled = X if arm == "none" else impute_arm(arm, X, categorical, args, synth_params)
            seconds = time.perf_counter() - t0
            row = {
                "dataset": name,
                "rows": len(X),
                "missing_share": missing,
                "arm": arm,
                "seconds": seconds,
                **downstream(feature_codes(filled, categorical, levels), y, args.folds, args.seed),
            }
            record(result, row, out)
    print(f"-> {out}")


if __name__ == "__main__":
    main()
