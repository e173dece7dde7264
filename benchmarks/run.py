"""The synthesis benchmark harness (run by hand, not in CI).

Fits tabgen models and the SDV peers on shared datasets in one process on one machine, times
fit and sampling (as many rows as the training table), scores everything with
``tabgen.evaluate`` (holdout = the dataset's test split) and writes
``benchmarks/results/synthesis_<tag>.json``; then regenerates ``benchmarks/RESULTS.md``.

    python benchmarks/run.py --models copula,sdv-copula,sdv-ctgan,sdv-tvae \\
        --datasets adult,default --seeds 0 --tag core

Models: tabgen registry names (``copula``, ``diffusion``, ...) and ``sdv-copula``,
``sdv-ctgan``, ``sdv-tvae`` (SDV defaults; need the ``bench`` extra).
``--epochs NAME=E`` overrides a model's epochs (tabgen or SDV), e.g. for a quick smoke run.
Several seeds give the median and the spread (min–max) of every figure.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tabgen
from benchmarks._common import (
    RESULTS,
    add_param_option,
    load_dataset,
    machine_info,
    parse_params,
    sdv_available,
    sdv_fit,
    sdv_sample,
)

SDV_NAMES = {
    "sdv-copula": "GaussianCopulaSynthesizer",
    "sdv-ctgan": "CTGANSynthesizer",
    "sdv-tvae": "TVAESynthesizer",
}


def _kinds(meta: dict) -> dict:
    kinds = {c: "categorical" for c in meta.get("categorical", [])}
    kinds.update({c: "numerical" for c in meta.get("numerical", [])})
    return kinds


def fit_and_sample(model: str, train, meta: dict, seed: int, epochs: dict, extra=None, save=None):
    """Returns (synthetic frame, fit seconds, sample seconds); a tabgen model is saved to
    ``save`` (a path) after it is timed, when given."""
    n = len(train)
    if model in SDV_NAMES:
        if not sdv_available():
            raise RuntimeError("sdv is not installed (pip install -e '.[bench]')")
        params = {"epochs": epochs[model]} if model in epochs else {}
        t0 = time.perf_counter()
        fitted = sdv_fit(SDV_NAMES[model], train, meta, seed=seed, **params)
        fit_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        synth = sdv_sample(fitted, n, seed=seed)
        return synth, fit_s, time.perf_counter() - t0
    cls = tabgen.get_synthesizer(model)
    schema = {c: "categorical" for c in meta.get("categorical", [])}
    params = {"schema": schema, "random_state": seed}
    if model in epochs:
        params["epochs"] = epochs[model]
    params.update((extra or {}).get(model, {}))
    t0 = time.perf_counter()
    fitted = cls(**params).fit(train)
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    synth = fitted.sample(n, random_state=seed + 1)
    sample_s = time.perf_counter() - t0
    if save is not None:
        fitted.save(save, overwrite=True)
    return synth, fit_s, sample_s


def summarize(runs: list[dict]) -> dict:
    keys = sorted({k for r in runs for k, v in r.items() if isinstance(v, (int, float))})
    out = {}
    for key in keys:
        values = [r[key] for r in runs if isinstance(r.get(key), (int, float))]
        values = [v for v in values if v == v]  # drop NaN
        if values:
            out[key] = {
                "median": statistics.median(values),
                "min": min(values),
                "max": max(values),
                "n": len(values),
            }
    return out


def _write(result: dict, tag: str) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"synthesis_{tag}.json"
    out.write_text(json.dumps(result, indent=2, default=float))
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="copula,sdv-copula,sdv-ctgan,sdv-tvae")
    parser.add_argument("--datasets", default="adult")
    parser.add_argument("--seeds", default="0", help="comma-separated seeds (repeats)")
    parser.add_argument("--epochs", action="append", default=[], metavar="MODEL=E")
    parser.add_argument("--tag", default=None, help="results file suffix")
    parser.add_argument("--max-train-rows", type=int, default=None)
    add_param_option(parser, "gan:lr=2e-4")
    parser.add_argument("--save-models", default=None, help="folder for the fitted models")
    args = parser.parse_args(argv)
    extra = parse_params(args.param)
    models = [m for m in args.models.split(",") if m]
    names = [d for d in args.datasets.split(",") if d]
    seeds = [int(s) for s in args.seeds.split(",")]
    epochs = {k: int(v) for k, v in (e.split("=", 1) for e in args.epochs)}
    tag = args.tag or "_".join(names)
    result = {
        "tag": tag,
        "date": time.strftime("%Y-%m-%d"),
        "machine": machine_info(),
        "command": "python benchmarks/run.py " + " ".join(argv if argv else sys.argv[1:]),
        "epochs_overrides": epochs,
        "param_overrides": extra,
        "torch_threads": __import__("torch").get_num_threads(),
        "load_average_at_start": list(__import__("os").getloadavg()),
        "datasets": {},
    }
    if sdv_available():
        import sdv

        result["machine"]["sdv"] = sdv.__version__
    for name in names:
        train, test, meta = load_dataset(name)
        if args.max_train_rows and len(train) > args.max_train_rows:
            train = train.sample(args.max_train_rows, random_state=0).reset_index(drop=True)
        entry = {"rows": len(train), "holdout_rows": len(test), "target": meta["target"]}
        entry["models"] = {}
        for model in models:
            runs = []
            for seed in seeds:
                print(f"[{name}] {model} seed={seed} ...", flush=True)
                try:
                    save = None
                    if args.save_models and model not in SDV_NAMES:
                        save = Path(args.save_models) / f"{model}_{name}_s{seed}.tabgen"
                        save.parent.mkdir(parents=True, exist_ok=True)
                    synth, fit_s, sample_s = fit_and_sample(
                        model, train, meta, seed, epochs, extra, save
                    )
                    t0 = time.perf_counter()
                    report = tabgen.evaluate(
                        train, synth, holdout=test, target=meta["target"], schema=_kinds(meta)
                    )
                    scores = dict(report.scores)
                    scores.update(fit_s=fit_s, sample_s=sample_s)
                    scores["evaluate_s"] = time.perf_counter() - t0
                    runs.append(scores)
                    print(
                        f"    fit {fit_s:.1f}s sample {sample_s:.1f}s shape {scores['shape']:.3f} "
                        f"trend {scores['trend']:.3f} det_gb {scores['detection_score_gb']:.3f} "
                        f"mle {scores['utility_synthetic']:.3f} dcr {scores['dcr_share']:.3f}",
                        flush=True,
                    )
                except Exception as exc:  # a peer failing must not lose the other results
                    traceback.print_exc()
                    runs.append({"error": f"{type(exc).__name__}: {exc}"})
            entry["models"][model] = {"runs": runs, "summary": summarize(runs)}
            result["datasets"][name] = entry
            _write(result, tag)  # after every model, so a long peer cannot lose the others
    out = _write(result, tag)
    print(f"-> {out}")
    from benchmarks.make_results import main as render

    render()


if __name__ == "__main__":
    main()
