"""Empirical privacy audit of the DP Gaussian copula with a canary record (run by hand).

    python benchmarks/bench_dp_audit.py [--epsilons 1,3,10] [--runs 150] [--rows 1000]

A canary row (age 100, every categorical column set to the value ``"CANARY"``, which the
declared public domain allows and no real row has) is added to the training table in half of
the fits ("in") and left out in the other half ("out"); everything else is identical. The
auditor sees what a DP fit releases, the fitted model, and computes a white-box statistic:
the released (noisy, post-processed) counts of the canary's cells summed over its columns.
A threshold is chosen on the first half of the runs (largest lower bound) and evaluated on
the second half; with one-sided 95 % Clopper-Pearson bounds on the true- and false-positive
rates, ``epsilon_lb = log(TPR_low / FPR_high)`` (and the same for the complementary test) is
a lower bound on the epsilon the mechanism can have, valid with 95 % confidence (delta is
neglected: ``delta << 1/runs``). It must stay below the claimed epsilon; how far below says
how loose this audit is (one canary, black-box statistics of the release).

The domain is fully public here, so the whole budget goes to the marginal histograms and the
correlation (the weakest point of a row: its own histogram cells). Writes
``benchmarks/results/privacy_audit_<tag>.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import beta

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tabgen
from benchmarks._common import RESULTS, load_dataset, machine_info

NUMERIC = {"age": (17, 100), "education_num": (1, 16), "hours_per_week": (1, 99)}
CATEGORICAL = ("sex", "race", "relationship")
CANARY = "CANARY"


def _table(rows: int):
    train, _, _ = load_dataset("adult")
    cols = [*NUMERIC, *CATEGORICAL]
    data = train[cols].dropna().sample(rows, random_state=0).reset_index(drop=True)
    domain = {c: bounds for c, bounds in NUMERIC.items()}
    for c in CATEGORICAL:
        domain[c] = [*sorted(data[c].unique().tolist()), CANARY]
    canary = pd.DataFrame([{"age": 100, "education_num": 16, "hours_per_week": 99}])
    for c in CATEGORICAL:
        canary[c] = CANARY
    schema = {c: "integer" for c in NUMERIC} | {c: "categorical" for c in CATEGORICAL}
    return data, canary[cols], domain, schema


def _statistic(model) -> float:
    """Released counts of the canary's cells: its category in each categorical column and
    its age bin (age 100 is above every real age)."""
    total = 0.0
    for c in CATEGORICAL:
        dom = model.domain_.columns_[c]
        total += float(dom.counts[dom.categories.index(CANARY)])
    age = model.domain_.columns_["age"]
    k = int(np.clip(np.searchsorted(age.edges, 100, side="right") - 1, 0, len(age.counts) - 1))
    return total + float(age.counts[k])


def _cp_low(k: int, n: int, conf: float = 0.95) -> float:
    return 0.0 if k == 0 else float(beta.ppf(1 - conf, k, n - k + 1))


def _cp_high(k: int, n: int, conf: float = 0.95) -> float:
    return 1.0 if k == n else float(beta.ppf(conf, k + 1, n - k))


def _bound(s_in: np.ndarray, s_out: np.ndarray, t: float) -> float:
    """One-sided 95 % lower bound on epsilon from the test ``statistic > t`` (and its
    complement)."""
    n_in, n_out = len(s_in), len(s_out)
    tp, fp = int((s_in > t).sum()), int((s_out > t).sum())
    best = 0.0
    tpr_lo, fpr_hi = _cp_low(tp, n_in), _cp_high(fp, n_out)
    if tpr_lo > 0:
        best = max(best, math.log(tpr_lo / fpr_hi))
    tnr_lo, fnr_hi = _cp_low(n_out - fp, n_out), _cp_high(n_in - tp, n_in)
    if tnr_lo > 0:
        best = max(best, math.log(tnr_lo / fnr_hi))
    return best


def audit(epsilon: float, runs: int, data, canary, domain, schema) -> dict:
    stats = {"in": [], "out": []}
    t0 = time.perf_counter()
    with_canary = pd.concat([data, canary], ignore_index=True)
    for r in range(runs):
        for arm, frame in (("in", with_canary), ("out", data)):
            model = tabgen.GaussianCopulaSynthesizer(
                epsilon=epsilon, domain=domain, schema=schema, random_state=r
            ).fit(frame)
            stats[arm].append(_statistic(model))
    s_in, s_out = np.array(stats["in"]), np.array(stats["out"])
    half = runs // 2
    candidates = np.unique(np.r_[s_in[:half], s_out[:half]])
    thresholds = np.r_[candidates, candidates - 0.5]
    chosen = max(thresholds, key=lambda t: _bound(s_in[:half], s_out[:half], t))
    lb = _bound(s_in[half:], s_out[half:], chosen)
    claimed = model.privacy_["epsilon"]
    return {
        "epsilon": epsilon,
        "claimed_epsilon": claimed,
        "runs_per_arm": runs,
        "threshold": float(chosen),
        "epsilon_lower_bound": round(lb, 4),
        "below_claimed": lb < claimed,
        "ratio_lb_to_claimed": round(lb / claimed, 4),
        "mean_statistic_in": float(s_in.mean()),
        "mean_statistic_out": float(s_out.mean()),
        "tpr_eval": float((s_in[half:] > chosen).mean()),
        "fpr_eval": float((s_out[half:] > chosen).mean()),
        "time_s": round(time.perf_counter() - t0, 1),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epsilons", default="1,3,10")
    parser.add_argument("--runs", type=int, default=150)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--tag", default="copula")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    data, canary, domain, schema = _table(args.rows)
    results = []
    for eps in (float(e) for e in args.epsilons.split(",")):
        res = audit(eps, args.runs, data, canary, domain, schema)
        print(res, flush=True)
        results.append(res)
    out = {
        "command": "python benchmarks/bench_dp_audit.py " + " ".join(sys.argv[1:]),
        "machine": machine_info(),
        "date": time.strftime("%Y-%m-%d"),
        "model": "GaussianCopulaSynthesizer (DP, public domain)",
        "rows": args.rows,
        "statistic": "released counts of the canary's cells (3 categories + age bin)",
        "results": results,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"privacy_audit_{args.tag}.json"
    path.write_text(json.dumps(out, indent=1))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
