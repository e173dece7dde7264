"""``fit(path)``: training from Parquet files streamed off disk."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tabgen
from tabgen.nn.rows import ArrayRows
from tabgen.synthesizers import _fitdata
from tabgen.synthesizers.vae import training

VAE = {"epochs": 2, "batch_size": 50, "hidden": 16, "latent_dim": 4, "n_layers": 1}


def _table(n=300, seed=0):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "k": rng.integers(0, 50, n),
            "c": rng.choice(["a", "b", "c"], n, p=[0.6, 0.3, 0.1]),
        }
    )
    df.loc[rng.random(n) < 0.1, "x"] = np.nan
    return df


def _write_folder(df, folder, parts=2):
    folder.mkdir()
    for k, rows in enumerate(np.array_split(np.arange(len(df)), parts)):
        df.iloc[rows].to_parquet(folder / f"part-{k}.parquet", index=False)
    return folder


def test_fit_path_matches_fit_frame(tmp_path):
    """A table smaller than the encoder sample: same encoder, same training (float32)."""
    df = _table()
    path = tmp_path / "t.parquet"
    df.to_parquet(path, index=False)
    a = tabgen.VAESynthesizer(random_state=0, **VAE).fit(df)
    b = tabgen.VAESynthesizer(random_state=0, **VAE).fit(path)
    assert b.n_rows_ == 300 and b.columns_ == ["x", "k", "c"]
    assert a.encoder_.get_state() == b.encoder_.get_state()
    np.testing.assert_allclose(b.loss_history_, a.loss_history_, rtol=1e-4)
    assert b.sample(20, random_state=0).shape == (20, 3)


def test_fit_folder_streams_and_counts_categories(tmp_path, monkeypatch):
    df = _table(400)
    df.loc[397, "c"] = "rare"  # only one row: almost surely outside a 40-row sample
    folder = _write_folder(df, tmp_path / "data", parts=3)
    monkeypatch.setattr(_fitdata, "FIT_SAMPLE_ROWS", 40)
    seen = {}
    real_train = training.train

    def spy(encoder, decoder, X, *args, **kwargs):
        seen["X"] = X
        return real_train(encoder, decoder, X, *args, **kwargs)

    monkeypatch.setattr("tabgen.synthesizers.vae.estimator.train", spy)
    model = tabgen.VAESynthesizer(random_state=0, **VAE).fit(folder)
    assert isinstance(seen["X"], ArrayRows)  # minibatches read off the memmap
    assert seen["X"].shape[0] == 400
    enc = model.encoder_.encoders_["c"]
    want = df["c"].value_counts(normalize=True)
    assert enc.categories_ == want.index.tolist()  # exact, not from the sample
    np.testing.assert_allclose(enc.frequencies_, want.to_numpy())
    assert model.n_rows_ == 400
    rows = model.sample(200, random_state=1)
    assert set(rows["c"]) <= set(want.index) and len(rows) == 200
    # a model that needs Z in memory (the copula) also fits from a folder
    copula = tabgen.GaussianCopulaSynthesizer(random_state=0).fit(folder)
    assert "rare" in copula.encoder_.encoders_["c"].categories_


def test_fit_path_errors(tmp_path):
    df = _table(50)
    csv = tmp_path / "t.csv"
    df.to_csv(csv, index=False)
    with pytest.raises(ValueError, match="Parquet"):
        tabgen.VAESynthesizer(**VAE).fit(csv)
    with pytest.raises(FileNotFoundError):
        tabgen.VAESynthesizer(**VAE).fit(tmp_path / "missing.parquet")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no Parquet"):
        tabgen.VAESynthesizer(**VAE).fit(tmp_path / "empty")
    df.to_parquet(tmp_path / "t.parquet", index=False)
    with pytest.raises(ValueError, match="not a path"):
        tabgen.VAESynthesizer(epsilon=1.0, **VAE).fit(tmp_path / "t.parquet")


def test_uniform_sample_is_uniform(tmp_path):
    from tabgen.io import open_dataset, uniform_sample

    df = pd.DataFrame({"i": np.arange(1000)})
    folder = _write_folder(df, tmp_path / "u", parts=4)
    ds = open_dataset(folder)
    draws = np.concatenate(
        [
            uniform_sample(ds, 100, np.random.default_rng(s), batch_rows=128)[0]["i"]
            for s in range(40)
        ]
    )
    sample, n = uniform_sample(ds, 100, np.random.default_rng(0), batch_rows=128)
    assert n == 1000 and len(sample) == 100 and sample["i"].is_unique
    assert sample["i"].is_monotonic_increasing  # file order
    counts = np.bincount(draws // 100, minlength=10)  # 4000 draws over 10 deciles
    assert counts.min() > 300 and counts.max() < 500
