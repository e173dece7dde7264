"""How low can the attack risks' upper bounds go? The Anonymeter-style attacks scored on a
release that leaks nothing (run by hand).

    python benchmarks/bench_attack_floor.py --datasets adult,bank,default [--seeds 0,1,2,3,4]

The "release" here is not synthetic at all: it is real rows drawn from the same table as the
training rows but disjoint from them and from the holdout. Nothing in it was derived from the
training rows, so the true residual risk of every attack is 0 and whatever upper bound the
report gives is the floor of the measurement: the width of the confidence interval at this
number of attacks, plus the upward bias of taking the largest of the per-secret risks. If that
floor is above a target, no synthesizer can meet the target at that holdout size.

Sizes follow ``bench_anonymize.py``: the holdout (control) has as many rows as the Anonymizer's
20 % holdout of the dataset's training file, the attacks use ``min(holdout, --n-attacks)``
targets, and the release has as many rows as the export (capped by what the table has left).
Writes ``benchmarks/results/attack_floor_<tag>.json``.

``--same-split`` (issue #27, the revised inference target "not above the leak-free floor
measured the same way on the same split") measures on the Anonymizer's own split instead: the
holdout (control) is the one ``Anonymizer(holdout=.2, random_state=0)`` keeps out of the
training file, as in ``bench_anonymize.py``; each seed draws the targets from its training rows
(holdout-sized, as the report's subsample) and a leak-free release of export size from the
*other* training rows plus the test file (real rows, none of them a target or a control row).
Beside each run's upper bounds it records the report's own floor
(``inference_risk_high_floor``), so the share of leak-free runs under that floor checks it.
Writes ``privacy_floor_same_split.json``.
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

from benchmarks._common import RESULTS, load_dataset, machine_info
from tabgen.metrics import attack_risks
from tabgen.pipelines.anonymization.checks import holdout_rows
from tabgen.pipelines.anonymization.reporting import metric_kind
from tabgen.pipelines.anonymization.safeguards import split_holdout
from tabgen.schema import Schema

ATTACKS = ("singling_out_univariate", "singling_out_multivariate", "linkability", "inference")


def _kinds(meta: dict, columns) -> dict:
    cat = set(meta.get("categorical", []))
    return {c: "categorical" if c in cat else "numerical" for c in columns}


def _anonymizer_split(train: pd.DataFrame, holdout_share: float):
    """The Anonymizer's split of the training file (``random_state=0``) and the report's
    metric kinds."""
    frame = train.reset_index(drop=True)
    n_hold = holdout_rows(holdout_share, len(frame))
    rows, hold, _ = split_holdout(frame, n_hold, np.random.default_rng(0))
    kinds = {c: metric_kind(k) for c, k in Schema.detect(frame).kinds.items() if k != "constant"}
    return rows, hold, kinds


def run_dataset(
    name: str,
    seeds: list[int],
    holdout_share: float,
    cap: int,
    same_split: bool = False,
    attacks: tuple = ATTACKS,
) -> dict:
    train, test, meta = load_dataset(name)
    pool = pd.concat([train, test], ignore_index=True)
    n_hold = round(holdout_share * len(train))
    n_export = len(train) - n_hold
    kinds = _kinds(meta, pool.columns)
    if same_split:
        rows, fixed_hold, kinds = _anonymizer_split(train, holdout_share)
    runs = []
    for seed in seeds:
        order = np.random.default_rng(seed).permutation(len(pool))
        if same_split:
            pick = np.random.default_rng(seed).permutation(len(rows))
            hold = fixed_hold
            real = rows.iloc[pick[:n_hold]].reset_index(drop=True)
            others = pd.concat([rows.iloc[pick[n_hold:]], test], ignore_index=True)
            take = np.random.default_rng(seed + 1).permutation(len(others))[:n_export]
            release = others.iloc[take].reset_index(drop=True)
        else:
            hold = pool.iloc[order[:n_hold]].reset_index(drop=True)
            # the attacks draw their targets from the first min(real, holdout) rows' worth, so
            # a training part as large as the holdout is all they can use
            real = pool.iloc[order[n_hold : 2 * n_hold]].reset_index(drop=True)
            rest = order[2 * n_hold :]
            release = pool.iloc[rest[:n_export]].reset_index(drop=True)
        t0 = time.perf_counter()
        res = attack_risks(
            real,
            release,
            hold,
            metadata=kinds,
            n_attacks=min(n_hold, cap),
            attacks=list(attacks),
            random_state=seed,
        )
        s = res.scores
        row = {
            "seed": seed,
            "rows_release": len(release),
            "n_attacks": res.details["settings"]["n_attacks"],
            "seconds": round(time.perf_counter() - t0, 1),
        }
        for a in attacks:
            row[a] = [round(s[f"{a}_risk"], 4), round(s[f"{a}_risk_high"], 4)]
        row["inference_secret"] = res.details["inference"]["secret"]
        row["inference_floor"] = round(s["inference_risk_high_floor"], 4)
        table = res.details["inference_per_secret"]
        row["inference_per_secret"] = {
            r["secret"]: [
                round(r["risk"], 4),
                round(r["high"], 4),
                round(r["control_rate"], 4),
                round(r["floor"], 4),
            ]
            for r in table.to_dict(orient="records")
        }
        print(
            f"[{name} seed {seed}] "
            + ", ".join(f"{a} {row[a][0]:.3f} (≤{row[a][1]:.3f})" for a in attacks)
            + f"  inference secret {row['inference_secret']}",
            flush=True,
        )
        runs.append(row)
    highs = {a: [r[a][1] for r in runs] for a in attacks}
    under = [r["inference"][1] <= r["inference_floor"] for r in runs]
    return {
        "dataset": name,
        "same_split": same_split,
        "inference_runs_under_own_floor": round(float(np.mean(under)), 3),
        "rows_holdout": n_hold,
        "rows_export": n_export,
        "runs": runs,
        "upper_bound_median": {a: round(float(np.median(v)), 4) for a, v in highs.items()},
        "share_of_runs_at_or_below_0.05": {
            a: round(float(np.mean(np.array(v) <= 0.05)), 2) for a, v in highs.items()
        },
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="adult,bank,default")
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--holdout", type=float, default=0.2, help="holdout share")
    parser.add_argument("--n-attacks", type=int, default=5000, help="cap on the attacks")
    parser.add_argument("--tag", default=None)
    parser.add_argument("--attacks", default=",".join(ATTACKS), help="attacks to run")
    parser.add_argument(
        "--same-split", action="store_true", help="the Anonymizer's holdout (see docstring)"
    )
    args = parser.parse_args(argv)
    attacks = tuple(args.attacks.split(","))
    tag = args.tag or ("same_split" if args.same_split else "leak_free")
    seeds = [int(s) for s in args.seeds.split(",")]
    out = {
        "command": "python benchmarks/bench_attack_floor.py " + " ".join(sys.argv[1:]),
        "machine": machine_info(),
        "holdout": args.holdout,
        "n_attacks_cap": args.n_attacks,
        "results": [],
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    # the same-split run is rendered by render_privacy.py (beside the export it checks)
    name = f"privacy_floor_{tag}" if args.same_split else f"attack_floor_{tag}"
    path = RESULTS / f"{name}.json"
    for name in args.datasets.split(","):
        out["results"].append(
            run_dataset(name, seeds, args.holdout, args.n_attacks, args.same_split, attacks)
        )
        path.write_text(json.dumps(out, indent=2, default=str))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
