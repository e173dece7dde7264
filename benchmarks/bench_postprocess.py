"""Do the shared post-processors help the VAE and the diffusion model? (run by hand)

Each model is fitted once on a random subset of Adult's training rows with every
post-processor (:mod:`tabgen.synthesizers.postprocess`: ``snap``, ``dependencies``,
``selection``), then sampled with each subset of them switched on, and every sample is
compared with held-out real rows (rows the model never saw) by ``tabgen.evaluate``:
shape, trend and the gradient-boosting detection score (all higher is better).

    python -m benchmarks.bench_postprocess [--train 8000] [--holdout 4000] [--seed 0] [--epochs 60]

Writes ``benchmarks/results/postprocess.json`` and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

import tabgen
from benchmarks._common import RESULTS, machine_info

ALL = ("snap", "dependencies", "selection")
VARIANTS = {
    "none": (),
    "snap": ("snap",),
    "dependencies": ("dependencies",),
    "selection": ("selection",),
    "snap+dependencies": ("snap", "dependencies"),
    "all": ALL,
}
KEYS = {"snap": "supports", "dependencies": "dependencies", "selection": "discriminator"}


def models(seed: int, epochs: int) -> dict:
    return {
        "vae": tabgen.VAESynthesizer(epochs=epochs, random_state=seed),
        "diffusion": tabgen.DiffusionSynthesizer(epochs=epochs, random_state=seed),
    }


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train", type=int, default=8000)
    ap.add_argument("--holdout", type=int, default=4000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--out", default="postprocess.json")
    args = ap.parse_args(argv)
    adult = tabgen.datasets.load_adult()
    order = np.random.default_rng(args.seed).permutation(len(adult))
    train = adult.iloc[order[: args.train]].reset_index(drop=True)
    holdout = adult.iloc[order[args.train : args.train + args.holdout]].reset_index(drop=True)
    results = {"machine": machine_info(), "train": args.train, "holdout": args.holdout, "rows": {}}
    for name, model in models(args.seed, args.epochs).items():
        model.set_params(postprocess=ALL)  # fit every one; switch them on and off at sampling
        t0 = time.perf_counter()
        model.fit(train)
        fit_s = time.perf_counter() - t0
        fitted = list(model.postprocessors_)
        for variant, names in VARIANTS.items():
            keys = {KEYS[n] for n in names}
            model.postprocessors_ = [p for p in fitted if p.name in keys]
            t0 = time.perf_counter()
            rows = model.sample(len(holdout), random_state=args.seed + 1)
            sample_s = time.perf_counter() - t0
            report = tabgen.evaluate(
                holdout,
                rows,
                metrics=["fidelity", "detection"],
                random_state=args.seed,
                n_jobs=1,
            )
            s = report.scores
            out = {
                "shape": s["shape"],
                "trend": s["trend"],
                "detection": s["detection_score_gb"],
                "fit_s": fit_s,
                "sample_s": sample_s,
            }
            results["rows"][f"{name}/{variant}"] = out
            print(name, variant, json.dumps(out), flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / args.out).write_text(json.dumps(results, indent=2))
    print("\n| model | post-processors | shape | trend | detection |")
    print("|---|---|---|---|---|")
    for key, r in results["rows"].items():
        model, variant = key.split("/")
        print(
            f"| {model} | {variant} | {r['shape']:.3f} | {r['trend']:.3f} | {r['detection']:.3f} |"
        )


if __name__ == "__main__":
    main()
