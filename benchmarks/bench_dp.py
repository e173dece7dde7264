"""Utility of the differentially private synthesizers against epsilon (run by hand).

For every dataset, model and epsilon: fit on the training split (no public domain: category
sets and bounds are measured with DP as well; the column kinds come from the dataset
metadata), sample as many rows, score with ``tabgen.evaluate`` (fidelity and utility:
shape, trend, MLE ROC-AUC on the test split) and write ``benchmarks/results/dp_<tag>.json``
with the privacy report of each fit. ``inf`` is the non-private model.

    python benchmarks/bench_dp.py --datasets adult,bank --models copula,vae \\
        --epsilons 0.5,1,3,10,inf --tag curve

Options: ``--max-rows N`` subsamples the training split (smoke runs), ``--epochs vae=E`` and
``--batch-size vae=B`` override a model's epochs and batch size, ``--param
diffusion:hidden=128`` any other constructor parameter (numbers, or tuples written
``128x128``), ``--seeds`` repeats. The same settings serve every epsilon of a model,
``inf`` included, so the curve shows the cost of privacy alone.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tabgen
from benchmarks._common import RESULTS, add_param_option, load_dataset, machine_info, parse_params

MODELS = {
    "copula": tabgen.GaussianCopulaSynthesizer,
    "vae": tabgen.VAESynthesizer,
    "gan": tabgen.GANSynthesizer,
    "diffusion": tabgen.DiffusionSynthesizer,
}
KEEP = ("shape", "trend", "utility_synthetic", "utility_real")


def _kinds(meta: dict) -> dict:
    kinds = {c: "categorical" for c in meta.get("categorical", [])}
    kinds.update({c: "numerical" for c in meta.get("numerical", [])})
    return kinds


def run_one(model: str, train, test, meta, epsilon, seed, overrides) -> dict:
    params = {"schema": {c: "categorical" for c in meta.get("categorical", [])}}
    params["random_state"] = seed
    params.update(overrides.get(model, {}))
    if not math.isinf(epsilon):
        params["epsilon"] = epsilon
    t0 = time.perf_counter()
    fitted = MODELS[model](**params).fit(train)
    fit_s = time.perf_counter() - t0
    synth = fitted.sample(len(train), random_state=seed + 1)
    report = tabgen.evaluate(
        train,
        synth,
        holdout=test,
        target=meta["target"],
        metrics=["fidelity", "utility"],
        schema=_kinds(meta),
    )
    scores = {k: float(report.scores[k]) for k in KEEP if k in report.scores}
    scores["fit_s"] = fit_s
    privacy = getattr(fitted, "privacy_", None)
    if privacy is not None:
        scores["privacy"] = {k: v for k, v in privacy.items() if k != "covers"}
    return scores


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="adult,bank")
    parser.add_argument("--models", default="copula,vae")
    parser.add_argument("--epsilons", default="0.5,1,3,10,inf")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--max-rows", type=int, default=None)
    parser.add_argument("--epochs", action="append", default=[], metavar="MODEL=E")
    parser.add_argument("--batch-size", action="append", default=[], metavar="MODEL=B")
    add_param_option(parser, "diffusion:lr=4e-3")
    parser.add_argument("--tag", default=None)
    args = parser.parse_args(argv)
    names = [d for d in args.datasets.split(",") if d]
    models = [m for m in args.models.split(",") if m]
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        raise SystemExit(f"unknown model(s) {unknown}; choose from {sorted(MODELS)}")
    epsilons = [float(e) for e in args.epsilons.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    overrides: dict = {}
    for flag, key in ((args.epochs, "epochs"), (args.batch_size, "batch_size")):
        for item in flag:
            model, value = item.split("=", 1)
            overrides.setdefault(model, {})[key] = int(value)
    for model, values in parse_params(args.param).items():
        overrides.setdefault(model, {}).update(values)
    tag = args.tag or "_".join(names)
    result = {
        "tag": tag,
        "date": time.strftime("%Y-%m-%d"),
        "machine": machine_info(),
        "command": "python benchmarks/bench_dp.py " + " ".join(argv or sys.argv[1:]),
        "overrides": overrides,
        "datasets": {},
    }
    out = RESULTS / f"dp_{tag}.json"
    RESULTS.mkdir(parents=True, exist_ok=True)
    for name in names:
        train, test, meta = load_dataset(name)
        if args.max_rows and len(train) > args.max_rows:
            train = train.sample(args.max_rows, random_state=0).reset_index(drop=True)
        entry = {"rows": len(train), "holdout_rows": len(test), "target": meta["target"]}
        entry["runs"] = []
        result["datasets"][name] = entry
        for model in models:
            for eps in epsilons:
                for seed in seeds:
                    print(f"[{name}] {model} epsilon={eps} seed={seed} ...", flush=True)
                    row = {"model": model, "epsilon": str(eps), "seed": seed}
                    try:
                        row.update(run_one(model, train, test, meta, eps, seed, overrides))
                        print(
                            f"    shape {row['shape']:.3f} trend {row['trend']:.3f} "
                            f"mle {row['utility_synthetic']:.3f} (real "
                            f"{row['utility_real']:.3f}) fit {row['fit_s']:.1f}s",
                            flush=True,
                        )
                    except Exception as exc:  # keep the other points of the curve
                        traceback.print_exc()
                        row["error"] = f"{type(exc).__name__}: {exc}"
                    entry["runs"].append(row)
                    out.write_text(json.dumps(result, indent=2, default=float))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
