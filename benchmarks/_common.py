"""Shared helpers of the benchmark scripts: dataset loading and machine description."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
# where the shared datasets and the results live; the variables move them (e.g. on a
# machine where the repository has no ../shared beside it)
SHARED = Path(os.environ.get("TABGEN_BENCH_DATA", ROOT.parent / "shared" / "data"))
RESULTS = Path(os.environ.get("TABGEN_BENCH_RESULTS", ROOT / "benchmarks" / "results"))


def datasets() -> dict:
    path = SHARED / "datasets.json"
    if not path.is_file():
        raise SystemExit(
            f"benchmark data not found at {SHARED}: the benchmarks need ../shared/data "
            "(or TABGEN_BENCH_DATA naming a copy of it)"
        )
    return json.loads(path.read_text())


def load_dataset(name: str, test_fraction: float = 0.1, seed: int = 0):
    """``(train, test, metadata)``; datasets without an official split get a seeded split."""
    meta = datasets()[name]
    files = meta["files"]
    if "test" in files:
        train = pd.read_csv(SHARED / files["train"])
        test = pd.read_csv(SHARED / files["test"])
    else:
        full = pd.read_csv(SHARED / next(iter(files.values())))
        test = full.sample(frac=test_fraction, random_state=seed)
        train = full.drop(test.index)
        train, test = train.reset_index(drop=True), test.reset_index(drop=True)
    return train, test, meta


def machine_info() -> dict:
    import numpy
    import sklearn
    import torch

    import tabgen

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "tabgen": tabgen.__version__,
        "numpy": numpy.__version__,
        "pandas": pd.__version__,
        "scikit-learn": sklearn.__version__,
        "torch": torch.__version__,
    }


# -- SDV peers -------------------------------------------------------------------------------
SDV_MODELS = ("GaussianCopulaSynthesizer", "CTGANSynthesizer", "TVAESynthesizer")


def sdv_available() -> bool:
    try:
        import sdv  # noqa: F401
    except ImportError:
        return False
    return True


def seed_globals(seed: int | None) -> None:
    """Seed the global RNGs SDV draws from (Python, NumPy, torch): its synthesizers take no
    seed, so without this two runs of a peer differ and a comparison cannot be repeated."""
    if seed is None:
        return
    import random

    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 (SDV draws from the legacy global state)
    try:
        import torch
    except ImportError:
        return
    torch.manual_seed(seed)


def sdv_fit(model_name: str, train: pd.DataFrame, meta: dict, seed: int | None = 0, **params):
    """Fit one of SDV's single-table synthesizers with its defaults (plus ``params``), with the
    global RNGs seeded by ``seed`` first (see :func:`seed_globals`)."""
    import warnings

    import sdv.single_table as st
    from sdv.metadata import Metadata

    metadata = Metadata.detect_from_dataframes({"table": train})
    for col in meta.get("categorical", []):
        metadata.update_column(table_name="table", column_name=col, sdtype="categorical")
    for col in meta.get("numerical", []):
        metadata.update_column(table_name="table", column_name=col, sdtype="numerical")
    seed_globals(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = getattr(st, model_name)(metadata, **params)
        try:
            model.fit(train)
        except Exception as exc:  # SDV 2.0 wants {table_name: frame}
            if "dictionary" not in str(exc):
                raise
            model.fit({"table": train})
    return model


def sdv_sample(model, n: int, seed: int | None = 0) -> pd.DataFrame:
    """Sample ``n`` rows from a fitted SDV synthesizer, global RNGs seeded by ``seed`` first."""
    import warnings

    seed_globals(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = model.sample(n)
    if isinstance(out, dict):
        out = next(iter(out.values()))
    return out


def add_param_option(parser, example: str = "diffusion:epochs=100") -> None:
    """The ``--param MODEL:KEY=VALUE`` option (repeatable) of the benchmark scripts."""
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="MODEL:KEY=VALUE",
        help=f"a tabgen model's constructor setting, e.g. {example} (default: its defaults)",
    )


def parse_params(items) -> dict:
    """``["gan:lr=2e-4", "gan:pac=5"]`` -> ``{"gan": {"lr": 0.0002, "pac": 5}}``."""
    out: dict = {}
    for item in items:
        model, sep, assignment = item.partition(":")
        key, eq, value = assignment.partition("=")
        if not sep or not eq or not key:
            raise SystemExit(f"--param must read MODEL:KEY=VALUE, got {item!r}")
        out.setdefault(model, {})[key] = parse_value(value)
    return out


def parse_value(text: str):
    """``"128"`` -> 128, ``"4e-3"`` -> 0.004, ``"128x128"`` -> (128, 128), ``"true"`` /
    ``"false"`` / ``"none"`` (any case) -> True / False / None, else the text."""
    words = {"true": True, "false": False, "none": None}
    if text.lower() in words:
        return words[text.lower()]
    if "x" in text and all(p.isdigit() for p in text.split("x")):
        return tuple(int(p) for p in text.split("x"))
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def set_constants(consts: dict) -> None:
    """Override module constants of ``tabgen/synthesizers/diffusion/estimator.py`` (a clear
    error for a name it does not have): the benches' ``--consts``."""
    from tabgen.synthesizers.diffusion import estimator

    for name, value in consts.items():
        if not hasattr(estimator, name):
            raise ValueError(f"diffusion/estimator.py has no constant {name!r}")
        setattr(estimator, name, value)
