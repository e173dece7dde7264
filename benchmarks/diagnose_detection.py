"""What gives a saved synthesizer's rows away: per-column and per-pair detection AUCs (run by hand).

Samples as many rows as the training table from a saved model and runs the gradient-boosting
two-sample test (:func:`tabgen.metrics.detection`, native categoricals) on each column alone,
on the pairs of the ``--top`` columns with the highest single AUC (and of the pairs named with
``--pairs``), and on all columns together. An AUC of .5 means the synthetic rows cannot be told
from the training rows on those columns; the margins are right where every single column is
near .5, and the pairs then show which joint relations the model misses.

Example::

    python benchmarks/diagnose_detection.py --dataset default --load /tmp/m.tabgen \\
        --out benchmarks/results/diag.json
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tabgen
from benchmarks._common import load_dataset, machine_info
from tabgen.metrics import detection


def auc(train, synth, columns, kinds, rows: int, folds: int) -> float:
    """Gradient-boosting C2ST AUC on ``columns`` only."""
    sub = {c: kinds[c] for c in columns if c in kinds}
    result = detection(
        train[columns],
        synth[columns],
        metadata=sub,
        classifiers=["gb"],
        n_splits=folds,
        max_rows=rows,
        random_state=0,
    )
    return round(float(result.scores["detection_gb_auc"]), 4)


def equal_pairs(train, synth, columns, top: int = 12) -> dict:
    """Share of rows on which two numeric columns hold the same non-zero value, in the
    training and the synthetic rows, for the ``top`` pairs with the largest gap."""
    out = {}
    for a, b in itertools.combinations(columns, 2):
        shares = [float(((d[a] == d[b]) & (d[a] != 0)).mean()) for d in (train, synth)]
        out[f"{a} = {b}"] = [round(v, 4) for v in shares]
    return dict(sorted(out.items(), key=lambda kv: -abs(kv[1][0] - kv[1][1]))[:top])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--load", type=Path, required=True, help="a saved model")
    parser.add_argument("--sample-rows", type=int, default=None, help="as the model's fit")
    parser.add_argument("--top", type=int, default=8, help="pairs among the N worst columns")
    parser.add_argument("--pairs", default="", help="more pairs: 'a:b;c:d'")
    parser.add_argument("--rows", type=int, default=10_000, help="rows a side")
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-auc", action="store_true", help="only the equal pairs")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    os.environ.setdefault("OMP_NUM_THREADS", "1")

    train, _, meta = load_dataset(args.dataset)
    if args.sample_rows and args.sample_rows < len(train):
        train = train.sample(args.sample_rows, random_state=args.seed).reset_index(drop=True)
    kinds = {c: "categorical" for c in meta["categorical"]}
    kinds.update({c: "numerical" for c in meta["numerical"]})
    model = tabgen.load(args.load)
    synth = model.sample(len(train), random_state=args.seed + 1)
    columns = list(train.columns)
    c0 = time.process_time()
    numeric = [c for c in columns if c in meta["numerical"]]
    out = {
        "dataset": args.dataset,
        "model": str(args.load),
        "params": {k: v for k, v in model.get_params().items() if k in ("atoms", "sampler")},
        "equal_pairs (train, synthetic)": equal_pairs(train, synth, numeric),
    }
    if not args.skip_auc:
        single = {c: auc(train, synth, [c], kinds, args.rows, args.folds) for c in columns}
        worst = sorted(columns, key=single.get, reverse=True)[: args.top]
        pairs = list(itertools.combinations(worst, 2))
        pairs += [tuple(p.split(":")) for p in filter(None, args.pairs.split(";"))]
        pair = {
            f"{a} x {b}": auc(train, synth, [a, b], kinds, args.rows, args.folds) for a, b in pairs
        }
        out |= {
            "rows_a_side": min(args.rows, len(train)),
            "folds": args.folds,
            "all_columns": auc(train, synth, columns, kinds, args.rows, args.folds),
            "single": dict(sorted(single.items(), key=lambda kv: -kv[1])),
            "pairs": dict(sorted(pair.items(), key=lambda kv: -kv[1])),
        }
    out |= {
        "cpu_s": round(time.process_time() - c0, 1),
        "load_1m": round(os.getloadavg()[0], 1),
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "command": "python benchmarks/diagnose_detection.py " + " ".join(sys.argv[1:]),
        "machine": machine_info(),
    }
    args.out.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps({k: v for k, v in out.items() if k != "machine"}, indent=1))


if __name__ == "__main__":
    main()
