"""Which density-ratio estimator picks a saved model's candidates best (run by hand; #26).

Draws candidates from a saved model (before its selection), and keeps one of ``--draws`` per
row by the log-odds of: nothing (``none``), the model's own MLP discriminator (``mlp``, and
``2*mlp``: its logits doubled), a gradient-boosting classifier trained between the training
rows and a pool of the model's rows (``gb``, ``2*gb``, ``gb+mlp``), and the same classifier
trained against the rows the MLP's selection returns, added to the MLP's logits
(``mlp+gb(resid)``: the second stage that ``postprocess/trees.py`` implements, here with
native categoricals). Each arm's rows are scored with the ablation bench's protocol
(detection with gradient boosting, 5 folds, 10,000 rows a side; shape, trend, DCR share,
MIA AUC), an extra-trees detector as a check by another kind of classifier (same score
scale), and the MLE AUC on classification tables with ``--mle``. ``--configs`` instead
compares sizes of the residual stage (``iters,learning_rate,max_depth,leaves;...``).

Example::

    python benchmarks/diagnose_selection.py --dataset default --load /tmp/m.tabgen \\
        --draws 4 --out benchmarks/results/diagnose_selection_default.json
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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import tabgen
from benchmarks._common import load_dataset, machine_info
from benchmarks.bench_diffusion_ablation import score
from tabgen.synthesizers.postprocess.density_ratio import pick_per_row


def main(argv=None) -> None:
    from sklearn.ensemble import ExtraTreesClassifier, HistGradientBoostingClassifier
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--load", required=True, help="a saved model with a selection")
    parser.add_argument("--draws", type=int, default=4, help="candidates per row")
    parser.add_argument("--mle", action="store_true")
    parser.add_argument("--configs", default=None, help="residual stage sizes (see above)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    os.environ.setdefault("OMP_NUM_THREADS", "1")

    train, test, meta = load_dataset(args.dataset)
    kinds = {c: "categorical" for c in meta["categorical"]}
    kinds.update({c: "numerical" for c in meta["numerical"]})
    model = tabgen.load(args.load)
    step = model._postprocessor("discriminator")
    if step is None:
        raise SystemExit(f"{args.load} has no selection")
    rng = np.random.default_rng(5)
    cat = [s.name for s in model.schema_ if s.kind == "categorical"]
    k, n = args.draws, len(train)

    def frame(m: int) -> pd.DataFrame:
        Z = model._sample(m, None, rng)
        return model._after_decode(model._decode(Z, 0), None).reset_index(drop=True)

    def codes(d: pd.DataFrame) -> np.ndarray:
        X = d[train.columns].copy()
        for c in cat:
            levels = sorted(train[c].astype(object).fillna("__nan__").astype(str).unique())
            values = X[c].astype(object).fillna("__nan__").astype(str)
            X[c] = pd.Categorical(values, categories=levels).codes.astype(float)
            X.loc[X[c] < 0, c] = np.nan
        return X.apply(pd.to_numeric, errors="coerce").to_numpy(float)

    is_cat = np.array([c in cat for c in train.columns])

    def fit_gb(fake, iters=1000, lr=0.1, depth=None, leaves=31):
        X = np.vstack([codes(train), codes(fake)])
        y = np.r_[np.ones(len(train)), np.zeros(len(fake))]
        gb = HistGradientBoostingClassifier(
            max_iter=iters, learning_rate=lr, max_depth=depth, max_leaf_nodes=leaves,
            categorical_features=is_cat, early_stopping=True, validation_fraction=0.1,
            n_iter_no_change=10, random_state=0,
        )  # fmt: skip
        return gb.fit(X, y)

    def extra_trees(s: pd.DataFrame) -> float:
        m = min(10_000, n)
        a, b = train.sample(m, random_state=1), s.sample(m, random_state=1)
        X = np.nan_to_num(np.vstack([codes(a), codes(b)]), nan=-999)
        y = np.r_[np.zeros(m), np.ones(m)]
        et = ExtraTreesClassifier(300, min_samples_leaf=3, n_jobs=1, random_state=0)
        folds = StratifiedKFold(5, shuffle=True, random_state=0)
        auc = cross_val_score(et, X, y, cv=folds, scoring="roc_auc").mean()
        return round(2 * (1 - max(auc, 0.5)), 4)

    def scored(logits) -> dict:
        s = cand.iloc[:n] if logits is None else cand.iloc[pick_per_row(logits, k, u)]
        s = s.reset_index(drop=True)
        target = meta["target"] if args.mle and meta["task"] != "regression" else None
        out = score(train, test, s, kinds, 10_000, 5, target=target)
        out["detection_extra_trees"] = extra_trees(s)
        return out

    t0 = time.process_time()
    arms: dict = {}
    if args.configs is None:
        gb = fit_gb(frame(n))
        pool = frame(k * n)
        kept = pool.iloc[pick_per_row(step.score(pool), k, rng.random(n))].reset_index(drop=True)
        resid = fit_gb(kept)
        cand = frame(k * n)
        u = rng.random(n)
        X = codes(cand)
        lg, lr, lm = gb.decision_function(X), resid.decision_function(X), step.score(cand)
        for name, logits in {
            "none": None, "mlp": lm, "2*mlp": 2 * lm, "gb": lg, "2*gb": 2 * lg,
            "gb+mlp": lg + lm, "mlp+gb(resid)": lm + lr,
        }.items():  # fmt: skip
            arms[name] = scored(logits)
            print(name, arms[name], flush=True)
    else:
        pool = frame(k * n)
        kept = pool.iloc[pick_per_row(step.score(pool), k, rng.random(n))].reset_index(drop=True)
        cand = frame(k * n)
        u = rng.random(n)
        lm = step.score(cand)
        for spec in args.configs.split(";"):
            iters, lr, depth, leaves = spec.split(",")
            depth = None if depth == "None" else int(depth)
            resid = fit_gb(kept, int(iters), float(lr), depth, int(leaves))
            arms[spec] = {"iterations": int(resid.n_iter_)}
            arms[spec].update(scored(lm + resid.decision_function(codes(cand))))
            print(spec, arms[spec], flush=True)
    out = {
        "dataset": args.dataset,
        "model": str(args.load),
        "draws": k,
        "arms": arms,
        "cpu_s": round(time.process_time() - t0, 1),
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "command": "python benchmarks/diagnose_selection.py " + " ".join(sys.argv[1:]),
        "machine": machine_info(),
    }
    args.out.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
