"""Foundation benchmark (run by hand): encoder timings and the Gaussian copula vs SDV's.

    python benchmarks/bench_foundation.py [--repeats 3]

Needs the ``bench`` extra (sdv) for the SDV column; writes
``benchmarks/results/foundation_adult.json``. Rerun ``python benchmarks/make_results.py`` to
refresh RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import pandas as pd

import tabgen
from tabgen.encoders import TableEncoder
from tabgen.schema import Schema, check_frame

try:  # allow running as a script from the repo root
    from benchmarks._common import (
        RESULTS,
        load_dataset,
        machine_info,
        sdv_available,
        sdv_fit,
        sdv_sample,
    )
except ImportError:  # pragma: no cover
    from _common import RESULTS, load_dataset, machine_info, sdv_available, sdv_fit, sdv_sample


def timed(fn, repeats):
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return out, {"median_s": statistics.median(times), "min_s": min(times), "max_s": max(times)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    train, _, meta = load_dataset("adult")
    n = len(train)
    results = {"dataset": "adult", "rows": n, "repeats": args.repeats, "machine": machine_info()}

    schema = Schema.detect(check_frame(train))
    for numerical, categorical in (("quantile", "onehot"), ("standard", "ordinal")):
        make = TableEncoder(numerical=numerical, categorical=categorical)
        enc, t_fit = timed(lambda make=make: make.fit(train, schema), args.repeats)
        Z, t_tr = timed(lambda enc=enc: enc.transform(train), args.repeats)
        _, t_inv = timed(lambda enc=enc, Z=Z: enc.inverse_transform(Z), args.repeats)
        results[f"encoder_{numerical}_{categorical}"] = {
            "fit": t_fit,
            "transform": t_tr,
            "inverse": t_inv,
            "width": Z.shape[1],
        }

    model, t_fit = timed(
        lambda: tabgen.GaussianCopulaSynthesizer(random_state=0).fit(train), args.repeats
    )
    _, t_sample = timed(lambda: model.sample(n, random_state=1), args.repeats)
    results["tabgen_copula"] = {"fit": t_fit, "sample": t_sample}

    if not sdv_available():
        results["sdv_copula"] = None
        print("sdv not installed: skipping the SDV column (pip install -e '.[bench]')")
    else:
        import sdv

        sdv_model, t_fit = timed(
            lambda: sdv_fit("GaussianCopulaSynthesizer", train, meta), args.repeats
        )
        _, t_sample = timed(lambda: sdv_sample(sdv_model, n), args.repeats)
        results["sdv_copula"] = {"fit": t_fit, "sample": t_sample, "version": sdv.__version__}
        results["speedup_fit"] = t_fit["median_s"] / results["tabgen_copula"]["fit"]["median_s"]

    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "foundation_adult.json"
    out.write_text(json.dumps(results, indent=2))
    print(json.dumps({k: v for k, v in results.items() if k != "machine"}, indent=2))
    print(f"-> {out}")


if __name__ == "__main__":
    pd.options.mode.copy_on_write = True
    main()
