"""The Adult quality of a saved GAN's samples, seed by seed: the guard of #30's speed changes
(run by hand).

Each seed samples as many rows as Adult's training set from the saved model
(``model.sample(len(train), random_state=seed)``, one torch thread) and scores them with
``tabgen.evaluate(train, synthetic, holdout=test, target="income", metrics=["fidelity",
"detection"], random_state=0)``. Run it with the code before and after a change, on the same
model file and the same ``--out``, under two tags; the results accumulate in
``benchmarks/results/<out>.json`` (``runs``: ``<tag>_s<seed>`` -> scores, plus the sampling's
CPU seconds).

    OMP_NUM_THREADS=1 python benchmarks/bench_selection_quality.py /tmp/gan_s0.tabgen \\
        --seeds 1,2,3,4 --tag after --out throughput_p4_quality

The model of the RESULTS tables: ``GANSynthesizer(epochs=40, random_state=0)`` fitted on
Adult's 32,561 training rows (``--fit`` writes it to the model path first).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import RESULTS, load_dataset, machine_info

#: Scores kept per run (``tabgen.evaluate``'s names).
KEEP = ("shape", "trend", "detection_score_lr", "detection_score_gb")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", help="saved GANSynthesizer (see --fit)")
    ap.add_argument("--seeds", default="1,2,3,4")
    ap.add_argument("--tag", required=True, help="name of the code version, e.g. before")
    ap.add_argument("--out", default="selection_quality", help="results/<out>.json")
    ap.add_argument("--fit", action="store_true", help="fit the model (40 epochs) first")
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    import tabgen

    train, test, meta = load_dataset("adult")
    if args.fit:
        tabgen.GANSynthesizer(epochs=40, random_state=0).fit(train).save(args.model)
    model = tabgen.load(args.model)
    path = RESULTS / f"{args.out}.json"
    result = json.loads(path.read_text()) if path.is_file() else {"runs": {}}
    result.setdefault(
        "command",
        "python benchmarks/bench_selection_quality.py <model> --seeds "
        f"{args.seeds} --tag <tag> --out {args.out}",
    )
    result["machine"] = machine_info()
    for seed in (int(s) for s in args.seeds.split(",")):
        c0 = time.process_time()
        synthetic = model.sample(len(train), random_state=seed)
        cpu = time.process_time() - c0
        report = tabgen.evaluate(
            train, synthetic, holdout=test, target=meta["target"],
            metrics=["fidelity", "detection"], random_state=0,
        )  # fmt: skip
        scores = {k: float(report.scores[k]) for k in KEEP}
        result["runs"][f"{args.tag}_s{seed}"] = {**scores, "sample_cpu_s": round(cpu, 2)}
        print(args.tag, seed, {k: round(v, 4) for k, v in scores.items()}, flush=True)
        RESULTS.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
