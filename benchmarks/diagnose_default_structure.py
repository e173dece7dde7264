"""Where default's detection gap lives: column groups, and its exact equalities (run by hand).

Two checks on the ``default`` table (credit-card clients: six monthly repayment statuses
``PAY_*``, bill amounts ``BILL_AMT*`` and payments ``PAY_AMT*``), with the gradient-boosting
two-sample test of :func:`tabgen.metrics.detection` (5 folds, 10,000 rows a side):

* leave-one-group-out AUCs of a saved model's rows against the training rows (``--load``):
  every column, each group alone and every column but the group;
* real rows against real rows (two halves of the training rows), intact and with the exact
  equalities between columns broken (a payment equal to the next month's bill, two equal
  consecutive bills: the value times a uniform draw in [.9, 1.1]), which shows whether the
  detector uses those equalities at all.

Example::

    python benchmarks/diagnose_default_structure.py --load /tmp/m.tabgen \\
        --out benchmarks/results/diagnose_default_structure.json
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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import tabgen
from benchmarks._common import load_dataset, machine_info
from tabgen.metrics import detection

PAY = ["PAY_0", "PAY_2", "PAY_3", "PAY_4", "PAY_5", "PAY_6"]
BILL = [f"BILL_AMT{i}" for i in range(1, 7)]
PAID = [f"PAY_AMT{i}" for i in range(1, 7)]


def auc(a, b, columns) -> float:
    result = detection(
        a[columns], b[columns], classifiers=["gb"], n_splits=5, max_rows=10_000, random_state=0
    )
    return round(float(result.scores["detection_gb_auc"]), 4)


def break_equalities(frame, rng):
    """``frame`` with its exact equalities between columns broken (see the module)."""
    out = frame.copy()
    for i in range(1, 6):
        paid, bill, nxt = f"PAY_AMT{i}", f"BILL_AMT{i}", f"BILL_AMT{i + 1}"
        for col, same in ((paid, (out[paid] == out[nxt]) & (out[paid] > 0)),
                          (bill, (out[bill] == out[nxt]) & (out[bill] != 0))):  # fmt: skip
            out.loc[same, col] = (out.loc[same, col] * rng.uniform(0.9, 1.1, same.sum())).round()
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--load", required=True, help="a model saved after a fit on default")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    t0 = time.process_time()
    train = load_dataset("default")[0].reset_index(drop=True)
    synth = tabgen.load(args.load).sample(10_000, random_state=1)
    every = list(train.columns)
    groups = {"PAY": PAY, "BILL_AMT": BILL, "PAY_AMT": PAID}
    groups["others"] = [c for c in every if c not in PAY + BILL + PAID]
    out = {"all columns": auc(train, synth, every), "groups": {}}
    for name, cols in groups.items():
        without = [c for c in every if c not in cols]
        alone, rest = auc(train, synth, cols), auc(train, synth, without)
        out["groups"][name] = {"alone": alone, "without": rest}
    rng = np.random.default_rng(0)
    order = rng.permutation(len(train))
    half_a, half_b = train.iloc[order[:13_500]], train.iloc[order[13_500:]]
    out["real against real"] = auc(half_a, half_b, every)
    out["real against real, equalities broken"] = auc(half_a, break_equalities(half_b, rng), every)
    out.update(
        model=str(args.load),
        cpu_s=round(time.process_time() - t0, 1),
        date=time.strftime("%Y-%m-%d %H:%M"),
        command="python benchmarks/diagnose_default_structure.py " + " ".join(sys.argv[1:]),
        machine=machine_info(),
    )
    args.out.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps({k: v for k, v in out.items() if k != "machine"}, indent=1))


if __name__ == "__main__":
    main()
