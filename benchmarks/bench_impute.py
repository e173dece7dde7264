"""Imputation benchmark (run by hand): tabgen's imputer against scikit-learn's imputers.

    python benchmarks/bench_impute.py --datasets adult,california --mechanisms mcar,mar \\
        --rates 0.3 --max-rows 5000 [--models copula] [--trees 100]

Missingness is injected into complete copies of shared datasets: MCAR, MAR or MNAR (logistic
masking, see :func:`inject`). Metrics on the masked cells:
RMSE and MAE of numeric cells z-scored by the true column's std, accuracy of categorical
cells, and ``downstream``: the ROC-AUC (R² for regression) on the dataset's real test rows of a
random forest trained on the completed table. Writes ``benchmarks/results/impute_<tag>.json``.
"""

from __future__ import annotations

import argparse
import json
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
from tabgen.pipelines import SyntheticImputer


def inject(df: pd.DataFrame, mechanism: str, rate: float, rng) -> np.ndarray:
    """Boolean mask of the cells to hide.

    * ``mcar``: each cell independently with probability ``rate``;
    * ``mar``: a random 30 % of the columns stay observed and drive, through a logistic
      model with Gaussian weights, the missing probability of the others (intercepts
      bisected so that the overall rate is ``rate``);
    * ``mnar``: the same logistic model, after which the driving columns are themselves
      hidden MCAR at ``rate`` (Muzellec et al.'s ``MNAR_mask_logistic`` with
      ``exclude_inputs``, DiffPuter's "MNAR logistic T2"): a cell's missingness then depends
      on values that may be missing.
    """
    n, d = df.shape
    if mechanism == "mcar":
        return rng.random((n, d)) < rate
    if mechanism not in ("mar", "mnar"):
        raise ValueError(f"unknown mechanism {mechanism!r}")
    observed = rng.choice(d, size=max(1, int(0.3 * d)), replace=False)
    drivers = df.iloc[:, observed].apply(
        lambda s: (
            pd.to_numeric(s, errors="coerce")
            if pd.api.types.is_numeric_dtype(s)
            else s.astype("category").cat.codes.astype(float)
        )
    )
    z = ((drivers - drivers.mean()) / drivers.std().replace(0, 1)).fillna(0).to_numpy()
    mask = np.zeros((n, d), dtype=bool)
    # MAR keeps the drivers whole, so the others carry more than ``rate``
    target_rate = rate * d / (d - len(observed)) if mechanism == "mar" else rate
    for j in range(d):
        if j in observed:
            continue
        score = z @ rng.normal(size=z.shape[1])
        score = (score - score.mean()) / (score.std() or 1.0)
        lo, hi = -20.0, 20.0  # bisection on the intercept to hit the rate
        for _ in range(40):
            mid = (lo + hi) / 2
            if (1 / (1 + np.exp(-(score + mid)))).mean() > target_rate:
                hi = mid
            else:
                lo = mid
        mask[:, j] = rng.random(n) < 1 / (1 + np.exp(-(score + lo)))
    if mechanism == "mnar":
        mask[:, observed] = rng.random((n, len(observed))) < rate
    return mask


def sklearn_arm(name: str, holes: pd.DataFrame, categorical: list, trees: int, seed: int):
    from sklearn.ensemble import ExtraTreesRegressor
    from sklearn.experimental import enable_iterative_imputer  # noqa: F401
    from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer
    from sklearn.linear_model import BayesianRidge

    codes, cats = holes.copy(), {}
    for c in categorical:
        cat = holes[c].astype("category")
        cats[c] = cat.cat.categories
        codes[c] = cat.cat.codes.replace(-1, np.nan).astype(float)
    X = codes.apply(pd.to_numeric, errors="coerce").to_numpy(float)
    with warnings.catch_warnings():  # a column with no observed cell (natural missingness)
        warnings.simplefilter("ignore", RuntimeWarning)
        mean, std = np.nan_to_num(np.nanmean(X, axis=0)), np.nanstd(X, axis=0)
    std[~(std > 0)] = 1.0
    Xs = (X - mean) / std
    if name == "mean":
        num = [i for i, c in enumerate(holes.columns) if c not in categorical]
        out = Xs.copy()
        out[:, num] = SimpleImputer(strategy="mean", keep_empty_features=True).fit_transform(
            Xs[:, num]
        )
        cat_idx = [i for i, c in enumerate(holes.columns) if c in categorical]
        if cat_idx:
            out[:, cat_idx] = SimpleImputer(
                strategy="most_frequent", keep_empty_features=True
            ).fit_transform(Xs[:, cat_idx])
    elif name == "knn":
        out = KNNImputer(n_neighbors=5, keep_empty_features=True).fit_transform(Xs)
    elif name == "iterative_br":
        out = IterativeImputer(
            BayesianRidge(), max_iter=10, random_state=seed, keep_empty_features=True
        ).fit_transform(Xs)
    else:  # MissForest-style
        est = ExtraTreesRegressor(n_estimators=trees, n_jobs=1, random_state=seed)
        out = IterativeImputer(
            est, max_iter=5, random_state=seed, keep_empty_features=True
        ).fit_transform(Xs)
    out = out * std + mean
    result = holes.copy()
    for i, c in enumerate(holes.columns):
        col = out[:, i]
        if c in categorical:
            k = len(cats[c])
            if k == 0:  # never observed: nothing to fill with
                continue
            idx = np.clip(np.round(col), 0, k - 1).astype(int)
            result[c] = np.asarray(cats[c])[idx]
        else:
            result[c] = col
    return result


def impute_arm(arm: str, holes: pd.DataFrame, categorical: list, args, synth_params: dict):
    """The completed table of one arm: ``tabgen-<model>`` (SyntheticImputer over that model,
    ``--draws`` and ``--param`` applied) or a scikit-learn arm."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if not arm.startswith("tabgen-"):
            return sklearn_arm(arm, holes, categorical, args.trees, args.seed)
        name = arm.removeprefix("tabgen-")
        model = tabgen.get_synthesizer(name)(
            schema={c: "categorical" for c in categorical}, **synth_params.get(name, {})
        )
        draws = {"n_draws": args.draws} if args.draws is not None else {}
        imp = SyntheticImputer(synthesizer=model, random_state=args.seed, **draws)
        return imp.fit_transform(holes)


def arm_names(args) -> list[str]:
    """The ``--arms`` (empty allowed) followed by ``tabgen-<model>`` for each ``--models``."""
    names = [a for a in args.arms.split(",") if a]
    return names + [f"tabgen-{m}" for m in args.models.split(",") if m]


def record(result: dict, row: dict, out: Path) -> None:
    """Add one arm's row to the results, print it, and rewrite the results file (a run
    stopped early keeps what it measured)."""
    result["runs"].append(row)
    print(row, flush=True)
    out.write_text(json.dumps(result, indent=2, default=float))


def _same(a: pd.Series, b: pd.Series) -> np.ndarray:
    """Cell-wise equality of two category columns: as numbers when both are numeric codes
    (``2`` and ``2.0`` are the same level: injected NaN turns integer codes into floats),
    else as text."""
    an, bn = pd.to_numeric(a, errors="coerce"), pd.to_numeric(b, errors="coerce")
    if an.notna().all() and bn.notna().all():
        return an.to_numpy(float) == bn.to_numpy(float)
    return a.astype(str).to_numpy() == b.astype(str).to_numpy()


def feature_codes(frame: pd.DataFrame, categorical: list, levels: dict) -> np.ndarray:
    """A table as floats for a downstream model: categories by their index in ``levels``
    (unknown or missing -> NaN), numbers as they are."""
    out = frame.copy()
    for c in categorical:
        index = {v: i for i, v in enumerate(levels[c])}
        out[c] = frame[c].map(lambda v, index=index: index.get(level_key(v), np.nan))
    return out.apply(pd.to_numeric, errors="coerce").to_numpy(float)


def level_key(v):
    """One key per category whichever arm wrote it (integer codes come back as 2 or 2.0)."""
    try:
        return float(v)
    except (TypeError, ValueError):
        return str(v)


def category_levels(frame: pd.DataFrame, categorical: list) -> dict:
    return {c: sorted({level_key(v) for v in frame[c].dropna()}, key=str) for c in categorical}


def downstream_score(filled, test, target, task, categorical, seed) -> float:
    """ROC-AUC (classification, macro one-vs-rest beyond two classes) or R² on the real
    test rows of a random forest (100 trees) trained on the completed table."""
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
    from sklearn.metrics import r2_score, roc_auc_score

    feats = [c for c in filled.columns if c != target]
    cats = [c for c in categorical if c != target]
    levels = category_levels(pd.concat([filled[feats], test[feats]]), cats)
    X, X_test = feature_codes(filled[feats], cats, levels), feature_codes(test[feats], cats, levels)
    if task == "regression":
        model = RandomForestRegressor(n_estimators=100, n_jobs=1, random_state=seed)
        model.fit(X, pd.to_numeric(filled[target]).to_numpy(float))
        return float(r2_score(pd.to_numeric(test[target]), model.predict(X_test)))
    y, y_test = filled[target].map(level_key).astype(str), test[target].map(level_key).astype(str)
    model = RandomForestClassifier(n_estimators=100, n_jobs=1, random_state=seed).fit(X, y)
    proba = model.predict_proba(X_test)
    if len(model.classes_) == 2:
        return float(roc_auc_score(y_test == model.classes_[1], proba[:, 1]))
    return float(roc_auc_score(y_test, proba, multi_class="ovr", labels=model.classes_))


def score(truth, holes, filled, mask, categorical) -> dict:
    rmse, mae, acc = [], [], []
    for j, c in enumerate(truth.columns):
        m = mask[:, j] & truth[c].notna().to_numpy()
        if not m.any():
            continue
        if c in categorical:
            acc.append(float(_same(filled[c][m], truth[c][m]).mean()))
        else:
            t = pd.to_numeric(truth[c]).to_numpy(float)
            f = pd.to_numeric(filled[c]).to_numpy(float)
            s = np.nanstd(t) or 1.0
            err = (f[m] - t[m]) / s
            rmse.append(float(np.sqrt(np.mean(err**2))))
            mae.append(float(np.mean(np.abs(err))))
    return {
        "rmse": float(np.mean(rmse)) if rmse else float("nan"),
        "mae": float(np.mean(mae)) if mae else float("nan"),
        "cat_accuracy": float(np.mean(acc)) if acc else float("nan"),
    }


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--datasets", default="adult,california")
    p.add_argument("--mechanisms", default="mcar,mar")
    p.add_argument("--rates", default="0.3")
    p.add_argument("--models", default="copula")
    p.add_argument("--arms", default="mean,knn,iterative_br,missforest")
    p.add_argument("--trees", type=int, default=100)
    p.add_argument("--max-rows", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--draws", type=int, default=None, help="n_draws of tabgen's imputer")
    p.add_argument("--tag", default=None)
    add_param_option(p, "diffusion:cond_fraction=0.9")
    args = p.parse_args(argv)
    synth_params = parse_params(args.param)
    result = {
        "machine": machine_info(),
        "command": " ".join(sys.argv),
        "synthesizer_params": synth_params,
        "n_draws": args.draws,
        "date": time.strftime("%Y-%m-%d"),
        "runs": [],
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"impute_{args.tag or args.datasets.replace(',', '_')}.json"
    for name in args.datasets.split(","):
        train, test, meta = load_dataset(name)
        data = train.dropna().reset_index(drop=True)  # complete rows: ground truth everywhere
        test = test.dropna().reset_index(drop=True)
        task = "regression" if meta["task"] == "regression" else "classification"
        if args.max_rows and len(data) > args.max_rows:
            data = data.sample(args.max_rows, random_state=args.seed).reset_index(drop=True)
        categorical = [c for c in meta["categorical"] if c in data.columns]
        for mech in args.mechanisms.split(","):
            for rate in (float(r) for r in args.rates.split(",")):
                rng = np.random.default_rng(args.seed)
                mask = inject(data, mech, rate, rng)
                holes = data.mask(mask)
                for arm in arm_names(args):
                    t0 = time.perf_counter()
                    filled = impute_arm(arm, holes, categorical, args, synth_params)
                    seconds = time.perf_counter() - t0
                    s = score(data, holes, filled, mask, categorical)
                    s["downstream"] = downstream_score(
                        filled, test, meta["target"], task, categorical, args.seed
                    )
                    row = {
                        "dataset": name,
                        "mechanism": mech,
                        "rate": rate,
                        "arm": arm,
                        "seconds": seconds,
                        **s,
                    }
                    record(result, row, out)
    print(f"-> {out}")


if __name__ == "__main__":
    main()
