"""Rule violations with and without ``constraints=`` (run by hand).

For adult, california and magic, each model is fitted on a random subset of the training rows
twice: without rules, and with the table's natural rules (adult: education <-> education_num;
california: total_bedrooms <= total_rooms, households <= population; magic: Conc1 <= Conc,
Width <= Length) plus what :func:`tabgen.constraints.discover` proposes. Each sample is
checked against every rule (share of rows breaking at least one, and per rule) and scored
against held-out rows by ``tabgen.evaluate`` (shape, trend, gradient-boosting detection
score; higher is better).

    python -m benchmarks.bench_constraints [--train 5000] [--rows 5000] [--epochs 50]
        [--models copula,diffusion,vae,gan] [--datasets adult,california,magic] [--seed 0]

Writes ``benchmarks/results/constraints.json`` and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import time

import tabgen
from benchmarks._common import RESULTS, load_dataset, machine_info
from tabgen.constraints import FixedCombinations, Inequality, discover

NAMED = {
    "adult": [FixedCombinations(["education", "education_num"])],
    "california": [
        Inequality("total_bedrooms", "<=", "total_rooms"),
        Inequality("households", "<=", "population"),
    ],
    "magic": [Inequality("Conc1", "<=", "Conc"), Inequality("Width", "<=", "Length")],
}
MODELS = {
    "copula": tabgen.GaussianCopulaSynthesizer,
    "diffusion": tabgen.DiffusionSynthesizer,
    "vae": tabgen.VAESynthesizer,
    "gan": tabgen.GANSynthesizer,
}


def rules_for(name: str, train) -> list:
    """The named rules, then the discovered ones that do not clash with them."""
    rules = list(NAMED[name])
    for rule in discover(train):
        if rule not in rules and not set(rule.columns) & {c for r in rules for c in r.columns}:
            rules.append(rule)
    return rules


def violations(rules, frame) -> dict:
    per_rule = {repr(r): float(r.violations(frame).mean()) for r in rules}
    any_rule = sum(r.violations(frame) for r in rules) > 0
    return {"any": float(any_rule.mean()), "per_rule": per_rule}


def run_one(cls, params, train, holdout, rules, n, seed, with_rules: bool) -> dict:
    kwargs = dict(params, random_state=seed)
    if with_rules:
        kwargs.update(constraints=rules, constraint_violations="drop")
    start = time.perf_counter()
    model = cls(**kwargs).fit(train)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    synth = model.sample(n, random_state=seed)
    sample_s = time.perf_counter() - start
    report = tabgen.evaluate(holdout, synth)
    return {
        "fit_s": round(fit_s, 2),
        "sample_s": round(sample_s, 2),
        "violations": violations(rules, synth),
        "scores": {k: report.scores.get(k) for k in ("shape", "trend", "detection_score_gb")},
    }


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--train", type=int, default=5000)
    p.add_argument("--rows", type=int, default=5000)
    p.add_argument("--epochs", type=int, default=50)
    p.add_argument("--models", default=",".join(MODELS))
    p.add_argument("--datasets", default=",".join(NAMED))
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    results = {"machine": machine_info(), "args": vars(args), "runs": []}
    for name in args.datasets.split(","):
        train, test, _ = load_dataset(name)
        train = train.sample(min(args.train, len(train)), random_state=args.seed)
        holdout = test.sample(min(args.rows, len(test)), random_state=args.seed)
        rules = rules_for(name, train)
        real = violations(rules, holdout)["any"]
        for model_name in args.models.split(","):
            cls = MODELS[model_name]
            params = {} if model_name == "copula" else {"epochs": args.epochs}
            for with_rules in (False, True):
                out = run_one(cls, params, train, holdout, rules, args.rows, args.seed, with_rules)
                out.update(
                    dataset=name,
                    model=model_name,
                    rules=with_rules,
                    n_rules=len(rules),
                    real_holdout_violations=real,
                )
                results["runs"].append(out)
                print(
                    f"| {name} | {model_name} | {'with' if with_rules else 'without'} | "
                    f"{len(rules)} | {out['violations']['any']:.2%} | "
                    + " | ".join(
                        f"{v:.3f}" if v is not None else "-" for v in out["scores"].values()
                    )
                    + f" | {out['fit_s']} |",
                    flush=True,
                )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "constraints.json").write_text(json.dumps(results, indent=1, default=str))


if __name__ == "__main__":
    main()
