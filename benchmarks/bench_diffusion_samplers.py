"""Sampler ablation of a fitted DiffusionSynthesizer on Adult (run by hand).

Re-samples one fitted model (as many rows as Adult train, same ``random_state``) with each
``sampler:n_steps`` setting, times it and scores it with ``tabgen.evaluate`` (shape, trend,
detection, MLE against the test split); writes
``benchmarks/results/diffusion_adult_samplers.json``.

    python benchmarks/bench_diffusion.py --save /tmp/diffusion_adult.tabgen --no-eval
    python benchmarks/bench_diffusion_samplers.py --model /tmp/diffusion_adult.tabgen \\
        --settings heun:16,heun:10,dpm:20,dpm:16 --threads 1
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tabgen
from benchmarks._common import RESULTS, load_dataset, machine_info

KEEP = ("shape", "trend", "detection_score_gb", "utility_synthetic", "utility_real")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="a saved DiffusionSynthesizer")
    parser.add_argument("--settings", default="heun:16,heun:10,dpm:20,dpm:16")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--out", type=Path, default=RESULTS / "diffusion_adult_samplers.json")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    train, test, meta = load_dataset("adult")
    kinds = {c: "categorical" for c in meta["categorical"]}
    kinds.update({c: "numerical" for c in meta["numerical"]})
    model = tabgen.load(args.model)
    result = {
        "what": "one fitted DiffusionSynthesizer re-sampled with each sampler setting",
        "command": "python benchmarks/bench_diffusion_samplers.py "
        + " ".join(argv or sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d"),
        "machine": machine_info(),
        "torch_threads": torch.get_num_threads(),
        "model_params": {k: str(v) for k, v in model.get_params().items()},
        "runs": [],
    }
    for setting in args.settings.split(","):
        sampler, steps = setting.split(":")
        model.set_params(sampler=sampler, n_steps=int(steps))
        t0 = time.perf_counter()
        synth = model.sample(len(train), random_state=1)
        seconds = time.perf_counter() - t0
        report = tabgen.evaluate(
            train,
            synth,
            holdout=test,
            target=meta["target"],
            metrics=["fidelity", "detection", "utility"],
            schema=kinds,
            random_state=0,
        )
        row = {"sampler": sampler, "n_steps": int(steps), "sample_s": round(seconds, 2)}
        row.update({k: round(float(report.scores[k]), 4) for k in KEEP if k in report.scores})
        print(row, flush=True)
        result["runs"].append(row)
        args.out.write_text(json.dumps(result, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
