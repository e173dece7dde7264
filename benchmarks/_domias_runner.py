"""Runs the ``domias`` package's scores on arrays written by ``bench_privacy_domias.py``.

Executed in its own virtual environment (domias 0.0.5 pulls torch and old pins):
``/work/venv-anon/bin/python benchmarks/_domias_runner.py ARRAYS.npz OUT.json``.
"""

from __future__ import annotations

import json
import sys

import numpy as np
from domias.baselines import baselines


def main(path: str, out: str) -> None:
    data = np.load(path)
    results = {}
    for release in ("copy", "copula"):
        res, _ = baselines(
            data["x_test"],
            data["y_test"],
            data[f"x_{release}"],
            data["x_ref"],
            data["x_ref"],
        )
        results[release] = {k: float(v["aucroc"]) for k, v in res.items()}
    with open(out, "w") as fh:
        json.dump(results, fh, indent=1)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
