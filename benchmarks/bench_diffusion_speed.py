"""Sampling speed of DiffusionSynthesizer against its quality (issue #26; run by hand).

One fitted model (``--load``; fit it once with ``bench_diffusion_ablation.py --save``) is
sampled with each variant: ``sampler[:n_steps]@K[@fp32][@s=N]`` = the unconditional sampler
(``distilled``: the one-step student, distilled here when the model has none, its CPU time
recorded; ``dpm:N`` / ``heun:N``: the ODE solvers), ``K`` candidates per row for the
discriminator selection (1: none), ``fp32`` to switch off the bfloat16 products and
``s=N`` the seed of the selection's discriminator. For each sampler (and seed) the
post-processors (``dependencies``, ``selection``) are refitted on that sampler's own rows,
as a fit with that sampler would. Each variant samples as many rows as
the training table, timed in CPU seconds of this process, and is scored with the ablation
bench's protocol (:func:`bench_diffusion_ablation.score`: gradient-boosting detection with
5 folds and 10,000 rows a side, shape, trend, DCR share, MIA AUC).

Network evaluations per kept row: ``K x`` (1 distilled, ``N`` dpm, ``2N - 1`` heun), plus
``K`` evaluations of the (smaller) row discriminator.

    python benchmarks/bench_diffusion_speed.py --load /tmp/d0.tabgen --save /tmp/d0s.tabgen \\
        --variants "dpm:20@4;dpm:20@4@fp32;distilled@8;distilled@4;distilled@1"
    python benchmarks/bench_diffusion_speed.py --render
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tabgen
from benchmarks._common import RESULTS, load_dataset, machine_info
from benchmarks.bench_diffusion_ablation import refit_postprocessors, score
from tabgen.synthesizers.diffusion import estimator, gate

OUT = RESULTS / "speed_diffusion.json"


def parse(variant: str) -> dict:
    """``"dpm:20@4@fp32@s=8"`` -> sampler, n_steps, draws, low precision, seed of the
    post-processors' refit (``None``: ``--seed + 7``)."""
    head, *rest = variant.split("@")
    sampler, _, steps = head.partition(":")
    seeds = [int(p[2:]) for p in rest[1:] if p.startswith("s=")]
    return {
        "sampler": sampler,
        "n_steps": int(steps) if steps else None,
        "draws": int(rest[0]) if rest else None,
        "fp32": "fp32" in rest[1:],
        "selection_seed": seeds[0] if seeds else None,
    }


def evaluations(model, draws: int) -> int:
    """Denoiser evaluations per kept row."""
    per = {"distilled": 1, "dpm": model.n_steps, "heun": 2 * model.n_steps - 1}
    return draws * per[model.sampler]


def set_draws(model, draws: int | None, low: bool) -> int:
    """Make unconditional sampling keep one of ``draws`` candidates (the model's own
    choice when ``None``); returns the count used."""
    model.__dict__.pop("_draw", None)
    default = estimator._DISTILL_DRAWS if gate.in_use(model) == "distilled" else 4
    if draws is None or draws == default:
        return default
    selection = model._postprocessor("discriminator")

    def _draw(n, conditions, rng):
        if draws < 2:
            return model._sample(n, conditions, rng)
        return selection.draw(model, n, conditions, rng, draws=draws, low_precision=low)

    model._draw = _draw
    return draws


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="adult")
    parser.add_argument("--load", type=Path, help="a fitted DiffusionSynthesizer")
    parser.add_argument("--save", type=Path, default=None, help="the model with its student")
    parser.add_argument("--variants", default="dpm:20@4;distilled@8")
    parser.add_argument(
        "--distill-share",
        type=float,
        default=None,
        help="the student's optimiser steps as a share of the denoiser's (default: the model's)",
    )
    parser.add_argument("--det-rows", type=int, default=10_000)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--render", action="store_true", help="only write the .md beside --out")
    args = parser.parse_args(argv)
    if args.render:  # the RESULTS.md fragment beside the JSON
        fragment = args.out.with_suffix(".md")
        fragment.write_text(render(json.loads(args.out.read_text())))
        return print(f"wrote {fragment}")
    torch.set_num_threads(args.threads)  # run with OMP_NUM_THREADS=1 (scikit-learn scoring)
    train, test, meta = load_dataset(args.dataset)
    kinds = dict.fromkeys(meta["categorical"], "categorical")
    kinds |= dict.fromkeys(meta["numerical"], "numerical")
    model = tabgen.load(args.load)
    if args.distill_share is not None:
        estimator._DISTILL_STEP_SHARE = args.distill_share
        estimator._DISTILL_STEP_SHARE_LOW = args.distill_share
    results = json.loads(args.out.read_text()) if args.out.is_file() else {"runs": []}
    results["machine"] = machine_info()
    native = estimator.low_precision_fast
    fitted_for = None  # the sampler the post-processors were fitted on
    for variant in args.variants.split(";"):
        spec = parse(variant)
        low = native(torch.device("cpu")) and not spec["fp32"]
        estimator.low_precision_fast = lambda device, low=low: low
        model.set_params(sampler=spec["sampler"])
        if spec["n_steps"]:
            model.set_params(n_steps=spec["n_steps"])
        distill_cpu = None
        if spec["sampler"] == "distilled" and getattr(model, "student_", None) is None:
            model.device_ = torch.device("cpu")
            c0 = time.process_time()
            gen = torch.Generator().manual_seed(args.seed + 11)
            model.student_ = model._distill(_teacher_steps(model, len(train)), len(train), gen)
            distill_cpu = round(time.process_time() - c0, 1)
            print(f"distilled in {distill_cpu} cpu s", flush=True)
            if args.save:
                model.save(args.save, overwrite=True)
        post_cpu = None
        seed = args.seed + 7 if spec["selection_seed"] is None else spec["selection_seed"]
        key = (spec["sampler"], model.n_steps, low, seed)
        if key != fitted_for:
            model.__dict__.pop("_draw", None)
            c0 = time.process_time()
            refit_postprocessors(model, train, ["dependencies", "selection"], seed)
            post_cpu = round(time.process_time() - c0, 1)
            fitted_for = key
        draws = set_draws(model, spec["draws"], low)
        load = os.getloadavg()[0]
        c0, w0 = time.process_time(), time.perf_counter()
        synth = model.sample(len(train), random_state=args.seed + 1)
        cpu, wall = time.process_time() - c0, time.perf_counter() - w0
        row = {
            "dataset": args.dataset,
            "variant": variant,
            "sampler": model.sampler,
            "n_steps": model.n_steps,
            "draws": draws,
            "selection_seed": seed,
            "bfloat16": low,
            "evaluations_per_row": evaluations(model, draws),
            "distill_cpu_s": distill_cpu,
            "distill_step_share": estimator._DISTILL_STEP_SHARE,
            "postprocess_fit_cpu_s": post_cpu,
            "rows": len(synth),
            "sample_cpu_s": round(cpu, 2),
            "sample_wall_s": round(wall, 2),
            "rows_per_cpu_s": round(len(synth) / cpu),
            "torch_threads": torch.get_num_threads(),
            "load_1m": round(load, 1),
            "date": time.strftime("%Y-%m-%d %H:%M"),
            "command": "python benchmarks/bench_diffusion_speed.py "
            + " ".join(f"'{a}'" if ";" in a or "@" in a else a for a in sys.argv[1:]),
        }
        row.update(score(train, test, synth, kinds, args.det_rows, args.folds))
        print(json.dumps(row), flush=True)
        results["runs"].append(row)
        args.out.write_text(json.dumps(results, indent=1) + "\n")
    estimator.low_precision_fast = native


def _teacher_steps(model, rows: int) -> int:
    """Optimiser steps of the model's fit (epochs x batches per epoch)."""
    batch = min(int(model.batch_size), rows)
    return model.n_epochs_ * -(-rows // batch)


COLUMNS = (
    ("evaluations_per_row", "evaluations / row", "{}"),
    ("rows_per_cpu_s", "rows / CPU s", "{:,}"),
    ("detection_gb", "detection (GB)", "{:.3f}"),
    ("shape", "shape", "{:.3f}"),
    ("trend", "trend", "{:.3f}"),
    ("dcr_share", "DCR share", "{:.3f}"),
    ("mia_auc", "MIA AUC", "{:.3f}"),
    ("distill_step_share", "distil steps / fit steps", "{}"),
    ("distill_cpu_s", "distil CPU s", "{:.1f}"),
    ("postprocess_fit_cpu_s", "selection fit CPU s", "{:.1f}"),
    ("load_1m", "load", "{}"),
)


def render(results: dict) -> str:
    """The RESULTS.md fragment of the speed JSON."""
    m = results.get("machine", {})
    title = "Diffusion sampling speed against quality (issue #26, bench_diffusion_speed.py)"
    lines = [f"## {title}", "", results.get("note", "").strip(), ""]
    lines += [
        f"Machine: {m.get('cpu', '?')}, {m.get('cores', '?')} cores, busy (load average in "
        "the `load` column: other engineers' jobs shared the 2 cores), torch "
        f"{m.get('torch', '?')}, one torch thread. `rows / CPU s`: rows returned by one "
        "`sample(32,561)` call per CPU second of the benchmark process (decoding and the "
        "selection included). Detection, shape, trend, DCR share and MIA AUC as in the "
        "ablation section (GB C2ST, 5 folds, 10,000 rows a side; holdout for the privacy "
        "pair). `variant` = `sampler[:steps]@candidates[@fp32][@s=seed of the selection's "
        "discriminator]`.",
        "",
    ]
    head = ["variant", "bfloat16"] + [title for _, title, _ in COLUMNS] + ["command"]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results["runs"]:
        cells = [r["variant"], "yes" if r.get("bfloat16") else "no"]
        for key, _, fmt in COLUMNS:
            v = r.get(key)
            cells.append("–" if v is None else fmt.format(v))
        cells.append(f"`{r['command']}`")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    main()
