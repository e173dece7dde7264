"""Ablation of the over-sampler's selection of synthetic rows (run by hand).

One synthesizer is fitted per training fold and draws a pool of ``--factor`` candidates per
row to add; every variant then picks its rows from that same pool, so the variants differ
only in the selection:

* ``raw``: the first draws, no selection (``selection=None``);
* ``purity=P``: density-ratio selection with that class-posterior exponent
  (``selection="density-ratio", purity=P``; ``purity=0`` is plain discriminator rejection
  sampling towards the class's real distribution).

    python benchmarks/bench_rebalance_selection.py --datasets bank,mammography \\
        --model diffusion --purity 0,1,2,3 [--pool-dir /tmp/pools]

Folds, classifiers, metrics and the target counts are those of ``bench_rebalance.py``
(3-fold stratified CV, seed 0, tables subsampled to 20,000 rows). ``--pool-dir`` keeps the
pools, so that more variants can be scored without refitting. Writes
``benchmarks/results/rebalance_selection_<tag>.json``.
"""

from __future__ import annotations

import argparse
import json
import pickle
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tabgen
from benchmarks._common import RESULTS, load_dataset, machine_info
from benchmarks.bench_rebalance import (
    _classifier,
    _encode,
    _scores,
    _strategy,
    drop_rare_classes,
)
from tabgen.pipelines.oversampling import _TARGET, _density_ratio_pick


def _pools(model, X, y, categorical, factor, seed, path):
    """``{class: DataFrame}`` of ``factor x`` the rows to add, cached in ``path``."""
    if path is not None and path.exists():
        with path.open("rb") as fh:
            return pickle.load(fh)
    schema = {c: "categorical" for c in categorical} | {_TARGET: "categorical"}
    synth = tabgen.get_synthesizer(model)(schema=schema, random_state=seed)
    synth.fit(X.assign(**{_TARGET: y}))
    pools = {
        c: synth.sample(int(factor * n), conditions={_TARGET: c}, random_state=seed + 1)
        .drop(columns=[_TARGET])
        .reset_index(drop=True)
        for c, n in _strategy(y).items()
    }
    if path is not None:
        with path.open("wb") as fh:
            pickle.dump(pools, fh)
    return pools


def _pick(variant, X, y, pools, factor, rng):
    parts_X, parts_y = [X], [y]
    for c, n in _strategy(y).items():
        draws = pools[c].iloc[: int(factor * n)]
        if variant == "raw":
            rows = draws.iloc[:n]
        else:
            purity = float(variant.removeprefix("purity="))
            keep, _ = _density_ratio_pick(X[y == c], draws, n, rng, others=X[y != c], purity=purity)
            rows = draws.iloc[keep]
        parts_X.append(rows)
        parts_y.append(np.array([c] * n, dtype=y.dtype))
    return pd.concat(parts_X, ignore_index=True), np.concatenate(parts_y)


def main(argv=None) -> None:
    from sklearn.model_selection import StratifiedKFold

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--datasets", default="bank,mammography")
    p.add_argument("--model", default="diffusion")
    p.add_argument("--purity", default="0,1,2,3", help="purity values to compare with raw")
    p.add_argument("--factor", type=float, default=3.0, help="candidate draws per added row")
    p.add_argument("--classifiers", default="lr,rf,gb")
    p.add_argument("--folds", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-rows", type=int, default=20000)
    p.add_argument("--pool-dir", default=None, help="keep / reuse the candidate pools here")
    p.add_argument("--tag", default=None)
    args = p.parse_args(argv)
    warnings.simplefilter("ignore")
    variants = ["raw"] + [f"purity={v}" for v in args.purity.split(",") if v]
    pool_dir = Path(args.pool_dir) if args.pool_dir else None
    if pool_dir is not None:
        pool_dir.mkdir(parents=True, exist_ok=True)
    result = {
        "machine": machine_info(),
        "command": " ".join(sys.argv),
        "model": args.model,
        "factor": args.factor,
        "minority_f1": "macro over every class but the majority",
        "date": time.strftime("%Y-%m-%d"),
        "datasets": {},
    }
    for name in args.datasets.split(","):
        train, test, meta = load_dataset(name)
        data = pd.concat([train, test], ignore_index=True)
        target = meta["target"]
        if args.max_rows and len(data) > args.max_rows:
            data = (
                data.groupby(target, group_keys=False)
                .sample(frac=args.max_rows / len(data), random_state=0)
                .reset_index(drop=True)
            )
        data, dropped = drop_rare_classes(data, target, args.folds)
        X, y = data.drop(columns=[target]), data[target].to_numpy()
        categorical = [c for c in meta["categorical"] if c != target]
        folds = StratifiedKFold(args.folds, shuffle=True, random_state=args.seed).split(X, y)
        rows = {}
        for fold, (tr, te) in enumerate(folds):
            X_tr, y_tr = X.iloc[tr].reset_index(drop=True), y[tr]
            cache = None if pool_dir is None else pool_dir / f"{name}_{args.model}_{fold}.pkl"
            t0 = time.perf_counter()
            pools = _pools(args.model, X_tr, y_tr, categorical, args.factor, args.seed, cache)
            print(f"[{name}] fold {fold} pool ({time.perf_counter() - t0:.0f}s)", flush=True)
            rng = np.random.default_rng(args.seed + fold)
            for variant in variants:
                Xr, yr = _pick(variant, X_tr, y_tr, pools, args.factor, rng)
                for cname in args.classifiers.split(","):
                    A, B = _encode(Xr, X.iloc[te], categorical, scale=cname == "lr")
                    clf = _classifier(cname, False, args.seed).fit(A, yr)
                    s = _scores(y[te], clf.predict_proba(B), clf.classes_)
                    rows.setdefault(f"{variant}|{cname}", []).append(s)
        result["datasets"][name] = {
            "rows": len(data),
            "classes": [str(c) for c in np.unique(y)],
            "dropped_classes": dropped,
            "summary": {
                key: {m: statistics.median(r[m] for r in runs) for m in runs[0]}
                for key, runs in rows.items()
            },
        }
    tag = args.tag or f"{args.model}_{args.datasets.replace(',', '_')}"
    out = RESULTS / f"rebalance_selection_{tag}.json"
    out.write_text(json.dumps(result, indent=2, default=float))
    print(f"-> {out}")


if __name__ == "__main__":
    main()
