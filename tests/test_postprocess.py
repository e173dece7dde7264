"""The fit pipeline's post-processors (tabgen.synthesizers.postprocess) on every model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tabgen
from tabgen.synthesizers.postprocess import postprocessor_class


def _table(n=400, seed=0):
    rng = np.random.default_rng(seed)
    edu = rng.choice(["a", "b", "c"], n)
    return pd.DataFrame(
        {
            "edu": edu,
            "years": pd.Series(edu).map({"a": 9, "b": 12, "c": 16}).to_numpy(),
            "gain": np.where(rng.random(n) < 0.9, 0, rng.choice([500, 2000, 7500], n)),
            "age": rng.normal(40, 10, n).round(1),
        }
    )


def _vae(**params):
    model = tabgen.VAESynthesizer(
        random_state=0, **{**tabgen.VAESynthesizer._test_params(), "epochs": 3, **params}
    )
    model._postprocessors = ("selection", "snap", "dependencies")  # any order declared
    return model


def test_any_model_fits_and_applies_declared_postprocessors(tmp_path):
    df = _table()
    model = _vae().fit(df)
    # fitted in the registry's order, whatever the declared order
    assert [p.name for p in model.postprocessors_] == ["supports", "dependencies", "discriminator"]
    assert [(d, a) for d, a, _ in model.dependencies_] == [("years", "edu")]
    assert model.supports_["gain"] == [0.0, 500.0, 2000.0, 7500.0]
    assert model.discriminator_ is not None
    rows = model.sample(300, random_state=1)
    assert (rows["years"] == rows["edu"].map({"a": 9, "b": 12, "c": 16})).all()
    assert set(rows["gain"]) <= {0, 500, 2000, 7500}
    # the selection draws candidates around the model's own sampling and keeps conditions
    held = model.sample(50, conditions={"edu": "b"}, random_state=2)
    assert (held["edu"] == "b").all() and (held["years"] == 12).all()
    per_row = model.sample(conditions=pd.DataFrame({"edu": ["a", None, "c"]}), random_state=3)
    assert per_row["edu"].iloc[0] == "a" and per_row["edu"].iloc[2] == "c"
    # the post-processors travel with the model file
    path = tmp_path / "vae.tabgen"
    model.save(path)
    loaded = tabgen.load(path)
    assert [p.name for p in loaded.postprocessors_] == [p.name for p in model.postprocessors_]
    pd.testing.assert_frame_equal(
        loaded.sample(100, random_state=4), model.sample(100, random_state=4)
    )


def test_selection_changes_rows_and_models_without_it_sample_as_before():
    df = _table()
    plain = tabgen.VAESynthesizer(
        random_state=0, **{**tabgen.VAESynthesizer._test_params(), "epochs": 3}
    ).fit(df)
    assert [p.name for p in plain.postprocessors_] == ["dependencies"]  # the VAE's default
    chosen = _vae().fit(df)
    # same training stream: the post-processors are fitted after the model
    np.testing.assert_allclose(plain.loss_history_, chosen.loss_history_)
    a = plain.sample(200, random_state=1)
    kept = chosen.postprocessors_
    chosen.postprocessors_ = [p for p in kept if p.name == "dependencies"]
    pd.testing.assert_frame_equal(chosen.sample(200, random_state=1), a)
    chosen.postprocessors_ = [p for p in kept if p.name != "discriminator"]
    b = chosen.sample(200, random_state=1)
    chosen.postprocessors_ = kept
    c = chosen.sample(200, random_state=1)
    assert not b.equals(c)  # the selection picked other candidates


def test_fit_from_a_file_runs_the_same_postprocessors(tmp_path):
    df = _table(300)
    path = tmp_path / "t.parquet"
    df.to_parquet(path, index=False)
    params = {**tabgen.GANSynthesizer._test_params(), "epochs": 2}
    model = tabgen.GANSynthesizer(random_state=0, **params).fit(path)
    assert [(d, a) for d, a, _ in model.dependencies_] == [("years", "edu")]
    assert model.supports_["gain"] == [0.0, 500.0, 2000.0, 7500.0]
    assert model.discriminator_ is not None
    rows = model.sample(100, random_state=0)
    assert (rows["years"] == rows["edu"].map({"a": 9, "b": 12, "c": 16})).all()


def test_unknown_postprocessor_is_named():
    with pytest.raises(ValueError, match="unknown post-processor 'smooth'"):
        postprocessor_class("smooth")
