"""Rebalancing benchmark (run by hand): tabgen's over-sampler against no resampling, class
weights, RandomOverSampler and SMOTE/SMOTENC, resampling only inside training folds.

    python benchmarks/bench_rebalance.py --datasets mammography,bank --folds 5 --seeds 0
        [--models copula,copula/raw] [--max-rows 20000] [--classifiers lr,rf,gb]

    # time only: over-sample each whole table (all rows) to balance, no cross-validation
    python benchmarks/bench_rebalance.py --datasets bank --models diffusion --timing

Classes too rare to give every training fold ``MIN_CLASS_ROWS`` rows are dropped from the
table first (recorded as ``dropped_classes``). A model name with ``/raw`` runs the
over-sampler without density-ratio selection (``selection=None``), one with ``/cond`` draws
whole rows from the class-conditional distribution (``generation="conditional"``) instead of
the default (inpainting around real rows for models that inpaint); ``diffusion/cond/raw``
combines both.

Writes ``benchmarks/results/rebalance_<tag>.json`` (needs the ``bench`` extra for
imbalanced-learn). Metrics: PR-AUC (macro one-vs-rest for multiclass), ROC-AUC, balanced
accuracy, minority-class F1 (multiclass: the macro mean over every class but the majority),
Brier score.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tabgen
from benchmarks._common import (
    RESULTS,
    add_param_option,
    load_dataset,
    machine_info,
    parse_params,
)
from tabgen.pipelines import SyntheticOverSampler


def _encode(X_train, X_test, categorical, scale):
    """Ordinal codes for categories (one-hot for linear models), medians for NaN."""
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    num = [c for c in X_train.columns if c not in categorical]
    parts_tr, parts_te = [], []
    if num:
        med = X_train[num].median().fillna(0.0)  # all-missing columns: 0
        a, b = X_train[num].fillna(med).to_numpy(float), X_test[num].fillna(med).to_numpy(float)
        if scale:
            sc = StandardScaler().fit(a)
            a, b = sc.transform(a), sc.transform(b)
        parts_tr.append(a)
        parts_te.append(b)
    if categorical:
        ctr = X_train[categorical].astype(str)
        cte = X_test[categorical].astype(str)
        if scale:
            enc = OneHotEncoder(handle_unknown="ignore", sparse_output=False).fit(ctr)
            parts_tr.append(enc.transform(ctr))
            parts_te.append(enc.transform(cte))
        else:
            from sklearn.preprocessing import OrdinalEncoder

            enc = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1).fit(ctr)
            parts_tr.append(enc.transform(ctr))
            parts_te.append(enc.transform(cte))
    return np.hstack(parts_tr), np.hstack(parts_te)


def _classifier(name, weighted, seed):
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    cw = "balanced" if weighted else None
    if name == "lr":
        return LogisticRegression(max_iter=2000, class_weight=cw)
    if name == "rf":
        return RandomForestClassifier(
            n_estimators=200, n_jobs=1, class_weight=cw, random_state=seed
        )
    return HistGradientBoostingClassifier(class_weight=cw, random_state=seed)


#: Classes with fewer training rows than this are left as they are by every resampling arm
#: (SMOTE needs neighbours; a generator cannot learn a class from one or two rows).
MIN_CLASS_ROWS = 6


def drop_rare_classes(data: pd.DataFrame, target: str, folds: int):
    """Drop the classes too rare to give every training fold ``MIN_CLASS_ROWS`` rows.

    Such a class (hypothyroid's ``secondary_hypothyroid`` has 2 rows) has 0 or 1 rows in a
    test fold, so its average precision is 0 or 1 by chance and swings the macro PR-AUC by a
    quarter; and with 1-2 training rows HistGradientBoosting's multiclass fit turned unstable
    for every arm, no resampling included. Returns the kept rows and ``{class: rows}``
    dropped.
    """
    counts = data[target].value_counts()
    need = -(-MIN_CLASS_ROWS * folds // max(1, folds - 1))  # ceil
    rare = {str(c): int(n) for c, n in counts.items() if n < need}
    if rare:
        data = data[~data[target].astype(str).isin(rare)].reset_index(drop=True)
    return data, rare


def _strategy(y) -> dict:
    """imbalanced-learn's "not majority" target counts, for the classes that have at least
    ``MIN_CLASS_ROWS`` rows in this training fold (the others keep their rows)."""
    counts = pd.Series(y).value_counts()
    top = int(counts.max())
    return {c: top for c, n in counts.items() if n >= MIN_CLASS_ROWS and n < top}


def _resample(arm, X, y, categorical, seed, synth_params=None):
    if arm in ("none", "class_weight"):
        return X, y
    strategy = _strategy(y)
    if not strategy:
        return X, y
    if arm == "ros":
        from imblearn.over_sampling import RandomOverSampler

        return RandomOverSampler(sampling_strategy=strategy, random_state=seed).fit_resample(X, y)
    if arm == "smote":
        from imblearn.over_sampling import SMOTE, SMOTENC

        Xf = X.copy()
        num = [c for c in X.columns if c not in categorical]
        Xf[num] = Xf[num].fillna(Xf[num].median().fillna(0.0))
        for c in categorical:
            Xf[c] = Xf[c].astype(str)
        counts = pd.Series(y).value_counts()
        k = max(1, min(5, int(counts[list(strategy)].min()) - 1))
        common = {"sampling_strategy": strategy, "k_neighbors": k, "random_state": seed}
        if categorical and num:
            idx = [X.columns.get_loc(c) for c in categorical]
            return SMOTENC(categorical_features=idx, **common).fit_resample(Xf, y)
        return SMOTE(**common).fit_resample(Xf, y)
    model, _, variant = arm.removeprefix("tabgen-").partition("/")
    params = {"schema": {c: "categorical" for c in categorical}}
    params.update((synth_params or {}).get(model, {}))
    synth = tabgen.get_synthesizer(model)(**params)
    return SyntheticOverSampler(
        synthesizer=synth,
        sampling_strategy=strategy,
        generation="conditional" if "cond" in variant.split("/") else "auto",
        selection=None if "raw" in variant.split("/") else "density-ratio",
        random_state=seed,
    ).fit_resample(X, y)


def _scores(y_true, proba, classes):
    from sklearn.metrics import (
        average_precision_score,
        balanced_accuracy_score,
        f1_score,
        roc_auc_score,
    )

    pred = classes[np.argmax(proba, axis=1)]
    counts = pd.Series(y_true).value_counts()
    minority = list(counts.index[1:])  # every class but the majority (binary: the minority)
    onehot = (np.asarray(y_true)[:, None] == classes[None, :]).astype(float)
    out = {
        "balanced_accuracy": balanced_accuracy_score(y_true, pred),
        "minority_f1": f1_score(y_true, pred, labels=minority, average="macro", zero_division=0),
        "brier": float(np.mean(np.sum((proba - onehot) ** 2, axis=1))),
    }
    if len(classes) == 2:
        pos = proba[:, 1]
        out["pr_auc"] = average_precision_score(y_true == classes[1], pos)
        out["roc_auc"] = roc_auc_score(y_true == classes[1], pos)
    else:
        out["pr_auc"] = average_precision_score(onehot, proba, average="macro")
        out["roc_auc"] = roc_auc_score(onehot, proba, average="macro", multi_class="ovr")
    return out


def _timing(args, synth_params, seed) -> dict:
    """Seconds of one ``fit_resample`` (training included) on each whole table."""
    import torch

    out = {"torch_threads": torch.get_num_threads()}
    for name in args.datasets.split(","):
        train, test, meta = load_dataset(name)
        data = pd.concat([train, test], ignore_index=True)
        target = meta["target"]
        X, y = data.drop(columns=[target]), data[target].to_numpy()
        categorical = [c for c in meta["categorical"] if c != target]
        for model in (m for m in args.models.split(",") if m):
            t0 = time.perf_counter()
            Xr, _ = _resample(f"tabgen-{model}", X, y, categorical, seed, synth_params)
            seconds = time.perf_counter() - t0
            out[f"{name}|{model}"] = {
                "rows_in": len(X),
                "rows_out": len(Xr),
                "seconds": round(seconds, 1),
                "load_avg_end": list(os.getloadavg()),
            }
            print(f"[{name}] {model}: {len(X)} -> {len(Xr)} rows in {seconds:.1f}s", flush=True)
    return out


def main(argv=None) -> None:
    from sklearn.model_selection import StratifiedKFold

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--datasets", default="mammography,bank")
    p.add_argument("--models", default="copula")
    p.add_argument("--classifiers", default="lr,rf,gb")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--seeds", default="0")
    p.add_argument("--max-rows", type=int, default=None)
    p.add_argument("--tag", default=None)
    p.add_argument(
        "--timing",
        action="store_true",
        help="only time fit_resample on each whole table (balanced to the majority)",
    )
    add_param_option(p)
    args = p.parse_args(argv)
    synth_params = parse_params(args.param)
    arms = ["none", "class_weight", "ros", "smote"] + [
        f"tabgen-{m}" for m in args.models.split(",") if m
    ]
    seeds = [int(s) for s in args.seeds.split(",")]
    result = {
        "machine": machine_info(),
        "command": " ".join(sys.argv),
        "min_class_rows": MIN_CLASS_ROWS,
        "minority_f1": "macro over every class but the majority",
        "synthesizer_params": synth_params,
        "date": time.strftime("%Y-%m-%d"),
        "datasets": {},
    }
    if args.timing:
        result["timing"] = _timing(args, synth_params, seeds[0])
        tag = args.tag or "timing_" + args.datasets.replace(",", "_")
        out = RESULTS / f"rebalance_{tag}.json"
        out.write_text(json.dumps(result, indent=2, default=float))
        print(f"-> {out}")
        return
    for name in args.datasets.split(","):
        train, test, meta = load_dataset(name)
        data = pd.concat([train, test], ignore_index=True)
        if args.max_rows and len(data) > args.max_rows:
            data = (
                data.groupby(meta["target"], group_keys=False)
                .sample(frac=args.max_rows / len(data), random_state=0)
                .reset_index(drop=True)
            )
        target = meta["target"]
        data, dropped = drop_rare_classes(data, target, args.folds)
        if dropped:
            print(f"[{name}] classes too rare for {args.folds}-fold CV, dropped: {dropped}")
        X, y = data.drop(columns=[target]), data[target].to_numpy()
        categorical = [c for c in meta["categorical"] if c != target]
        classes = np.unique(y)
        rows, errors = {}, {}
        for seed in seeds:
            folds = StratifiedKFold(args.folds, shuffle=True, random_state=seed).split(X, y)
            for fold, (tr, te) in enumerate(folds):
                for arm in arms:
                    t0 = time.perf_counter()
                    try:
                        with warnings.catch_warnings():
                            warnings.simplefilter("ignore")
                            Xr, yr = _resample(
                                arm,
                                X.iloc[tr].reset_index(drop=True),
                                y[tr],
                                categorical,
                                seed,
                                synth_params,
                            )
                    except ValueError as exc:  # e.g. SMOTE with a 1-row class in this fold
                        errors.setdefault(arm, []).append(f"fold {fold}: {exc}")
                        print(f"[{name}] fold {fold} {arm} failed: {exc}", flush=True)
                        continue
                    resample_s = time.perf_counter() - t0
                    Xr = pd.DataFrame(Xr, columns=X.columns)
                    for cname in args.classifiers.split(","):
                        A, B = _encode(Xr, X.iloc[te], categorical, scale=cname == "lr")
                        clf = _classifier(cname, arm == "class_weight", seed).fit(A, np.asarray(yr))
                        s = _scores(y[te], clf.predict_proba(B), clf.classes_)
                        s["resample_s"] = resample_s
                        rows.setdefault(f"{arm}|{cname}", []).append(s)
                    print(
                        f"[{name}] seed {seed} fold {fold} {arm} done ({resample_s:.1f}s)",
                        flush=True,
                    )
        summary = {
            key: {m: statistics.median(r[m] for r in runs) for m in runs[0]}
            for key, runs in rows.items()
        }
        result["datasets"][name] = {
            "rows": len(data),
            "classes": [str(c) for c in classes],
            "dropped_classes": dropped,
            "summary": summary,
            "errors": errors,
        }
    tag = args.tag or args.datasets.replace(",", "_")
    out = RESULTS / f"rebalance_{tag}.json"
    out.write_text(json.dumps(result, indent=2, default=float))
    print(f"-> {out}")


if __name__ == "__main__":
    main()
