"""Runs the ``anonymeter`` package on tables written by ``bench_privacy_anonymeter.py``.

Executed in its own virtual environment (anonymeter 1.1.0 pins ``numpy<1.27``), not in the
project's: ``/work/venv-anon/bin/python benchmarks/_anonymeter_runner.py SETTINGS.json``.
Reads ``ori`` / ``syn`` / ``control`` Parquet files and the settings, writes the risks, their
95 % intervals and the attack / baseline / control rates to the settings' ``out`` path.
"""

from __future__ import annotations

import json
import sys
import time

import pandas as pd
from anonymeter.evaluators import InferenceEvaluator, LinkabilityEvaluator, SinglingOutEvaluator


def _risk(evaluator) -> dict:
    risk = evaluator.risk(confidence_level=0.95)
    res = evaluator.results()
    return {
        "risk": float(risk.value),
        "risk_low": float(risk.ci[0]),
        "risk_high": float(risk.ci[1]),
        "attack_rate": float(res.attack_rate.value),
        "baseline_rate": float(res.baseline_rate.value),
        "control_rate": float(res.control_rate.value) if res.control_rate else None,
        "n_attacks": int(res.n_attacks_ori),
    }


def main(path: str) -> None:
    settings = json.loads(open(path).read())
    ori = pd.read_parquet(settings["ori"])
    syn = pd.read_parquet(settings["syn"])
    control = pd.read_parquet(settings["control"])
    n = settings["n_attacks"]
    out = {}
    for mode in ("univariate", "multivariate"):
        t0 = time.perf_counter()
        ev = SinglingOutEvaluator(
            ori=ori, syn=syn, control=control, n_attacks=n, n_cols=settings["n_cols"], seed=0
        )
        ev.evaluate(mode=mode)
        out[f"singling_out_{mode}"] = {**_risk(ev), "time_s": time.perf_counter() - t0}
    t0 = time.perf_counter()
    ev = LinkabilityEvaluator(
        ori=ori,
        syn=syn,
        control=control,
        aux_cols=tuple(settings["aux_split"]),
        n_attacks=n,
        n_neighbors=1,
    ).evaluate(n_jobs=1)
    out["linkability"] = {**_risk(ev), "time_s": time.perf_counter() - t0}
    for secret in settings["secrets"]:
        t0 = time.perf_counter()
        aux = [c for c in ori.columns if c != secret]
        ev = InferenceEvaluator(
            ori=ori,
            syn=syn,
            control=control,
            aux_cols=aux,
            secret=secret,
            regression=secret in settings["numerical"],
            n_attacks=n,
        ).evaluate(n_jobs=1)
        out[f"inference:{secret}"] = {**_risk(ev), "time_s": time.perf_counter() - t0}
    with open(settings["out"], "w") as fh:
        json.dump(out, fh, indent=1)


if __name__ == "__main__":
    main(sys.argv[1])
