"""Shared fixtures: a hard mixed-type frame and access to the shared benchmark data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    """Small networks train faster on one thread, and much faster on a busy 2-core machine;
    the library itself never changes torch's thread count."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def make_mixed_frame(n: int = 240, seed: int = 0) -> pd.DataFrame:
    """Every column kind, missing cells in several kinds, awkward category names."""
    rng = np.random.default_rng(seed)
    num = rng.normal(50, 10, n)
    int_nan = rng.integers(0, 20, n).astype(object)
    int_nan[rng.random(n) < 0.15] = None
    cat_nan = rng.choice(["red", "green", "blue"], n).astype(object)
    cat_nan[rng.random(n) < 0.2] = None
    flag = rng.random(n) < 0.3
    nullable_bool = pd.array(rng.random(n) < 0.5, dtype="boolean")
    nullable_bool[rng.random(n) < 0.1] = pd.NA
    return pd.DataFrame(
        {
            "num": num,
            "num_nan": np.where(rng.random(n) < 0.2, np.nan, num * 0.5 + rng.exponential(3, n)),
            "int": (num // 3).astype("int64"),
            "int_nan": pd.array(int_nan, dtype="Int64"),
            "int_float_nan": np.where(rng.random(n) < 0.1, np.nan, rng.integers(1, 5, n)),
            "cat": np.where(num > 50, "high", rng.choice(["low", "mid"], n)),
            "cat_nan": cat_nan,
            "flag": flag,
            "nbool": nullable_bool,
            "catdtype": pd.Categorical(rng.choice(["x", "y"], n), categories=["x", "y", "z"]),
            "sdtype": pd.array(rng.choice(["p", "q"], n), dtype="string"),
            "unicode": rng.choice(['café, "quoted"', "naïve,comma", "日本語", "a'b"], n),
            "when": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 900, n), "D"),
            "when_tz": (
                pd.Timestamp("2021-03-01", tz="Europe/Paris")
                + pd.to_timedelta(rng.integers(0, 5000, n), "h")
            ),
            "date_str": [
                f"2019-{m:02d}-{d:02d}"
                for m, d in zip(rng.integers(1, 13, n), rng.integers(1, 29, n))
            ],
            "row_id": np.arange(n, dtype="int64") + 1000,
            "const": "k",
            "all_nan": np.full(n, np.nan),
        }
    )


@pytest.fixture
def mixed_frame() -> pd.DataFrame:
    return make_mixed_frame()


def shared_datasets() -> dict:
    path = SHARED_DATA / "datasets.json"
    if not path.is_file():
        return {}
    return json.loads(path.read_text())


@pytest.fixture
def shared_data_dir() -> Path:
    if not (SHARED_DATA / "datasets.json").is_file():
        pytest.skip(
            f"shared benchmark data not found at {SHARED_DATA} (only beside the repo in CI)"
        )
    return SHARED_DATA


@pytest.fixture
def pinned_dp_noise(monkeypatch):
    """Seed the DP mechanisms' noise with a constant (it normally comes from the operating
    system's entropy, so that DP fits are not reproducible): the rest of a DP fit follows
    ``random_state`` and can then be checked for determinism."""
    from tabgen.privacy import _mechanisms

    monkeypatch.setattr(_mechanisms, "secret_seed", lambda bits=62: 12345)
    # the DP-SGD gradient noise reads os.urandom: each run gets the same fixed byte stream
    monkeypatch.setattr(
        _mechanisms, "secret_bytes_source", lambda: np.random.default_rng(12345).bytes
    )
