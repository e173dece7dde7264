"""Training-step throughput of the diffusion denoiser (issue #26; run by hand).

Adult's training rows are encoded as a default fit encodes them; the denoiser of each width
then takes optimiser steps of the real training loop
(:func:`tabgen.synthesizers.diffusion.training.train` on fixed ``epochs``) in each precision
(``fp32``, or ``bf16``: ``torch.autocast`` of the network's matrix products with float32
master weights) and torch thread count; the figure is optimiser steps per wall second after a
warm-up (and per CPU second of this process). ``--profile`` prints where one
configuration's steps spend their time (torch profiler, grouped by operator).

``--fit PARAMS --save PATH`` fits a ``DiffusionSynthesizer`` on Adult (run.py's schema, seed 0,
one thread; ``--consts`` overrides module constants of the estimator, e.g.
``{"_TRAIN_LOW_PRECISION": false}``) and saves it; ``--score PATH`` (also after ``--fit``)
scores a saved model as run.py would for MLE (gradient boosting trained on 32,561 sampled
rows, ROC-AUC on the test split; two sampling seeds) and with the ablation bench's protocol
on the second sample (:func:`bench_diffusion_ablation.score`), each result appended to the
``ablation`` list of the JSON under ``--arm``.

    python benchmarks/bench_diffusion_train.py --widths 256,512 --threads 1,2 --steps 300
    python benchmarks/bench_diffusion_train.py --profile --widths 256 --threads 1
    python benchmarks/bench_diffusion_train.py --fit '{"sampler": "dpm", "postprocess": []}' \
        --save /tmp/bf256.tabgen --arm bf16-256
    python benchmarks/bench_diffusion_train.py --render
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

from benchmarks._common import RESULTS, load_dataset, machine_info, set_constants
from tabgen.synthesizers.diffusion import estimator, process
from tabgen.synthesizers.diffusion.network import MLPDenoiser, init_parameters
from tabgen.synthesizers.diffusion.training import TrainConfig, train

OUT = RESULTS / "diffusion_train_speed.json"


def encoded_adult(rows: int | None = None) -> tuple[np.ndarray, process.Layout]:
    """Adult's training rows in model space, with their layout (the default encoder)."""
    from tabgen.synthesizers._fitdata import _fit_encoder

    train_df, _, _ = load_dataset("adult")
    if rows:
        train_df = train_df.iloc[:rows]
    model = estimator.DiffusionSynthesizer(random_state=0)
    _fit_encoder(model, train_df)
    Z = model.encoder_.transform(train_df, rng=np.random.default_rng(0))
    layout = process.Layout.from_spans(model.encoder_.spans, Z.shape[1])
    return process.to_model(Z, layout), layout


def config(steps: int, rows: int, batch: int, low_precision: bool) -> TrainConfig:
    return TrainConfig(
        epochs=max(1, -(-steps // max(rows // batch, 1))),
        batch_size=batch,
        lr=2e-3,
        ema_decay=0.999,
        max_time=None,
        verbose=False,
        lr_warmup=estimator._LR_WARMUP,
        noise=process.NoiseSettings(
            p_mean=estimator._P_MEAN,
            p_std=estimator._P_STD,
            cond_prob=0.3,
            uniform_frac=estimator._UNIFORM_FRAC,
            sigma_max=estimator._TRAIN_SIGMA_MAX,
        ),
        low_precision=low_precision,
    )


def build(layout, hidden: int) -> process.MixedDenoiser:
    network = MLPDenoiser(layout.dim, hidden=hidden, n_layers=3)
    model = process.MixedDenoiser(network, layout)
    init_parameters(model, torch.Generator().manual_seed(0))
    return model


def measure(X, layout, hidden, precision, threads, steps, batch) -> dict:
    """Steps per second of ``steps`` optimiser steps (after a 30-step warm-up)."""
    torch.set_num_threads(threads)
    low = precision == "bf16"
    rows = X.shape[0]
    per_epoch = rows // batch
    Xs = X[: per_epoch * batch]  # whole epochs only: every step is a full batch
    warm = build(layout, hidden)
    train(
        warm, Xs[: 30 * batch], torch.Generator().manual_seed(1), config(30, 30 * batch, batch, low)
    )
    model = build(layout, hidden)
    cfg = config(steps, Xs.shape[0], batch, low)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    log, _, _ = train(model, Xs, torch.Generator().manual_seed(1), cfg)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    return {
        "hidden": hidden,
        "precision": precision,
        "threads": threads,
        "batch": batch,
        "steps": log.n_steps,
        "steps_per_s": log.n_steps / wall,
        "steps_per_cpu_s": log.n_steps / cpu,
        "final_loss": float(log.losses[-1]),
        "load": os.getloadavg()[0],
    }


def profile(X, layout, hidden, precision, threads, batch, steps=60) -> None:
    torch.set_num_threads(threads)
    low = precision == "bf16"
    Xs = X[: steps * batch]
    model = build(layout, hidden)
    train(
        model,
        Xs[: 10 * batch],
        torch.Generator().manual_seed(1),
        config(10, 10 * batch, batch, low),
    )
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
        train(model, Xs, torch.Generator().manual_seed(1), config(steps, Xs.shape[0], batch, low))
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=30))


def fit(params: dict, consts: dict, path: str) -> dict:
    """Fit on Adult's training rows (run.py's schema, seed 0) and save; fit CPU and wall s."""
    import tabgen

    set_constants(consts)
    train_df, _, meta = load_dataset("adult")
    schema = {c: "categorical" for c in meta.get("categorical", [])}
    model = tabgen.DiffusionSynthesizer(**{"schema": schema, "random_state": 0, **params})
    cpu0, wall0 = time.process_time(), time.perf_counter()
    model.fit(train_df)
    out = {"fit_cpu_s": time.process_time() - cpu0, "fit_wall_s": time.perf_counter() - wall0}
    model.save(path)
    return {**out, "epochs": model.n_epochs_, "final_loss": model.loss_history_[-1]}


def score_model(path: str, sampler: str | None, post: str | None) -> dict:
    """MLE as run.py measures it (two sampling seeds) and the ablation bench's scores."""
    import tabgen
    from benchmarks.bench_diffusion_ablation import refit_postprocessors, score
    from benchmarks.run import _kinds
    from tabgen.metrics import utility

    train_df, test_df, meta = load_dataset("adult")
    kinds = _kinds(meta)
    model = tabgen.load(path)
    if sampler:
        model.set_params(sampler=sampler)
    if post is not None:  # refitted on this sampler's rows, as a fit with them does
        refit_postprocessors(model, train_df, [] if post == "none" else post.split(","), 7)
    mle = []
    for seed in (0, 1):
        synth = model.sample(len(train_df), random_state=seed + 1)
        result = utility(train_df, synth, test_df, meta["target"], metadata=kinds, random_state=0)
        mle.append(round(float(result.scores["utility_synthetic"]), 4))
    out = {"sampler": sampler or model.sampler, "post": post, "mle": mle}
    out["mle_mean"] = float(np.mean(mle))
    return {**out, **score(train_df, test_df, synth, kinds, 10_000, 5)}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--render", action="store_true", help="only write the .md fragment")
    parser.add_argument("--fit", default=None, help="constructor parameters (JSON)")
    parser.add_argument("--consts", default="{}", help="estimator constants (JSON)")
    parser.add_argument("--save", default=None)
    parser.add_argument("--score", default=None, help="a saved model to score")
    parser.add_argument("--sampler", default=None, help="sampler for --score")
    parser.add_argument(
        "--post", default=None, help="--score after refitting these post-processors ('none')"
    )
    parser.add_argument("--arm", default=None)
    for name, default in (("--steps", 300), ("--batch", 1024)):
        parser.add_argument(name, type=int, default=default)
    lists = {"--widths": "256,512", "--threads": "1,2", "--precisions": "fp32,bf16"}
    for name, default in {**lists, "--tag": "default", "--out": str(OUT)}.items():
        parser.add_argument(name, default=default)
    args = parser.parse_args(argv)
    out = Path(args.out)
    doc = json.loads(out.read_text()) if out.exists() else {"runs": []}
    command = "python benchmarks/bench_diffusion_train.py " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    if args.render:
        out.with_suffix(".md").write_text(render(doc))
        return
    if args.fit is not None or args.score is not None:
        torch.set_num_threads(1)
        row = {"arm": args.arm, "command": command, "date": time.strftime("%Y-%m-%d")}
        path = args.save or args.score
        if args.fit is not None:
            row.update(params=json.loads(args.fit), consts=json.loads(args.consts))
            row.update(fit(row["params"], row["consts"], path))
        row.update(score_model(path, args.sampler, args.post), load=os.getloadavg()[0])
        print(json.dumps(row), flush=True)
        doc.setdefault("ablation", []).append(row)
        doc["machine"] = machine_info()
        out.write_text(json.dumps(doc, indent=1) + "\n")
        return
    X, layout = encoded_adult()
    X = torch.from_numpy(X)
    widths = [int(w) for w in args.widths.split(",")]
    threads = [int(t) for t in args.threads.split(",")]
    precisions = args.precisions.split(",")
    if args.profile:
        for w in widths:
            for t in threads:
                for p in precisions:
                    print(f"== hidden {w}, {p}, {t} thread(s)")
                    profile(X, layout, w, p, t, args.batch)
        return
    doc["machine"] = machine_info()
    doc["encoded_width"] = layout.dim
    for w in widths:
        for t in threads:
            for p in precisions:
                r = measure(X, layout, w, p, t, args.steps, args.batch)
                r.update(
                    tag=args.tag,
                    command=command,
                    date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                )
                print(json.dumps(r), flush=True)
                doc["runs"].append(r)
                out.write_text(json.dumps(doc, indent=1) + "\n")


def render(doc: dict) -> str:
    """The RESULTS.md fragment: findings, the steps/s table and the ablation table."""
    title = "Diffusion training throughput, budget use and MLE (#26, bench_diffusion_train.py)"
    lines = [
        f"## {doc.get('title', title)}",
        "",
        *doc.get("findings", []),
        "",
        f"Machine: {doc['machine'].get('cpu', 'AMD EPYC')}, 2 cores, shared with other "
        "engineers' jobs (load average in the `load` column), torch "
        f"{doc['machine'].get('torch', '')}."
        + (f" Encoded Adult row: {doc['encoded_width']} slots." if "encoded_width" in doc else ""),
    ]
    if doc.get("runs"):
        lines += [
            "",
            "| date | hidden | precision | threads | batch | steps | steps / s | steps / CPU s "
            "| load | command |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
    for r in doc.get("runs", []):
        lines.append(
            f"| {r['date']} | {r['hidden']} | {r['precision']} | {r['threads']} | {r['batch']} "
            f"| {r['steps']} | {r['steps_per_s']:.1f} | {r['steps_per_cpu_s']:.1f} "
            f"| {r['load']:.1f} | `{r['command']}` |"
        )
    lines += [
        "",
        "Ablation (Adult, seed 0, one thread; `MLE` = run.py's protocol on two samples, the "
        "other scores on the second with the ablation bench's protocol):",
        "",
        "| arm | sampler | post-processors | fit CPU s | epochs | MLE (2 samples) "
        "| detection (GB) | shape | trend | DCR share | MIA AUC | load | command |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    notes = []
    for r in doc.get("ablation", []):
        fit_s = f"{r['fit_cpu_s']:.0f}" if "fit_cpu_s" in r else "–"
        mle = " / ".join(f"{v:.3f}" for v in r["mle"])
        arm = r["arm"]
        if "note" in r:
            notes.append(f"{len(notes) + 1}. {r['note']}")
            arm += f" ({len(notes)})"
        post = r.get("post") or "as fitted"
        lines.append(
            f"| {arm} | {r['sampler']} | {post} | {fit_s} | {r.get('epochs', '–')} | {mle} "
            f"| {r['detection_gb']:.3f} | {r['shape']:.3f} | {r['trend']:.3f} "
            f"| {r['dcr_share']:.3f} | {r['mia_auc']:.3f} | {r['load']:.1f} | `{r['command']}` |"
        )
    if notes:
        lines += ["", *notes]
    return "\n".join(lines + diagnosis_table(doc.get("diagnosis", []))) + "\n"


DIAGNOSIS = (
    ("auc_synthetic", "MLE AUC (one sample)"),
    ("synthetic_features_real_conditional", "synth. rows, labels from the real classifier"),
    ("real_features_synthetic_conditional", "real rows, labels from the synth. classifier"),
    ("real_features_real_conditional", "real rows, labels from the real classifier"),
    ("real_classifier_on_synthetic_rows", "real classifier's AUC on the synth. rows"),
    ("p_high_given_gain_over_5000_synthetic", "P(>50K given capital gain > 5000)"),
    ("p_high_given_loss_synthetic", "P(>50K given capital loss > 0)"),
    ("denoiser_classifier_auc", "the denoiser's own P(income given the rest), AUC"),
    ("inpaint_categorical_accuracy", "inpainting: categorical accuracy"),
    ("inpaint_numeric_zrmse", "inpainting: numeric RMSE / sd"),
)


def diagnosis_table(rows: list) -> list:
    """Lines of the diagnosis table (``bench_diffusion_mle.py``): one column per fit, the
    real rows' own figure first where there is one."""
    if not rows:
        return []
    real = {
        "auc_synthetic": rows[0]["auc_real"],
        "p_high_given_gain_over_5000_synthetic": rows[0]["p_high_given_gain_over_5000_real"],
        "p_high_given_loss_synthetic": rows[0]["p_high_given_loss_real"],
        "real_classifier_on_synthetic_rows": rows[0]["auc_real"],
    }
    lines = [
        "",
        "Diagnosis (`bench_diffusion_mle.py`; one sample of 32,561 rows per fit; gradient "
        "boosting as in run.py's MLE; `real` = the same figure on the real rows):",
        "",
        "| figure | real | " + " | ".join(r["fit"] for r in rows) + " |",
        "|---|---|" + "---|" * len(rows),
    ]
    for key, name in DIAGNOSIS:
        ref = f"{real[key]:.3f}" if key in real else "–"
        values = " | ".join(f"{r[key]:.3f}" if key in r else "–" for r in rows)
        lines.append(f"| {name} | {ref} | {values} |")
    lines += ["", f"Command: `{rows[0]['command']}` (load {rows[0]['load']:.1f})."]
    return lines


if __name__ == "__main__":
    main()
