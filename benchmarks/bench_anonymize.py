"""Anonymized-export benchmark (run by hand): the safeguarded export against the same model
without safeguards, on the same training rows and the same holdout.

    OMP_NUM_THREADS=1 python benchmarks/bench_anonymize.py --datasets adult,default,bank \
        [--model vae] [--epochs N] [--seed 0] [--tag NAME] [--no-raw]

For each dataset: ``Anonymizer`` (holdout 20 %, every safeguard on) fits on the dataset's
training file, generates as many rows as it trained on, streams them to a Parquet file and
measures the report (fidelity, detection, utility on the holdout, distance metrics and the
Anonymeter-style attacks with the holdout as control). The "raw" arm fits the same model with
the same seed on the same training rows and samples without any safeguard; it is scored by the
same report against the same holdout. Writes ``benchmarks/results/anonymize_<tag>.json``
(``privacy_export_<tag>.json`` with ``--no-raw``, the safeguarded arm only).

Targets (issue #9): exact-copy rate 0, DCR share <= 0.52, MIA AUC <= 0.55, every attack's
upper 95 % bound <= 0.05, MLE AUC within 0.03 of the raw arm, Adult end to end < 12 min.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tabgen
from benchmarks._common import RESULTS, load_dataset, machine_info
from tabgen.metrics.attacks.membership import HEADLINE_KEYS
from tabgen.pipelines import Anonymizer

KEYS = (
    "shape",
    "trend",
    "detection_score_gb",
    "utility_synthetic",
    "utility_real",
    "dcr_share",
    "exact_copy_rate",
    "exact_copy_rate_holdout",
    "nndr",
    "nndr_holdout",
    "mia_auc",
    *HEADLINE_KEYS,
)
ATTACKS = ("singling_out_univariate", "singling_out_multivariate", "linkability", "inference")


def _model(name: str, epochs: int | None, seed: int):
    cls = tabgen.get_synthesizer(name)
    params = {"random_state": seed}
    if epochs is not None and "epochs" in cls._get_param_names():
        params["epochs"] = epochs
    return cls(**params)


def _scores(report) -> dict:
    s = report.scores
    out = {k: round(s[k], 4) for k in KEYS}
    for a in ATTACKS:
        for suffix in ("risk", "risk_low", "risk_high"):
            key = f"{a}_{suffix}"
            if key in s:
                out[key] = round(s[key], 4)
    for key in ("inference_risk_high_max", "inference_risk_high_floor"):
        if key in s:
            out[key] = round(s[key], 4)
    return out


def _top_secrets(report, k: int = 3) -> list:
    """The ``k`` secrets with the highest inference risk (the headline is their maximum)."""
    table = report.details["attacks"]["inference_per_secret"]
    cols = ["secret", "risk", "low", "high", "attack_rate", "control_rate"]
    cols = [c for c in cols if c in table.columns]
    return [
        {c: (round(v, 4) if isinstance(v, float) else v) for c, v in row.items()}
        for row in table[cols].head(k).to_dict(orient="records")
    ]


def run_dataset(name: str, args) -> dict:
    train, _, meta = load_dataset(name)
    target = meta["target"]
    t_start = time.perf_counter()
    anon = Anonymizer(
        synthesizer=_model(args.model, args.epochs, args.seed),
        target=target,
        holdout=args.holdout,
        random_state=args.seed,
    )
    anon.fit(train)
    t_fit = time.perf_counter() - t_start
    n = len(anon.train_)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        _, synthetic = anon.export(Path(tmp) / "synthetic.parquet", n, keep_rows=n)
        t_export = time.perf_counter() - t0
    t0 = time.perf_counter()
    report = anon.report(synthetic, n_attacks=min(len(anon.holdout_), args.n_attacks))
    t_report = time.perf_counter() - t0
    total = time.perf_counter() - t_start
    guarded = _scores(report)
    guarded.update(
        {
            "fit_s": round(t_fit, 1),
            "export_s": round(t_export, 1),
            "report_s": round(t_report, 1),
            "total_s": round(total, 1),
            "rows_replaced": anon.stats_["replaced"],
            "distance_threshold": round(anon.distance_threshold_, 5),
            "n_attacks": report.details["attacks"]["settings"]["n_attacks"],
        }
    )
    guarded["inference_top"] = _top_secrets(report)
    print(f"[{name}] safeguarded: {guarded}", flush=True)

    if args.no_raw:
        return {
            "dataset": name,
            "rows_train": n,
            "rows_holdout": len(anon.holdout_),
            "safeguards": anon.safeguards(),
            "safeguarded": guarded,
        }
    # raw arm: same model, same seed, same training rows, no safeguard at all
    cols = anon.model_columns_
    t0 = time.perf_counter()
    raw_model = _model(args.model, args.epochs, args.seed).fit(anon.train_[cols])
    raw = raw_model.sample(n, random_state=args.seed)
    t_raw = time.perf_counter() - t0
    metadata = {c: k for c, k in anon.model_kinds_.items()}
    from tabgen.pipelines.anonymization.reporting import metric_kind as _metric_kind

    raw_report = tabgen.evaluate(
        anon.train_[cols],
        raw[cols],
        anon.holdout_[cols],
        target,
        schema={c: _metric_kind(k) for c, k in metadata.items() if k != "constant"},
        metrics=["fidelity", "detection", "utility", "privacy", "attacks"],
        attack_params={"n_attacks": min(len(anon.holdout_), args.n_attacks)},
    )
    unguarded = _scores(raw_report)
    unguarded["fit_sample_s"] = round(t_raw, 1)
    unguarded["inference_top"] = _top_secrets(raw_report)
    print(f"[{name}] raw:         {unguarded}", flush=True)
    return {
        "dataset": name,
        "rows_train": n,
        "rows_holdout": len(anon.holdout_),
        "safeguards": anon.safeguards(),
        "safeguarded": guarded,
        "raw": unguarded,
        "mle_gap": round(unguarded["utility_synthetic"] - guarded["utility_synthetic"], 4),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="adult,default,bank")
    parser.add_argument("--model", default="vae")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tag", default=None)
    parser.add_argument("--holdout", type=float, default=0.2, help="holdout share")
    parser.add_argument(
        "--n-attacks", type=int, default=5000, help="cap on the attacks per evaluation"
    )
    parser.add_argument(
        "--no-raw", action="store_true", help="skip the arm without safeguards (faster)"
    )
    args = parser.parse_args(argv)
    import torch

    out = {
        "command": "python benchmarks/bench_anonymize.py " + " ".join(sys.argv[1:]),
        "machine": machine_info(),
        "torch_threads": torch.get_num_threads(),
        "model": args.model,
        "epochs": args.epochs,
        "holdout": args.holdout,
        "n_attacks_cap": args.n_attacks,
        "results": [],
    }
    tag = args.tag or args.model
    # without the raw arm the run is rendered by render_privacy.py, not as an anonymize_ table
    path = RESULTS / (f"privacy_export_{tag}.json" if args.no_raw else f"anonymize_{tag}.json")
    RESULTS.mkdir(parents=True, exist_ok=True)
    for name in args.datasets.split(","):
        out["results"].append(run_dataset(name, args))
        path.write_text(json.dumps(out, indent=2, default=str))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
