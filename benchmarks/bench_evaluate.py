"""Time a full ``tabgen.evaluate`` report on Adult (run by hand).

    python benchmarks/bench_evaluate.py [--repeats 3]

Real = Adult train (32,561 rows), synthetic = 32,561 copula rows, holdout = Adult test,
target ``income``; every metric group plus ``to_html``. Writes
``benchmarks/results/evaluate_adult.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tabgen
from benchmarks._common import RESULTS, load_dataset, machine_info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    train, test, meta = load_dataset("adult")
    synth = (
        tabgen.GaussianCopulaSynthesizer(random_state=0)
        .fit(train)
        .sample(len(train), random_state=1)
    )
    times, html = [], []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        report = tabgen.evaluate(train, synth, holdout=test, target=meta["target"])
        times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        report.to_html(RESULTS / "_evaluate_tmp.html", overwrite=True)
        html.append(time.perf_counter() - t0)
    (RESULTS / "_evaluate_tmp.html").unlink()
    result = {
        "command": "python benchmarks/bench_evaluate.py --repeats " + str(args.repeats),
        "note": f"load average at start {os.getloadavg()[0]:.1f}",
        "evaluate_median_s": round(statistics.median(times), 2),
        "evaluate_min_s": round(min(times), 2),
        "evaluate_max_s": round(max(times), 2),
        "to_html_median_s": round(statistics.median(html), 2),
        "rows_real": len(train),
        "rows_synthetic": len(synth),
        "rows_holdout": len(test),
        "machine": machine_info(),
    }
    out = RESULTS / "evaluate_adult.json"
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result.items() if k != "machine"}, indent=2))


if __name__ == "__main__":
    main()
