"""Offline prototype of the binary conditionals (issue #26; run by hand).

Draws categorical columns of a saved model's rows again, one after the other, from
scikit-learn's ``HistGradientBoostingClassifier`` (native categoricals, early stopping)
fitted on the training rows, and scores the rows with the ablation bench's protocol. The
modes: ``none`` (the rows as sampled), ``target`` (the table's target only), ``binary``
(every two-level column: what ``postprocess/conditionals.py`` does, without its held-out
check and with other features) and ``cats`` (every categorical column: a Gibbs sweep).

Example::

    python benchmarks/diagnose_conditionals.py --dataset adult --load /tmp/adult.tabgen \\
        --modes none,target,binary,cats
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tabgen
from benchmarks._common import load_dataset
from benchmarks.bench_diffusion_ablation import score

MIN_LEVEL_ROWS = 20  # levels with fewer training rows are neither learnt nor drawn


def as_text(frame: pd.DataFrame, columns) -> pd.DataFrame:
    """The categorical ``columns`` as text (missing: ``"nan"``), the others as they are."""
    out = frame.copy()
    for c in columns:
        out[c] = np.array(["nan" if pd.isna(v) else str(v) for v in out[c]], dtype=object)
    return out


def redraw(real, synth, columns, features, categorical, rng) -> tuple[pd.DataFrame, list]:
    """``synth`` with ``columns`` drawn again in turn (text cells); per column its levels,
    boosting rounds, CPU seconds and share of cells changed."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    synth, log = synth.copy(), []
    for c in columns:
        others = [f for f in features if f != c]
        Xr, Xs = real[others].copy(), synth[others].copy()
        for f in others:
            if f in categorical:
                dtype = pd.CategoricalDtype(sorted(set(real[f]) | set(synth[f])))
                Xr[f], Xs[f] = Xr[f].astype(dtype), Xs[f].astype(dtype)
        counts = real[c].value_counts()
        common = set(counts.index[counts >= MIN_LEVEL_ROWS])
        on_r, on_s = real[c].isin(common).to_numpy(), synth[c].isin(common).to_numpy()
        c0 = time.process_time()
        clf = HistGradientBoostingClassifier(
            categorical_features="from_dtype", early_stopping=True, max_iter=200, random_state=0
        ).fit(Xr[on_r], real[c][on_r])
        p = clf.predict_proba(Xs)
        pick = (p.cumsum(1) < rng.random(len(p))[:, None]).sum(1).clip(0, p.shape[1] - 1)
        new = np.where(on_s, clf.classes_[pick], synth[c].to_numpy())
        log.append(
            {
                "column": c,
                "levels": len(clf.classes_),
                "rounds": int(clf.n_iter_),
                "cpu_s": round(time.process_time() - c0, 1),
                "changed": round(float((new != synth[c].to_numpy()).mean()), 3),
            }
        )
        synth[c] = new
    return synth, log


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="adult")
    parser.add_argument("--load", required=True, help="a saved model of the dataset")
    parser.add_argument("--modes", default="none,target,binary,cats")
    parser.add_argument("--seed", type=int, default=1, help="the sample's seed")
    args = parser.parse_args(argv)
    train, test, meta = load_dataset(args.dataset)
    kinds = {c: "categorical" for c in meta["categorical"]}
    kinds.update({c: "numerical" for c in meta["numerical"]})
    categorical = [c for c, k in kinds.items() if k == "categorical"]
    target = meta["target"] if meta["task"] != "regression" else None
    synth = tabgen.load(args.load).sample(len(train), random_state=args.seed)
    real_text, synth_text = as_text(train, categorical), as_text(synth, categorical)
    for mode in args.modes.split(","):
        if mode == "target":
            columns = [target] if target in categorical else []
        elif mode == "binary":
            columns = [
                c for c in categorical if (real_text[c].value_counts() >= MIN_LEVEL_ROWS).sum() == 2
            ]
        elif mode == "cats":
            columns = categorical
        else:
            columns = []
        rng = np.random.default_rng(0)
        drawn, log = redraw(real_text, synth_text, columns, list(kinds), categorical, rng)
        out = synth.copy()
        for c in columns:  # the text cells back to the column's own values
            back = dict(zip(real_text[c], train[c]))
            back.update(zip(synth_text[c], synth[c]))
            out[c] = [back[v] for v in drawn[c]]
        row = score(train, test, out, kinds, 10_000, 5, seed=args.seed, target=target)
        print(json.dumps({"dataset": args.dataset, "mode": mode, **row, "columns": log}))


if __name__ == "__main__":
    main()
