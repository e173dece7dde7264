"""The spread and cost of the diffusion model's sampler check (``sampler="auto"``, issue #26).

Runs :func:`tabgen.synthesizers.diffusion.gate.check` on a saved diffusion model (one with
a student) for several seeds of the check (its training-row subset, its sampler draws and
its detector's folds), on the same training rows the model was fitted on; records the
student's and DPM-Solver++'s AUC, their gap, the choice and the check's CPU seconds. The
spread of the gap over seeds is what the margin :data:`~tabgen.synthesizers.diffusion.gate.MARGIN`
must exceed.

Example::

    python benchmarks/bench_diffusion_gate.py --load /tmp/dgate/adult.tabgen --dataset adult
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tabgen
from benchmarks._common import RESULTS, load_dataset, machine_info
from tabgen.synthesizers.diffusion import gate

NAME = "diffusion_gate_check"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--load", type=Path, help="a saved DiffusionSynthesizer with a student")
    parser.add_argument("--dataset", default="adult")
    parser.add_argument("--sample-rows", type=int, default=None, help="as the fit's")
    parser.add_argument("--seeds", type=int, default=3, help="0: only render the .md")
    parser.add_argument("--rows", type=int, default=gate.CHECK_ROWS)
    parser.add_argument("--out", type=Path, default=RESULTS / f"{NAME}.json")
    args = parser.parse_args(argv)
    results = json.loads(args.out.read_text()) if args.out.is_file() else {"runs": []}
    if args.seeds:
        run(args, results)
    path = args.out.with_suffix(".md")  # --seeds 0: only this
    path.write_text(render(results))
    print(f"wrote {path}")


def run(args, results: dict) -> None:
    """Run the check ``args.seeds`` times; each run appended to ``results`` and ``--out``."""
    torch.set_num_threads(1)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    train, _, _ = load_dataset(args.dataset)
    if args.sample_rows and args.sample_rows < len(train):
        train = train.sample(args.sample_rows, random_state=0).reset_index(drop=True)
    model = tabgen.load(args.load)
    Z = model.encoder_.transform(train, rng=np.random.default_rng(0))
    results["machine"] = machine_info()
    for seed in range(args.seeds):
        load = os.getloadavg()[0]
        choice, info = gate.check(model, Z, np.random.default_rng(seed), rows=args.rows)
        row = {
            "dataset": args.dataset,
            "fit": "final" if "final" in str(args.load) else "previous",
            "train_rows": len(train),
            "seed": seed,
            "choice": choice,
            **info,
            "gap": round(info["student_auc"] - info["dpm_auc"], 4),
            "load_1m": round(load, 1),
            "date": time.strftime("%Y-%m-%d %H:%M"),
            "command": "python benchmarks/bench_diffusion_gate.py " + " ".join(sys.argv[1:]),
        }
        print(json.dumps(row), flush=True)
        results["runs"].append(row)
        args.out.write_text(json.dumps(results, indent=1) + "\n")


def render(results: dict) -> str:
    """The fragment: one line per dataset and seed, then the spread of the gap."""
    machine = results.get("machine", {})
    lines = [
        '## Diffusion: the sampler check of `sampler="auto"`, its spread over seeds and its cost'
        " (issue #26, bench_diffusion_gate.py)",
        "",
        "The check (`tabgen/synthesizers/diffusion/gate.py`) run again on saved fits "
        "(`fit` column: `previous` = the previous defaults' fit, "
        '`sampler="distilled"`, whose student is the one a `sampler="auto"` fit trains; '
        "`final` = the merged defaults' fit of the final all-tables run, seed 0): for the "
        "one-step student and for the teacher's "
        f"DPM-Solver++ (20 steps), {gate.CHECK_ROWS:,} training rows (decoded, featurised as "
        "the selection's discriminator sees them) train a row discriminator against as many "
        "of the sampler's rows after the category dependencies, which keeps one of 2 "
        "(student) or 4 (DPM-Solver++) candidates per row; a gradient-boosting classifier "
        "(250 rounds, no early stopping) tells the kept rows from as many other training "
        "rows, AUC cross-fitted over two halves (.5: indistinguishable). Seeds change the "
        "row subsets, "
        "the draws and the folds. The student is kept unless its AUC exceeds DPM-Solver++'s "
        f"by more than the margin ({gate.MARGIN}): Adult (where the student's pipeline is "
        "the best there is) stays within it, the tables where DPM-Solver++ is .15-.37 better "
        "in the issue's detection are well above it. CPU seconds of the whole check, on a "
        "busy machine (load in the table), one torch thread: "
        f"{machine.get('cpu', 'CPU')}, torch {machine.get('torch', '?')}; run "
        + ", ".join(sorted({r["date"] for r in results["runs"]}))
        + " UTC.",
        "",
        "| dataset | fit | train rows | seed | student AUC | DPM AUC | gap | choice "
        "| check CPU s | load | command |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    gaps: dict[str, list] = {}
    for r in results["runs"]:
        gaps.setdefault(f"{r['dataset']} ({r['fit']} fit)", []).append(r["gap"])
        lines.append(
            f"| {r['dataset']} | {r['fit']} | {r['train_rows']} | {r['seed']} "
            f"| {r['student_auc']:.3f} "
            f"| {r['dpm_auc']:.3f} | {r['gap']:+.3f} | {r['choice']} | {r['cpu_s']:.1f} "
            f"| {r['load_1m']} | `{r['command']}` |"
        )
    lines += ["", "Spread of the gap (student AUC - DPM AUC) over the seeds:", ""]
    for name, values in gaps.items():
        v = np.asarray(values)
        lines.append(
            f"- {name}: mean {v.mean():+.3f}, range {v.min():+.3f} to {v.max():+.3f} "
            f"({len(v)} seeds)"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
