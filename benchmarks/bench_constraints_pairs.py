"""Where a model's fidelity moves with the rules: per-column shapes and per-pair trends of
fits without and with ``constraints=``, over several seeds (run by hand).

Same data as :mod:`benchmarks.bench_constraints` (1,500 training rows, rows breaking a rule
dropped, 1,500 held-out rows; the named rules plus the discovered ones that do not clash with
them). For each seed, one fit without and one with the rules (``--selection none``: the
model's candidate selection off in both). The change of the trend score
(mean with − mean without over the seeds) is split between the pairs that touch a column a
rule rewrites (the written columns of the compiled steps: a gap, a derived column, the
columns of a fixed combination) and the pairs that do not, which the rules leave to the
model: a change there comes from the fit as a whole (the spread of short fits, or what the
model learns from the columns the rules take out of its table). For fixed combinations, the share
of every combination in the training rows and in the generated rows of each arm.

    OMP_NUM_THREADS=1 PYTHONPATH=. python -m benchmarks.bench_constraints_pairs
        [--dataset adult] [--model gan] [--epochs 30] [--seeds 0,1,2,3,4,5]
        [--selection default|none] [--output gan_rules_pairs.json]

Appends one entry per call to ``benchmarks/results/<output>`` (a list) and prints a summary.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import numpy as np
import pandas as pd

from benchmarks._common import RESULTS, load_dataset, machine_info
from benchmarks.bench_constraints import TABGEN, rules_for, validity_mask
from tabgen.constraints import ConstraintSet, FixedCombinations
from tabgen.metrics.fidelity import fidelity


def inner_table(rules, train, model_name) -> tuple:
    """The columns the compiled rules rewrite (a gap, a derived column, a joint category),
    and the columns of the table the model learns."""
    copies = getattr(TABGEN[model_name], "_constraint_copies", False)
    rules = ConstraintSet(rules, copies=copies)
    inner = rules.fit_transform(train)
    return rules.transformed_columns, list(inner.columns)


def one_fit(model_name, train, holdout, rules, args, seed) -> dict:
    params = {"random_state": seed, "epochs": args.epochs}
    if args.selection == "none":
        params["selection"] = None
    if rules:
        params["constraints"] = rules
    start = time.process_time()
    model = TABGEN[model_name](**params).fit(train)
    rows = model.sample(len(holdout), random_state=seed)[list(holdout.columns)]
    res = fidelity(holdout, rows)
    shapes = res.details["column_shapes"]
    pairs = res.details["column_pair_trends"]
    combos = {}
    for rule in rules_for_combos(args.rules_all):
        key = " × ".join(rule.columns)
        combos[key] = _shares(rows, rule.columns)
    return {
        "seed": seed,
        "cpu_s": round(time.process_time() - start, 1),
        "shape": float(res.scores["shape"]),
        "trend": float(res.scores["trend"]),
        "columns": {c: round(float(v), 4) for c, v in zip(shapes.iloc[:, 0], shapes["score"])},
        "pairs": {
            f"{a}|{b}": float(s)
            for a, b, s, c in zip(
                pairs["column_1"], pairs["column_2"], pairs["score"], pairs["contributes"]
            )
            if c
        },
        "combinations": combos,
    }


def rules_for_combos(rules) -> list:
    return [r for r in rules if isinstance(r, FixedCombinations)]


def _shares(frame: pd.DataFrame, cols) -> dict:
    keys = frame[cols].astype(str).agg(" / ".join, axis=1)
    return {k: round(float(v), 4) for k, v in keys.value_counts(normalize=True).items()}


def summary(entry: dict) -> dict:
    """Mean change with the rules: shape per column, trend over all pairs, the pairs that
    touch a rewritten column, and the others."""
    arms = entry["arms"]
    written = set(entry["written_columns"])

    def mean(arm, pick):
        per_seed = [np.mean([v for k, v in f["pairs"].items() if pick(k)]) for f in arms[arm]]
        return float(np.mean(per_seed)), [float(v) for v in per_seed]

    out = {}
    for name, pick in [
        ("all pairs", lambda k: True),
        ("pairs touching a rewritten column", lambda k: bool(set(k.split("|")) & written)),
        ("other pairs", lambda k: not set(k.split("|")) & written),
    ]:
        (w, w_seeds), (wo, wo_seeds) = mean("with", pick), mean("without", pick)
        n = sum(pick(k) for k in arms["with"][0]["pairs"])
        out[name] = {"pairs": n, "without": wo, "with": w, "delta": w - wo,
                     "sd_without": float(np.std(wo_seeds, ddof=1)),
                     "sd_with": float(np.std(w_seeds, ddof=1))}  # fmt: skip
    cols = list(arms["with"][0]["columns"])
    out["columns"] = {
        c: float(
            np.mean([f["columns"][c] for f in arms["with"]])
            - np.mean([f["columns"][c] for f in arms["without"]])
        )
        for c in cols
    }
    return out


def compact(entry: dict) -> None:
    """Replace each fit's per-pair scores by their means over the three groups of
    :func:`summary` (the file keeps the per-seed figures, not the 105 pairs of each fit)."""
    written = set(entry["written_columns"])
    groups = {
        "all pairs": lambda k: True,
        "pairs touching a rewritten column": lambda k: bool(set(k.split("|")) & written),
        "other pairs": lambda k: not set(k.split("|")) & written,
    }
    for fits in entry["arms"].values():
        for fit in fits:
            pairs = fit.pop("pairs")
            fit["pair_means"] = {
                name: float(np.mean([v for k, v in pairs.items() if pick(k)]))
                for name, pick in groups.items()
            }


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default="adult")
    p.add_argument("--model", default="gan", choices=[m for m in TABGEN if m != "copula"])
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--seeds", default="0,1,2,3,4,5")
    p.add_argument("--selection", default="default", choices=["default", "none"])
    p.add_argument("--output", default="gan_rules_pairs.json")
    args = p.parse_args(argv)
    warnings.filterwarnings("ignore")
    train, test, _ = load_dataset(args.dataset)
    train = train.sample(1500, random_state=0).reset_index(drop=True)
    holdout = test.sample(1500, random_state=0).reset_index(drop=True)
    rules = rules_for(args.dataset, train)
    train = train.loc[validity_mask(rules, train, train)].reset_index(drop=True)
    args.rules_all = rules
    written, inner_columns = inner_table(rules, train, args.model)
    entry = {
        "machine": machine_info(),
        "args": {k: v for k, v in vars(args).items() if k != "rules_all"},
        "rules": [repr(r) for r in rules],
        "written_columns": written,
        "inner_columns": inner_columns,
        "training_combinations": {
            " × ".join(r.columns): _shares(train, r.columns) for r in rules_for_combos(rules)
        },
        "arms": {"without": [], "with": []},
    }
    for seed in [int(s) for s in args.seeds.split(",")]:
        for arm in ("without", "with"):
            fit = one_fit(args.model, train, holdout, rules if arm == "with" else [], args, seed)
            entry["arms"][arm].append(fit)
            print(arm, seed, "cpu", fit["cpu_s"], "shape", round(fit["shape"], 4),
                  "trend", round(fit["trend"], 4), flush=True)  # fmt: skip
    entry["summary"] = summary(entry)
    compact(entry)
    path = RESULTS / args.output
    done = json.loads(path.read_text()) if path.is_file() else []
    path.write_text(json.dumps([*done, entry], indent=1))
    print(json.dumps({k: v for k, v in entry["summary"].items() if k != "columns"}, indent=1))
    print({k: round(v, 3) for k, v in entry["summary"]["columns"].items()})


if __name__ == "__main__":
    main()
