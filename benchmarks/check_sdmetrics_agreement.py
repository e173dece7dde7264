"""Check that tabgen's Shape / Trend agree with SDMetrics' QualityReport.

Run by hand in an environment with ``sdmetrics`` installed (not a tabgen dependency)::

    PYTHONPATH=/work/main /work/main/.venv-bench/bin/python \
        benchmarks/check_sdmetrics_agreement.py [--datasets adult default] [--data-dir DIR]

For each dataset it builds two "synthetic" tables without any tabgen model, both seeded:

* ``rows+shuffle``: a bootstrap of the real training rows, then every other column permuted
  independently (keeps some pair trends, breaks others);
* ``independent``: every column bootstrapped independently (marginals kept, trends broken).

and compares tabgen's ``shape`` / ``trend`` with SDMetrics' "Column Shapes" / "Column Pair
Trends", twice: with the pair thresholds off (every pair averaged, the sdmetrics 0.11
behaviour used by TabSyn/TabDiff) and with SDMetrics' current defaults (only pairs with real
|ρ| > 0.5 or Cramér's V > 0.3 averaged). It exits non-zero when a difference exceeds 0.01.

Only ``tabgen.metrics`` is imported (through its file path when importing the ``tabgen`` package
would pull optional heavy dependencies), so the check does not need torch.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data"
TOLERANCE = 0.01


def _load_tabgen_metrics():
    """Import ``tabgen.metrics`` alone, without executing ``tabgen/__init__.py``."""
    package_dir = REPO / "tabgen" / "metrics"
    spec = importlib.util.spec_from_file_location(
        "_tabgen_metrics_standalone",
        package_dir / "__init__.py",
        submodule_search_locations=[str(package_dir)],
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _synthetic_tables(real: pd.DataFrame, seed: int) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    n = len(real)
    rows = real.iloc[rng.integers(0, n, n)].reset_index(drop=True)
    shuffled = rows.copy()
    for column in real.columns[::2]:
        shuffled[column] = rows[column].to_numpy()[rng.permutation(n)]
    independent = pd.DataFrame({c: real[c].to_numpy()[rng.integers(0, n, n)] for c in real.columns})
    return {"rows+shuffle": shuffled, "independent": independent}


def _sdmetrics_scores(real, synthetic, metadata, thresholds):
    from sdmetrics.reports.single_table import QualityReport

    report = QualityReport()
    if not thresholds:
        report.real_correlation_threshold = 0
        report.real_association_threshold = 0
    report.generate(real, synthetic, metadata, verbose=False)
    props = report.get_properties().set_index("Property")["Score"]
    return float(props["Column Shapes"]), float(props["Column Pair Trends"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["adult", "default"])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    warnings.filterwarnings("ignore", category=FutureWarning)
    import sdmetrics

    metrics = _load_tabgen_metrics()
    catalogue = json.loads((args.data_dir / "datasets.json").read_text())
    print(f"sdmetrics {sdmetrics.__version__}, pandas {pd.__version__}, numpy {np.__version__}")
    header = (
        f"{'dataset':10} {'synthetic':13} {'thresholds':10} "
        f"{'shape sdm':>9} {'shape tg':>9} {'trend sdm':>9} {'trend tg':>9} "
        f"{'s sdm':>6} {'s tg':>6}"
    )
    print(header)
    worst = 0.0
    for name in args.datasets:
        entry = catalogue[name]
        files = entry["files"]
        real = pd.read_csv(args.data_dir / files.get("train", files.get("all")))
        kinds = {c: "categorical" for c in entry["categorical"]}
        kinds.update({c: "numerical" for c in entry["numerical"]})
        sdv_metadata = {"columns": {c: {"sdtype": k} for c, k in kinds.items()}}
        for label, synthetic in _synthetic_tables(real, args.seed).items():
            for thresholds in (False, True):
                t0 = time.perf_counter()
                sdm_shape, sdm_trend = _sdmetrics_scores(real, synthetic, sdv_metadata, thresholds)
                t_sdm = time.perf_counter() - t0
                t0 = time.perf_counter()
                result = metrics.fidelity(
                    real,
                    synthetic,
                    metadata=kinds,
                    real_correlation_threshold=0.5 if thresholds else 0.0,
                    real_association_threshold=0.3 if thresholds else 0.0,
                )
                t_tg = time.perf_counter() - t0
                shape, trend = result.scores["shape"], result.scores["trend"]
                worst = max(worst, abs(shape - sdm_shape), abs(trend - sdm_trend))
                print(
                    f"{name:10} {label:13} {'0.5/0.3' if thresholds else 'off':10} "
                    f"{sdm_shape:9.5f} {shape:9.5f} {sdm_trend:9.5f} {trend:9.5f} "
                    f"{t_sdm:6.1f} {t_tg:6.2f}"
                )
    print(f"largest |tabgen - sdmetrics| = {worst:.2e} (tolerance {TOLERANCE})")
    if worst > TOLERANCE:
        print("FAIL")
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
