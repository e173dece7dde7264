"""Membership-inference attacks: sanity checks and a shadow-model attack (run by hand).

    python benchmarks/bench_privacy_mia.py --datasets adult,default,bank [--rows 10000]

For each dataset (``--rows`` rows of its training file, 20 % holdout as in the anonymizer):
the battery of :func:`~tabgen.metrics.attacks.membership_attacks` on three releases,
(1) a copy of the training rows (the attacks must report AUC >= .9), (2) an independent real
sample of the same size, disjoint from training and holdout (must be ~.5), (3) a Gaussian
copula fitted on the training rows; plus the shadow-model attack (``membership_attacks(...,
shadow=...)``, :mod:`tabgen.metrics.attacks.mia_shadow`) on the copula release, with the copula
as the shadow model, and its sanity checks: a copying release against copula shadows (must be
caught) and the independent sample against copula shadows (must be ~.5). Writes
``benchmarks/results/privacy_mia_<tag>.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tabgen
from benchmarks._common import RESULTS, load_dataset, machine_info
from tabgen.metrics.attacks import membership_attacks
from tabgen.metrics.attacks.membership import HEADLINE_KEYS as KEYS


def _summary(res) -> dict:
    out = {k: round(res.scores[k], 4) for k in KEYS}
    out["worst_attack"] = res.details["mia_worst_attack"]
    table = res.details["membership"][["attack", "auc", "tpr_at_1pct_fpr"]]
    out["per_attack"] = table.round(4).to_dict(orient="records")
    return out


def _shadow(train, release, holdout, kinds, n_shadows: int) -> dict:
    """The shadow-model attack alone (copula shadows), its row of the battery's table."""
    res = membership_attacks(
        train,
        release,
        holdout,
        metadata=kinds,
        attacks=["distance"],
        shadow=lambda seed: tabgen.GaussianCopulaSynthesizer(random_state=seed),
        n_shadows=n_shadows,
        shadow_targets=500,
    )
    row = res.details["membership"].set_index("attack").loc["shadow"]
    out = {f"shadow_{k}": round(float(v), 4) for k, v in row.items()}
    out.update(res.details["shadow_settings"])
    return out


def run_dataset(name: str, args) -> dict:
    full, _, meta = load_dataset(name)
    kinds = {c: "categorical" if c in meta["categorical"] else "numerical" for c in full.columns}
    full = full.sample(frac=1.0, random_state=0).reset_index(drop=True)
    n = min(args.rows, len(full) // 2)
    n_hold = n // 5
    train = full.iloc[: n - n_hold]
    holdout = full.iloc[n - n_hold : n]
    fresh = full.iloc[n : n + len(train)]
    out = {"dataset": name, "rows_train": len(train), "rows_holdout": len(holdout)}
    t0 = time.perf_counter()
    out["copy"] = _summary(membership_attacks(train, train.copy(), holdout, metadata=kinds))
    out["independent"] = _summary(membership_attacks(train, fresh, holdout, metadata=kinds))
    model = tabgen.GaussianCopulaSynthesizer(random_state=0).fit(train)
    release = model.sample(len(train), random_state=1)
    out["copula"] = _summary(membership_attacks(train, release, holdout, metadata=kinds))
    out["attacks_s"] = round(time.perf_counter() - t0, 1)
    t0 = time.perf_counter()
    for arm, rel in (("copula", release), ("copy", train.copy()), ("independent", fresh)):
        out[f"{arm}_shadow"] = _shadow(train, rel, holdout, kinds, args.shadows)
    out["shadow_s"] = round(time.perf_counter() - t0, 1)
    print(json.dumps(out)[:1500], flush=True)
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="adult,default,bank")
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--shadows", type=int, default=8)
    parser.add_argument("--tag", default="sanity")
    args = parser.parse_args(argv)
    out = {
        "command": "python benchmarks/bench_privacy_mia.py " + " ".join(sys.argv[1:]),
        "machine": machine_info(),
        "date": time.strftime("%Y-%m-%d"),
        "results": [run_dataset(d, args) for d in args.datasets.split(",")],
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"privacy_mia_{args.tag}.json"
    path.write_text(json.dumps(out, indent=1))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
